"""The loop watchdog's engine: a heartbeat on each watched loop, one sampler thread.

* A *heartbeat* callback on each watched asyncio loop re-schedules itself
  every ``heartbeat_interval`` (10 ms) and records ``time.monotonic()``.
* One *sampler* daemon thread (``motor-loop-watchdog``) watches the
  heartbeats of every watched loop while it runs.  When a heartbeat is
  overdue by more than ``stall_threshold`` (50 ms by default), that loop is
  *stalled*: the sampler grabs the loop thread's innermost frame from
  ``sys._current_frames()`` every ``sample_interval`` (5 ms) and classifies
  what the thread is doing (`motor.diagnostics._classify.classify_frame`).
  While every loop is healthy the sampler sleeps until a stall could begin
  (each wake-up costs a loop thread a GIL hand-off), ~40 times a second.
* A stall spent waiting in a socket call, on a lock / condition, in a sleep,
  in DNS resolution or in a TLS handshake is a *blocking call*.  A stall
  caused by CPU work (a slow callback, BSON decoding, GC) is a *slow
  callback*.  The loop's own idle wait in its selector is benign.  Each stall
  gives at most one record.

A blocking classification is confirmed only once the loop thread has sat at
that same instruction for ``CONFIRM_SPAN`` (20 ms) without making progress: it
used (almost) no CPU (Linux schedstat or ``time.pthread_getcpuclockid``), was
not merely waiting in the run queue of an overloaded machine, and the sampler
itself was not starved (a sampler descheduled while holding the GIL leaves the
loop thread waiting for the GIL right after whatever call it just made).  A
CPU-bound loop that keeps passing through ``lock.acquire()`` is therefore a
slow callback, not a lock wait.  The loop thread is followed from 30 ms before
the stall limit, so that a blocking call is confirmed as soon as the limit is
passed.

Loops are watched through a wrapper of ``asyncio.BaseEventLoop.run_forever``
(which ``run_until_complete``, ``asyncio.run`` and Tornado's
``IOLoop.start`` / ``run_sync`` all go through), installed while at least one
watchdog runs and removed when the last one stops.  The loop thread only ever
does constant-time bookkeeping: records are written to the log or handed to
the callback by the sampler thread.

.. versionadded:: 4.0
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import site
import sys
import sysconfig
import threading
import time
import traceback
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, TypeVar

from motor.diagnostics._classify import (
    BUSY,
    IDLE,
    SOCKET,
    WATCHDOG,
    Classification,
    calls_nonblocking_socket,
    classify_frame,
)

__all__ = [
    "BLOCKING_CALL",
    "SLOW_CALLBACK",
    "HEARTBEAT_INTERVAL",
    "STALL_THRESHOLD",
    "SAMPLE_INTERVAL",
    "CONFIRM_SPAN",
    "LoopStall",
    "LoopWatchdog",
]

LOGGER_NAME = "motor.diagnostics"

# --- record kinds --------------------------------------------------------------

BLOCKING_CALL = "blocking-call"  # the loop thread waited in a blocking call
SLOW_CALLBACK = "slow-callback"  # the loop thread was busy computing
# Stalls that name nothing to fix (the test suite counts them):
IDLE_LATE = "idle-late"  # the loop sat in its selector, yet the heartbeat was late
WATCHDOG_NOTE = "watchdog"  # the loop thread was in the watchdog's own bookkeeping

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
# Innermost frames kept in a record's stack.
_STACK_LIMIT = 40
# The sampler never sleeps longer than this while a watched loop runs.
_MAX_SLEEP = 0.1


# --- records ------------------------------------------------------------------


@dataclass(eq=False)
class LoopStall:
    """One time a watched event loop did not run for longer than the stall threshold.

    ``kind`` is ``"blocking-call"`` (the loop thread waited in a socket call,
    on a lock or condition, in a sleep, in DNS resolution or in a TLS
    handshake: ``category`` says which) or ``"slow-callback"`` (it was busy
    computing).  ``filename``, ``lineno`` and ``function`` name the innermost
    frame of *your* code on the loop thread's stack (the innermost frame
    outside the standard library, installed packages and Motor), i.e. the
    line in your handler that made the call::

        def on_stall(stall):
            print(stall.filename, stall.lineno, stall.category, stall.detail)
    """

    kind: str
    category: Optional[str]  # socket / lock/condition / sleep / dns / tls-handshake
    detail: str  # e.g. "time.sleep() in app.ReportHandler.get"
    location: str  # innermost Python frame, "path:line in qualname"
    filename: str  # your code's innermost frame...
    lineno: int
    function: str
    stack: str  # the loop thread's stack from the running callback down, innermost last
    gap_ms: float  # time without a heartbeat (the loop was stuck for most of it)
    thread_id: int
    thread_name: str
    context: Any = None  # what LoopWatchdog._stall_context() returned when the stall began
    detected_after_ms: float = 0.0  # heartbeat gap when the blocking call was confirmed
    # While the sampler followed the stall (from 30 ms before the stall
    # limit): how long it followed it, and how much of that the loop thread
    # spent on a CPU and waiting for one (None where the platform can't tell;
    # run-queue time needs Linux).  A loop thread that mostly waited for a
    # CPU was slowed by an overloaded machine more than by its own code.
    observed_ms: float = 0.0
    cpu_ms: Optional[float] = None
    runq_ms: Optional[float] = None

    @property
    def starved(self) -> bool:
        """True if the loop thread mostly waited for a CPU while the stall was observed."""
        return (
            self.runq_ms is not None
            and self.observed_ms >= CONFIRM_SPAN * 1000
            and self.runq_ms > _WAIT_RUNQ_RATIO * self.observed_ms
        )

    @property
    def blocking(self) -> bool:
        """True for a blocking call, False for a slow callback."""
        return self.kind == BLOCKING_CALL

    @property
    def user_location(self) -> str:
        """``"path:line in function"`` of your code's innermost frame."""
        return f"{self.filename}:{self.lineno} in {self.function}"

    def headline(self) -> str:
        """One line: what kept the loop from running, and where in your code."""
        if self.blocking:
            return (
                f"event loop blocked by a blocking call ({self.category}) at "
                f"{self.user_location}: {self.detail}; caught after "
                f"{self.detected_after_ms:.0f} ms without a heartbeat (thread {self.thread_name})"
            )
        cpu = ""
        if self.cpu_ms is not None and self.observed_ms >= CONFIRM_SPAN * 1000:
            cpu = f"; on a CPU {self.cpu_ms:.0f} ms"
            if self.runq_ms is not None:
                cpu += f", waiting for one {self.runq_ms:.0f} ms"
            cpu += f" of the {self.observed_ms:.0f} ms observed"
            if self.starved:
                cpu += " (mostly waiting for a CPU: the machine is overloaded)"
        return (
            f"event loop busy (slow callback) for {self.gap_ms:.0f} ms at "
            f"{self.user_location}: {self.detail}{cpu} (thread {self.thread_name})"
        )

    def format(self) -> str:
        """The headline and the loop thread's stack, as logged."""
        which = "Loop thread stack" if self.blocking else "Loop thread stack when sampled"
        return f"{self.headline()}\n{which} (innermost last):\n{self.stack.rstrip()}"


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
    context: Any
    gap: float = 0.0
    blocking: Optional[LoopStall] = None
    # (kind, detail, location, frame summary of user code, stack) of a non-blocking stall
    note: Optional[tuple] = None
    # (time.monotonic(), CPU seconds, run-queue seconds) of the loop thread
    # at the first and the latest sample of the stall
    first: Optional[tuple] = None
    latest: Optional[tuple] = None
    status: str = ""  # what the sampler last concluded, for diagnostics


