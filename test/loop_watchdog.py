"""Loop watchdog: proves, on every test run, that the IOLoop thread never blocks.

Product rule: the IOLoop thread never blocks -- not on a socket, a lock, a
condition, DNS, a sleep or a TLS handshake.  This module enforces it while the
test suite runs:

* A *heartbeat* callback on the watched asyncio loop re-schedules itself every
  ``HEARTBEAT_INTERVAL`` seconds and records ``time.monotonic()``.
* A *sampler* daemon thread watches the heartbeat while the loop runs.  When
  the heartbeat is overdue by more than ``STALL_THRESHOLD`` seconds (i.e. no
  beat for ``HEARTBEAT_INTERVAL + STALL_THRESHOLD`` = 60 ms), the loop is
  *stalled*: the sampler grabs the loop thread's innermost frame from
  ``sys._current_frames()`` every ``SAMPLE_INTERVAL`` (5 ms) and classifies
  what the thread is doing (see `classify_frame`).  While the loop is healthy
  the sampler sleeps until a stall could begin (every wake-up costs the loop
  thread a GIL hand-off), so it wakes ~40 times a second, not 200.
* A stall spent waiting in a socket call, on a lock / condition, in a sleep,
  in DNS resolution or in a TLS handshake is a `Violation`.  A stall caused by
  plain CPU work (BSON decoding, GC, a slow callback) is only recorded as a
  `Note`.  The loop's own idle wait in the selector is benign.
* Each stall is reported at most once.

Blocking C functions (``time.sleep``, ``socket.recv``, ``lock.acquire``,
``select``, ``getaddrinfo``, ``do_handshake``...) have no Python frame, so the
classifier looks at the instruction the innermost Python frame is executing
(``frame.f_lasti``), recovers the dotted name of the callee from the bytecode
(using the instructions' source positions), and combines that with the
function / module of the surrounding frames.

A blocking classification becomes a violation only once the loop thread has
sat at that same instruction for ``CONFIRM_SPAN`` (20 ms) without making
progress: it used (almost) no CPU (Linux schedstat or
``time.pthread_getcpuclockid``), was not merely waiting in the run queue of an
overloaded machine, and the sampler itself was not starved (a sampler
descheduled while holding the GIL leaves the loop thread waiting for the GIL
right after whatever call it just made).  A CPU-bound loop that keeps passing
through ``lock.acquire()`` is therefore a slow callback, not a lock wait.  The
loop thread is followed from 30 ms before the stall limit, so a blocking call
is confirmed as soon as the limit is passed.

This module has no dependency on Motor, Tornado or pytest.
"""

from __future__ import annotations

import bisect
import builtins
import contextlib
import dis
import functools
import inspect
import queue
import re
import sys
import threading
import time
import traceback
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

__all__ = [
    "SOCKET",
    "LOCK",
    "SLEEP",
    "DNS",
    "TLS_HANDSHAKE",
    "BLOCKING_CATEGORIES",
    "IDLE",
    "BUSY",
    "WATCHDOG",
    "HEARTBEAT_INTERVAL",
    "STALL_THRESHOLD",
    "SAMPLE_INTERVAL",
    "CONFIRM_SPAN",
    "Classification",
    "Violation",
    "Note",
    "Capture",
    "LoopWatchdog",
    "classify_frame",
    "install",
    "current",
]

# --- categories -------------------------------------------------------------

SOCKET = "socket"
LOCK = "lock/condition"
SLEEP = "sleep"
DNS = "dns"
TLS_HANDSHAKE = "tls-handshake"
BLOCKING_CATEGORIES = frozenset({SOCKET, LOCK, SLEEP, DNS, TLS_HANDSHAKE})

# Not violations:
IDLE = "idle"  # the event loop's own wait in its selector
BUSY = "busy"  # executing Python code or a CPU-bound C call
WATCHDOG = "watchdog"  # the loop thread is inside this module's bookkeeping

# --- timing -----------------------------------------------------------------

HEARTBEAT_INTERVAL = 0.010
STALL_THRESHOLD = 0.050
SAMPLE_INTERVAL = 0.005
# A blocking classification is confirmed only after the loop thread has sat
# at the same instruction for this long...
CONFIRM_SPAN = 0.020
# (the sampler starts following the loop thread this long before the stall
# limit, so that a blocking call can be confirmed as soon as it is passed)
_TRACK_AHEAD = 0.030
# ...using at most this fraction of a CPU (plus _CPU_SLACK seconds): a thread
# waiting in the kernel burns no CPU; a CPU-bound loop that keeps passing
# through lock.acquire() does.
_WAIT_CPU_RATIO = 0.2
_CPU_SLACK = 0.0005
# ...and having waited for a CPU (run queue) at most this fraction of the
# time: a runnable thread starved by an overloaded machine is not blocked.
# The same limit applies to the sampler thread: when it is starved while
# holding the GIL, the loop thread waits for the GIL, which looks like waiting
# in whatever call it just returned from.
_WAIT_RUNQ_RATIO = 0.5
# Innermost frames kept in a violation's stack.
_STACK_LIMIT = 40

