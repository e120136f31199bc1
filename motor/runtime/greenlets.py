"""Child greenlets on the IOLoop thread.

Every blocking PyMongo call that Motor makes runs inside a *worker*: a
long-lived child greenlet of the loop thread's main greenlet (the *hub*, where
the event loop itself runs). Whenever PyMongo would wait, the worker parks
itself with :func:`suspend_until` and switches back to the hub; a loop
callback switches back into it when the wait is over. Results reach the
caller through an :class:`asyncio.Future` (which Tornado 6 shares) or a
``callback(result, error)``, always delivered by the loop, never from inside
the worker.

Workers are pooled per loop: starting a call costs one greenlet switch, not a
greenlet creation (see ``../shared/notes/pymongo-bridge.md`` for the figures).
At most :data:`MAX_ACTIVE_WORKERS` run at once; further calls wait in a FIFO,
as a tuple rather than a parked greenlet, so that 10,000 pending calls cost
little memory.

Typical use, from Motor's generated methods::

    runtime = LoopRuntime.for_loop(asyncio_loop)
    future = runtime.start(collection.find_one, ({"_id": 1},), {})

.. versionadded:: 4.0
"""

from __future__ import annotations

import collections
import contextvars
import os
from asyncio import _get_running_loop
import threading
import time
from threading import get_ident
import weakref
from typing import Any, Callable

import greenlet

from motor.runtime import idle_poll

__all__ = [
    "LoopRuntime",
    "MotorWorker",
    "Wait",
    "current_worker",
    "suspend_until",
]

_getcurrent = greenlet.getcurrent

# How many idle workers a loop keeps; more than this are let go when they
# finish, so a burst of 10,000 calls does not pin 10,000 greenlets forever.
MAX_IDLE_WORKERS = 256

# How many workers run calls at once on a loop; further calls wait in a FIFO
# (a tuple each, not a parked greenlet with its stack) until one is free.
# Beyond a pool's max_concurrent they could only wait for a connection anyway.
# A queued call's CSOT deadline (pymongo.timeout) runs while it waits; its
# max_wait_time starts when it starts.
MAX_ACTIVE_WORKERS = 512

# Burst control (LoopRuntime.defer_wake): once workers have read this many
# bytes since the coroutines last had a turn, a reply on another connection
# waits for the next pass of the loop before its worker decodes it.
BURST_BYTES = 256 * 1024

# Burst control (LoopRuntime.defer_wake): how many workers the loop resumes
# before the coroutines they served have had a turn; further replies wait
# for a later pass. Sixteen finished calls' objects stay under the garbage
# collector's threshold of 700 young objects; see defer_wake.
WAKE_BATCH = 16

# How often the coarse timeouts of LoopRuntime.watch_slice are checked: a
# 0.5 s poll slice ends between 0.5 and 0.5 + SLICE_TICK seconds.
SLICE_TICK = 0.1


class MotorWorker(greenlet.greenlet):
    """A pooled child greenlet that runs PyMongo calls for one loop.

    A suspended greenlet is never garbage collected (CPython's collector
    cannot see into its frames), so an idle worker must hold nothing that
    leads back to its runtime or to itself: the runtime's idle list is then
    its only owner, and when the runtime goes (its loop closed and its
    clients dropped) the idle workers are deallocated, greenlet ends each
    with ``GreenletExit``, and the loop is freed. Hence the run function is
    the plain :func:`_serve`, not a bound method, ``runtime`` is a weak
    reference, and each call arrives with its runtime.
    """

    def __init__(self, runtime: LoopRuntime, first_call: tuple) -> None:
        super().__init__(_serve, parent=runtime.hub)
        self._runtime_ref = weakref.ref(runtime)
        # (fn, args, kwargs, future, callback), handed over by attribute and
        # not as arguments of the first switch: greenlet keeps those alive
        # until the run function returns, which a pooled worker's never does
        # (the first call's cursor, closure and result would live forever).
        self.first_call: tuple | None = first_call

    @property
    def runtime(self) -> LoopRuntime:
        """The runtime this worker serves (alive while the worker runs a call)."""
        return self._runtime_ref()  # type: ignore[return-value]