# --- stacks -------------------------------------------------------------------------


def _format_loop_stack(frame: Any) -> str:
    """The loop thread's stack, innermost last, from the running callback down."""
    entries = traceback.extract_stack(frame, limit=_STACK_LIMIT)
    # Drop the event loop and runner frames above the callback.
    for i in range(len(entries) - 1, -1, -1):
        entry = entries[i]
        if entry.name == "_run" and entry.filename.replace("\\", "/").endswith("asyncio/events.py"):
            return "  [event loop: callback]\n" + _format_entries(entries[i + 1 :])
    return _format_entries(entries)


def _format_entries(entries: list) -> str:
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


def _library_dirs() -> tuple[str, ...]:
    """Directories whose code is not the application's: the standard library,
    installed packages and Motor itself."""
    dirs = set()
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if paths.get(key):
            dirs.add(paths[key])
    try:
        dirs.update(site.getsitepackages())
    except AttributeError:  # some embedded interpreters
        pass
    user_site = getattr(site, "USER_SITE", None)
    if user_site:
        dirs.add(user_site)
    # Motor (an editable install lives outside site-packages).
    dirs.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return tuple(os.path.join(os.path.normcase(os.path.abspath(d)), "") for d in dirs)


_LIBRARY_DIRS = _library_dirs()
_is_library_cache: dict = {}