# --- classifier tables ------------------------------------------------------

_DNS_NAMES = frozenset(
    {
        "getaddrinfo",
        "gethostbyname",
        "gethostbyname_ex",
        "gethostbyaddr",
        "getnameinfo",
        "getfqdn",
    }
)
_SOCKET_NAMES = frozenset(
    {
        "recv",
        "recv_into",
        "recvfrom",
        "recvfrom_into",
        "recvmsg",
        "recvmsg_into",
        "send",
        "sendall",
        "sendto",
        "sendmsg",
        "sendfile",
        "connect",
        "connect_ex",
        "create_connection",
        "accept",
        "_accept",
        "select",
        "poll",
        "control",  # kqueue
        "unwrap",  # ssl shutdown
    }
)
# Blocking I/O methods of ssl.SSLSocket / ssl.SSLObject (Python frames in ssl.py).
_SSL_IO_FUNCS = frozenset(
    {
        "read",
        "write",
        "recv",
        "recv_into",
        "recvfrom",
        "recvfrom_into",
        "send",
        "sendall",
        "sendto",
        "sendfile",
        "unwrap",
        "shutdown",
        "connect",
        "connect_ex",
        "_real_connect",
        "accept",
    }
)
_LOCK_NAMES = frozenset({"acquire", "acquire_lock", "_acquire_restore"})
# Qualifiers under which "sleep" returns an awaitable instead of sleeping.
_ASYNC_SLEEP_OWNERS = frozenset({"asyncio", "gen", "anyio", "trio", "tasks"})
_LOCK_TOKENS = frozenset(
    {"lock", "rlock", "lck", "mutex", "mu", "cond", "condition", "cv", "sem", "semaphore"}
)
_NOT_LOCK_TOKENS = frozenset({"clock", "block", "unblock", "unlock", "deadlock"})


def _lockish(name: str) -> bool:
    """Whether an identifier looks like it names a lock / condition / semaphore."""
    for token in re.findall(r"[a-z]+|[A-Z][a-z]*", name):
        token = token.lower()
        if token in _LOCK_TOKENS:
            return True
        if token.endswith("lock") and token not in _NOT_LOCK_TOKENS:
            return True
    return False


_LOCK_TYPES: tuple = (
    type(threading.Lock()),
    type(threading.RLock()),
    threading.Condition,
    threading.Semaphore,
)
_PY_RLOCK = getattr(threading, "_PyRLock", None)
if isinstance(_PY_RLOCK, type):
    _LOCK_TYPES += (_PY_RLOCK,)

_CALL_OPS = frozenset(
    {"CALL", "PRECALL", "CALL_FUNCTION", "CALL_METHOD", "CALL_FUNCTION_EX", "CALL_KW"}
)
_WITH_OPS = frozenset({"BEFORE_WITH", "SETUP_WITH"})
_NAMED_LOADS = frozenset(
    {
        "LOAD_ATTR",
        "LOAD_METHOD",
        "LOAD_GLOBAL",
        "LOAD_NAME",
        "LOAD_FAST",
        "LOAD_FAST_CHECK",
        "LOAD_FAST_BORROW",
        "LOAD_DEREF",
        "LOAD_CLASSDEREF",
        "LOAD_SUPER_ATTR",
        "LOAD_FROM_DICT_OR_GLOBALS",
        "LOAD_FROM_DICT_OR_DEREF",
    }
)

# --- bytecode call-site decoding ----------------------------------------------

_instr_cache: dict = {}  # code -> (offsets, instructions)
_site_cache: dict = {}  # (code, lasti) -> (opname, names)


def _instructions(code: Any) -> tuple[list[int], list[dis.Instruction]]:
    cached = _instr_cache.get(code)
    if cached is None:
        instrs = list(dis.get_instructions(code))
        cached = ([i.offset for i in instrs], instrs)
        _instr_cache[code] = cached
    return cached


def _start(instr: dis.Instruction) -> Optional[tuple[int, int]]:
    pos = getattr(instr, "positions", None)
    if pos is None or pos.lineno is None or pos.col_offset is None:
        return None
    return (pos.lineno, pos.col_offset)


def _end(instr: dis.Instruction) -> Optional[tuple[int, int]]:
    pos = getattr(instr, "positions", None)
    if pos is None or pos.end_lineno is None or pos.end_col_offset is None:
        return None
    return (pos.end_lineno, pos.end_col_offset)


def _name_chain(instrs: list[dis.Instruction], target: int) -> tuple[str, ...]:
    """Dotted name of the expression whose last instruction is ``instrs[target]``.

    Collects the named loads that start where the expression starts, e.g.
    ``self._sock.recv`` -> ("self", "_sock", "recv").
    """
    start, end = _start(instrs[target]), _end(instrs[target])
    names: list[str] = []
    j = target
    while j >= 0:
        instr = instrs[j]
        s = _start(instr)
        if s is not None:
            if s < start or (end is not None and s > end):
                break  # left the expression (e.g. into a loop body)
            if s == start and instr.opname == "CALL" and j < target:
                # ``f(x).attr``: name the inner call and stop there.
                inner = _site_names(instrs, j, False)
                names.append(f"{inner[-1] if inner else ''}()")
                break
            if s == start and instr.opname in _NAMED_LOADS and isinstance(instr.argval, str):
                names.append(instr.argval)
        j -= 1
    names.reverse()
    return tuple(names)


