"""MotorCollection: PyMongo's Collection, non-blocking.

::

    result = await db.things.insert_one({"x": 1})
    doc = await db.things.find_one({"_id": result.inserted_id})
    async for doc in db.things.find({"x": {"$gt": 0}}).sort("x"):
        print(doc)

.. versionadded:: 4.0
"""

from __future__ import annotations

from typing import Any

from pymongo.collection import Collection

from motor.core.metaprogramming import (
    AsyncCommand,
    AsyncRead,
    AsyncWrite,
    DelegateMethod,
    MotorBase,
    MotorMeta,
    ReadOnlyProperty,
    unwrap_args,
)
from motor.frameworks import register_agnostic

__all__ = ["AgnosticCollection"]


@register_agnostic
class AgnosticCollection(MotorBase, metaclass=MotorMeta):
    """A MongoDB collection: ``db[name]`` or ``db.name``."""

    __motor_class_name__ = "MotorCollection"
    __delegate_class__ = Collection

    codec_options = ReadOnlyProperty()
    full_name = ReadOnlyProperty()
    name = ReadOnlyProperty()
    read_concern = ReadOnlyProperty()
    read_preference = ReadOnlyProperty()
    write_concern = ReadOnlyProperty()

    with_options = DelegateMethod(wrap="AgnosticCollection")
    find = DelegateMethod(wrap="AgnosticCursor")
    find_raw_batches = DelegateMethod(wrap="AgnosticRawBatchCursor")

    bulk_write = AsyncWrite()
    count_documents = AsyncRead()
    create_index = AsyncWrite()
    create_indexes = AsyncWrite()
    create_search_index = AsyncWrite()
    create_search_indexes = AsyncWrite()
    delete_many = AsyncWrite()
    delete_one = AsyncWrite()
    distinct = AsyncRead()
    drop = AsyncWrite()
    drop_index = AsyncWrite()
    drop_indexes = AsyncWrite()
    drop_search_index = AsyncWrite()
    estimated_document_count = AsyncRead()
    find_one = AsyncRead()
    find_one_and_delete = AsyncWrite()
    find_one_and_replace = AsyncWrite()
    find_one_and_update = AsyncWrite()
    index_information = AsyncRead()
    insert_many = AsyncWrite()
    insert_one = AsyncWrite()
    options = AsyncRead()
    rename = AsyncCommand()
    replace_one = AsyncWrite()
    update_many = AsyncWrite()
    update_one = AsyncWrite()
    update_search_index = AsyncWrite()

    def __init__(
        self,
        database: Any,
        name: str,
        codec_options: Any = None,
        read_preference: Any = None,
        write_concern: Any = None,
        read_concern: Any = None,
        _delegate: Any = None,
        **create_options: Any,
    ) -> None:
        """``MotorCollection(db, name)`` is ``db[name]``; the options are
        :meth:`MotorDatabase.get_collection`'s.

        Options that would create the collection (``capped=True``,
        ``size=...``) raise TypeError, as in Motor 3: creating is I/O, which
        a constructor cannot wait for. Use ``await db.create_collection(name,
        capped=True, ...)``.
        """
        if create_options:
            raise TypeError(
                f"{type(self).__name__}() cannot create a collection (options "
                f"{', '.join(sorted(create_options))}): creating is I/O, which a "
                "constructor cannot wait for; use 'await db.create_collection(name, "
                "...)' instead"
            )
        if not isinstance(database, self._motor_class("AgnosticDatabase")):
            raise TypeError(
                f"the first argument to {type(self).__name__} must be a "
                f"{self._motor_class('AgnosticDatabase').__name__}, not {database!r}"
            )
        self._client = database._client
        self._database = database
        if _delegate is None:
            _delegate = Collection(
                database.delegate,
                name,
                codec_options=codec_options,
                read_preference=read_preference,
                write_concern=write_concern,
                read_concern=read_concern,
            )
        self.delegate = _delegate

    @classmethod
    def _from_delegate(cls, delegate: Any, owner: MotorBase) -> Any:
        obj = super()._from_delegate(delegate, owner)
        obj._database = None
        return obj

    @property
    def database(self) -> Any:
        """The MotorDatabase this collection belongs to."""
        if self._database is None:
            self._database = self._motor_class("AgnosticDatabase")(
                self._client, self.delegate.database.name, _delegate=self.delegate.database
            )
        return self._database

    def __getitem__(self, name: str) -> Any:
        return self._motor_class("AgnosticCollection")(
            self.database, f"{self.name}.{name}", _delegate=self.delegate[name]
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(
                f"{type(self).__name__} has no attribute {name!r}. To use the "
                f"{self.name}.{name} collection, write collection[{name!r}]."
            )
        return self[name]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # "no such method exists": Motor 3's wording, which its users' tests match.
        raise TypeError(
            f"MotorCollection object is not callable. You called "
            f"{self.name.split('.')[-1]!r} on a MotorCollection as a method, but no "
            "such method exists: it is a sub-collection's name."
        )

    # Methods returning cursors: the cursor runs the command on first use, so
    # they can be chained and iterated without awaiting the call itself.

    def _latent(self, method: Any, args: tuple, kwargs: dict) -> Any:
        args = unwrap_args(args, kwargs)
        return self._motor_class("AgnosticLatentCommandCursor")(self, method, args, kwargs)

    def aggregate(self, pipeline: Any, *args: Any, **kwargs: Any) -> Any:
        """An aggregation; its MotorCommandCursor runs it on first use."""
        return self._latent(self.delegate.aggregate, (pipeline, *args), kwargs)

    def aggregate_raw_batches(self, pipeline: Any, *args: Any, **kwargs: Any) -> Any:
        """Like :meth:`aggregate`, yielding raw BSON batches."""
        return self._latent(self.delegate.aggregate_raw_batches, (pipeline, *args), kwargs)

    def list_indexes(self, *args: Any, **kwargs: Any) -> Any:
        """A cursor over this collection's index documents."""
        return self._latent(self.delegate.list_indexes, args, kwargs)

    def list_search_indexes(self, *args: Any, **kwargs: Any) -> Any:
        """A cursor over this collection's Atlas Search indexes."""
        return self._latent(self.delegate.list_search_indexes, args, kwargs)

    def watch(self, *args: Any, **kwargs: Any) -> Any:
        """A change stream on this collection (opened on first use)."""
        return self._motor_class("AgnosticChangeStream")(self, args, kwargs)