def _is_library(filename: str) -> bool:
    known = _is_library_cache.get(filename)
    if known is None:
        if filename.startswith("<"):
            known = filename.startswith("<frozen")
        else:
            path = os.path.normcase(os.path.abspath(filename))
            known = path.startswith(_LIBRARY_DIRS)
        _is_library_cache[filename] = known
    return known


def _user_frame(frame: Any) -> Any:
    """The innermost frame of application code (or the innermost frame)."""
    innermost = frame
    while frame is not None:
        if not _is_library(frame.f_code.co_filename):
            return frame
        frame = frame.f_back
    return innermost


def _frame_place(frame: Any) -> tuple[str, int, str]:
    code = frame.f_code
    return code.co_filename, frame.f_lineno or 0, getattr(code, "co_qualname", code.co_name)


def _observed(stall: _Stall) -> dict:
    """observed_ms, cpu_ms and runq_ms of a stall's record."""
    if stall.first is None or stall.latest is None:
        return {}
    (t0, cpu0, runq0), (t1, cpu1, runq1) = stall.first, stall.latest
    out = {"observed_ms": (t1 - t0) * 1000}
    if cpu0 is not None and cpu1 is not None:
        out["cpu_ms"] = (cpu1 - cpu0) * 1000
    if runq0 is not None and runq1 is not None:
        out["runq_ms"] = (runq1 - runq0) * 1000
    return out


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


# --- the run_forever hook -----------------------------------------------------------
#
# One wrapper of BaseEventLoop.run_forever serves every running LoopWatchdog;
# it is installed when the first one starts and removed when the last stops.

_running_watchdogs: tuple = ()
_hook_lock = threading.Lock()
# What the wrapper calls: the run_forever it replaced (kept after removal, for
# a call that found the wrapper just before it was removed).
_original_run_forever: Callable[..., Any] = asyncio.BaseEventLoop.run_forever


def _watched_run_forever(self: asyncio.AbstractEventLoop, *args: Any, **kwargs: Any) -> Any:
    original = _original_run_forever
    entered = []
    for watchdog in _running_watchdogs:
        try:
            if watchdog._enter(self):
                entered.append(watchdog)
        except Exception:  # a diagnostics tool must never keep the loop from running
            logging.getLogger(LOGGER_NAME).exception("the loop watchdog failed to watch %r", self)
    try:
        return original(self, *args, **kwargs)
    finally:
        for watchdog in entered:
            watchdog._exit(self)