def _owner_chain(instrs: list[dis.Instruction], j: int) -> tuple[str, ...]:
    """Names of ``a.b.c`` given the index of the instruction that loads ``c``."""
    names: list[str] = []
    while j >= 0 and instrs[j].opname in _NAMED_LOADS and isinstance(instrs[j].argval, str):
        names.append(instrs[j].argval)
        if instrs[j].opname not in ("LOAD_ATTR", "LOAD_METHOD"):
            break
        j -= 1
        if names and j >= 0 and instrs[j].opname == "CALL":
            # ``f(x).attr``: name the inner call and stop there.
            inner = _fallback_chain(instrs, j, False)
            names.append(f"{inner[-1] if inner else ''}()")
            break
    names.reverse()
    return tuple(names)


def _stack_effect(instr: dis.Instruction) -> int:
    if instr.opcode >= dis.HAVE_ARGUMENT:
        return dis.stack_effect(instr.opcode, instr.arg, jump=False)
    return dis.stack_effect(instr.opcode, jump=False)


def _fallback_chain(instrs: list[dis.Instruction], idx: int, is_with: bool) -> tuple[str, ...]:
    """Without column positions (``-X no_debug_ranges``): count stack effects
    back over the call's arguments to the instruction that loaded the callee."""
    try:
        if is_with:
            return _owner_chain(instrs, idx - 1)
        j = idx - 1
        while j >= 0 and instrs[j].opname in ("PRECALL", "KW_NAMES", "CACHE", "EXTENDED_ARG"):
            j -= 1
        pending = instrs[idx].arg or 0  # argument values above the callee
        while pending > 0 and j >= 0:
            pending -= _stack_effect(instrs[j])
            j -= 1
        if pending < 0:
            return ()
        while j >= 0 and instrs[j].opname in ("PUSH_NULL", "CACHE", "EXTENDED_ARG"):
            j -= 1
        return _owner_chain(instrs, j)
    except (ValueError, TypeError):
        return ()


def _call_site(code: Any, lasti: int) -> tuple[str, tuple[str, ...]]:
    """Decode what the instruction at ``lasti`` is doing.

    Returns ``(opname, names)``: for a call, the callee's dotted name parts;
    for a ``with`` statement, the context expression's name parts.
    """
    key = (code, lasti)
    site = _site_cache.get(key)
    if site is not None:
        return site
    offsets, instrs = _instructions(code)
    idx = bisect.bisect_left(offsets, lasti)
    if idx >= len(offsets) or offsets[idx] != lasti:
        site = ("", ())
    else:
        instr = instrs[idx]
        op = instr.opname
        names: tuple[str, ...] = ()
        if op in _CALL_OPS or op in _WITH_OPS:
            names = _site_names(instrs, idx, op in _WITH_OPS)
        site = (op, names)
    _site_cache[key] = site
    return site


def _site_names(instrs: list[dis.Instruction], idx: int, is_with: bool) -> tuple[str, ...]:
    here = instrs[idx]
    start, end = _start(here), _end(here)
    if start is None or end is None:
        return _fallback_chain(instrs, idx, is_with)
    if is_with:
        # The context expression is the last positioned instruction before
        # BEFORE_WITH (the with statement's own span covers the body too).
        j = idx - 1
        while j >= 0 and _start(instrs[j]) is None:
            j -= 1
        if j < 0 or _start(instrs[j]) < start:
            return ()
        return _name_chain(instrs, j)
    # A call: the callee is the widest named load that starts where the call
    # expression starts and ends before it (the arguments start later).
    best, best_end = -1, None
    j = idx - 1
    while j >= 0:
        instr = instrs[j]
        s = _start(instr)
        if s is not None:
            if s < start or s > end:
                break  # left the call expression
            e = _end(instr)
            if (
                s == start
                and e is not None
                and e < end
                and instr.opname in _NAMED_LOADS
                and (best_end is None or e > best_end)
            ):
                best, best_end = j, e
        j -= 1
    if best < 0:
        return ()
    return _name_chain(instrs, best)


# --- frame classification -----------------------------------------------------


@dataclass(frozen=True)
class Classification:
    """What a thread's innermost Python frame is doing."""

    category: str  # one of BLOCKING_CATEGORIES, IDLE, BUSY or WATCHDOG
    # e.g. "time.sleep() in mod.func", "with self._lock in mod.func",
    # "waiter.acquire() in threading.Condition.wait"
    detail: str
    location: str  # "path:line in qualname" of the innermost frame

    @property
    def blocking(self) -> bool:
        return self.category in BLOCKING_CATEGORIES


