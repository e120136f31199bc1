"""A condition variable that parks Motor's workers instead of the thread.

PyMongo waits on conditions for a pooled connection (maxPoolSize and
maxConnecting) and for server selection. On the loop thread a real
``threading.Condition.wait`` would freeze every coroutine, and deadlock the
pool outright: the worker holding the last connection could never run again
to give it back. :class:`GreenletCondition` parks the *worker* instead and
lets the loop run.

It is a drop-in for ``threading.Condition`` built over the same kind of lock,
because PyMongo's monitor threads take that lock and notify the condition
too. Waiters that are not Motor workers (a monitor thread, a plain
thread) block as they would on a ``threading.Condition``.

PyMongo builds it through its ``_condition_class`` hook (server selection)
and :class:`motor.network.pool.MotorPool` installs it on the pool's wait
queues::

    cond = GreenletCondition(pool.lock)
    with cond:
        while not ready():
            cond.wait(timeout)

.. versionadded:: 4.0
"""

from __future__ import annotations

import collections
import threading
from asyncio import _get_running_loop
from typing import Any

from motor.runtime.greenlets import current_worker, suspend_until

__all__ = ["GreenletCondition"]


class _ThreadWaiter:
    """A waiter that is a real thread: it blocks on a private lock."""

    __slots__ = ("lock",)

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lock.acquire()

    def wake(self) -> None:
        self.lock.release()


class _WorkerWaiter:
    """A waiter that is a Motor worker: the loop switches back into it."""

    __slots__ = ("worker", "runtime", "notified", "done")

    def __init__(self, worker: Any, runtime: Any) -> None:
        self.worker = worker
        self.runtime = runtime
        self.notified = False
        self.done = False

    def wake(self) -> None:
        # Called with the condition's lock held, perhaps from a monitor
        # thread: never switch from here, let the loop do it.
        self.notified = True
        self.runtime.call_soon_any_thread(self.resume, True)

    def resume(self, value: bool) -> None:
        # On the loop: the first of notify and timeout switches back in.
        if not self.done:
            self.done = True
            self.worker.switch(value)


class GreenletCondition:
    """``threading.Condition`` whose ``wait`` parks Motor workers."""

    def __init__(self, lock: Any = None, *, notified_on_loop: bool = False) -> None:
        # notified_on_loop: only Motor's workers on the loop notify it (a
        # pool's wait queues), so a plain wait on the loop's own thread could
        # never end.
        self._notified_on_loop = notified_on_loop
        self._lock = lock if lock is not None else threading.RLock()
        self.acquire = self._lock.acquire
        self.release = self._lock.release
        self._waiters: collections.deque = collections.deque()

    def __enter__(self) -> bool:
        return self._lock.__enter__()

    def __exit__(self, *exc_info: Any) -> None:
        return self._lock.__exit__(*exc_info)

    def __repr__(self) -> str:
        return f"<GreenletCondition({self._lock!r}, {len(self._waiters)} waiting)>"

    def wait(self, timeout: float | None = None) -> bool:
        """Release the lock, wait for a notify or ``timeout``, reacquire.

        Returns False if the timeout passed without a notify.
        """
        worker = current_worker()
        if worker is None:
            if self._notified_on_loop and _get_running_loop() is not None:
                raise RuntimeError(
                    "A synchronous PyMongo call on a Motor client's objects (such as "
                    "collection.delegate.insert_one()), made on the loop's thread, had to "
                    "wait for a pooled connection that only Motor's calls on this loop "
                    "can free: it would wait forever. Call the Motor method instead "
                    "(await collection.insert_one(...))"
                )
            return self._wait_thread(timeout)
        runtime = worker.runtime
        waiter = _WorkerWaiter(worker, runtime)
        self._waiters.append(waiter)
        timer = None
        if timeout is not None:
            timer = runtime.loop.call_later(max(timeout, 0), waiter.resume, False)
        self._lock.release()
        try:
            notified = worker.parent.switch()
        except BaseException:
            # Killed while parked: take the lock back as the caller expects.
            if timer is not None:
                timer.cancel()
            self._lock.acquire()
            raise
        if timer is not None:
            timer.cancel()
        self._reacquire(runtime)
        if not notified:
            if waiter.notified:
                # A notify raced the timeout; honour it rather than lose it.
                return True
            try:
                self._waiters.remove(waiter)
            except ValueError:
                pass
        return bool(notified)

    def _reacquire(self, runtime: Any) -> None:
        """Take the lock back after a wait, without blocking the loop.

        Other workers never hold it here (they release it before they
        switch away), but the thread that notified may: a PyMongo monitor
        thread notifies the topology's condition with the lock held, and
        may keep it while it starts a monitor for a new server (a thread
        start waits for that thread to run). Meanwhile the worker retries on
        the loop's next passes, backing off from 0.5 to 10 ms.
        """
        lock = self._lock
        if lock.acquire(False):
            return
        loop = runtime.loop
        delay = 0.0005
        while not lock.acquire(False):
            suspend_until(lambda wait: loop.call_later(delay, wait.resume, None))
            delay = min(delay * 2, 0.01)

    def _wait_thread(self, timeout: float | None) -> bool:
        waiter = _ThreadWaiter()
        self._waiters.append(waiter)
        self._lock.release()
        try:
            if timeout is None:
                got_it = waiter.lock.acquire()
            else:
                got_it = waiter.lock.acquire(True, max(timeout, 0))
        finally:
            self._lock.acquire()
        if not got_it:
            try:
                self._waiters.remove(waiter)
            except ValueError:
                # Notified between the timeout and reacquiring the lock.
                got_it = True
        return got_it

    def wait_for(self, predicate: Any, timeout: float | None = None) -> Any:
        import time

        end = None if timeout is None else time.monotonic() + timeout
        result = predicate()
        while not result:
            remaining = None
            if end is not None:
                remaining = end - time.monotonic()
                if remaining <= 0:
                    break
            self.wait(remaining)
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        """Wake up to ``n`` waiters. Call with the lock held."""
        waiters = self._waiters
        while waiters and n > 0:
            waiters.popleft().wake()
            n -= 1

    def notify_all(self) -> None:
        self.notify(len(self._waiters))
