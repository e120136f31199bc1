"""MotorChangeStream: PyMongo's ChangeStream, non-blocking.

``watch()`` returns one at once; the aggregation starts on first use::

    async with collection.watch([{"$match": {"operationType": "insert"}}]) as stream:
        async for change in stream:
            print(change["fullDocument"])

    change = await stream.try_next()   # None if nothing happened yet

.. versionadded:: 4.0
"""

from __future__ import annotations

from typing import Any

from pymongo.change_stream import ChangeStream

from motor.core.metaprogramming import (
    MotorBase,
    MotorMeta,
    async_method,
    check_callback,
    unwrap_args,
)
from motor.frameworks import register_agnostic

__all__ = ["AgnosticChangeStream"]


@register_agnostic
class AgnosticChangeStream(MotorBase, metaclass=MotorMeta):
    """A change stream on a client, database or collection."""

    __motor_class_name__ = "MotorChangeStream"
    __delegate_class__ = ChangeStream

    def __init__(self, target: MotorBase, args: tuple, kwargs: dict) -> None:
        self._client = target._client
        self._target = target.delegate
        self._watch_args = (unwrap_args(args, kwargs), kwargs)
        self.delegate: ChangeStream | None = None
        self._closed = False

    def _started(self) -> ChangeStream:
        """Runs in a worker: open the stream on first use."""
        if self.delegate is None:
            if self._closed:
                raise StopAsyncIteration
            args, kwargs = self._watch_args
            self.delegate = self._target.watch(*args, **kwargs)
        return self.delegate

    def _next(self) -> Any:
        # PyMongo's next() waits in a loop of getMores; looping here instead
        # lets close() from another task end the wait after the current one.
        while not self._closed:
            change = self._started().try_next()
            if change is not None:
                return change
            if not self.delegate.alive:  # type: ignore[union-attr]
                break
        raise StopAsyncIteration

    def _try_next(self) -> Any:
        if self._closed:
            return None
        return self._started().try_next()

    @async_method
    def next(self, callback: Any = None) -> Any:
        """The next change, waiting for one: a Future, or ``callback(change, error)``.

        Raises StopAsyncIteration once the stream is closed.
        """
        check_callback(callback)
        return self._runtime.start(self._next, callback=callback)

    @async_method
    def try_next(self, callback: Any = None) -> Any:
        """The next change, or None if there is none yet (one getMore at most)."""
        check_callback(callback)
        return self._runtime.start(self._try_next, callback=callback)

    @async_method
    def close(self, callback: Any = None) -> Any:
        """Close the stream (and its server cursor)."""
        check_callback(callback)
        self._closed = True
        delegate = self.delegate
        return self._runtime.start(delegate.close if delegate else (lambda: None), callback=callback)

    @property
    def alive(self) -> bool:
        """False once closed (or if the stream's cursor died)."""
        if self._closed:
            return False
        return True if self.delegate is None else self.delegate.alive

    @property
    def resume_token(self) -> Any:
        """The token to resume after the last change returned (None before the first)."""
        return None if self.delegate is None else self.delegate.resume_token

    def __aiter__(self) -> Any:
        return self

    async def __anext__(self) -> Any:
        return await self.next()

    async def __aenter__(self) -> Any:
        await self._runtime.start(self._started)
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    def __enter__(self) -> None:
        # RuntimeError, as Motor 3 raises: code written for it may catch that.
        raise RuntimeError(
            f"{type(self).__name__} is an async context manager: write "
            "'async with collection.watch() as stream:', not 'with'"
        )

    def __exit__(self, *exc_info: Any) -> None:
        pass

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.delegate or self._target!r})"