def _qualname(code: Any) -> str:
    return getattr(code, "co_qualname", code.co_name)


def _module(frame: Any) -> str:
    try:
        name = frame.f_globals.get("__name__")
    except Exception:
        name = None
    return name if isinstance(name, str) else ""


def _location(frame: Any) -> str:
    code = frame.f_code
    return f"{code.co_filename}:{frame.f_lineno} in {_qualname(code)}"


def _outer_frames(frame: Any, limit: int) -> Iterator[Any]:
    while frame is not None and limit > 0:
        yield frame
        frame = frame.f_back
        limit -= 1


_MISSING = object()


def _resolve(frame: Any, names: tuple[str, ...], inspect_objects: bool) -> Any:
    """Best-effort, side-effect-free evaluation of a dotted name in ``frame``.

    Reading ``f_locals`` of another thread's frame is only done when
    ``inspect_objects`` says that thread is parked in a C call (on 3.11 it
    copies the frame's fast locals into a dict).
    """
    if not names or not inspect_objects:
        return _MISSING
    first = names[0]
    obj: Any = _MISSING
    try:
        for namespace in (frame.f_locals, frame.f_globals, vars(builtins)):
            if first in namespace:
                obj = namespace[first]
                break
        if obj is _MISSING:
            return _MISSING
        for attr in names[1:]:
            raw = inspect.getattr_static(obj, attr)
            if isinstance(raw, types.MemberDescriptorType):  # __slots__ member
                raw = raw.__get__(obj, type(obj))
            elif hasattr(type(raw), "__get__") and hasattr(type(raw), "__set__"):
                return _MISSING  # property or other data descriptor: don't run user code
            obj = raw
    except Exception:
        return _MISSING
    return obj


def _is_lock(obj: Any) -> bool:
    if isinstance(obj, _LOCK_TYPES):
        return True
    return _lockish(type(obj).__name__)


_SAFE_CALLABLES = (
    types.BuiltinFunctionType,
    types.FunctionType,
    types.MethodType,
    types.MethodWrapperType,
    types.MethodDescriptorType,
    types.WrapperDescriptorType,
)


def _callee_identity(obj: Any) -> tuple[str, str]:
    """(name, owner) of a resolved callable, without running user code."""
    for _ in range(5):
        if isinstance(obj, functools.partial):
            obj = obj.func
    if not isinstance(obj, _SAFE_CALLABLES):
        return "", ""
    name = obj.__name__
    bound = getattr(obj, "__self__", None)
    if isinstance(bound, types.ModuleType):
        owner = bound.__name__
    elif bound is not None:
        owner = type(bound).__name__
    else:
        owner = getattr(obj, "__module__", None) or ""
    return name, owner.rpartition(".")[2]


def _call_category(
    frame: Any,
    names: tuple[str, ...],
    attr: str,
    owner: str,
    module: str,
    func: str,
    inspect_objects: bool,
) -> Optional[str]:
    """Category of a call to ``owner.attr`` made by ``module.func``, if blocking."""
    if attr in _DNS_NAMES:
        return DNS
    if attr.lower().endswith("do_handshake"):
        return TLS_HANDSHAKE
    if attr == "sleep" and owner not in _ASYNC_SLEEP_OWNERS:
        return SLEEP
    if attr in _LOCK_NAMES:
        return LOCK
    if attr == "__enter__" and _lockish(owner):
        return LOCK
    if attr in ("get", "put") and len(names) > 1:
        if isinstance(_resolve(frame, names[:-1], inspect_objects), queue.SimpleQueue):
            return LOCK
    if module == "ssl":
        if func == "do_handshake":
            return TLS_HANDSHAKE
        if func in _SSL_IO_FUNCS:
            return SOCKET
    if attr in _SOCKET_NAMES:
        return SOCKET
    return None


def _classify_innermost(frame: Any, inspect_objects: bool) -> tuple[str, str]:
    code = frame.f_code
    module = _module(frame)
    func = code.co_name
    where = f"{module}.{_qualname(code)}" if module else _qualname(code)
    op, names = _call_site(code, frame.f_lasti)
    attr = names[-1] if names else ""
    owner = names[-2] if len(names) > 1 else ""
    dotted = ".".join(names) or "<call>"

    if module == __name__:
        return WATCHDOG, f"loop watchdog bookkeeping in {where}"

    # The event loop's own wait for I/O: how an idle loop sleeps.
    if module == "selectors":
        caller = frame.f_back
        if (
            caller is not None
            and _module(caller) == "asyncio.base_events"
            and caller.f_code.co_name == "_run_once"
        ):
            return IDLE, f"event loop idle in {where}"
    if module == "asyncio.base_events" and func == "_run_once" and attr == "select":
        return IDLE, f"event loop idle in {where}"

    if op in _WITH_OPS:
        obj = _resolve(frame, names, inspect_objects)
        lockish = _is_lock(obj) if obj is not _MISSING else _lockish(attr)
        if lockish:
            return LOCK, f"with {dotted} in {where}"
        return BUSY, f"with {dotted} in {where}"

    if op in _CALL_OPS:
        site = f"{dotted}() in {where}"
        category = _call_category(frame, names, attr, owner, module, func, inspect_objects)
        if category is None and inspect_objects:
            # The callee may have been bound to another name (``recv =
            # sock.recv``; pytest's assertion rewriting does this too): look
            # at the function object itself.
            real_name, real_owner = _callee_identity(_resolve(frame, names, True))
            if real_name and (real_name, real_owner) != (attr, owner):
                category = _call_category(
                    frame, names, real_name, real_owner, module, func, True
                )
                if category is not None:
                    real = f"{real_owner}.{real_name}" if real_owner else real_name
                    site = f"{dotted}() [{real}] in {where}"
        return category or BUSY, site

    return BUSY, f"{op or 'executing'} in {where}"