def _serve() -> None:
    """The life of a worker: run calls, park idle in between."""
    worker = _getcurrent()
    fn, args, kwargs, future, callback = worker.first_call
    worker.first_call = None
    runtime = worker.runtime
    hub = worker.parent
    worker = None
    while True:
        try:
            result = fn(*args, **kwargs)
        except greenlet.GreenletExit:
            # Killed while parked (what would have resumed it is gone):
            # give its slot back.
            runtime._active -= 1
            raise
        except BaseException as exc:  # noqa: BLE001 - delivered to the caller
            runtime.deliver(future, callback, None, exc)
        else:
            runtime.deliver(future, callback, result, None)
        # Drop references before parking so results can be collected.
        fn = args = kwargs = future = callback = result = None
        # Calls that found every slot taken wait in the runtime's queue:
        # take the next one straight away, keeping this worker's slot.
        queue = runtime._queue
        while queue:
            fn, args, kwargs, future, callback, context = queue.popleft()
            if future is not None and future.cancelled():
                fn = args = kwargs = future = callback = None
                continue
            _getcurrent().gr_context = context
            context = None
            break
        queue = None
        if fn is not None:
            continue
        runtime._active -= 1
        idle = runtime._idle
        if len(idle) >= MAX_IDLE_WORKERS:
            return
        # Idle: keep no reference to the runtime (see MotorWorker), not even
        # through the last caller's ContextVars (a bound session's client).
        current = _getcurrent()
        current.gr_context = None
        idle.append(current)
        runtime = idle = current = None
        fn, args, kwargs, future, callback, runtime = hub.switch()


def current_worker() -> MotorWorker | None:
    """The worker running now, or None outside Motor's child greenlets."""
    current = greenlet.getcurrent()
    return current if isinstance(current, MotorWorker) else None


class Wait:
    """One suspension of a worker; resumes it at most once.

    A wait may be ended by several loop events (a future completing, a timer,
    a notify); only the first one switches back into the worker, later ones
    are ignored.
    """

    __slots__ = ("worker", "done")

    def __init__(self, worker: MotorWorker) -> None:
        self.worker = worker
        self.done = False

    def resume(self, value: Any = None) -> None:
        if not self.done:
            self.done = True
            self.worker.switch(value)

    def fail(self, exc: BaseException) -> None:
        if not self.done:
            self.done = True
            self.worker.throw(exc)


def suspend_until(arm: Callable[[Wait], Any]) -> Any:
    """Park the current worker until the wait that ``arm`` sets up ends.

    ``arm(wait)`` registers loop callbacks that will call ``wait.resume(value)``
    or ``wait.fail(exc)``; this returns ``value`` (or raises ``exc``).
    """
    worker = greenlet.getcurrent()
    if not isinstance(worker, MotorWorker):
        raise RuntimeError(
            "Motor's bridge tried to wait outside one of its child greenlets; "
            "PyMongo objects owned by a Motor client must be used through Motor"
        )
    wait = Wait(worker)
    arm(wait)
    return worker.parent.switch()


def _hub_greenlet() -> greenlet.greenlet:
    current = greenlet.getcurrent()
    while current.parent is not None:
        current = current.parent
    return current


