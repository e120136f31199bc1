"""Periodic work on the loop, in place of PyMongo's background thread.

PyMongo's ``MongoClient`` runs ``_process_periodic_tasks`` every second in a
thread: it sends killCursors for cursors abandoned to the garbage collector,
prunes idle connections and opens connections up to ``minPoolSize``. Motor's
connections belong to the loop, so that work must happen there: a
:class:`LoopPeriodicExecutor` runs the task in a Motor worker on a loop timer,
and offers the methods ``MongoClient`` calls on its executor.

.. versionadded:: 4.0
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from motor.runtime.greenlets import LoopRuntime

__all__ = ["LoopPeriodicExecutor"]

_log = logging.getLogger("motor")


class LoopPeriodicExecutor:
    """Run ``target()`` in a worker every ``interval`` seconds while open.

    ``target`` returns False to stop. Runs never overlap.
    """

    def __init__(self, interval: float, target: Callable[[], bool]):
        self._runtime: LoopRuntime | None = None
        self._interval = interval
        self._target = target
        self._timer: Any = None
        self._running = False
        self._stopped = True

    def bind(self, runtime: LoopRuntime) -> None:
        """Tick on ``runtime``'s loop (set before :meth:`open`)."""
        self._runtime = runtime

    def open(self) -> None:
        """Start ticking; callable from any thread once bound."""
        if self._runtime is None:
            raise RuntimeError("Motor's periodic tasks need a loop: bind() first")
        if self._stopped:
            self._stopped = False
            self._runtime.call_soon_any_thread(self._schedule)

    def close(self, dummy: Any = None) -> None:
        """Stop ticking; callable from any thread, with the loop running,
        stopped or closed."""
        # Also PyMongo's weakref callback, hence the ignored argument.
        self._stopped = True
        timer, self._timer = self._timer, None
        runtime = self._runtime
        if timer is None or runtime is None:
            return
        if runtime.on_loop_thread() or runtime.loop.is_closed():
            timer.cancel()
        else:
            try:
                runtime.loop.call_soon_threadsafe(timer.cancel)
            except RuntimeError:
                pass  # the loop closed meanwhile: the timer never fires

    def join(self, timeout: float | None = None) -> None:
        """Nothing to join: there is no thread."""

    def wake(self) -> None:
        """Run soon instead of at the next tick."""
        if not self._stopped and self._runtime is not None:
            self._runtime.call_soon_any_thread(self._tick)

    def _schedule(self) -> None:
        if not self._stopped and self._timer is None:
            self._timer = self._runtime.loop.call_later(self._interval, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self._stopped or self._running:
            self._schedule()
            return
        self._running = True
        self._runtime.start(self._target, callback=self._done)

    def _done(self, keep_going: Any, error: BaseException | None) -> None:
        self._running = False
        if error is not None:
            _log.warning("Motor's periodic maintenance failed: %r", error)
        if keep_going is False:
            self._stopped = True
        self._schedule()