def classify_frame(
    frame: Any, context_depth: int = 30, *, inspect_objects: bool = True
) -> Classification:
    """Classify what the thread whose innermost Python frame is ``frame`` is doing.

    ``frame`` is typically ``sys._current_frames()[thread_id]``.  The
    instruction being executed and the names of the enclosing functions are
    used; with ``inspect_objects``, the objects named at the call site are
    also looked up (to see through ``recv = sock.recv`` or to check that a
    ``with`` target is a lock), which reads the frame's locals: only do that
    while the thread is parked in a C call.
    """
    category, detail = _classify_innermost(frame, inspect_objects)
    if category in BLOCKING_CATEGORIES:
        # Context upgrades: a socket wait / sleep / lock inside a resolver is
        # DNS; a socket wait inside a handshake is the handshake.
        for outer in _outer_frames(frame, context_depth):
            name = outer.f_code.co_name
            module = _module(outer)
            if name in _DNS_NAMES or module == "dns" or module.startswith("dns."):
                if category != DNS:
                    detail = f"{detail} (resolving: {module}.{_qualname(outer.f_code)})"
                category = DNS
                break
        if category in (SOCKET, LOCK):
            for outer in _outer_frames(frame, 4):
                if outer.f_code.co_name.endswith("do_handshake"):
                    category = TLS_HANDSHAKE
                    detail = f"{detail} (handshake: {_module(outer)}.{_qualname(outer.f_code)})"
                    break
    return Classification(category, detail, _location(frame))


# --- records ------------------------------------------------------------------


@dataclass
class Violation:
    """The loop thread was found blocked in a forbidden call during one stall."""

    category: str
    detail: str
    location: str
    stack: str  # the loop thread's stack from the running callback down, innermost last
    gap_ms: float  # longest time without a heartbeat seen during the stall
    test: Optional[str]  # pytest nodeid (or another context label)
    phase: Optional[str]  # "setup" / "call" / "teardown" / ...
    detected_after_ms: float = 0.0  # heartbeat gap when the blocking call was seen
    reported: bool = False  # already attached to a test report

    def summary(self) -> str:
        where = self.test or "<no test>"
        if self.phase:
            where += f" [{self.phase}]"
        late = self.gap_ms - HEARTBEAT_INTERVAL * 1000
        return (
            f"{self.category}: {self.detail} -- IOLoop heartbeat late by {late:.0f} ms "
            f"during {where}"
        )

    def format(self) -> str:
        return f"{self.summary()}\nLoop thread stack (innermost last):\n{self.stack.rstrip()}"


@dataclass
class Note:
    """A stall that was not a violation (slow callback, GC, ...)."""

    kind: str  # "slow-callback", "idle-late" or "watchdog"
    detail: str
    location: str
    gap_ms: float
    test: Optional[str]
    phase: Optional[str]

    def summary(self) -> str:
        where = self.test or "<no test>"
        if self.phase:
            where += f" [{self.phase}]"
        return (
            f"{self.kind}: no heartbeat for {self.gap_ms:.0f} ms during {where}: "
            f"{self.detail} ({self.location})"
        )


@dataclass(eq=False)
class Capture:
    """Violations and notes seen while a `LoopWatchdog.capture` block was active."""

    violations: list[Violation] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    closed: bool = False
    stalls: list = field(default_factory=list)  # diagnostics: the stalls seen

    def describe_stalls(self) -> str:
        if not self.stalls:
            return "the heartbeat was never late"
        return "; ".join(
            f"stall of {stall.gap * 1000:.0f} ms: {stall.status or 'not sampled'}"
            for stall in self.stalls
        )


@dataclass(eq=False)
class _Track:
    """The loop thread has been at this instruction since ``since``."""

    frame: Any
    lasti: int
    since: float
    cpu: Optional[float]
    runq: Optional[float]
    sampler_runq: Optional[float]
    result: Optional[Classification] = None
    inspected: bool = False  # classified with inspect_objects=True


@dataclass(eq=False)
class _Stall:
    key: float  # the heartbeat timestamp the stall follows
    test: Optional[str]
    phase: Optional[str]
    gap: float = 0.0
    violation: Optional[Violation] = None
    note: Optional[tuple[str, str, str]] = None  # (kind, detail, location)
    status: str = ""  # what the sampler last concluded, for diagnostics
    captures: list[Capture] = field(default_factory=list)