def _hook_installed() -> bool:
    """Whether the run_forever wrapper is in place."""
    return asyncio.BaseEventLoop.__dict__.get("run_forever") is _watched_run_forever


def _register(watchdog: "LoopWatchdog") -> None:
    global _running_watchdogs, _original_run_forever
    with _hook_lock:
        if not _hook_installed():
            _original_run_forever = asyncio.BaseEventLoop.__dict__["run_forever"]
            asyncio.BaseEventLoop.run_forever = _watched_run_forever  # type: ignore[method-assign]
        _running_watchdogs = (*_running_watchdogs, watchdog)


def _unregister(watchdog: "LoopWatchdog") -> None:
    global _running_watchdogs, _original_run_forever
    with _hook_lock:
        _running_watchdogs = tuple(w for w in _running_watchdogs if w is not watchdog)
        if not _running_watchdogs and _hook_installed():
            asyncio.BaseEventLoop.run_forever = _original_run_forever  # type: ignore[method-assign]


# --- one watched loop -----------------------------------------------------------------


class _LoopWatch:
    """A watchdog's state for one loop.

    The loop thread writes ``running``, ``last_beat`` and the thread fields;
    the sampler reads them (plain attribute access is atomic under the GIL).
    ``lock`` is held by the sampler for a whole sample; the loop thread takes
    it only at the start and end of ``run_forever``.
    """

    def __init__(self, loop: Any, watchdog: "LoopWatchdog") -> None:
        self.loop_ref = weakref.ref(loop)
        self.watchdog = watchdog
        self.lock = threading.Lock()
        self.running = False
        self.adopted = False  # watched while already running (no run_forever wrapper around it)
        self.last_beat = 0.0
        self.thread_id: Optional[int] = None
        self.thread_name = ""
        self.cpu_clock: Optional[int] = None
        self.schedstat: Optional[str] = None
        self.beat_handle: Any = None
        self.stall: Optional[_Stall] = None
        self.track: Optional[_Track] = None
        # (time.monotonic(), CPU seconds, run-queue seconds) of the loop thread
        # when the sampler began following it (before a stall, or None)
        self.following_since: Optional[tuple] = None
        self.sampled_at = 0.0

    def begin(self, loop: Any) -> None:
        """On the loop thread, before it runs (caller holds ``lock``)."""
        tid = threading.get_ident()
        if tid != self.thread_id:
            self.thread_id = tid
            self.thread_name = threading.current_thread().name
            try:
                self.cpu_clock = time.pthread_getcpuclockid(tid)
            except (AttributeError, OSError):
                self.cpu_clock = None
            self.schedstat = f"/proc/self/task/{threading.get_native_id()}/schedstat"
            if _read_schedstat(self.schedstat) is None:
                self.schedstat = None
        if self.beat_handle is None or self.beat_handle.cancelled():
            self.beat_handle = loop.call_later(self.watchdog.heartbeat_interval, self.beat)
        self.last_beat = time.monotonic()
        self.track = None
        self.following_since = None
        self.running = True

    def beat(self) -> None:
        """The heartbeat: a callback on the loop, every ``heartbeat_interval``."""
        self.last_beat = time.monotonic()
        loop = self.loop_ref()
        if loop is not None and not self.watchdog._stopping.is_set():
            self.beat_handle = loop.call_later(self.watchdog.heartbeat_interval, self.beat)
        else:
            self.beat_handle = None

    def due(self, sample_interval: float, stall_limit: float) -> float:
        """When the sampler should next look at this loop."""
        if self.stall is not None or self.track is not None:
            return self.sampled_at + sample_interval
        return self.last_beat + stall_limit - _TRACK_AHEAD

    def progress(self) -> tuple[Optional[float], Optional[float]]:
        """How much CPU the loop thread has used, and waited for, so far."""
        stat = _read_schedstat(self.schedstat)
        if stat is not None:
            return stat
        clock = self.cpu_clock
        if clock is not None:
            try:
                return time.clock_gettime(clock), None
            except OSError:
                pass
        return None, None

    def cancel_heartbeat(self) -> None:
        """Remove the heartbeat from the loop, from any thread."""
        handle, self.beat_handle = self.beat_handle, None
        loop = self.loop_ref()
        if handle is None or loop is None or loop.is_closed():
            return
        if loop.is_running() and self.thread_id != threading.get_ident():
            loop.call_soon_threadsafe(handle.cancel)
        else:
            handle.cancel()


