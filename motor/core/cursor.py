"""MotorCursor and MotorCommandCursor: PyMongo's cursors, non-blocking.

Four ways to read a cursor::

    async for doc in collection.find():                 # async iteration
        ...
    docs = await collection.find().to_list(length=100)  # a list at a time
    cursor = collection.find()
    while (await cursor.fetch_next):                    # fetch_next + next_object
        doc = cursor.next_object()                      # (deprecated, as in Motor 3)
    collection.find().each(on_doc)                      # on_doc(doc, error)

Documents come in batches: only fetching a new batch runs in a worker; the
documents of a batch are handed out directly.

.. versionadded:: 4.0
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

from pymongo.command_cursor import CommandCursor, RawBatchCommandCursor
from pymongo.cursor import Cursor, CursorType, RawBatchCursor
from pymongo.errors import InvalidOperation

from motor.core.metaprogramming import (
    AsyncRead,
    DelegateMethod,
    MotorAttributeFactory,
    MotorBase,
    MotorMeta,
    ReadOnlyProperty,
    async_method,
    check_callback,
    unwrap_args,
)
from motor.frameworks import register_agnostic

__all__ = [
    "AgnosticCommandCursor",
    "AgnosticCursor",
    "AgnosticLatentCommandCursor",
    "AgnosticRawBatchCursor",
]


class ChainingMethod(MotorAttributeFactory):
    """A cursor option setter: applies it to the PyMongo cursor, returns the Motor one."""

    def create_attribute(self, cls: type, attr_name: str) -> Callable[..., Any]:
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            getattr(self.delegate, attr_name)(*args, **kwargs)
            return self

        method.__name__ = attr_name
        method.__qualname__ = f"{cls.__name__}.{attr_name}"
        method.__doc__ = self._delegate_doc(cls, attr_name)
        return method


def _check_length(length: Any) -> None:
    if length is None:
        return
    if not isinstance(length, int) or isinstance(length, bool):
        raise TypeError(f"length must be an int or None, not {length!r}")
    if length < 0:
        raise ValueError(f"length must be None or a non-negative int, not {length!r}")


# Motor 3.7's texts, which its users' warning filters match.
_FETCH_NEXT_DEPRECATED = (
    "The fetch_next property is deprecated and may be removed in a future major "
    "release. Use `async for` to iterate over Cursor objects instead."
)
_NEXT_OBJECT_DEPRECATED = (
    "The next_object method is deprecated and may be removed in a future major "
    "release.  Use `async for` to iterate over Cursor objects instead."
)


class AgnosticBaseCursor(MotorBase, metaclass=MotorMeta):
    """What every Motor cursor does, whatever it iterates."""

    address = ReadOnlyProperty()
    cursor_id = ReadOnlyProperty()
    session = ReadOnlyProperty()

    #: True once this cursor has asked the server for documents (Motor 3's
    #: attribute); :meth:`MotorCursor.rewind` resets it.
    started = False
    #: True once :meth:`close` has been called (not when the results simply
    #: ran out), as in Motor 3.
    closed = False

    def __init__(self, delegate: Any, owner: MotorBase) -> None:
        self.delegate = delegate
        self._client = owner._client

    @async_method
    def close(self, callback: Any = None) -> Any:
        """Close this cursor, killing it on the server if it is still open.

        ::

            await cursor.close()
        """
        check_callback(callback)
        self.closed = True
        return self._runtime.start(self.delegate.close, callback=callback)

    # -- batches -----------------------------------------------------------------

    def _buffered(self) -> int:
        return len(self.delegate._data)

    def _refresh(self) -> int:
        """Runs in a worker: fetch the next batch, return how many are buffered."""
        self.started = True
        return self.delegate._refresh()

    def _tailable(self) -> bool:
        return False

    def _has_more_on_server(self) -> bool:
        return bool(self.delegate.alive)

    def _fetch(self) -> Any:
        """A Future: True once a document is buffered, False at the end."""
        if self._buffered():
            future = self._runtime.loop.create_future()
            future.set_result(True)
            return future
        if not self._has_more_on_server():
            future = self._runtime.loop.create_future()
            future.set_result(False)
            return future
        return self._runtime.start(lambda: bool(self._refresh()))

    @property
    def fetch_next(self) -> Any:
        """A Future resolving to True while documents remain; then use :meth:`next_object`.

        ::

            while (await cursor.fetch_next):
                doc = cursor.next_object()

        .. deprecated:: 4.0
           As in Motor 3 (2.2), it warns (DeprecationWarning): ``async for``
           does the same. It keeps working.
        """
        warnings.warn(_FETCH_NEXT_DEPRECATED, DeprecationWarning, stacklevel=2)
        return self._fetch()

    def next_object(self) -> Any:
        """The next buffered document, or None (after ``fetch_next`` resolved False).

        .. deprecated:: 4.0
           Warns as :attr:`fetch_next` does.
        """
        warnings.warn(_NEXT_OBJECT_DEPRECATED, DeprecationWarning, stacklevel=2)
        data = self.delegate._data
        return data.popleft() if data else None

    @property
    def alive(self) -> bool:
        """True while this cursor may yield more documents."""
        return bool(self.delegate.alive)

    def __aiter__(self) -> Any:
        return self

    async def __anext__(self) -> Any:
        data = self.delegate._data
        if data:
            return data.popleft()
        if await self._fetch():
            # Re-read: a latent cursor's delegate is replaced on first fetch.
            return self.delegate._data.popleft()
        raise StopAsyncIteration

    @async_method
    def next(self, callback: Any = None) -> Any:
        """The next document: a Future, or ``callback(doc, error)``.

        Raises StopAsyncIteration when there are no more, as Motor 3 does.
        """
        check_callback(callback)
        return self._runtime.start(self._next_in_worker, callback=callback)

    def _next_in_worker(self) -> Any:
        data = self.delegate._data
        if data or (self._has_more_on_server() and self._refresh()):
            return self.delegate._data.popleft()
        raise StopAsyncIteration

    @async_method
    def to_list(self, length: int | None = None, callback: Any = None) -> Any:
        """A list of up to ``length`` documents (``None``, the default: all of them).

        ::

            docs = await collection.find().to_list(100)
            rest = await cursor.to_list()         # Motor 3: length may be omitted

        Motor's documentation asks for ``length`` (a cursor may be huge);
        Motor 3 lets it be omitted. Both are accepted. A ``length`` that is
        not an int raises TypeError, a negative one ValueError; a tailable
        cursor raises InvalidOperation (it never ends: iterate it with
        ``async for`` or :meth:`next`), all before anything is sent. With
        ``callback``, it is called as ``callback(docs, error)``.

        .. versionchanged:: 4.0
           ``length`` is optional in :mod:`motor` too, as in Motor 3.
        """
        _check_length(length)
        check_callback(callback)
        if self._tailable():
            raise InvalidOperation(
                "to_list() cannot read a tailable cursor, which never ends: iterate it "
                "with 'async for' or next() instead"
            )
        return self._runtime.start(self._to_list, (length,), callback=callback)

    def _to_list(self, length: int | None) -> list:
        result: list = []
        if length == 0:
            return result
        while length is None or len(result) < length:
            data = self.delegate._data
            if not data:
                if not self._has_more_on_server() or not self._refresh():
                    break
                data = self.delegate._data
            if length is None:
                result.extend(data)
                data.clear()
            else:
                for _ in range(min(len(data), length - len(result))):
                    result.append(data.popleft())
        return result

    def each(self, callback: Callable[[Any, Any], Any]) -> None:
        """Call ``callback(doc, None)`` per document, then ``callback(None, None)``.

        Stops early when ``callback`` returns False; on error calls
        ``callback(None, error)``.
        """
        if not callable(callback):
            raise TypeError(f"each() needs a callable taking (document, error), not {callback!r}")
        self._each_step(callback)

    def _each_step(self, callback: Callable[[Any, Any], Any]) -> None:
        data = self.delegate._data
        while data:
            if callback(data.popleft(), None) is False:
                return
            data = self.delegate._data
        if not self._has_more_on_server():
            callback(None, None)
            return

        def fetched(count: Any, error: BaseException | None) -> None:
            if error is not None:
                callback(None, error)
            elif count:
                self._each_step(callback)
            else:
                callback(None, None)

        self._runtime.start(self._refresh, callback=fetched)

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()


@register_agnostic
class AgnosticCursor(AgnosticBaseCursor):
    """The cursor :meth:`MotorCollection.find` returns; options chain.

    ::

        cursor = collection.find({"x": {"$gt": 1}}).sort("x", -1).skip(2).limit(10)
    """

    __motor_class_name__ = "MotorCursor"
    __delegate_class__ = Cursor

    retrieved = ReadOnlyProperty()

    add_option = ChainingMethod()
    allow_disk_use = ChainingMethod()
    batch_size = ChainingMethod()
    collation = ChainingMethod()
    comment = ChainingMethod()
    hint = ChainingMethod()
    limit = ChainingMethod()
    max = ChainingMethod()
    max_await_time_ms = ChainingMethod()
    max_scan = ChainingMethod()
    max_time_ms = ChainingMethod()
    min = ChainingMethod()
    remove_option = ChainingMethod()
    skip = ChainingMethod()
    sort = ChainingMethod()
    where = ChainingMethod()

    clone = DelegateMethod(wrap="AgnosticCursor")
    distinct = AsyncRead()
    explain = AsyncRead()

    @property
    def collection(self) -> Any:
        """The MotorCollection this cursor reads."""
        return self._motor_class("AgnosticCollection")._from_delegate(
            self.delegate.collection, self
        )

    def rewind(self) -> Any:
        """Reset to the unevaluated state; the next fetch queries again.

        Options stay. A server cursor still open is killed in the background.
        """
        self.started = False
        old = self.delegate
        if old.cursor_id:
            self.delegate = old.clone()
            self._runtime.start(old.close)
        else:
            old.rewind()
        return self

    def _has_more_on_server(self) -> bool:
        return bool(self.delegate.alive) and not self.delegate._empty

    def _tailable(self) -> bool:
        return bool(self.delegate._query_flags & CursorType.TAILABLE)


@register_agnostic
class AgnosticRawBatchCursor(AgnosticCursor):
    """A :class:`MotorCursor` over raw BSON batches (``find_raw_batches``)."""

    __motor_class_name__ = "MotorRawBatchCursor"
    __delegate_class__ = RawBatchCursor


@register_agnostic
class AgnosticCommandCursor(AgnosticBaseCursor):
    """The cursor of a command: aggregate, listIndexes, listCollections..."""

    __motor_class_name__ = "MotorCommandCursor"
    __delegate_class__ = CommandCursor

    batch_size = ChainingMethod()
    try_next = AsyncRead()


@register_agnostic
class AgnosticRawBatchCommandCursor(AgnosticCommandCursor):
    """A :class:`MotorCommandCursor` over raw BSON batches."""

    __motor_class_name__ = "MotorRawBatchCommandCursor"
    __delegate_class__ = RawBatchCommandCursor


class _NotStarted:
    """Stands in for the PyMongo cursor until the command has run."""

    _data: Any = ()
    alive = True
    cursor_id = None
    address = None
    session = None

    def close(self) -> None:
        pass


@register_agnostic
class AgnosticLatentCommandCursor(AgnosticCommandCursor):
    """A command cursor whose command runs on its first fetch.

    ``collection.aggregate(pipeline)`` returns one at once, so it can be
    iterated without awaiting the call first::

        async for doc in collection.aggregate([{"$match": {}}]):
            ...
    """

    __motor_class_name__ = "MotorLatentCommandCursor"

    def __init__(self, owner: MotorBase, start: Callable[..., Any], args: tuple, kwargs: dict):
        super().__init__(_NotStarted(), owner)
        self._start_args = (start, unwrap_args(args, kwargs), kwargs)
        self._batch_size: int | None = None

    def batch_size(self, batch_size: int) -> Any:
        """Set the batch size before (or after) the command runs."""
        self._batch_size = batch_size
        if not isinstance(self.delegate, _NotStarted):
            self.delegate.batch_size(batch_size)
        return self

    def _start_if_needed(self) -> None:
        """Runs in a worker: run the command, making the real cursor."""
        if self._start_args is not None:
            start, args, kwargs = self._start_args
            self._start_args = None
            if self._batch_size is not None:
                kwargs.setdefault("batchSize", self._batch_size)
            self.delegate = start(*args, **kwargs)

    def _refresh(self) -> int:
        self.started = True
        self._start_if_needed()
        return self.delegate._refresh()

    def _try_next(self) -> Any:
        self._start_if_needed()
        return self.delegate.try_next()

    @async_method
    def try_next(self, callback: Any = None) -> Any:
        """The next document if one is ready, else None, without waiting for more."""
        check_callback(callback)
        return self._runtime.start(self._try_next, callback=callback)

    @async_method
    def close(self, callback: Any = None) -> Any:
        """Close the cursor (never running the command if it has not run)."""
        check_callback(callback)
        self._start_args = None
        self.closed = True
        return self._runtime.start(self.delegate.close, callback=callback)
