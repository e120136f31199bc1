# Type information for motor.core: the agnostic classes, generic over the
# document type, that every flavour's classes (motor.motor_asyncio,
# motor.motor_tornado, motor) subclass.
#
# This is the one hand-written source of Motor's types: the flavour stubs
# (motor/motor_asyncio.pyi, motor/motor_tornado.pyi, motor/__init__.pyi) are
# generated from it by tools/gen_flavour_stubs.py, which re-declares each
# method returning an agnostic class so that it returns the flavour's class.
#
# Conventions:
# - A method that returns a Future at runtime is typed to return
#   ``asyncio.Future[result]``; await it. It also takes the keyword-only
#   ``callback(result, error)``, typed loosely: given one, the method really
#   returns None (one signature rather than overloads, so that mypy's errors
#   for bad arguments read as they do with Motor 3.7's types).
# - Members listed here exist on the runtime classes (test/test_typing.py
#   checks it).

from asyncio import Future
from typing import (
    Any,
    Awaitable,
    Callable,
    Generic,
    Iterable,
    Mapping,
    MutableMapping,
    NoReturn,
    Sequence,
    TypeVar,
    overload,
)

from bson import Binary, Code, CodecOptions, DBRef, Timestamp
from bson.codec_options import TypeRegistry
from bson.raw_bson import RawBSONDocument
from pymongo import MongoClient
from pymongo.client_options import ClientOptions
from pymongo.client_session_shared import SessionOptions, TransactionOptions
from pymongo.collation import Collation
from pymongo.encryption_shared import RewrapManyDataKeyResult
from pymongo.encryption_options import RangeOpts
from pymongo.operations import (
    DeleteMany,
    DeleteOne,
    IndexModel,
    InsertOne,
    ReplaceOne,
    SearchIndexModel,
    UpdateMany,
    UpdateOne,
)
from pymongo.read_concern import ReadConcern
from pymongo.read_preferences import _ServerMode
from pymongo.results import (
    BulkWriteResult,
    ClientBulkWriteResult,
    DeleteResult,
    InsertManyResult,
    InsertOneResult,
    UpdateResult,
)
from pymongo.topology_description import TopologyDescription
from pymongo.write_concern import WriteConcern
from typing_extensions import Self, TypeAlias

from motor.core.cursor import (
    AgnosticCommandCursor as AgnosticCommandCursor,
    AgnosticCursor as AgnosticCursor,
    AgnosticLatentCommandCursor as AgnosticLatentCommandCursor,
    AgnosticRawBatchCommandCursor as AgnosticRawBatchCommandCursor,
    AgnosticRawBatchCursor as AgnosticRawBatchCursor,
)
from motor.core.metaprogramming import MotorBase

__all__ = [
    "AgnosticChangeStream",
    "AgnosticClient",
    "AgnosticClientEncryption",
    "AgnosticClientSession",
    "AgnosticCollection",
    "AgnosticCommandCursor",
    "AgnosticCursor",
    "AgnosticDatabase",
    "AgnosticLatentCommandCursor",
    "AgnosticRawBatchCommandCursor",
    "AgnosticRawBatchCursor",
]

# The document type of a client, database, collection or change stream: the
# client's ``document_class`` (dict[str, Any] by default, or a TypedDict...).
_DocumentType = TypeVar("_DocumentType", bound=Mapping[str, Any])
_DocumentTypeArg = TypeVar("_DocumentTypeArg", bound=Mapping[str, Any])
_CodecDocumentType = TypeVar("_CodecDocumentType", bound=Mapping[str, Any])
_T = TypeVar("_T")

