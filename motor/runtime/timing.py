"""Sleeping and waiting for futures without blocking the loop.

Inside a Motor worker, :func:`sleep` and :func:`wait_for_future` park the
worker and let the loop run; anywhere else :func:`sleep` is ``time.sleep``.

PyMongo sleeps in a few places (retry backoff for overloaded servers,
``with_transaction``'s backoff, the change stream's resume pause, OIDC and
client-side encryption). :func:`install` gives those modules a ``time`` whose
``sleep`` is this one, so the sleep parks the worker when it happens on
Motor's behalf and stays a plain sleep for everyone else (a synchronous
``MongoClient`` in another thread, PyMongo's monitor threads).

.. versionadded:: 4.0
"""

from __future__ import annotations

import importlib
import socket
import time
import types
from typing import Any

from motor.runtime import threads
from motor.runtime.greenlets import Wait, current_worker, suspend_until

__all__ = ["install", "run_in_thread", "sleep", "wait_for_future"]

_real_sleep = time.sleep


def sleep(seconds: float) -> None:
    """``time.sleep`` that parks a Motor worker instead of the thread."""
    worker = current_worker()
    if worker is None:
        _real_sleep(seconds)
        return
    loop = worker.runtime.loop
    suspend_until(lambda wait: loop.call_later(max(seconds, 0), wait.resume, None))


def wait_for_future(future: Any, timeout: float | None = None) -> Any:
    """Park the current worker until ``future`` is done; return its result.

    Raises ``socket.timeout`` (``TimeoutError``) if ``timeout`` seconds pass
    first; the future is left running.
    """
    if not future.done():
        worker = current_worker()
        runtime = worker.runtime if worker is not None else None
        loop = runtime.loop if runtime is not None else None
        timer = None

        def arm(wait: Wait) -> None:
            nonlocal timer
            future.add_done_callback(lambda _f: wait.resume(None))
            if timeout is not None:
                timer = loop.call_later(max(timeout, 0), wait.fail, socket.timeout("timed out"))

        if runtime is not None:
            runtime.release_slot()
        try:
            suspend_until(arm)
        finally:
            if timer is not None:
                timer.cancel()
            if runtime is not None:
                runtime.retake_slot()
    return future.result()


def run_in_thread(fn: Any, *args: Any) -> Any:
    """Run a blocking ``fn(*args)`` in a helper thread; park the worker meanwhile.

    For the few PyMongo steps that block on threads, not sockets: starting
    monitor threads (``Thread.start`` waits for the thread) and joining them,
    SRV lookups, KMS requests. Outside a worker, just calls ``fn(*args)``.
    """
    worker = current_worker()
    if worker is None:
        return fn(*args)
    return wait_for_future(threads.submit(worker.runtime.loop, fn, *args))


class _TimeModule(types.ModuleType):
    """``time`` with a worker-aware ``sleep``; everything else is ``time``'s."""

    sleep = staticmethod(sleep)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


_greenlet_time = _TimeModule("time")

# PyMongo modules that call ``time.sleep`` on an operation's path.
_SLEEPING_MODULES = (
    "pymongo.synchronous.mongo_client",
    "pymongo.synchronous.client_session",
    "pymongo.synchronous.change_stream",
    "pymongo.synchronous.encryption",
    "pymongo.synchronous.auth_oidc",
)


def install() -> None:
    """Give PyMongo's sleeping modules the worker-aware ``time``. Idempotent."""
    for name in _SLEEPING_MODULES:
        module = importlib.import_module(name)
        if getattr(module, "time", None) is time:
            module.time = _greenlet_time  # type: ignore[attr-defined]
