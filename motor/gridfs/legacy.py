"""MotorGridFS, MotorGridIn, MotorGridOut and MotorGridOutCursor.

PyMongo's :class:`gridfs.GridFS` API, non-blocking::

    fs = motor.MotorGridFS(db)
    file_id = await fs.put(b"hello", filename="greeting.txt")
    grid_out = await fs.get(file_id)
    print(grid_out.filename, await grid_out.read())

    grid_in = fs.new_file(filename="big.bin", content_type="application/octet-stream")
    with open("big.bin", "rb") as f:
        await grid_in.write(f)          # read and stored chunk by chunk
    await grid_in.close()

MotorGridIn and MotorGridOut are also what :class:`~motor.MotorGridFSBucket`
hands out. Their attributes never do I/O: a MotorGridOut's attributes are
readable once it is opened (``get``, ``open_download_stream`` and the cursors
return opened ones; ``await grid_out.open()`` otherwise), and a MotorGridIn's
fields are set on the server with ``await grid_in.set(name, value)``.

.. versionadded:: 4.0
"""

from __future__ import annotations

import inspect
import logging
import os
from typing import Any

import gridfs
from pymongo.errors import InvalidOperation, PyMongoError

from motor.core.cursor import AgnosticCursor
from motor.core.metaprogramming import (
    AsyncRead,
    AsyncWrite,
    DelegateMethod,
    MotorAttributeFactory,
    MotorBase,
    MotorMeta,
    ReadOnlyProperty,
    check_callback,
    coroutine_method,
    unwrap,
)
from motor.frameworks import register_agnostic
from motor.gridfs._common import check_motor_instance, worker_method
from motor.gridfs._delegates import (
    LoopGridIn,
    LoopGridOut,
    adopt_grid_in,
    adopt_grid_out,
    file_reader,
    write_and_close,
)

__all__ = ["AgnosticGridFS", "AgnosticGridIn", "AgnosticGridOut", "AgnosticGridOutCursor"]

_log = logging.getLogger("motor")

# Names a MotorGridIn accepts for the files-document fields it has properties for.
_GRID_IN_ALIASES = {"name": "filename", "content_type": "contentType"}
_GRID_IN_READ_ONLY = frozenset(
    {"_id", "chunk_size", "chunkSize", "length", "upload_date", "uploadDate", "md5", "closed"}
)


def _log_failure(result: Any, error: BaseException | None) -> None:
    if error is not None:
        _log.debug("Motor could not close a GridFS chunk cursor: %r", error)


class GridInField(MotorAttributeFactory):
    """A field of the files document a MotorGridIn writes, read without I/O.

    Assigning to it raises AttributeError, as in Motor 3: the field is set
    with ``await grid_in.set(name, value)``.
    """

    def __init__(self, field: str, doc: str, closed_only: bool = False) -> None:
        super().__init__(doc)
        self.field = field
        self.closed_only = closed_only

    def create_attribute(self, cls: type, attr_name: str) -> property:
        field, closed_only = self.field, self.closed_only
        default = 0 if field == "length" else None

        def fget(obj: Any) -> Any:
            grid_in = obj.delegate
            if closed_only and not grid_in._closed:
                raise AttributeError(f"{attr_name!r} can only be read once the file is closed")
            return grid_in._file.get(field, default)

        def fset(obj: Any, value: Any) -> None:
            if attr_name in _GRID_IN_READ_ONLY:
                raise AttributeError(f"{attr_name!r} of a GridFS file cannot be set")
            raise AttributeError(
                f"{attr_name!r} of a {type(obj).__name__} cannot be assigned: "
                f"use 'await grid_in.set({attr_name!r}, value)'"
            )

        return property(fget, fset, doc=self.doc)


class GridOutField(MotorAttributeFactory):
    """A field of a MotorGridOut's files document, readable once opened."""

    def __init__(self, field: str, doc: str) -> None:
        super().__init__(doc)
        self.field = field

    def create_attribute(self, cls: type, attr_name: str) -> property:
        field = self.field
        default = 0 if field == "length" else None

        def fget(obj: Any) -> Any:
            return obj._opened_document(attr_name).get(field, default)

        return property(fget, doc=self.doc)