# ``callback(result, error)``, the alternative to awaiting a Future.
_Callback: TypeAlias = Callable[[Any, Any], object]
_Pipeline: TypeAlias = Sequence[Mapping[str, Any]]
_CollationIn: TypeAlias = Mapping[str, Any] | Collation
_IndexList: TypeAlias = Sequence[str | tuple[str, int | str | Mapping[str, Any]]] | Mapping[str, Any]
_IndexKeyHint: TypeAlias = str | _IndexList
_Address: TypeAlias = tuple[str, int | None]
_WriteOp: TypeAlias = (
    InsertOne[_DocumentType]
    | DeleteOne
    | DeleteMany
    | ReplaceOne[_DocumentType]
    | UpdateOne
    | UpdateMany
)
_ClientWriteOp: TypeAlias = (
    InsertOne[Any] | DeleteOne | DeleteMany | ReplaceOne[Any] | UpdateOne | UpdateMany
)

class AgnosticClient(MotorBase, Generic[_DocumentType]):
    """A connection to MongoDB; ``client[name]`` or ``client.name`` is a database."""

    HOST: str
    PORT: int
    def __init__(
        self,
        host: str | Sequence[str] | None = None,
        port: int | None = None,
        document_class: type[_DocumentType] | None = None,
        tz_aware: bool | None = None,
        connect: bool | None = None,
        type_registry: TypeRegistry | None = None,
        **kwargs: Any,
    ) -> None: ...
    @property
    def address(self) -> tuple[str, int] | None: ...
    @property
    def arbiters(self) -> set[tuple[str, int]]: ...
    @property
    def codec_options(self) -> CodecOptions[_DocumentType]: ...
    @property
    def connected(self) -> bool: ...
    @property
    def is_mongos(self) -> bool: ...
    @property
    def is_primary(self) -> bool: ...
    @property
    def nodes(self) -> frozenset[_Address]: ...
    @property
    def options(self) -> ClientOptions: ...
    @property
    def primary(self) -> tuple[str, int] | None: ...
    @property
    def read_concern(self) -> ReadConcern: ...
    @property
    def read_preference(self) -> _ServerMode: ...
    @property
    def secondaries(self) -> set[tuple[str, int]]: ...
    @property
    def topology_description(self) -> TopologyDescription: ...
    @property
    def write_concern(self) -> WriteConcern: ...
    def append_metadata(self, driver_info: Any) -> None: ...
    def get_database(
        self,
        name: str | None = None,
        codec_options: CodecOptions[_DocumentTypeArg] | None = None,
        read_preference: _ServerMode | None = None,
        write_concern: WriteConcern | None = None,
        read_concern: ReadConcern | None = None,
    ) -> AgnosticDatabase[_DocumentType]: ...
    def get_default_database(
        self,
        default: str | None = None,
        codec_options: CodecOptions[_DocumentTypeArg] | None = None,
        read_preference: _ServerMode | None = None,
        write_concern: WriteConcern | None = None,
        read_concern: ReadConcern | None = None,
    ) -> AgnosticDatabase[_DocumentType]: ...
    def __getitem__(self, name: str) -> AgnosticDatabase[_DocumentType]: ...
    def __getattr__(self, name: str) -> AgnosticDatabase[_DocumentType]: ...
    def sync_client(self) -> MongoClient[_DocumentType]: ...
    def open_sync(self) -> Self: ...
    def open(self, *, callback: _Callback | None = None) -> Future[Self]: ...
    # Closes at once (as in Motor 3); what it returns may be awaited, to wait
    # for the goodbye (endSessions) sent in the background.
    def close(self, *, callback: _Callback | None = None) -> Awaitable[None]: ...
    def bulk_write(
        self,
        models: Sequence[_ClientWriteOp],
        session: AgnosticClientSession | None = None,
        ordered: bool = True,
        verbose_results: bool = False,
        bypass_document_validation: bool | None = None,
        comment: Any | None = None,
        let: Mapping[str, Any] | None = None,
        write_concern: WriteConcern | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[ClientBulkWriteResult]: ...
    def drop_database(
        self,
        name_or_database: str | AgnosticDatabase[Any],
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[None]: ...
    def list_database_names(
        self,
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[list[str]]: ...
    def list_databases(
        self,
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[AgnosticCommandCursor[dict[str, Any]]]: ...
    def server_info(
        self, session: AgnosticClientSession | None = None, *, callback: _Callback | None = None
    ) -> Future[dict[str, Any]]: ...
    def start_session(
        self,
        causal_consistency: bool | None = None,
        default_transaction_options: TransactionOptions | None = None,
        snapshot: bool | None = False,
        *,
        callback: _Callback | None = None,
    ) -> Future[AgnosticClientSession]: ...
    def watch(
        self,
        pipeline: _Pipeline | None = None,
        full_document: str | None = None,
        resume_after: Mapping[str, Any] | None = None,
        max_await_time_ms: int | None = None,
        batch_size: int | None = None,
        collation: _CollationIn | None = None,
        start_at_operation_time: Timestamp | None = None,
        session: AgnosticClientSession | None = None,
        start_after: Mapping[str, Any] | None = None,
        comment: Any | None = None,
        full_document_before_change: str | None = None,
        show_expanded_events: bool | None = None,
    ) -> AgnosticChangeStream[_DocumentType]: ...

class _TransactionContext:
    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None: ...

class _BoundSession:
    def __enter__(self) -> AgnosticClientSession: ...
    def __exit__(self, *exc_info: object) -> None: ...
    async def __aenter__(self) -> AgnosticClientSession: ...
    async def __aexit__(self, *exc_info: object) -> None: ...

class AgnosticClientSession(MotorBase):
    """A session: causally consistent reads and transactions."""

    @property
    def client(self) -> AgnosticClient[Any]: ...
    @property
    def cluster_time(self) -> Mapping[str, Any] | None: ...
    @property
    def has_ended(self) -> bool: ...
    @property
    def in_transaction(self) -> bool: ...
    @property
    def operation_time(self) -> Timestamp | None: ...
    @property
    def options(self) -> SessionOptions: ...
    @property
    def session_id(self) -> Mapping[str, Any]: ...
    def advance_cluster_time(self, cluster_time: Mapping[str, Any]) -> None: ...
    def advance_operation_time(self, operation_time: Timestamp) -> None: ...
    def abort_transaction(self, *, callback: _Callback | None = None) -> Future[None]: ...
    def commit_transaction(self, *, callback: _Callback | None = None) -> Future[None]: ...
    def end_session(self, *, callback: _Callback | None = None) -> Future[None]: ...
    def bind(self, end_session: bool = True) -> _BoundSession: ...
    def start_transaction(
        self,
        read_concern: ReadConcern | None = None,
        write_concern: WriteConcern | None = None,
        read_preference: _ServerMode | None = None,
        max_commit_time_ms: int | None = None,
    ) -> _TransactionContext: ...
    def with_transaction(
        self,
        coro: Callable[[Self], Awaitable[_T]],
        read_concern: ReadConcern | None = None,
        write_concern: WriteConcern | None = None,
        read_preference: _ServerMode | None = None,
        max_commit_time_ms: int | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[_T]: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None: ...

class AgnosticDatabase(MotorBase, Generic[_DocumentType]):
    """A MongoDB database; ``db[name]`` or ``db.name`` is a collection."""

    def __init__(self, client: AgnosticClient[_DocumentType], name: str, **kwargs: Any) -> None: ...
    @property
    def client(self) -> AgnosticClient[_DocumentType]: ...
    @property
    def codec_options(self) -> CodecOptions[_DocumentType]: ...
    @property
    def name(self) -> str: ...
    @property
    def read_concern(self) -> ReadConcern: ...
    @property
    def read_preference(self) -> _ServerMode: ...
    @property
    def write_concern(self) -> WriteConcern: ...
    def __getitem__(self, name: str) -> AgnosticCollection[_DocumentType]: ...
    def __getattr__(self, name: str) -> AgnosticCollection[_DocumentType]: ...
    # Raises TypeError: a database is not callable (``client.no_such_method()``).
    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn: ...
    def get_collection(
        self,
        name: str,
        codec_options: CodecOptions[_DocumentTypeArg] | None = None,
        read_preference: _ServerMode | None = None,
        write_concern: WriteConcern | None = None,
        read_concern: ReadConcern | None = None,
    ) -> AgnosticCollection[_DocumentType]: ...
    def with_options(
        self,
        codec_options: CodecOptions[_DocumentTypeArg] | None = None,
        read_preference: _ServerMode | None = None,
        write_concern: WriteConcern | None = None,
        read_concern: ReadConcern | None = None,
    ) -> Self: ...
    def aggregate(
        self, pipeline: _Pipeline, *args: Any, **kwargs: Any
    ) -> AgnosticLatentCommandCursor[_DocumentType]: ...
    def watch(
        self,
        pipeline: _Pipeline | None = None,
        full_document: str | None = None,
        resume_after: Mapping[str, Any] | None = None,
        max_await_time_ms: int | None = None,
        batch_size: int | None = None,
        collation: _CollationIn | None = None,
        start_at_operation_time: Timestamp | None = None,
        session: AgnosticClientSession | None = None,
        start_after: Mapping[str, Any] | None = None,
        comment: Any | None = None,
        full_document_before_change: str | None = None,
        show_expanded_events: bool | None = None,
    ) -> AgnosticChangeStream[_DocumentType]: ...
    @overload
    def command(
        self,
        command: str | MutableMapping[str, Any],
        value: Any = 1,
        check: bool = True,
        allowable_errors: Sequence[str | int] | None = None,
        read_preference: _ServerMode | None = None,
        codec_options: None = None,
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[dict[str, Any]]: ...
    @overload
    def command(
        self,
        command: str | MutableMapping[str, Any],
        value: Any = 1,
        check: bool = True,
        allowable_errors: Sequence[str | int] | None = None,
        read_preference: _ServerMode | None = None,
        *,
        codec_options: CodecOptions[_CodecDocumentType],
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[_CodecDocumentType]: ...
    def create_collection(
        self,
        name: str,
        codec_options: CodecOptions[_DocumentTypeArg] | None = None,
        read_preference: _ServerMode | None = None,
        write_concern: WriteConcern | None = None,
        read_concern: ReadConcern | None = None,
        session: AgnosticClientSession | None = None,
        check_exists: bool | None = True,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[AgnosticCollection[_DocumentType]]: ...
    def cursor_command(
        self,
        command: str | MutableMapping[str, Any],
        value: Any = 1,
        read_preference: _ServerMode | None = None,
        codec_options: CodecOptions[Any] | None = None,
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        max_await_time_ms: int | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[AgnosticCommandCursor[_DocumentType]]: ...
    def dereference(
        self,
        dbref: DBRef,
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[_DocumentType | None]: ...
    def drop_collection(
        self,
        name_or_collection: str | AgnosticCollection[Any],
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        encrypted_fields: Mapping[str, Any] | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[dict[str, Any]]: ...
    def list_collection_names(
        self,
        session: AgnosticClientSession | None = None,
        filter: Mapping[str, Any] | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[list[str]]: ...
    def list_collections(
        self,
        session: AgnosticClientSession | None = None,
        filter: Mapping[str, Any] | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[AgnosticCommandCursor[MutableMapping[str, Any]]]: ...
    def validate_collection(
        self,
        name_or_collection: str | AgnosticCollection[Any],
        scandata: bool = False,
        full: bool = False,
        session: AgnosticClientSession | None = None,
        background: bool | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[dict[str, Any]]: ...

class AgnosticCollection(MotorBase, Generic[_DocumentType]):
    """A MongoDB collection; ``collection[name]`` is a sub-collection."""

    def __init__(
        self,
        database: AgnosticDatabase[Any],
        name: str,
        codec_options: CodecOptions[_DocumentType] | None = None,
        read_preference: _ServerMode | None = None,
        write_concern: WriteConcern | None = None,
        read_concern: ReadConcern | None = None,
        **kwargs: Any,
    ) -> None: ...
    @property
    def codec_options(self) -> CodecOptions[_DocumentType]: ...
    @property
    def database(self) -> AgnosticDatabase[_DocumentType]: ...
    @property
    def full_name(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def read_concern(self) -> ReadConcern: ...
    @property
    def read_preference(self) -> _ServerMode: ...
    @property
    def write_concern(self) -> WriteConcern: ...
    def __getitem__(self, name: str) -> AgnosticCollection[_DocumentType]: ...
    def __getattr__(self, name: str) -> AgnosticCollection[_DocumentType]: ...
    # Raises TypeError: a collection is not callable (``db.coll.no_such_method()``).
    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn: ...
    def with_options(
        self,
        codec_options: CodecOptions[_DocumentTypeArg] | None = None,
        read_preference: _ServerMode | None = None,
        write_concern: WriteConcern | None = None,
        read_concern: ReadConcern | None = None,
    ) -> Self: ...
    def find(self, *args: Any, **kwargs: Any) -> AgnosticCursor[_DocumentType]: ...
    def find_raw_batches(self, *args: Any, **kwargs: Any) -> AgnosticRawBatchCursor[_DocumentType]: ...
    def aggregate(
        self, pipeline: _Pipeline, *args: Any, **kwargs: Any
    ) -> AgnosticLatentCommandCursor[_DocumentType]: ...
    def aggregate_raw_batches(
        self, pipeline: _Pipeline, *args: Any, **kwargs: Any
    ) -> AgnosticLatentCommandCursor[_DocumentType]: ...
    def list_indexes(
        self, session: AgnosticClientSession | None = None, **kwargs: Any
    ) -> AgnosticLatentCommandCursor[MutableMapping[str, Any]]: ...
    def list_search_indexes(
        self,
        name: str | None = None,
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        **kwargs: Any,
    ) -> AgnosticLatentCommandCursor[Mapping[str, Any]]: ...
    def watch(
        self,
        pipeline: _Pipeline | None = None,
        full_document: str | None = None,
        resume_after: Mapping[str, Any] | None = None,
        max_await_time_ms: int | None = None,
        batch_size: int | None = None,
        collation: _CollationIn | None = None,
        start_at_operation_time: Timestamp | None = None,
        session: AgnosticClientSession | None = None,
        start_after: Mapping[str, Any] | None = None,
        comment: Any | None = None,
        full_document_before_change: str | None = None,
        show_expanded_events: bool | None = None,
    ) -> AgnosticChangeStream[_DocumentType]: ...
    def bulk_write(
        self,
        requests: Sequence[_WriteOp[_DocumentType]],
        ordered: bool = True,
        bypass_document_validation: bool | None = None,
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        let: Mapping[str, Any] | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[BulkWriteResult]: ...
    def count_documents(
        self,
        filter: Mapping[str, Any],
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[int]: ...
    def create_index(
        self,
        keys: _IndexKeyHint,
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[str]: ...
    def create_indexes(
        self,
        indexes: Sequence[IndexModel],
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[list[str]]: ...
    def create_search_index(
        self,
        model: Mapping[str, Any] | SearchIndexModel,
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[str]: ...
    def create_search_indexes(
        self,
        models: list[SearchIndexModel],
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[list[str]]: ...
    def delete_many(
        self,
        filter: Mapping[str, Any],
        collation: _CollationIn | None = None,
        hint: _IndexKeyHint | None = None,
        session: AgnosticClientSession | None = None,
        let: Mapping[str, Any] | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[DeleteResult]: ...
    def delete_one(
        self,
        filter: Mapping[str, Any],
        collation: _CollationIn | None = None,
        hint: _IndexKeyHint | None = None,
        session: AgnosticClientSession | None = None,
        let: Mapping[str, Any] | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[DeleteResult]: ...
    def distinct(
        self,
        key: str,
        filter: Mapping[str, Any] | None = None,
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[list[Any]]: ...
    def drop(
        self,
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        encrypted_fields: Mapping[str, Any] | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[None]: ...
    def drop_index(
        self,
        index_or_name: _IndexKeyHint,
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[None]: ...
    def drop_indexes(
        self,
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[None]: ...
    def drop_search_index(
        self,
        name: str,
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[None]: ...
    def estimated_document_count(
        self, comment: Any | None = None, *, callback: _Callback | None = None, **kwargs: Any
    ) -> Future[int]: ...
    def find_one(
        self, filter: Any | None = None, *args: Any, callback: _Callback | None = None, **kwargs: Any
    ) -> Future[_DocumentType | None]: ...
    def find_one_and_delete(
        self,
        filter: Mapping[str, Any],
        projection: Mapping[str, Any] | Iterable[str] | None = None,
        sort: _IndexList | None = None,
        hint: _IndexKeyHint | None = None,
        session: AgnosticClientSession | None = None,
        let: Mapping[str, Any] | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[_DocumentType]: ...
    def find_one_and_replace(
        self,
        filter: Mapping[str, Any],
        replacement: Mapping[str, Any],
        projection: Mapping[str, Any] | Iterable[str] | None = None,
        sort: _IndexList | None = None,
        upsert: bool = False,
        return_document: bool = ...,
        hint: _IndexKeyHint | None = None,
        session: AgnosticClientSession | None = None,
        let: Mapping[str, Any] | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[_DocumentType]: ...
    def find_one_and_update(
        self,
        filter: Mapping[str, Any],
        update: Mapping[str, Any] | _Pipeline,
        projection: Mapping[str, Any] | Iterable[str] | None = None,
        sort: _IndexList | None = None,
        upsert: bool = False,
        return_document: bool = ...,
        array_filters: Sequence[Mapping[str, Any]] | None = None,
        hint: _IndexKeyHint | None = None,
        session: AgnosticClientSession | None = None,
        let: Mapping[str, Any] | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[_DocumentType]: ...
    def index_information(
        self,
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[MutableMapping[str, Any]]: ...
    def insert_many(
        self,
        documents: Iterable[_DocumentType | RawBSONDocument],
        ordered: bool = True,
        bypass_document_validation: bool | None = None,
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[InsertManyResult]: ...
    def insert_one(
        self,
        document: _DocumentType | RawBSONDocument,
        bypass_document_validation: bool | None = None,
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[InsertOneResult]: ...
    def options(
        self,
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[MutableMapping[str, Any]]: ...
    def rename(
        self,
        new_name: str,
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[MutableMapping[str, Any]]: ...
    def replace_one(
        self,
        filter: Mapping[str, Any],
        replacement: Mapping[str, Any],
        upsert: bool = False,
        bypass_document_validation: bool | None = None,
        collation: _CollationIn | None = None,
        hint: _IndexKeyHint | None = None,
        session: AgnosticClientSession | None = None,
        let: Mapping[str, Any] | None = None,
        comment: Any | None = None,
        sort: Mapping[str, Any] | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[UpdateResult]: ...
    def update_many(
        self,
        filter: Mapping[str, Any],
        update: Mapping[str, Any] | _Pipeline,
        upsert: bool = False,
        array_filters: Sequence[Mapping[str, Any]] | None = None,
        bypass_document_validation: bool | None = None,
        collation: _CollationIn | None = None,
        hint: _IndexKeyHint | None = None,
        session: AgnosticClientSession | None = None,
        let: Mapping[str, Any] | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[UpdateResult]: ...
    def update_one(
        self,
        filter: Mapping[str, Any],
        update: Mapping[str, Any] | _Pipeline,
        upsert: bool = False,
        bypass_document_validation: bool | None = None,
        collation: _CollationIn | None = None,
        array_filters: Sequence[Mapping[str, Any]] | None = None,
        hint: _IndexKeyHint | None = None,
        session: AgnosticClientSession | None = None,
        let: Mapping[str, Any] | None = None,
        comment: Any | None = None,
        sort: Mapping[str, Any] | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[UpdateResult]: ...
    def update_search_index(
        self,
        name: str,
        definition: Mapping[str, Any],
        session: AgnosticClientSession | None = None,
        comment: Any | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[None]: ...

class AgnosticChangeStream(MotorBase, Generic[_DocumentType]):
    """A change stream (``watch()``); iterate it with ``async for``."""

    @property
    def alive(self) -> bool: ...
    @property
    def resume_token(self) -> Mapping[str, Any] | None: ...
    def next(self, *, callback: _Callback | None = None) -> Future[_DocumentType]: ...
    def try_next(self, *, callback: _Callback | None = None) -> Future[_DocumentType | None]: ...
    def close(self, *, callback: _Callback | None = None) -> Future[None]: ...
    def __aiter__(self) -> Self: ...
    async def __anext__(self) -> _DocumentType: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None: ...

class AgnosticClientEncryption(MotorBase, Generic[_DocumentType]):
    """Explicit client-side field level encryption."""

    def __init__(
        self,
        kms_providers: Mapping[str, Any],
        key_vault_namespace: str,
        key_vault_client: AgnosticClient[Any],
        codec_options: CodecOptions[_DocumentType],
        io_loop: Any = None,
        kms_tls_options: Mapping[str, Any] | None = None,
    ) -> None: ...
    def add_key_alt_name(
        self, id: Binary, key_alt_name: str, *, callback: _Callback | None = None
    ) -> Future[Any]: ...
    def close(self, *, callback: _Callback | None = None) -> Future[None]: ...
    def create_data_key(
        self,
        kms_provider: str,
        master_key: Mapping[str, Any] | None = None,
        key_alt_names: Sequence[str] | None = None,
        key_material: bytes | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[Binary]: ...
    def create_encrypted_collection(
        self,
        database: AgnosticDatabase[_DocumentTypeArg],
        name: str,
        encrypted_fields: Mapping[str, Any],
        kms_provider: str | None = None,
        master_key: Mapping[str, Any] | None = None,
        *,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> Future[tuple[AgnosticCollection[_DocumentTypeArg], Mapping[str, Any]]]: ...
    def decrypt(self, value: Binary, *, callback: _Callback | None = None) -> Future[Any]: ...
    def delete_key(self, id: Binary, *, callback: _Callback | None = None) -> Future[DeleteResult]: ...
    def encrypt(
        self,
        value: Any,
        algorithm: str,
        key_id: Binary | None = None,
        key_alt_name: str | None = None,
        query_type: str | None = None,
        contention_factor: int | None = None,
        range_opts: RangeOpts | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[Binary]: ...
    def encrypt_expression(
        self,
        expression: Mapping[str, Any],
        algorithm: str,
        key_id: Binary | None = None,
        key_alt_name: str | None = None,
        query_type: str | None = None,
        contention_factor: int | None = None,
        range_opts: RangeOpts | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[RawBSONDocument]: ...
    def get_key(self, id: Binary, *, callback: _Callback | None = None) -> Future[RawBSONDocument | None]: ...
    def get_key_by_alt_name(
        self, key_alt_name: str, *, callback: _Callback | None = None
    ) -> Future[RawBSONDocument | None]: ...
    def get_keys(self, *, callback: _Callback | None = None) -> Future[AgnosticCursor[RawBSONDocument]]: ...
    def remove_key_alt_name(
        self, id: Binary, key_alt_name: str, *, callback: _Callback | None = None
    ) -> Future[RawBSONDocument | None]: ...
    def rewrap_many_data_key(
        self,
        filter: Mapping[str, Any],
        provider: str | None = None,
        master_key: Mapping[str, Any] | None = None,
        *,
        callback: _Callback | None = None,
    ) -> Future[RewrapManyDataKeyResult]: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None: ...
