"""What a thread is doing, from its innermost Python frame: the loop watchdog's classifier.

Blocking C functions (``time.sleep``, ``socket.recv``, ``lock.acquire``,
``select``, ``getaddrinfo``, ``do_handshake``...) have no Python frame of
their own, so `classify_frame` looks at the instruction the innermost Python
frame is executing (``frame.f_lasti``), recovers the dotted name of the
callee from the bytecode (with the instructions' source positions, or by
counting stack effects when Python runs with ``-X no_debug_ranges``), and
combines it with the function and module of the surrounding frames::

    >>> result = classify_frame(sys._current_frames()[thread_id])
    >>> result.category, result.detail
    ('sleep', 'time.sleep() in app.Handler.get')

It reads frames only; it never runs code of the thread it looks at (a
property is not evaluated; a callable is named only when it is a plain
function or builtin).

.. versionadded:: 4.0
"""

from __future__ import annotations

import _socket
import bisect
import builtins
import dis
import functools
import inspect
import queue
import re
import socket
import threading
import types
from dataclasses import dataclass
from typing import Any, Iterator, Optional

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
WATCHDOG = "watchdog"  # the loop thread is inside the watchdog's own bookkeeping


# The watchdog's own modules: the loop thread runs their heartbeat.
_OWN_PACKAGE = "motor.diagnostics"

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
    if start is None:
        return ()
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
        if instrs[idx].opname == "CALL_KW" and j >= 0 and instrs[j].opname == "LOAD_CONST":
            # Python 3.13: the keyword names' tuple is loaded last, above the
            # arguments (CALL_KW's arg counts the arguments only).
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
        context_start = _start(instrs[j]) if j >= 0 else None
        if context_start is None or context_start < start:
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


def _classify_innermost(
    frame: Any, inspect_objects: bool, bookkeeping: frozenset
) -> tuple[str, str]:
    code = frame.f_code
    module = _module(frame)
    func = code.co_name
    where = f"{module}.{_qualname(code)}" if module else _qualname(code)
    op, names = _call_site(code, frame.f_lasti)
    attr = names[-1] if names else ""
    owner = names[-2] if len(names) > 1 else ""
    dotted = ".".join(names) or "<call>"

    if module in bookkeeping or module.startswith(_OWN_PACKAGE):
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


def calls_nonblocking_socket(frame: Any) -> bool:
    """Whether ``frame`` is calling a method of a socket in non-blocking mode.

    Such a call returns at once (EAGAIN, EINPROGRESS): a thread found sitting
    at it without using a CPU was waiting for the GIL after the call, not in
    it.  Reads the frame's locals: only call this while the thread is parked.
    """
    op, names = _call_site(frame.f_code, frame.f_lasti)
    if op not in _CALL_OPS or len(names) < 2:
        return False
    obj = _resolve(frame, names[:-1], True)
    if not isinstance(obj, socket.socket):
        return False
    try:
        # The C method: a subclass's gettimeout() is not run.
        return _SOCKET_GETTIMEOUT(obj) == 0.0
    except Exception:
        return False


_SOCKET_GETTIMEOUT = _socket.socket.gettimeout


def classify_frame(
    frame: Any,
    context_depth: int = 30,
    *,
    inspect_objects: bool = True,
    bookkeeping: frozenset = frozenset(),
) -> Classification:
    """Classify what the thread whose innermost Python frame is ``frame`` is doing.

    ``frame`` is typically ``sys._current_frames()[thread_id]``.  The
    instruction being executed and the names of the enclosing functions are
    used; with ``inspect_objects``, the objects named at the call site are
    also looked up (to see through ``recv = sock.recv`` or to check that a
    ``with`` target is a lock), which reads the frame's locals: only do that
    while the thread is parked in a C call.
    """
    category, detail = _classify_innermost(frame, inspect_objects, bookkeeping)
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

