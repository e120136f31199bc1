"""The spec's MotorCursor: ``count()``, slicing, and PyMongo 2's query options.

Added to ``motor.MotorCursor`` (which is ``motor.motor_tornado``'s; not to the
asyncio drop-in)::

    n = await collection.find({"i": {"$gt": 1}}).count()
    cursor = collection.find().sort("i")[100]      # skip 100, at most one document
    while (await cursor.fetch_next):
        doc = cursor.next_object()

and to ``motor.MotorLatentCommandCursor``: awaiting the cursor that
``collection.aggregate(pipeline)`` returns gives the spec's result document
``{'result': [...], 'ok': 1.0}``, while ``async for`` still iterates it.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

import pymongo
from bson.son import SON
from pymongo.cursor import CursorType
from pymongo.errors import ConnectionFailure, InvalidOperation, NetworkTimeout, PyMongoError

from motor.core.metaprogramming import async_method, check_callback
from motor.frameworks import spec_mixin

__all__ = ["CursorSpecMixin", "LatentCommandCursorSpecMixin", "with_network_timeout"]


def with_network_timeout(seconds: float | None, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` (in a worker) within ``seconds``, as PyMongo 2's ``network_timeout``.

    Running out of time raises :class:`~pymongo.errors.NetworkTimeout`, a
    :class:`~pymongo.errors.ConnectionFailure`, as the spec's features page
    says, also when the server itself ends the operation for lack of time.
    """
    if seconds is None:
        return fn(*args)
    try:
        with pymongo.timeout(seconds):
            return fn(*args)
    except PyMongoError as exc:
        if exc.timeout and not isinstance(exc, ConnectionFailure):
            raise NetworkTimeout(
                f"the operation took longer than network_timeout={seconds} s ({exc})"
            ) from exc
        raise


def register_cursor(client: Any, delegate: Any) -> None:
    """Remember a server cursor's PyMongo cursor, so ``kill_cursors([id])`` finds its namespace."""
    cursor_id = delegate._id
    if cursor_id:
        registry = client.__dict__.get("_spec_cursors")
        if registry is None:
            registry = client._spec_cursors = weakref.WeakValueDictionary()
        registry[cursor_id] = delegate