@register_agnostic
class AgnosticGridIn(MotorBase, metaclass=MotorMeta):
    """A file being written to GridFS.

    Get one from :meth:`MotorGridFS.new_file` or
    :meth:`MotorGridFSBucket.open_upload_stream`, write to it, and close it::

        grid_in = fs.new_file(filename="notes.txt", encoding="utf-8")
        await grid_in.write("First part\\n")
        await grid_in.write(open("rest.txt", "rb"))   # chunk by chunk
        await grid_in.close()                         # the file exists from now on

    or ``async with bucket.open_upload_stream("notes.txt") as grid_in:``
    (closed at the end of the block; on an exception the chunks written so
    far are removed instead).

    Fields of the files document: the properties below, the ones given as
    keyword arguments when the file was made, and any set with :meth:`set`
    are readable as attributes (``grid_in.contentType``, ``grid_in.my_field``).
    ``await grid_in.set(name, value)`` sets any field but the ones Motor
    keeps (``_id``, ``chunk_size``, ``length``, ``upload_date``), before or
    after the file is closed (after, it updates the files document on the
    server). As in Motor 3, the properties (``filename``, ``content_type``...)
    cannot be assigned to; a field of your own can be, before the file is
    closed (``grid_in.my_field = value``), and is stored with the file.
    Each refusal is an AttributeError that names the right call.

    Awaiting a MotorGridIn gives the MotorGridIn itself, for code written
    as ``grid_in = await fs.new_file()``.
    """

    __motor_class_name__ = "MotorGridIn"
    __delegate_class__ = gridfs.GridIn

    _id = GridInField("_id", "The ``_id`` of this file.")
    filename = GridInField("filename", "Name of this file.")
    name = GridInField("filename", "Alias for :attr:`filename`.")
    content_type = GridInField(
        "contentType", "MIME type of this file (the ``contentType`` field)."
    )
    chunk_size = GridInField("chunkSize", "Chunk size of this file, in bytes.")
    length = GridInField(
        "length", "Length of this file in bytes; readable once closed.", closed_only=True
    )
    upload_date = GridInField(
        "uploadDate", "When this file was stored; readable once closed.", closed_only=True
    )
    md5 = GridInField(
        "md5", "MD5 of the content, if one was stored (PyMongo no longer does).", closed_only=True
    )
    closed = ReadOnlyProperty()

    read = DelegateMethod()
    readable = DelegateMethod()
    seekable = DelegateMethod()
    writeable = DelegateMethod()

    abort = AsyncWrite(doc="Remove the chunks written so far, and close the file.")
    close = AsyncWrite(
        doc="Store the chunks still buffered and the files document; the file then exists.\n\n"
        "        Closing a closed file does nothing."
    )

    def __init__(self, root_collection: Any, delegate: Any = None, session: Any = None, **kwargs: Any):
        """Write a new file in the GridFS whose root collection is ``root_collection``.

        ``kwargs`` are fields of the files document (``_id``, ``filename``,
        ``content_type``/``contentType``, ``chunk_size``/``chunkSize``,
        ``encoding``, or anything of your own). Usually made for you by
        :meth:`MotorGridFS.new_file` or :meth:`MotorGridFSBucket.open_upload_stream`.
        """
        check_motor_instance(self, root_collection, "AgnosticCollection", "root_collection")
        self._client = root_collection._client
        if delegate is None:
            delegate = LoopGridIn(root_collection.delegate, session=unwrap(session), **kwargs)
        self.delegate = adopt_grid_in(delegate)

    @classmethod
    def _from_delegate(cls, delegate: Any, owner: MotorBase) -> Any:
        return super()._from_delegate(adopt_grid_in(delegate), owner)

    # -- fields ------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "delegate":
            raise AttributeError(name)
        document = self.delegate._file
        if name in document:
            return document[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "delegate" or name.startswith("_") or hasattr(type(self), name):
            object.__setattr__(self, name, value)
        else:
            self._set_own_field(name, value)

    def _set_own_field(self, name: str, value: Any) -> None:
        if name in _GRID_IN_READ_ONLY:
            raise AttributeError(f"{name!r} of a GridFS file cannot be set")
        if self.delegate._closed:
            raise AttributeError(
                f"cannot set {name!r} on a closed {type(self).__name__}: that writes to "
                f"the server, so use 'await grid_in.set({name!r}, value)'"
            )
        self.delegate._file[name] = value

    @worker_method
    def set(self, name: str, value: Any) -> None:
        """Set the field ``name`` of the files document to ``value``.

        Before the file is closed the field is stored when it is; after, the
        files document on the server is updated at once. ``content_type`` and
        ``name`` are accepted for ``contentType`` and ``filename``.
        """
        if name in _GRID_IN_READ_ONLY:
            raise AttributeError(f"{name!r} of a GridFS file cannot be set")
        field = _GRID_IN_ALIASES.get(name, name)
        grid_in = self.delegate
        grid_in._file[field] = value
        if grid_in._closed:
            grid_in._coll.files.update_one(
                {"_id": {"$eq": grid_in._file["_id"]}},
                {"$set": {field: value}},
                session=grid_in._session,
            )

    # -- writing -------------------------------------------------------------------

    @worker_method
    def write(self, data: Any) -> None:
        """Write ``data``: bytes, a str if the file has an ``encoding``, or a stream.

        A stream is any object with ``read(size)`` (a file, a MotorGridOut, an
        asynchronous reader whose ``read`` is a coroutine): it is read one
        chunk at a time, never whole. Full chunks go to the server as they
        fill. Raises ValueError if the file is closed.
        """
        self.delegate.write(file_reader(data, self._runtime.loop))

    @worker_method
    def writelines(self, sequence: Any) -> None:
        """Write each item of ``sequence`` in turn (no separators are added)."""
        grid_in = self.delegate
        loop = self._runtime.loop
        for data in sequence:
            grid_in.write(file_reader(data, loop))

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            await self.close()
        else:
            try:
                await self.abort()
            except PyMongoError:
                pass  # the exception that ended the block is the one to see

    def __await__(self) -> Any:
        return self._itself().__await__()

    async def _itself(self) -> Any:
        return self

    def __repr__(self) -> str:
        document = self.delegate._file
        return (
            f"{type(self).__name__}(_id={document.get('_id')!r}, "
            f"filename={document.get('filename')!r}, closed={self.delegate._closed})"
        )


@register_agnostic
class AgnosticGridOut(MotorBase, metaclass=MotorMeta):
    """A file stored in GridFS, to read.

    ::

        grid_out = await bucket.open_download_stream(file_id)
        print(grid_out.filename, grid_out.length, grid_out.metadata)
        data = await grid_out.read()          # all of it
        grid_out.seek(0)
        async for chunk in grid_out:          # or chunk by chunk
            ...

    Its attributes (the properties below and every other field of the files
    document, such as ``grid_out.contentType`` or your own) are read from the
    files document, without I/O: they are available once the file is opened.
    The methods that return a MotorGridOut open it first; one made directly
    needs ``await grid_out.open()``, else reading an attribute raises
    :class:`~pymongo.errors.InvalidOperation`.
    """

    __motor_class_name__ = "MotorGridOut"
    __delegate_class__ = gridfs.GridOut

    _id = GridOutField("_id", "The ``_id`` of this file.")
    filename = GridOutField("filename", "Name of this file.")
    name = GridOutField("filename", "Alias for :attr:`filename`.")
    content_type = GridOutField("contentType", "MIME type of this file (``contentType``), or None.")
    length = GridOutField("length", "Length of this file, in bytes.")
    chunk_size = GridOutField("chunkSize", "Chunk size of this file, in bytes.")
    upload_date = GridOutField("uploadDate", "When this file was stored.")
    aliases = GridOutField("aliases", "The ``aliases`` field, or None.")
    metadata = GridOutField("metadata", "The ``metadata`` field (your own document), or None.")
    md5 = GridOutField("md5", "MD5 of the content, if one was stored, else None.")

    read = AsyncRead()
    readchunk = AsyncRead()
    close = AsyncRead(doc="Close this file, killing the cursor reading its chunks if one is open.")

    readable = DelegateMethod()
    seekable = DelegateMethod()
    tell = DelegateMethod()
    write = DelegateMethod()

    def __init__(
        self,
        root_collection: Any,
        file_id: Any = None,
        file_document: Any = None,
        delegate: Any = None,
        session: Any = None,
    ) -> None:
        """Read the file ``file_id`` (or described by ``file_document``).

        ``root_collection`` is the MotorCollection of the GridFS (``db.fs``).
        Usually made for you by :class:`MotorGridFS` or
        :class:`MotorGridFSBucket`; one made directly must be opened with
        ``await grid_out.open()`` before its attributes are read.
        """
        check_motor_instance(self, root_collection, "AgnosticCollection", "root_collection")
        self._client = root_collection._client
        if delegate is None:
            delegate = LoopGridOut(
                root_collection.delegate, file_id, file_document, session=unwrap(session)
            )
        self.delegate = adopt_grid_out(delegate)

    @classmethod
    def _from_delegate(cls, delegate: Any, owner: MotorBase) -> Any:
        if delegate is None:  # find_one found nothing
            return None
        return super()._from_delegate(adopt_grid_out(delegate), owner)

    # -- the files document ------------------------------------------------------

    def _opened_document(self, attr_name: str) -> Any:
        document = self.delegate._file
        if not document:
            raise InvalidOperation(
                f"call 'await grid_out.open()' before reading {attr_name!r}: "
                "a MotorGridOut's attributes come from the server"
            )
        return document

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "delegate":
            raise AttributeError(name)
        document = self.delegate._file
        if not document and name.startswith("_"):
            raise AttributeError(name)
        document = self._opened_document(name)
        if name in document:
            return document[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    @worker_method
    def open(self) -> Any:
        """Fetch the files document (if not fetched yet); resolves to this MotorGridOut.

        Raises :class:`gridfs.errors.NoFile` if there is no such file.
        """
        self.delegate.open()
        return self

    # -- reading -------------------------------------------------------------------

    @worker_method
    def readline(self, size: int = -1) -> bytes:
        """Read one line (through ``b"\\n"``), or at most ``size`` bytes of it."""
        return self.delegate.read_line(size)

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        """Move the read position; returns the new one. No I/O.

        ``whence`` is :data:`os.SEEK_SET`, :data:`os.SEEK_CUR` or
        :data:`os.SEEK_END` (that one needs the file opened).
        """
        grid_out = self.delegate
        if whence == os.SEEK_END:
            self._opened_document("length")
        before = grid_out._position
        # PyMongo's seek closes the chunk cursor (I/O); take it away first and
        # close it in the background if it really is done with.
        chunks, grid_out._chunk_iter = grid_out._chunk_iter, None
        try:
            position = grid_out.seek(pos, whence)
        except BaseException:
            grid_out._chunk_iter = chunks
            raise
        if position == before:
            grid_out._chunk_iter = chunks
        elif chunks is not None:
            self._runtime.start(chunks.close, callback=_log_failure)
        return position

    @coroutine_method
    async def stream_to_handler(self, request_handler: Any) -> None:
        """Write the rest of this file to a Tornado RequestHandler, chunk by chunk.

        Each chunk is written and flushed, and the next is read only once the
        previous one has gone out, so a slow client never makes Motor hold
        more than a chunk. Set the headers first. :class:`motor.web.GridFSHandler`
        is a complete handler built on this.
        """
        if not self.delegate._file:
            await self.open()
        while True:
            chunk = await self.readchunk()
            if not chunk:
                break
            request_handler.write(chunk)
            # Tornado's flush() returns a Future: waiting for it keeps one
            # chunk in memory. Some handlers (and test doubles) return None.
            flushed = request_handler.flush()
            if inspect.isawaitable(flushed):
                await flushed

    def __aiter__(self) -> Any:
        return self

    async def __anext__(self) -> bytes:
        chunk = await self.readchunk()
        if chunk:
            return chunk
        raise StopAsyncIteration

    async def __aenter__(self) -> Any:
        if not self.delegate._file:
            await self.open()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        document = self.delegate._file
        if not document:
            return f"{type(self).__name__}(_id={self.delegate._file_id!r}, not opened)"
        return (
            f"{type(self).__name__}(_id={document.get('_id')!r}, "
            f"filename={document.get('filename')!r}, length={document.get('length')!r})"
        )


@register_agnostic
class AgnosticGridOutCursor(AgnosticCursor):
    """A cursor over GridFS files: yields opened MotorGridOuts.

    ::

        async for grid_out in fs.find({"filename": "notes.txt"}).sort("uploadDate", -1):
            print(grid_out.upload_date, await grid_out.read())
    """

    __motor_class_name__ = "MotorGridOutCursor"
    __delegate_class__ = gridfs.GridOutCursor

    clone = DelegateMethod(wrap="AgnosticGridOutCursor")

    def _grid_out(self, document: Any) -> Any:
        cursor = self.delegate
        grid_out = LoopGridOut(cursor._root_collection, file_document=document, session=cursor.session)
        return self._motor_class("AgnosticGridOut")._from_delegate(grid_out, self)

    def next_object(self) -> Any:
        """The next buffered file as a MotorGridOut, or None (after ``fetch_next``)."""
        document = super().next_object()
        return None if document is None else self._grid_out(document)

    async def __anext__(self) -> Any:
        return self._grid_out(await super().__anext__())

    def _next_in_worker(self) -> Any:
        document = super()._next_in_worker()
        return None if document is None else self._grid_out(document)

    def _to_list(self, length: int | None) -> Any:
        return [self._grid_out(document) for document in super()._to_list(length)]

    def each(self, callback: Any) -> None:
        """Call ``callback(grid_out, None)`` per file, then ``callback(None, None)``."""
        if not callable(callback):
            raise TypeError(f"each() needs a callable taking (grid_out, error), not {callback!r}")

        def each_grid_out(document: Any, error: Any) -> Any:
            return callback(None if document is None else self._grid_out(document), error)

        super().each(each_grid_out)


@register_agnostic
class AgnosticGridFS(MotorBase, metaclass=MotorMeta):
    """GridFS on a MotorDatabase: PyMongo's :class:`gridfs.GridFS` API.

    :param database: a MotorDatabase.
    :param collection: the root collection (files go in ``<collection>.files``
      and ``<collection>.chunks``).

    No I/O happens until the first operation; ``await fs.open()`` resolves to
    the MotorGridFS itself, for code written that way.
    """

    __motor_class_name__ = "MotorGridFS"
    __delegate_class__ = gridfs.GridFS

    delete = AsyncWrite()
    exists = AsyncRead()
    find = DelegateMethod(wrap="AgnosticGridOutCursor")
    find_one = AsyncRead(wrap="AgnosticGridOut")
    get = AsyncRead(wrap="AgnosticGridOut")
    get_last_version = AsyncRead(wrap="AgnosticGridOut")
    get_version = AsyncRead(wrap="AgnosticGridOut")
    list = AsyncRead()
    new_file = DelegateMethod(wrap="AgnosticGridIn")

    def __init__(self, database: Any, collection: str = "fs") -> None:
        check_motor_instance(self, database, "AgnosticDatabase", "database")
        self._client = database._client
        self._database = database
        self.delegate = gridfs.GridFS(database.delegate, collection)

    @property
    def database(self) -> Any:
        """The MotorDatabase this GridFS is in."""
        return self._database

    def open(self, callback: Any = None) -> Any:
        """A Future resolving to this MotorGridFS (there is nothing to connect).

        With ``callback``, returns None and calls ``callback(grid_fs, error)``
        instead.
        """
        check_callback(callback)
        return self._runtime.start(lambda: self, callback=callback)

    @worker_method
    def put(self, data: Any, **kwargs: Any) -> Any:
        """Store ``data`` as a new file; returns its ``_id``.

        ``data`` is bytes, a str (with an ``encoding`` keyword), or a stream
        read chunk by chunk (anything with ``read(size)``, including an
        asynchronous reader). ``kwargs`` are fields of the files document
        (``_id``, ``filename``, ``content_type``, ``chunk_size``, your own...).
        If storing fails, the chunks already stored are removed.
        """
        grid_in = adopt_grid_in(self.delegate.new_file(**kwargs))
        return write_and_close(grid_in, data, self._runtime.loop)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._database!r}, {self.delegate._collection.name!r})"
