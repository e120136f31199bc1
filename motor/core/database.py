"""MotorDatabase: PyMongo's Database, non-blocking.

::

    db = client.test          # or client["test"]
    await db.command("ping")
    names = await db.list_collection_names()

.. versionadded:: 4.0
"""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from motor.core.metaprogramming import (
    AsyncCommand,
    AsyncRead,
    AsyncWrite,
    DelegateMethod,
    MotorBase,
    MotorMeta,
    ReadOnlyProperty,
)
from motor.frameworks import register_agnostic

__all__ = ["AgnosticDatabase"]


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

    command = AsyncCommand()
    create_collection = AsyncWrite(wrap="AgnosticCollection")
    cursor_command = AsyncCommand(wrap="AgnosticCommandCursor")
    dereference = AsyncRead()
    drop_collection = AsyncWrite()
    list_collection_names = AsyncRead()
    list_collections = AsyncRead(wrap="AgnosticCommandCursor")
    validate_collection = AsyncRead()

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
        raise TypeError(
            f"MotorDatabase object is not callable. If you meant to call the "
            f"{self.name!r} method on MotorClient, that method does not exist."
        )