# --- the watchdog -------------------------------------------------------------


def _format_loop_stack(frame: Any) -> str:
    """The loop thread's stack, innermost last, from the running callback down."""
    entries = traceback.extract_stack(frame, limit=_STACK_LIMIT)
    # Drop the event loop and test-runner frames above the callback.
    for i in range(len(entries) - 1, -1, -1):
        entry = entries[i]
        if entry.name == "_run" and entry.filename.replace("\\", "/").endswith("asyncio/events.py"):
            return "  [event loop: callback]\n" + _format_entries(entries[i + 1 :])
    return _format_entries(entries)


def _format_entries(entries: list[traceback.FrameSummary]) -> str:
    # Not traceback.format_list(): on 3.11 it parses source lines with ast to
    # place carets, and ast's global state is not safe to use from a second
    # thread while the main thread parses too (SystemError: "AST constructor
    # recursion depth mismatch" in the main thread).
    lines = []
    for entry in entries:
        lines.append(f'  File "{entry.filename}", line {entry.lineno}, in {entry.name}\n')
        if entry.line:
            lines.append(f"    {entry.line.strip()}\n")
    return "".join(lines)


def _read_schedstat(path: Optional[str]) -> Optional[tuple[float, float]]:
    """(CPU seconds, run-queue wait seconds) of a thread, from Linux schedstat."""
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            fields = f.read().split()
        return int(fields[0]) / 1e9, int(fields[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


class LoopWatchdog:
    """Watches one asyncio event loop for stalls caused by blocking calls.

    Call `start` once (before or between runs of the loop); the watchdog then
    covers every ``run_forever`` / ``run_until_complete`` / Tornado
    ``run_sync`` of that loop, from any caller, until `stop`.
    """

    def __init__(
        self,
        loop: Any,
        *,
        heartbeat_interval: float = HEARTBEAT_INTERVAL,
        stall_threshold: float = STALL_THRESHOLD,
        sample_interval: float = SAMPLE_INTERVAL,
    ) -> None:
        self.loop = loop
        self.heartbeat_interval = heartbeat_interval
        self.stall_threshold = stall_threshold
        self.sample_interval = sample_interval
        # No heartbeat for this long means a stall.
        self.stall_limit = heartbeat_interval + stall_threshold

        self.violations: list[Violation] = []  # not captured by expect_violation()
        self.notes: list[Note] = []
        self.samples = 0  # frames classified (only during stalls)
        self.stalls = 0
        self.wakeups = 0  # sampler wake-ups while the loop ran (each costs a GIL hand-off)

        self._test: Optional[str] = None
        self._phase: Optional[str] = None

        # Written by the loop thread, read by the sampler (plain attribute
        # access is atomic under the GIL).
        self._running = False
        self._last_beat = 0.0
        self._loop_tid: Optional[int] = None
        self._cpu_clock: Optional[int] = None
        self._schedstat: Optional[str] = None
        self._sampler_schedstat: Optional[str] = None

        self._depth = 0
        self._beat_handle: Any = None
        self._orig_run_forever: Optional[Callable[[], Any]] = None
        self._stall: Optional[_Stall] = None
        self._track: Optional[_Track] = None
        self._captures: list[Capture] = []

        # Held by the sampler for a whole sample; the loop thread takes it only
        # while the loop is not running (start/end of run_forever).
        self._state_lock = threading.Lock()
        # Tiny critical sections shared with the loop thread (capture
        # registration vs. recording).  Never held across I/O.
        self._records_lock = threading.Lock()
        self._active = threading.Event()
        self._stopping = threading.Event()
        self._thread: Optional[threading.Thread] = None

    # -- lifecycle --

    def start(self) -> "LoopWatchdog":
        if self._thread is not None:
            return self
        orig = self.loop.run_forever
        self._orig_run_forever = orig

        def run_forever() -> Any:
            return self._run_watched(orig)

        self.loop.run_forever = run_forever
        self._thread = threading.Thread(target=self._sampler, name="loop-watchdog", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stopping.set()
        self._active.set()
        self._thread.join(5)
        self._thread = None
        with self._state_lock:
            self._end_stall()
        if self._orig_run_forever is not None:
            try:
                del self.loop.run_forever
            except AttributeError:
                pass
            self._orig_run_forever = None
        if self._beat_handle is not None:
            self._beat_handle.cancel()
            self._beat_handle = None

    @property
    def last_heartbeat(self) -> float:
        """``time.monotonic()`` of the latest heartbeat (or of the latest loop start)."""
        return self._last_beat

    @property
    def running(self) -> bool:
        """True while the watched loop is running."""
        return self._running

    def set_context(self, test: Optional[str], phase: Optional[str] = None) -> None:
        """Label records with the test (nodeid) and phase currently running."""
        self._test, self._phase = test, phase

    # -- loop side --

    def _beat(self) -> None:
        self._last_beat = time.monotonic()
        self._beat_handle = self.loop.call_later(self.heartbeat_interval, self._beat)

    def _run_watched(self, orig: Callable[[], Any]) -> Any:
        if self._depth:
            return orig()  # asyncio raises "already running"
        self._depth += 1
        try:
            with self._state_lock:
                tid = threading.get_ident()
                if tid != self._loop_tid:
                    self._loop_tid = tid
                    try:
                        self._cpu_clock = time.pthread_getcpuclockid(tid)
                    except (AttributeError, OSError):
                        self._cpu_clock = None
                    self._schedstat = f"/proc/self/task/{threading.get_native_id()}/schedstat"
                    if _read_schedstat(self._schedstat) is None:
                        self._schedstat = None
                if self._beat_handle is None or self._beat_handle.cancelled():
                    self._beat_handle = self.loop.call_later(self.heartbeat_interval, self._beat)
                self._last_beat = time.monotonic()
                self._track = None
                self._running = True
            self._active.set()
            try:
                return orig()
            finally:
                self._running = False
                self._active.clear()
                with self._state_lock:
                    self._end_stall()
        finally:
            self._depth -= 1

    # -- sampler side --

    def _progress(self) -> tuple[Optional[float], Optional[float]]:
        """How much CPU the loop thread has used, and waited for, so far."""
        stat = _read_schedstat(self._schedstat)
        if stat is not None:
            return stat
        clock = self._cpu_clock
        if clock is not None:
            try:
                return time.clock_gettime(clock), None
            except OSError:
                pass
        return None, None

    def _sampler(self) -> None:
        path = f"/proc/self/task/{threading.get_native_id()}/schedstat"
        self._sampler_schedstat = path if _read_schedstat(path) is not None else None
        while not self._stopping.is_set():
            if not self._running:
                self._active.wait(0.5)
                continue
            # Every wake-up costs the loop thread a GIL hand-off, so sleep
            # until a stall could start to matter unless one is being followed.
            idle_for = self._last_beat + self.stall_limit - _TRACK_AHEAD - time.monotonic()
            if idle_for > self.sample_interval and self._stall is None and self._track is None:
                time.sleep(min(idle_for, 0.1))
                self.wakeups += 1
                continue
            time.sleep(self.sample_interval)
            self.wakeups += 1
            with self._state_lock:
                if self._running and not self._stopping.is_set():
                    try:
                        self._sample()
                    except Exception:  # never let the sampler die silently
                        traceback.print_exc()

    def _sample(self) -> None:
        now = time.monotonic()
        beat = self._last_beat
        gap = now - beat
        if gap <= self.stall_limit - _TRACK_AHEAD:
            if self._stall is not None:
                self._end_stall()
            self._track = None
            return

        # Close to or past the stall limit: follow what the loop thread does,
        # so a blocking call can be confirmed as soon as the limit is passed.
        frame = sys._current_frames().get(self._loop_tid)
        if frame is None or not self._running:
            return
        cpu, runq = self._progress()
        sampler = _read_schedstat(self._sampler_schedstat)
        sampler_runq = sampler[1] if sampler is not None else None
        track = self._track
        if track is None or track.frame is not frame or track.lasti != frame.f_lasti:
            track = self._track = _Track(frame, frame.f_lasti, now, cpu, runq, sampler_runq)
        if gap <= self.stall_limit:
            return

        stall = self._stall
        if stall is None or stall.key != beat:
            if stall is not None:
                self._end_stall()
            stall = self._stall = _Stall(beat, self._test, self._phase)
            self.stalls += 1
        stall.gap = max(stall.gap, gap)
        with self._records_lock:
            for capture in self._captures:
                if capture not in stall.captures:
                    stall.captures.append(capture)
                    capture.stalls.append(stall)
        if stall.violation is not None:
            stall.violation.gap_ms = stall.gap * 1000
            return

        if track.result is None:
            self.samples += 1
            track.result = classify_frame(frame, inspect_objects=False)
        result = track.result
        if result.category == BUSY and not track.inspected:
            if not self._not_waiting(track, now, cpu, runq, sampler_runq):
                # Parked in a C call the names didn't give away: now it is
                # safe to look at the objects involved.
                track.inspected = True
                result = track.result = classify_frame(frame, inspect_objects=True)
        if not result.blocking:
            stall.status = f"{result.category}: {result.detail}"
            if stall.note is None or stall.note[0] != "slow-callback":
                kinds = {IDLE: "idle-late", WATCHDOG: "watchdog"}
                kind = kinds.get(result.category, "slow-callback")
                stall.note = (kind, result.detail, result.location)
            return
        why_not = self._not_waiting(track, now, cpu, runq, sampler_runq)
        if why_not:
            stall.status = f"{result.category}: {result.detail}, not confirmed ({why_not})"
            if stall.note is None:
                stall.note = ("slow-callback", result.detail, result.location)
            return
        stall.status = f"violation: {result.category}: {result.detail}"

        stack = _format_loop_stack(frame)
        violation = Violation(
            category=result.category,
            detail=result.detail,
            location=result.location,
            stack=stack,
            gap_ms=stall.gap * 1000,
            test=stall.test,
            phase=stall.phase,
            detected_after_ms=gap * 1000,
        )
        stall.violation = violation
        with self._records_lock:
            open_captures = [c for c in self._captures if not c.closed]
            if open_captures:
                for capture in open_captures:
                    capture.violations.append(violation)
            else:
                self.violations.append(violation)

    def _not_waiting(
        self,
        track: _Track,
        now: float,
        cpu: Optional[float],
        runq: Optional[float],
        sampler_runq: Optional[float],
    ) -> str:
        """Why the loop thread can't (yet) be said to be waiting at ``track``'s
        instruction; "" if it can."""
        span = now - track.since
        if span < CONFIRM_SPAN:
            return f"at this instruction for {span * 1000:.0f} ms only"
        if cpu is not None and track.cpu is not None:
            used = cpu - track.cpu
            if used > _WAIT_CPU_RATIO * span + _CPU_SLACK:
                return f"computing: {used * 1000:.1f} ms CPU in {span * 1000:.0f} ms"
        if runq is not None and track.runq is not None:
            starved = runq - track.runq
            if starved > _WAIT_RUNQ_RATIO * span:
                return f"starved of CPU: {starved * 1000:.1f} ms queued in {span * 1000:.0f} ms"
        if sampler_runq is not None and track.sampler_runq is not None:
            starved = sampler_runq - track.sampler_runq
            if starved > _WAIT_RUNQ_RATIO * span:
                # Probably held the GIL while descheduled: the loop thread
                # may just have been waiting for the GIL.
                track.since, track.cpu = now, cpu
                track.runq, track.sampler_runq = runq, sampler_runq
                return f"sampler starved of CPU: {starved * 1000:.1f} ms in {span * 1000:.0f} ms"
        return ""

    def _end_stall(self) -> None:
        """Close the current stall (caller holds _state_lock)."""
        stall, self._stall = self._stall, None
        self._track = None
        if stall is None:
            return
        if stall.violation is not None:
            stall.violation.gap_ms = stall.gap * 1000
            return
        if stall.note is None:
            return
        kind, detail, location = stall.note
        note = Note(kind, detail, location, stall.gap * 1000, stall.test, stall.phase)
        with self._records_lock:
            self.notes.append(note)
            for capture in stall.captures:
                capture.notes.append(note)

    # -- test API --

    @contextlib.contextmanager
    def capture(self) -> Iterator[Capture]:
        """Divert violations detected inside the block into the returned `Capture`.

        Captured violations do not fail the test or the run.  Notes are
        attached when their stall ends, i.e. after the loop has had a chance
        to run the heartbeat again (``await asyncio.sleep(0.05)``).
        """
        cap = Capture()
        with self._records_lock:
            self._captures = self._captures + [cap]
        try:
            yield cap
        finally:
            with self._records_lock:
                cap.closed = True
                self._captures = [c for c in self._captures if c is not cap]

    @contextlib.contextmanager
    def expect_violation(self, category: Optional[str] = None) -> Iterator[list[Violation]]:
        """Expect the block to block the loop thread.

        Yields the list that receives the violations detected inside the
        block; they do not fail the test or the run.  On a normal exit,
        asserts that at least one violation (of ``category``, if given) was
        detected.  The block must block for well over
        ``heartbeat_interval + stall_threshold`` (60 ms); use 0.2 s.
        """
        if category is not None and category not in BLOCKING_CATEGORIES:
            raise ValueError(f"unknown category {category!r}")
        with self.capture() as cap:
            yield cap.violations
        matching = [v for v in cap.violations if category is None or v.category == category]
        if not matching:
            seen = ", ".join(v.summary() for v in cap.violations) or "no violation"
            raise AssertionError(
                f"loop watchdog: expected the IOLoop thread to be caught blocking"
                f"{' in ' + category if category else ''}, but saw {seen} "
                f"({cap.describe_stalls()})"
            )

    def take_unreported(self, test: Optional[str], phase: Optional[str] = None) -> list[Violation]:
        """Violations recorded for ``test`` (and ``phase``) not yet taken; marks them taken."""
        with self._records_lock:
            found = [
                v
                for v in self.violations
                if not v.reported and v.test == test and (phase is None or v.phase == phase)
            ]
            for v in found:
                v.reported = True
        return found

    def format_report(self) -> str:
        return "\n\n".join(v.format() for v in self.violations)


# --- module-level registry ------------------------------------------------------

_current: Optional[LoopWatchdog] = None


def install(loop: Any, **kwargs: Any) -> LoopWatchdog:
    """Create, start and register the watchdog for ``loop``."""
    global _current
    if _current is not None and _current.loop is loop:
        return _current
    if _current is not None:
        _current.stop()
    _current = LoopWatchdog(loop, **kwargs).start()
    return _current


def current() -> Optional[LoopWatchdog]:
    """The watchdog registered by `install`, if any."""
    return _current
