"""``motor.Op``: Motor 0.1's way to call a callback-taking method from a coroutine.

::

    @gen.coroutine
    def f():
        document = yield motor.Op(collection.find_one, {"_id": 1})

Deprecated since Motor 0.2: every Motor method returns a Future when given no
callback, so ``document = yield collection.find_one({"_id": 1})`` (or
``await``) does the same. ``Op`` still works, and warns.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any, Callable

__all__ = ["Op"]


def _loop() -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        from tornado.ioloop import IOLoop

        return IOLoop.current().asyncio_loop  # type: ignore[attr-defined]


def Op(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> asyncio.Future:
    """Call ``fn(*args, callback=..., **kwargs)``; a Future of what it calls back with.

    ``fn`` calls its callback as ``callback(result, error)``: the Future
    resolves to ``result``, or raises ``error``. Yield or await it.

    .. deprecated:: 0.2
       Yield the Future the method returns instead: ``yield fn(*args, **kwargs)``.
    """
    warnings.warn(
        "motor.Op is deprecated: call the method without a callback and yield (or "
        "await) the Future it returns, e.g. 'doc = yield collection.find_one()'",
        DeprecationWarning,
        stacklevel=2,
    )
    if "callback" in kwargs:
        raise TypeError("motor.Op passes its own callback; do not give one")
    future = _loop().create_future()

    def callback(result: Any, error: Any = None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    try:
        fn(*args, callback=callback, **kwargs)
    except Exception as exc:  # noqa: BLE001 - delivered through the Future
        if not future.done():
            future.set_exception(exc)
    return future
