"""MotorDatabase: PyMongo's Database, non-blocking.

::

    db = client.test          # or client["test"]
    await db.command("ping")
    names = await db.list_collection_names()

.. versionadded:: 4.0
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.database import Database
from pymongo.errors import InvalidOperation

from motor.core.metaprogramming import (
    AsyncCommand,
    AsyncRead,
    AsyncWrite,
    DelegateMethod,
    MotorBase,
    MotorMeta,
    ReadOnlyProperty,
    async_method,
    check_callback,
    unwrap_args,
)
from motor.frameworks import register_agnostic

__all__ = ["AgnosticDatabase"]


def _refuse_empty_command(command: Any) -> None:
    # PyMongo reads the command's name as the document's first key; of an
    # empty document it would raise StopIteration from a worker.
    if isinstance(command, (Mapping, str)):
        raise InvalidOperation(
            "the command document is empty: name the command first, e.g. "
            "db.command({'ping': 1}) or db.command('ping')"
        )


@register_agnostic
class AgnosticDatabase(MotorBase, metaclass=MotorMeta):
    """A MongoDB database: ``client[name]`` or ``client.name``."""

    __motor_class_name__ = "MotorDatabase"
    __delegate_class__ = Database

    codec_options = ReadOnlyProperty()
    name = ReadOnlyProperty()
    read_concern = ReadOnlyProperty()
    read_preference = ReadOnlyProperty()
    write_concern = ReadOnlyProperty()

    get_collection = DelegateMethod(wrap="AgnosticCollection")
    with_options = DelegateMethod(wrap="AgnosticDatabase")

    create_collection = AsyncWrite(wrap="AgnosticCollection")
    cursor_command = AsyncCommand(wrap="AgnosticCommandCursor")
    dereference = AsyncRead()
    drop_collection = AsyncWrite()
    list_collection_names = AsyncRead()
    list_collections = AsyncRead(wrap="AgnosticCommandCursor")
    validate_collection = AsyncRead()

    @async_method
    def command(self, command: Any, *args: Any, callback: Any = None, **kwargs: Any) -> Any:
        """Run a command; the server's reply. PyMongo's :meth:`~pymongo.database.Database.command`.

        ::

            await db.command("ping")
            await db.command({"collStats": "things"})

        An empty command (``{}`` or ``""``) raises
        :class:`~pymongo.errors.InvalidOperation` at once, before any I/O.
        """
        if not command:
            _refuse_empty_command(command)
        if callback is not None:
            check_callback(callback)
        if args or kwargs:
            args = unwrap_args(args, kwargs)
        return self._client._runtime.start(self.delegate.command, (command, *args), kwargs, callback)

    def __init__(self, client: Any, name: str, **kwargs: Any) -> None:
        self._client = client
        delegate = kwargs.pop("_delegate", None)
        if delegate is None:
            delegate = Database(client.delegate, name, **kwargs)
        self.delegate = delegate

    @property
    def client(self) -> Any:
        """The MotorClient this database belongs to."""
        return self._client

    def __getitem__(self, name: str) -> Any:
        return self._motor_class("AgnosticCollection")(self, name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(
                f"{type(self).__name__} has no attribute {name!r}. To use the "
                f"{name!r} collection, write database[{name!r}]."
            )
        return self[name]

    def aggregate(self, pipeline: Any, *args: Any, **kwargs: Any) -> Any:
        """A database-level aggregation; its cursor runs it on first use.

        ::

            async for op in client.admin.aggregate([{"$currentOp": {}}]):
                print(op)
        """
        return self._motor_class("AgnosticLatentCommandCursor")(
            self, self.delegate.aggregate, (pipeline, *args), kwargs
        )

    def watch(self, *args: Any, **kwargs: Any) -> Any:
        """A change stream on this database (opened on first use)."""
        return self._motor_class("AgnosticChangeStream")(self, args, kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # "no such method exists": Motor 3's wording, which its users' tests match.
        raise TypeError(
            f"MotorDatabase object is not callable. You called {self.name!r} on a "
            "MotorClient as a method, but no such method exists: it is a database's name."
        )