class LoopRuntime:
    """Motor's greenlet machinery for one asyncio event loop."""

    # loop -> weakref to its runtime. Weak both ways: a runtime holds its
    # loop, so a strong value would keep every loop (and its runtime and
    # workers) alive for good. A runtime lives as long as something uses
    # it: a client (its _bound_runtime), a worker, a loop callback.
    _by_loop: weakref.WeakKeyDictionary[Any, weakref.ref[LoopRuntime]] = (
        weakref.WeakKeyDictionary()
    )
    _by_loop_lock = threading.Lock()

    def __init__(self, loop: Any) -> None:
        self.loop = loop
        self.thread_id: int | None = None
        self.hub: greenlet.greenlet | None = None
        self._idle: list[MotorWorker] = []
        # Workers running a call (less those parked on a loop Future, see
        # release_slot), and the calls waiting for one of them.
        self._active = 0
        self._queue: collections.deque = collections.deque()
        self._draining = False
        # Burst control: bytes read by workers since the last deferred wake,
        # the socket that read last, workers resumed since a coroutine last
        # started a call, and the wakes put off to the next pass.
        self.burst_bytes = 0
        self.last_reader: Any = None
        self.wakes = 0
        self.deferred_wakes: collections.deque = collections.deque()
        self._wakes_scheduled = False
        # Sockets whose requests wait for the next flush (queue_send); a
        # flush is scheduled whenever the list is not empty.
        self._sends: list = []
        # Waits bounded by PyMongo's 0.5 s cancellation poll: owner -> deadline.
        self._slices: dict[Any, float] = {}
        self._slice_timer: Any = None
        # Counts the workers waiting for a reply; the loop polls before it
        # sleeps while there are some (see motor.runtime.idle_poll).
        self.idle_poll = idle_poll.for_loop(loop)

    @classmethod
    def for_loop(cls, loop: Any) -> LoopRuntime:
        """The runtime of ``loop`` (an asyncio event loop), made on first use."""
        ref = cls._by_loop.get(loop)
        runtime = None if ref is None else ref()
        if runtime is None:
            with cls._by_loop_lock:
                ref = cls._by_loop.get(loop)
                runtime = None if ref is None else ref()
                if runtime is None:
                    runtime = cls(loop)
                    cls._by_loop[loop] = weakref.ref(runtime)
        return runtime

    @classmethod
    def _forget_all_after_fork(cls) -> None:
        # In a child process: the parent's runtimes serve the parent's loops
        # (whose epoll instance the child shares); a new loop in the child
        # gets a new runtime. The lock may have been held by another thread.
        cls._by_loop = weakref.WeakKeyDictionary()
        cls._by_loop_lock = threading.Lock()

    # -- thread affinity -----------------------------------------------------

    def check_thread(self) -> None:
        """Bind to the calling thread on first use; refuse other threads and loops."""
        ident = threading.get_ident()
        if self.thread_id != ident:
            if self.thread_id is not None:
                self._wrong_thread(ident)
            self.thread_id = ident
            self.hub = _hub_greenlet()
        running = _get_running_loop()
        if running is not None and running is not self.loop:
            raise RuntimeError(
                f"This Motor client is bound to event loop {self.loop!r}, but was "
                f"used from another loop, {running!r}. A client serves the loop it "
                "was first used on (or its io_loop): make one client per loop."
            )

    def _wrong_thread(self, ident: int) -> None:
        raise RuntimeError(
            f"Motor was called from thread {threading.current_thread().name!r} "
            f"(id {ident}), but this client's IOLoop runs on thread id "
            f"{self.thread_id}. Motor's methods must be called on the IOLoop's "
            "thread; from another thread, schedule the call with "
            "IOLoop.add_callback() or asyncio.run_coroutine_threadsafe()."
        )

    def on_loop_thread(self) -> bool:
        return threading.get_ident() == self.thread_id

    def call_soon_any_thread(self, fn: Callable[..., Any], *args: Any) -> None:
        """Schedule ``fn(*args)`` on the loop, from whatever thread we are on."""
        if threading.get_ident() == self.thread_id:
            self.loop.call_soon(fn, *args)
        else:
            self.loop.call_soon_threadsafe(fn, *args)

    # -- burst control --------------------------------------------------------------

    def defer_wake(self, owner: Any) -> None:
        """Call ``owner.deferred_wake()`` on a later pass of the loop.

        When many replies arrive together, the loop would resume every
        waiting worker in one pass, and only on the next pass would the
        coroutines that awaited them go on. Two things go wrong then:

        - With large replies (100 cursors' batches), every worker decodes
          its reply before any coroutine consumes its documents; so many
          live documents make the garbage collector promote them and run
          full collections. Once workers have read :data:`BURST_BYTES` of
          large replies (64 KiB and more), further wakes wait.
        - With small ones, the finished calls free their objects in one pass
          and the coroutines allocate their next calls' in the next. CPython
          counts young objects allocated minus freed, never below zero, and
          collects at 700: frees that come first are lost to the count, so
          every pass that starts some 20 calls crossed it (280 to 460
          collections per 10,000 calls at concurrency 100, one in a hundred
          a full one).
          Once :data:`WAKE_BATCH` workers have resumed since a coroutine last
          started a call, further wakes wait (the socket's reply is read off
          first, so the loop stops reporting it).

        Wakes put off resume in order on the next passes, each batch after
        the coroutines woken by the previous one.
        """
        self.deferred_wakes.append(owner)
        if not self._wakes_scheduled:
            self._wakes_scheduled = True
            self.loop.call_soon(self._run_deferred_wakes)

    def _run_deferred_wakes(self) -> None:
        self._wakes_scheduled = False
        self.burst_bytes = 0
        self.last_reader = None
        self.wakes = 0
        wakes = self.deferred_wakes
        while wakes:
            self.wakes += 1
            wakes.popleft().deferred_wake()
            if (self.burst_bytes > BURST_BYTES or self.wakes >= WAKE_BATCH) and wakes:
                self._wakes_scheduled = True
                self.loop.call_soon(self._run_deferred_wakes)
                return

    # -- coalesced sends ---------------------------------------------------------

    def queue_send(self, owner: Any) -> None:
        """Call ``owner.flush()`` at the start of the loop's next pass.

        While other calls are under way, a worker's small request waits for
        this flush instead of going out at once, so that the requests of a
        pass leave together. A server woken by the first of them is still
        busy when the next ones arrive; sent one by one, tens of
        microseconds apart, each would find it asleep and pay to wake it
        (a good part of every send on a virtual machine). A lone call, with
        nothing else under way, sends at once.
        """
        if not self._sends:
            self.loop.call_soon(self._flush_sends)
        self._sends.append(owner)

    def _flush_sends(self) -> None:
        sends = self._sends
        self._sends = []
        for owner in sends:
            owner.flush()

    # -- coarse timeouts ---------------------------------------------------------

    def watch_slice(self, owner: Any, deadline: float) -> None:
        """Call ``owner.slice_expired()`` on the loop once ``deadline`` has passed.

        For timeouts that only bound a poll (PyMongo re-checks its
        cancellation flag every 0.5 s while reading): a ticker checks them
        every :data:`SLICE_TICK` seconds, instead of a loop timer armed and
        cancelled for every wait. :meth:`unwatch_slice` forgets ``owner``.
        """
        self._slices[owner] = deadline
        if self._slice_timer is None:
            self._slice_timer = self.loop.call_later(SLICE_TICK, self._tick_slices)

    def unwatch_slice(self, owner: Any) -> None:
        self._slices.pop(owner, None)

    def _tick_slices(self) -> None:
        self._slice_timer = None
        slices = self._slices
        if not slices:
            return
        now = time.monotonic()
        for owner in [o for o, deadline in slices.items() if deadline <= now]:
            if slices.pop(owner, None) is not None:
                owner.slice_expired()
        if slices and self._slice_timer is None:
            self._slice_timer = self.loop.call_later(SLICE_TICK, self._tick_slices)

    # -- running calls ---------------------------------------------------------

    def start(
        self,
        fn: Callable[..., Any],
        args: tuple = (),
        kwargs: dict | None = None,
        callback: Callable[[Any, BaseException | None], Any] | None = None,
    ) -> Any:
        """Run ``fn(*args, **kwargs)`` in a worker.

        Returns a Future for the result, or None when ``callback`` is given
        (it is then called on the loop as ``callback(result, error)``).
        """
        running = _get_running_loop()
        if get_ident() != self.thread_id or running is not self.loop:
            # Not a call from a coroutine on this loop (the usual case):
            # bind on first use, refuse other threads and loops, and a
            # closed loop, whose Future could never complete.
            self.check_thread()
            if running is None and self.loop.is_closed():
                raise RuntimeError(
                    "Event loop is closed: this Motor client's loop was closed; make a "
                    "new client on a running loop"
                )
        future = None if callback is not None else self.loop.create_future()
        self.wakes = 0  # a coroutine's turn: see defer_wake
        # A fresh greenlet starts with an empty context; PyMongo keeps CSOT
        # deadlines and bound sessions in ContextVars, so copy the caller's.
        context = contextvars.copy_context()
        if self._active >= MAX_ACTIVE_WORKERS:
            # Enough calls are under way (the rest would only wait for a
            # pooled connection, each in a greenlet of its own): queue this
            # one, a worker takes it when one is done.
            self._queue.append((fn, args, kwargs or {}, future, callback, context))
            return future
        self._active += 1
        idle = self._idle
        if idle:
            worker = idle.pop()
            worker.gr_context = context
            worker.switch(fn, args, kwargs or {}, future, callback, self)
        else:
            worker = MotorWorker(self, (fn, args, kwargs or {}, future, callback))
            worker.gr_context = context
            worker.switch()
        return future

    def release_slot(self) -> None:
        """The current worker parks on a loop Future: let a queued call start.

        Such a wait may depend on other Motor calls (an upload whose source
        is a MotorGridOut), so it must not hold one of the
        :data:`MAX_ACTIVE_WORKERS` slots. Pair with :meth:`retake_slot`.
        """
        self._active -= 1
        if self._queue and not self._draining:
            self._draining = True
            self.loop.call_soon(self._drain_queue)

    def retake_slot(self) -> None:
        self._active += 1

    def _drain_queue(self) -> None:
        self._draining = False
        queue = self._queue
        while queue and self._active < MAX_ACTIVE_WORKERS:
            fn, args, kwargs, future, callback, context = queue.popleft()
            if future is not None and future.cancelled():
                continue
            self._active += 1
            idle = self._idle
            if idle:
                worker = idle.pop()
                worker.gr_context = context
                worker.switch(fn, args, kwargs, future, callback, self)
            else:
                worker = MotorWorker(self, (fn, args, kwargs, future, callback))
                worker.gr_context = context
                worker.switch()

    def deliver(
        self,
        future: Any,
        callback: Callable[[Any, BaseException | None], Any] | None,
        result: Any,
        error: BaseException | None,
    ) -> None:
        """Hand a worker's outcome to the caller, by way of the loop."""
        if callback is not None:
            self.loop.call_soon(callback, result, error)
        elif future.cancelled():
            # The caller gave up waiting; the operation still finished (and
            # returned its connection to the pool), so there is nothing to do.
            return
        elif error is None:
            future.set_result(result)
        elif isinstance(error, StopIteration):
            # asyncio refuses StopIteration in a Future (it would end the
            # awaiting coroutine silently); report it as what it means here.
            future.set_exception(RuntimeError(f"unexpected StopIteration: {error!r}"))
        else:
            future.set_exception(error)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=LoopRuntime._forget_all_after_fork)
