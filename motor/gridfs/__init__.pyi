# Type information for motor.gridfs: the agnostic GridFS classes. Part of the
# one hand-written source of Motor's types (see motor/core/__init__.pyi for
# the conventions); the flavour stubs are generated from it.

import datetime
from asyncio import Future
import builtins
from typing import Any, Callable, Generator, Iterable, Mapping, NoReturn, TypeVar

from bson import ObjectId
from pymongo.read_preferences import _ServerMode
from pymongo.write_concern import WriteConcern
from typing_extensions import Self, TypeAlias

from motor.core import AgnosticClientSession, AgnosticCollection, AgnosticCursor, AgnosticDatabase
from motor.core.metaprogramming import MotorBase

__all__ = [
    "AgnosticGridFS",
    "AgnosticGridFSBucket",
    "AgnosticGridIn",
    "AgnosticGridOut",
    "AgnosticGridOutCursor",
]

_Callback: TypeAlias = Callable[[Any, Any], object]
# What a GridOutCursor yields: its flavour's MotorGridOut.
_GridOut = TypeVar("_GridOut", bound=AgnosticGridOut, covariant=True)

class AgnosticGridIn(MotorBase):
    """A file being written to GridFS; close it (or use ``async with``) to store it."""

    def __init__(
        self,
        root_collection: AgnosticCollection[Any],
        delegate: Any = None,
        session: AgnosticClientSession | None = None,
        **kwargs: Any,
    ) -> None: ...
    # Fields of the files document, read-only: ``await grid_in.set(name, value)``.
    @property
    def _id(self) -> Any: ...
    @property
    def filename(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def content_type(self) -> str | None: ...
    @property
    def chunk_size(self) -> int: ...
    @property
    def length(self) -> int: ...
    @property
    def upload_date(self) -> datetime.datetime: ...
    @property
    def md5(self) -> str | None: ...
    @property
    def closed(self) -> bool: ...
    # Other fields of the files document (given when the file was made, or set).
    def __getattr__(self, name: str) -> Any: ...
    # Raises io.UnsupportedOperation: a GridIn is written, not read.
    def read(self, size: int = -1) -> NoReturn: ...
    def readable(self) -> bool: ...
    def seekable(self) -> bool: ...
    def writeable(self) -> bool: ...
    def abort(self, *, callback: _Callback | None = None) -> Future[None]: ...
    def close(self, *, callback: _Callback | None = None) -> Future[None]: ...
    def set(self, name: str, value: Any, *, callback: _Callback | None = None) -> Future[None]: ...
    def write(self, data: Any, *, callback: _Callback | None = None) -> Future[None]: ...
    def writelines(self, sequence: Iterable[Any], *, callback: _Callback | None = None) -> Future[None]: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None: ...
    # ``grid_in = await fs.new_file()``: awaiting a GridIn gives itself.
    def __await__(self) -> Generator[Any, None, Self]: ...

class AgnosticGridOut(MotorBase):
    """A file stored in GridFS, to read; its fields are attributes once it is open."""

    def __init__(
        self,
        root_collection: AgnosticCollection[Any],
        file_id: Any = None,
        file_document: Mapping[str, Any] | None = None,
        delegate: Any = None,
        session: AgnosticClientSession | None = None,
    ) -> None: ...
    @property
    def _id(self) -> Any: ...
    @property
    def filename(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def content_type(self) -> str | None: ...
    @property
    def length(self) -> int: ...
    @property
    def chunk_size(self) -> int: ...
    @property
    def upload_date(self) -> datetime.datetime: ...
    @property
    def aliases(self) -> list[str] | None: ...
    @property
    def metadata(self) -> Mapping[str, Any] | None: ...
    @property
    def md5(self) -> str | None: ...
    # Other fields of the files document.
    def __getattr__(self, name: str) -> Any: ...
    def open(self, *, callback: _Callback | None = None) -> Future[Self]: ...
    def read(self, size: int = -1, *, callback: _Callback | None = None) -> Future[bytes]: ...
    def readchunk(self, *, callback: _Callback | None = None) -> Future[bytes]: ...
    def readline(self, size: int = -1, *, callback: _Callback | None = None) -> Future[bytes]: ...
    def close(self, *, callback: _Callback | None = None) -> Future[None]: ...
    def readable(self) -> bool: ...
    def seekable(self) -> bool: ...
    def seek(self, pos: int, whence: int = ...) -> int: ...
    def tell(self) -> int: ...
    # Raises io.UnsupportedOperation: a GridOut is read, not written.
    def write(self, value: Any) -> NoReturn: ...
    # Write the whole file to a Tornado RequestHandler (flushing as it goes).
    def stream_to_handler(
        self, request_handler: Any, *, callback: _Callback | None = None
    ) -> Future[None]: ...
    def __aiter__(self) -> Self: ...
    async def __anext__(self) -> bytes: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None: ...

class AgnosticGridOutCursor(AgnosticCursor[_GridOut]):
    """A cursor over GridFS files (``bucket.find()``), yielding MotorGridOuts."""

    def clone(self) -> Self: ...

class AgnosticGridFSBucket(MotorBase):
    """The GridFS API every MongoDB driver shares."""

    def __init__(
        self,
        database: AgnosticDatabase[Any],
        bucket_name: str = "fs",
        chunk_size_bytes: int = ...,
        write_concern: WriteConcern | None = None,
        read_preference: _ServerMode | None = None,
        collection: str | None = None,
    ) -> None: ...
    @property
    def bucket_name(self) -> str: ...
    @property
    def collection(self) -> AgnosticCollection[Any]: ...
    @property
    def database(self) -> AgnosticDatabase[Any]: ...
    def find(self, *args: Any, **kwargs: Any) -> AgnosticGridOutCursor[AgnosticGridOut]: ...
    def open_upload_stream(
        self,
        filename: str,
        chunk_size_bytes: int | None = None,
        metadata: Mapping[str, Any] | None = None,
        session: AgnosticClientSession | None = None,
    ) -> AgnosticGridIn: ...
    def open_upload_stream_with_id(
        self,
        file_id: Any,
        filename: str,
        chunk_size_bytes: int | None = None,
        metadata: Mapping[str, Any] | None = None,
        session: AgnosticClientSession | None = None,
    ) -> AgnosticGridIn: ...
    def open_download_stream(
        self, file_id: Any, session: AgnosticClientSession | None = None, *, callback: _Callback | None = None
    ) -> Future[AgnosticGridOut]: ...
    def open_download_stream_by_name(
        self,
        filename: str,
        revision: int = -1,
        session: AgnosticClientSession | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[AgnosticGridOut]: ...
    def upload_from_stream(
        self,
        filename: str,
        source: Any,
        chunk_size_bytes: int | None = None,
        metadata: Mapping[str, Any] | None = None,
        session: AgnosticClientSession | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[ObjectId]: ...
    def upload_from_stream_with_id(
        self,
        file_id: Any,
        filename: str,
        source: Any,
        chunk_size_bytes: int | None = None,
        metadata: Mapping[str, Any] | None = None,
        session: AgnosticClientSession | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[None]: ...
    def download_to_stream(
        self,
        file_id: Any,
        destination: Any,
        session: AgnosticClientSession | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[None]: ...
    def download_to_stream_by_name(
        self,
        filename: str,
        destination: Any,
        revision: int = -1,
        session: AgnosticClientSession | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[None]: ...
    def delete(
        self, file_id: Any, session: AgnosticClientSession | None = None, *, callback: _Callback | None = None
    ) -> Future[None]: ...
    def delete_by_name(
        self, filename: str, session: AgnosticClientSession | None = None, *, callback: _Callback | None = None
    ) -> Future[None]: ...
    def rename(
        self,
        file_id: Any,
        new_filename: str,
        session: AgnosticClientSession | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[None]: ...
    def rename_by_name(
        self,
        filename: str,
        new_filename: str,
        session: AgnosticClientSession | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[None]: ...
    def drop(
        self, session: AgnosticClientSession | None = None, *, callback: _Callback | None = None
    ) -> Future[None]: ...

class AgnosticGridFS(MotorBase):
    """PyMongo's older GridFS API: ``put``, ``get``, ``new_file``..."""

    def __init__(self, database: AgnosticDatabase[Any], collection: str = "fs") -> None: ...
    @property
    def database(self) -> AgnosticDatabase[Any]: ...
    def find(self, *args: Any, **kwargs: Any) -> AgnosticGridOutCursor[AgnosticGridOut]: ...
    def new_file(self, **kwargs: Any) -> AgnosticGridIn: ...
    def open(self, *, callback: _Callback | None = None) -> Future[Self]: ...
    def put(self, data: Any, *, callback: _Callback | None = None, **kwargs: Any) -> Future[Any]: ...
    def get(
        self, file_id: Any, session: AgnosticClientSession | None = None, *, callback: _Callback | None = None
    ) -> Future[AgnosticGridOut]: ...
    def get_version(
        self,
        filename: str | None = None,
        version: int | None = -1,
        session: AgnosticClientSession | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[AgnosticGridOut]: ...
    def get_last_version(
        self,
        filename: str | None = None,
        session: AgnosticClientSession | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[AgnosticGridOut]: ...
    def find_one(
        self,
        filter: Any | None = None,
        session: AgnosticClientSession | None = None,
        *args: Any,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[AgnosticGridOut | None]: ...
    def delete(
        self, file_id: Any, session: AgnosticClientSession | None = None, *, callback: _Callback | None = None
    ) -> Future[None]: ...
    def exists(
        self,
        document_or_id: Any | None = None,
        session: AgnosticClientSession | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[bool]: ...
    def list(
        self, session: AgnosticClientSession | None = None, *, callback: _Callback | None = None
    ) -> Future[builtins.list[str]]: ...