@spec_mixin("AgnosticCursor")
class CursorSpecMixin:
    """What the spec's MotorCursor adds to Motor's."""

    # Per cursor, when its find() asked for them: the per-operation timeout
    # (PyMongo 2's network_timeout) and the database's outgoing SON
    # manipulators, applied to each batch as it arrives.
    _spec_network_timeout: float | None = None
    _spec_fix_outgoing: Callable[[Any], Any] | None = None

    def _spec_copy_settings(self, other: Any) -> Any:
        other._spec_network_timeout = self._spec_network_timeout
        other._spec_fix_outgoing = self._spec_fix_outgoing
        return other

    def clone(self) -> Any:
        """A new, unevaluated cursor with the same options."""
        return self._spec_copy_settings(super().clone())

    def _refresh(self) -> int:
        # In a worker. Every way of reading the cursor fetches through here.
        count = with_network_timeout(self._spec_network_timeout, super()._refresh)
        delegate = self.delegate
        register_cursor(self._client, delegate)
        fix = self._spec_fix_outgoing
        if fix is not None and count:
            data = delegate._data
            fixed = [fix(doc) for doc in data]
            data.clear()
            data.extend(fixed)
        return count

    # -- count ----------------------------------------------------------------

    @async_method
    def count(self, with_limit_and_skip: bool = False, *, callback: Any = None) -> Any:
        """The number of documents this query matches (the ``count`` command).

        Skip and limit are ignored unless ``with_limit_and_skip`` is True, as
        in the spec (PyMongo 2)::

            n = await collection.find({"i": {"$gt": 1000}}).count()
        """
        check_callback(callback)
        if not isinstance(with_limit_and_skip, bool):
            raise TypeError(
                f"with_limit_and_skip must be True or False, not {with_limit_and_skip!r}"
            )
        return self._runtime.start(self._spec_count, (with_limit_and_skip,), callback=callback)

    def _spec_count(self, with_limit_and_skip: bool) -> int:
        cursor = self.delegate
        if with_limit_and_skip and cursor._empty:
            return 0
        collection = cursor.collection
        command = SON([("count", collection.name), ("query", cursor._spec)])
        if cursor._hint is not None:
            command["hint"] = cursor._hint
        if cursor._max_time_ms is not None:
            command["maxTimeMS"] = cursor._max_time_ms
        if cursor._collation is not None:
            command["collation"] = cursor._collation
        if cursor._comment is not None:
            command["comment"] = cursor._comment
        if with_limit_and_skip:
            if cursor._limit:
                command["limit"] = abs(cursor._limit)
            if cursor._skip:
                command["skip"] = cursor._skip
        result = with_network_timeout(
            self._spec_network_timeout,
            lambda: collection.database.command(
                command,
                read_preference=cursor._get_read_preference(),
                session=cursor._session if cursor.session else None,
                allowable_errors=["ns missing"],
            ),
        )
        return int(result.get("n", 0))

    # -- slicing --------------------------------------------------------------

    def __getitem__(self, index: Any) -> Any:
        """A new cursor for part of this query's results; no I/O, never IndexError.

        ``cursor[n]`` skips n more documents and returns at most one;
        ``cursor[a:b]`` returns documents a to b-1 (its skip and limit
        replace this cursor's). Past the end, the new cursor simply yields
        nothing, as the spec's "Cursor slicing" section says::

            cursor = collection.find()[100]
            while (await cursor.fetch_next):   # zero or one times
                doc = cursor.next_object()

        Negative indices and slice steps raise ValueError (a cursor does not
        know its length); slicing a cursor that has started raises
        InvalidOperation.
        """
        delegate = self.delegate
        if delegate._id is not None or delegate._retrieved:
            raise InvalidOperation("MotorCursor already started: slice it before reading it")
        if isinstance(index, slice):
            if index.step is not None:
                raise ValueError("MotorCursor does not support slice steps")
            start = 0 if index.start is None else _non_negative(index.start)
            clone = self.clone()
            clone.delegate._skip = start
            clone.delegate._empty = False
            if index.stop is None:
                clone.delegate._limit = 0
            else:
                stop = _non_negative(index.stop)
                if stop <= start:
                    clone.delegate._limit = 0
                    clone.delegate._empty = True
                else:
                    clone.delegate._limit = stop - start
            return clone
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"index {index!r} cannot be applied to MotorCursor instances")
        clone = self.clone()
        clone.delegate._skip = delegate._skip + _non_negative(index)
        # A hard limit of one: the server closes the cursor after one document.
        clone.delegate._limit = -1
        clone.delegate._empty = False
        clone.delegate._query_flags &= ~CursorType.TAILABLE_AWAIT
        return clone

    def __iter__(self) -> Any:
        # Without this, Python would "iterate" a cursor through __getitem__:
        # cursor[0], cursor[1]... forever, since slicing never raises IndexError.
        raise TypeError(
            "MotorCursor is not iterable with 'for': use 'async for', "
            "'while (yield cursor.fetch_next)', to_list(length) or each(callback)"
        )


def _non_negative(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"cursor indices must be integers, not {value!r}")
    if value < 0:
        raise ValueError("MotorCursor does not support negative indices")
    return value


@spec_mixin("AgnosticLatentCommandCursor")
class LatentCommandCursorSpecMixin:
    """Lets ``yield collection.aggregate(pipeline)`` give the spec's result document."""

    # True on the cursors the spec's aggregate() returns.
    _spec_result_document = False

    def __await__(self) -> Any:
        if not self._spec_result_document:
            raise TypeError(
                f"object {type(self).__name__} can't be used in 'await' expression: "
                "iterate it with 'async for' or to_list(length)"
            )
        return self._spec_result(None).__await__()

    def _spec_result(self, callback: Any) -> Any:
        return self._runtime.start(self._spec_result_in_worker, callback=callback)

    def _spec_result_in_worker(self) -> dict:
        return {"result": self._to_list(None), "ok": 1.0}
