"""Stand-ins for the Tornado APIs the spec's examples use that Tornado 6 removed.

Each keeps the example's code as it is written apart from the decorator's or
function's name.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, Callable


def asynchronous(method: Callable[..., Any]) -> Callable[..., Any]:
    """Tornado 6's closest form of ``@tornado.web.asynchronous``.

    Before Tornado 6 the decorator kept the request open after the handler
    method returned, until the handler called ``self.finish()`` from some
    callback. Tornado 6 keeps a request open while the awaitable its handler
    method returns is pending, so this makes the method ``async`` and has it
    await a Future that the callback chain resolves by finishing the response
    (``finish()``, or ``redirect()``, which finishes).

    What Tornado 6 has no way to do any more: route an exception raised inside
    a callback (``raise tornado.web.HTTPError(500, error)`` in the spec's
    examples) to the handler. Without ``stack_context`` it reaches the loop's
    exception handler instead, and the request stays open.
    """

    @functools.wraps(method)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        finished = asyncio.get_running_loop().create_future()
        finish = self.finish

        def finish_and_resolve(*finish_args: Any, **finish_kwargs: Any) -> Any:
            try:
                return finish(*finish_args, **finish_kwargs)
            finally:
                if not finished.done():
                    finished.set_result(None)

        self.finish = finish_and_resolve
        result = method(self, *args, **kwargs)
        if result is not None:
            await result
        await finished

    return wrapper


def Task(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:  # noqa: N802 - gen.Task's name
    """Tornado 6's closest form of ``tornado.gen.Task``.

    Calls ``func(*args, callback=..., **kwargs)`` and returns a Future that
    resolves when the callback is called: to its argument if it got one, to a
    tuple of them if it got several, to None if it got none.
    """
    future = asyncio.get_running_loop().create_future()

    def callback(*results: Any) -> None:
        if future.done():
            return
        if not results:
            future.set_result(None)
        elif len(results) == 1:
            future.set_result(results[0])
        else:
            future.set_result(results)

    func(*args, callback=callback, **kwargs)
    return future
