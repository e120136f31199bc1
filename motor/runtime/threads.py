"""Helper threads for the few blocking calls no socket trick avoids.

DNS lookups (``getaddrinfo``, SRV records), starting and joining PyMongo's
monitor threads, and client-side encryption's KMS requests block the calling
thread. Motor hands them to these helper threads while the worker waits.

Why not ``loop.run_in_executor``: a ``ThreadPoolExecutor`` starts its threads
on demand with ``threading.Thread.start()``, which waits until the new thread
runs; under load that wait alone can hold the loop thread for tens of
milliseconds. Helpers here are started with ``_thread.start_new_thread``,
which returns at once, and are kept for reuse.

::

    future = submit(loop, socket.getaddrinfo, host, port)
    infos = wait_for_future(future)   # in a Motor worker

.. versionadded:: 4.0
"""

from __future__ import annotations

import _thread
import os
import queue
import threading
from typing import Any, Callable

__all__ = ["submit"]

# Enough for a burst of lookups; each helper is an idle thread otherwise.
MAX_HELPERS = 8

_jobs: queue.SimpleQueue = queue.SimpleQueue()
_lock = threading.Lock()
_helpers = 0
_idle = 0


def _settle(loop: Any, future: Any, fn: Callable[..., Any], args: tuple) -> None:
    try:
        result = fn(*args)
    except BaseException as exc:  # noqa: BLE001 - handed to the waiting worker
        loop.call_soon_threadsafe(_set_exception, future, exc)
    else:
        loop.call_soon_threadsafe(_set_result, future, result)


def _set_result(future: Any, result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _set_exception(future: Any, exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def _helper() -> None:
    global _idle
    while True:
        job = _jobs.get()
        with _lock:
            _idle -= 1
        try:
            _settle(*job)
        except RuntimeError:
            pass  # the loop closed before the result could be delivered
        finally:
            job = None
            with _lock:
                _idle += 1


def _reset_after_fork() -> None:
    # A child process has none of its parent's helper threads, but inherits
    # their count: with one counted idle, no helper would ever be started
    # and every job would wait forever. Jobs queued for the parent's loops
    # are not the child's to run; the lock may have been held at fork.
    global _jobs, _lock, _helpers, _idle
    _jobs = queue.SimpleQueue()
    _lock = threading.Lock()
    _helpers = 0
    _idle = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def submit(loop: Any, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` in a helper thread; a Future of ``loop`` for its result."""
    global _helpers, _idle
    future = loop.create_future()
    with _lock:
        start_one = _idle == 0 and _helpers < MAX_HELPERS
        if start_one:
            _helpers += 1
            _idle += 1
    if start_one:
        _thread.start_new_thread(_helper, ())
    _jobs.put((loop, future, fn, args))
    return future