# --- the watchdog -------------------------------------------------------------

_Watchdog = TypeVar("_Watchdog", bound="LoopWatchdog")


class LoopWatchdog:
    """Watches asyncio event loops and reports what keeps them from running.

    Most applications call :func:`motor.diagnostics.enable_loop_watchdog`
    instead; create one directly to watch only some loops or to keep several
    with different settings::

        watchdog = LoopWatchdog(loops=[loop], stall_threshold=0.1, callback=on_stall)
        watchdog.start()
        ...
        watchdog.stop()

    ``loops`` (default: every asyncio event loop) are watched whenever they
    run after `start`, from any thread, and the loop running in the thread
    that calls `start` is watched at once.  Each stall longer than
    ``stall_threshold`` seconds is reported once, as a `LoopStall`: to the
    ``motor.diagnostics`` logger at WARNING level (unless ``log=False``) and
    to ``callback(stall)`` if given.  Both run in the watchdog's own thread,
    never in a loop's.  ``slow_callbacks=False`` reports blocking calls only.

    .. versionadded:: 4.0
    """

    #: Modules whose code on the loop thread is the watchdog's own bookkeeping.
    bookkeeping_modules: frozenset = frozenset()

    def __init__(
        self,
        loops: Optional[Iterable[Any]] = None,
        *,
        stall_threshold: float = STALL_THRESHOLD,
        callback: Optional[Callable[[LoopStall], Any]] = None,
        log: bool = True,
        slow_callbacks: bool = True,
        heartbeat_interval: float = HEARTBEAT_INTERVAL,
        sample_interval: float = SAMPLE_INTERVAL,
    ) -> None:
        for name, value in (
            ("stall_threshold", stall_threshold),
            ("heartbeat_interval", heartbeat_interval),
            ("sample_interval", sample_interval),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number of seconds, not {value!r}")
            if not 0 < value < float("inf"):
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable, not {callback!r}")
        if loops is None:
            self._only: Optional[list] = None
        else:
            loops = list(loops)
            for loop in loops:
                if not isinstance(loop, asyncio.BaseEventLoop):
                    raise TypeError(
                        f"loops must be asyncio event loops (asyncio.BaseEventLoop), "
                        f"not {loop!r}; for a Tornado IOLoop pass its asyncio_loop"
                    )
            self._only = [weakref.ref(loop) for loop in loops]
        self.stall_threshold = float(stall_threshold)
        self.heartbeat_interval = float(heartbeat_interval)
        self.sample_interval = float(sample_interval)
        # No heartbeat for this long means a stall.
        self.stall_limit = self.heartbeat_interval + self.stall_threshold
        self.callback = callback
        self.log = log
        self.slow_callbacks = slow_callbacks
        self.logger = logging.getLogger(LOGGER_NAME)

        self.samples = 0  # frames classified (only during stalls)
        self.stalls = 0
        self.wakeups = 0  # sampler wake-ups while a loop ran (each costs a GIL hand-off)

        self._watches: dict[int, _LoopWatch] = {}  # id(loop) -> watch
        self._watches_lock = threading.Lock()  # tiny sections only
        self._outbox: collections.deque = collections.deque()  # records to emit
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._sampler_schedstat: Optional[str] = None

    # -- lifecycle --

    def start(self: _Watchdog) -> _Watchdog:
        """Start watching (idempotent); returns self."""
        if self._thread is not None:
            return self
        # A fresh event: a sampler still finishing after an earlier stop()
        # keeps seeing its own event set.
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run_sampler, args=(self._stopping,), name="motor-loop-watchdog",
            daemon=True,
        )
        self._thread.start()
        _register(self)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self._enter(loop, adopt=True)  # watch the loop this thread runs now
        return self

    def stop(self) -> None:
        """Stop watching and remove everything `start` installed: the
        ``run_forever`` wrapper (once no watchdog runs), the heartbeats and the
        sampler thread.  Records of stalls still open are emitted first."""
        if self._thread is None:
            return
        _unregister(self)
        watches = self._watch_list()
        for watch in watches:
            with watch.lock:
                watch.running = False
                self._end_stall(watch)  # the sampler emits it on its way out
        self._stopping.set()
        self._wake.set()
        # Wait for the sampler to finish, unless this runs on a loop's thread
        # (don't make the loop wait for a report being written) or in the
        # sampler itself (a callback that stops its watchdog): the sampler
        # then ends by itself once it is done.
        try:
            asyncio.get_running_loop()
            wait = False
        except RuntimeError:
            wait = threading.current_thread() is not self._thread
        if wait:
            self._thread.join(5)
        self._thread = None
        for watch in watches:
            watch.cancel_heartbeat()
        with self._watches_lock:
            self._watches.clear()
        if wait:
            self._flush()

    @property
    def started(self) -> bool:
        return self._thread is not None

    def watched_loops(self) -> list:
        """The loops this watchdog has seen run (and that still exist)."""
        return [loop for loop in (w.loop_ref() for w in self._watch_list()) if loop is not None]

    def is_watching(self, loop: Any) -> bool:
        """True while ``loop`` runs under this watchdog."""
        watch = self._watch_of(loop)
        return watch is not None and watch.running

    # -- hooks for subclasses --

    def _stall_context(self) -> Any:
        """Attached to the records of a stall that begins now (sampler thread)."""
        return None

    def _make_record(self, **fields: Any) -> LoopStall:
        return LoopStall(**fields)

    def _stall_seen(self, stall: _Stall) -> None:
        """Called at each sample of an ongoing stall (sampler thread, loop's lock held)."""

    def _record(self, record: LoopStall) -> None:
        """A new record (sampler or loop thread, loop's lock held: no I/O here)."""
        if record.kind == BLOCKING_CALL:
            self._outbox.append(record)
        elif record.kind == SLOW_CALLBACK and self.slow_callbacks:
            self._outbox.append(record)

    def _emit(self, record: LoopStall) -> None:
        """Report a record (sampler thread, no lock held)."""
        if self.log:
            self.logger.warning("%s", record.format(), extra={"loop_stall": record})
        if self.callback is not None:
            try:
                self.callback(record)
            except Exception:  # a broken callback must not stop the watchdog
                self.logger.exception("motor.diagnostics: the loop watchdog's callback failed")

    # -- loop side --

    def _wants(self, loop: Any) -> bool:
        if self._only is None:
            return True
        return any(ref() is loop for ref in self._only)

    def _watch_of(self, loop: Any) -> Optional[_LoopWatch]:
        watch = self._watches.get(id(loop))
        if watch is not None and watch.loop_ref() is loop:
            return watch
        return None

    def _watch_list(self) -> list:
        with self._watches_lock:
            return list(self._watches.values())

    def _enter(self, loop: Any, adopt: bool = False) -> bool:
        """The loop thread is about to run ``loop`` (from the run_forever
        wrapper), or, with ``adopt``, is running it already."""
        if self._stopping.is_set() or not self._wants(loop):
            return False
        if loop.is_running() != adopt:
            return False  # (a nested run_forever raises "already running")
        watch = self._watch_of(loop)
        if watch is None:
            watch = _LoopWatch(loop, self)
            with self._watches_lock:
                self._watches = {
                    key: w for key, w in self._watches.items() if w.loop_ref() is not None
                }
                self._watches[id(loop)] = watch
        with watch.lock:
            watch.adopted = adopt
            watch.begin(loop)
        self._wake.set()
        return True

    def _exit(self, loop: Any) -> None:
        """``loop``'s run_forever returned."""
        watch = self._watch_of(loop)
        if watch is None:
            return
        watch.running = False
        with watch.lock:
            self._end_stall(watch)
        self._wake.set()

    # -- sampler side --

    def _run_sampler(self, stopping: threading.Event) -> None:
        path = f"/proc/self/task/{threading.get_native_id()}/schedstat"
        self._sampler_schedstat = path if _read_schedstat(path) is not None else None
        while not stopping.is_set():
            self._wake.clear()
            self._flush()
            running = [w for w in self._watch_list() if w.running]
            if not running:
                self._wake.wait(0.5)
                continue
            now = time.monotonic()
            due = min(w.due(self.sample_interval, self.stall_limit) for w in running)
            # Every wake-up costs a loop thread a GIL hand-off: sleep until a
            # stall could start to matter.  (time.sleep: cheaper than an
            # Event.wait with a timeout; stop() waits at most _MAX_SLEEP.)
            time.sleep(min(max(due - now, 0.001), _MAX_SLEEP))
            if stopping.is_set():
                break
            self.wakeups += 1
            now = time.monotonic()
            for watch in running:
                if watch.due(self.sample_interval, self.stall_limit) > now + 0.0005:
                    continue
                with watch.lock:
                    if watch.running and not stopping.is_set():
                        try:
                            self._sample(watch, now)
                        except Exception:  # never let the sampler die silently
                            traceback.print_exc()
                    watch.sampled_at = now
        self._flush()

    def _flush(self) -> None:
        while self._outbox:
            try:
                record = self._outbox.popleft()
            except IndexError:
                return
            self._emit(record)

    def _sample(self, watch: _LoopWatch, now: float) -> None:
        loop = watch.loop_ref()
        if loop is None or (watch.adopted and not loop.is_running()):
            # Gone, or an adopted run ended (no run_forever wrapper tells us).
            watch.running = False
            self._end_stall(watch)
            return
        beat = watch.last_beat
        gap = now - beat
        if watch.stall is not None and watch.stall.key != beat:
            # A heartbeat came since the stall began: the loop went without
            # one from the stall's beat to this one (the samples, taken only
            # as often as the sampler gets the GIL, saw less of it).
            watch.stall.gap = max(watch.stall.gap, beat - watch.stall.key)
        if gap <= self.stall_limit - _TRACK_AHEAD:
            if watch.stall is not None:
                self._end_stall(watch)
            watch.track = None
            watch.following_since = None
            return

        # Close to or past the stall limit: follow what the loop thread does,
        # so a blocking call can be confirmed as soon as the limit is passed.
        frame = sys._current_frames().get(watch.thread_id or 0)
        if frame is None or not watch.running:
            return
        cpu, runq = watch.progress()
        if watch.following_since is None:
            watch.following_since = (now, cpu, runq)
        sampler = _read_schedstat(self._sampler_schedstat)
        sampler_runq = sampler[1] if sampler is not None else None
        track = watch.track
        if track is None or track.frame is not frame or track.lasti != frame.f_lasti:
            track = watch.track = _Track(frame, frame.f_lasti, now, cpu, runq, sampler_runq)
        if gap <= self.stall_limit:
            return

        stall = watch.stall
        if stall is None or stall.key != beat:
            if stall is not None:
                self._end_stall(watch)
            stall = watch.stall = _Stall(beat, self._stall_context())
            self.stalls += 1
        stall.gap = max(stall.gap, gap)
        stall.latest = (now, cpu, runq)
        if stall.first is None:
            stall.first = watch.following_since or stall.latest
        self._stall_seen(stall)
        if stall.blocking is not None:
            stall.blocking.gap_ms = stall.gap * 1000
            return

        bookkeeping = self.bookkeeping_modules
        if track.result is None:
            self.samples += 1
            track.result = classify_frame(frame, inspect_objects=False, bookkeeping=bookkeeping)
        result = track.result
        if result.category == BUSY and not track.inspected:
            if not self._not_waiting(track, watch, now, cpu, runq, sampler_runq):
                # Parked in a C call the names didn't give away: now it is
                # safe to look at the objects involved.
                track.inspected = True
                result = track.result = classify_frame(
                    frame, inspect_objects=True, bookkeeping=bookkeeping
                )
        if not result.blocking:
            stall.status = f"{result.category}: {result.detail}"
            if stall.note is None or stall.note[0] != SLOW_CALLBACK:
                kinds = {IDLE: IDLE_LATE, WATCHDOG: WATCHDOG_NOTE}
                kind = kinds.get(result.category, SLOW_CALLBACK)
                stall.note = (kind, result.detail, result.location, *self._note_place(frame, kind))
            return
        why_not = self._not_waiting(track, watch, now, cpu, runq, sampler_runq)
        if not why_not and result.category == SOCKET and calls_nonblocking_socket(frame):
            # A non-blocking socket call cannot block: the loop thread sat
            # there waiting for the GIL (held by another thread).
            why_not = "non-blocking socket"
        if why_not:
            stall.status = f"{result.category}: {result.detail}, not confirmed ({why_not})"
            if stall.note is None:
                stall.note = (
                    SLOW_CALLBACK,
                    result.detail,
                    result.location,
                    *self._note_place(frame, SLOW_CALLBACK),
                )
            return
        stall.status = f"violation: {result.category}: {result.detail}"

        filename, lineno, function = _frame_place(_user_frame(frame))
        record = self._make_record(
            kind=BLOCKING_CALL,
            category=result.category,
            detail=result.detail,
            location=result.location,
            filename=filename,
            lineno=lineno,
            function=function,
            stack=_format_loop_stack(frame),
            gap_ms=stall.gap * 1000,
            thread_id=watch.thread_id or 0,
            thread_name=watch.thread_name,
            context=stall.context,
            detected_after_ms=gap * 1000,
        )
        stall.blocking = record
        self._record(record)

    def _note_place(self, frame: Any, kind: str) -> tuple[tuple[str, int, str], str]:
        """Where a stall that is not a blocking call was seen, and the stack:
        only when it will be reported (formatting a stack keeps the GIL from
        the loop thread for a while)."""
        if kind != SLOW_CALLBACK or not self._reports_slow_callbacks():
            code = frame.f_code
            return (code.co_filename, frame.f_lineno or 0, code.co_name), ""
        return _frame_place(_user_frame(frame)), _format_loop_stack(frame)

    def _reports_slow_callbacks(self) -> bool:
        return self.slow_callbacks and (self.log or self.callback is not None)

    def _not_waiting(
        self,
        track: _Track,
        watch: _LoopWatch,
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

    def _end_stall(self, watch: _LoopWatch) -> None:
        """Close ``watch``'s current stall (caller holds ``watch.lock``)."""
        stall, watch.stall = watch.stall, None
        watch.track = None
        watch.following_since = None
        if stall is None:
            return
        if stall.blocking is not None:
            stall.blocking.gap_ms = stall.gap * 1000
            return
        if stall.note is None:
            return
        kind, detail, location, (filename, lineno, function), stack = stall.note
        self._record(
            self._make_record(
                kind=kind,
                category=None,
                detail=detail,
                location=location,
                filename=filename,
                lineno=lineno,
                function=function,
                stack=stack,
                gap_ms=stall.gap * 1000,
                thread_id=watch.thread_id or 0,
                thread_name=watch.thread_name,
                context=stall.context,
                **_observed(stall),
            )
        )
