"""MotorGridFSBucket: the GridFS API every MongoDB driver shares, non-blocking.

::

    bucket = motor.MotorGridFSBucket(db)
    with open("movie.webm", "rb") as f:
        file_id = await bucket.upload_from_stream("movie.webm", f, metadata={"contentType": "video/webm"})

    grid_out = await bucket.open_download_stream(file_id)
    async for chunk in grid_out:
        ...

    with open("copy.webm", "wb") as f:
        await bucket.download_to_stream(file_id, f)

Uploads and downloads go chunk by chunk: streams are never read or written
whole, and Motor keeps a few megabytes of chunks in memory at most.

.. versionadded:: 4.0
"""

from __future__ import annotations

import warnings
from typing import Any

import gridfs
from gridfs import DEFAULT_CHUNK_SIZE

from motor.core.metaprogramming import AsyncRead, AsyncWrite, DelegateMethod, MotorBase, MotorMeta
from motor.frameworks import register_agnostic
from motor.gridfs._common import check_motor_instance, worker_method
from motor.gridfs._delegates import adopt_grid_in, adopt_grid_out, copy_to, write_and_close

__all__ = ["AgnosticGridFSBucket"]


@register_agnostic
class AgnosticGridFSBucket(MotorBase, metaclass=MotorMeta):
    """A GridFS bucket on a MotorDatabase (PyMongo's :class:`gridfs.GridFSBucket`).

    :param database: a MotorDatabase.
    :param bucket_name: files go in ``<bucket_name>.files`` and
      ``<bucket_name>.chunks`` (default ``"fs"``).
    :param chunk_size_bytes: chunk size of new files (default 255 KiB).
    :param write_concern: default: the database's; must be acknowledged.
    :param read_preference: default: the database's.
    :param collection: deprecated alias of ``bucket_name``.
    """

    __motor_class_name__ = "MotorGridFSBucket"
    __delegate_class__ = gridfs.GridFSBucket

    delete = AsyncWrite()
    delete_by_name = AsyncWrite()
    rename = AsyncWrite()
    rename_by_name = AsyncWrite()
    find = DelegateMethod(wrap="AgnosticGridOutCursor")
    open_download_stream = AsyncRead(wrap="AgnosticGridOut")
    open_download_stream_by_name = AsyncRead(wrap="AgnosticGridOut")
    open_upload_stream = DelegateMethod(wrap="AgnosticGridIn")
    open_upload_stream_with_id = DelegateMethod(wrap="AgnosticGridIn")

    def __init__(
        self,
        database: Any,
        bucket_name: str = "fs",
        chunk_size_bytes: int = DEFAULT_CHUNK_SIZE,
        write_concern: Any = None,
        read_preference: Any = None,
        collection: str | None = None,
    ) -> None:
        if collection is not None:
            warnings.warn(
                "the 'collection' parameter is deprecated, use 'bucket_name'",
                DeprecationWarning,
                stacklevel=2,
            )
            bucket_name = collection
        check_motor_instance(self, database, "AgnosticDatabase", "database")
        self._client = database._client
        self._database = database
        self.delegate = gridfs.GridFSBucket(
            database.delegate,
            bucket_name,
            chunk_size_bytes=chunk_size_bytes,
            write_concern=write_concern,
            read_preference=read_preference,
        )
        self._collection = database.get_collection(
            bucket_name, write_concern=write_concern, read_preference=read_preference
        )

    @property
    def collection(self) -> Any:
        """The bucket's root MotorCollection (``db[bucket_name]``)."""
        return self._collection

    @property
    def database(self) -> Any:
        """The MotorDatabase this bucket is in."""
        return self._database

    @property
    def bucket_name(self) -> str:
        return self.delegate._bucket_name

    @worker_method
    def upload_from_stream(
        self,
        filename: str,
        source: Any,
        chunk_size_bytes: int | None = None,
        metadata: Any = None,
        session: Any = None,
    ) -> Any:
        """Store the content of ``source`` as a new file named ``filename``; returns its _id.

        ``source`` is bytes, or a stream read chunk by chunk: anything with
        ``read(size)``, such as a file, a MotorGridOut, or an asynchronous
        reader whose ``read`` is a coroutine. If storing fails, the chunks
        already stored are removed.
        """
        grid_in = self.delegate.open_upload_stream(
            filename, chunk_size_bytes, metadata, session=session
        )
        return write_and_close(adopt_grid_in(grid_in), source, self._runtime.loop)

    @worker_method
    def upload_from_stream_with_id(
        self,
        file_id: Any,
        filename: str,
        source: Any,
        chunk_size_bytes: int | None = None,
        metadata: Any = None,
        session: Any = None,
    ) -> None:
        """Like :meth:`upload_from_stream`, with the file's ``_id`` given.

        Raises :class:`gridfs.errors.FileExists` if that ``_id`` is taken.
        """
        grid_in = self.delegate.open_upload_stream_with_id(
            file_id, filename, chunk_size_bytes, metadata, session=session
        )
        write_and_close(adopt_grid_in(grid_in), source, self._runtime.loop)

    @worker_method
    def download_to_stream(self, file_id: Any, destination: Any, session: Any = None) -> None:
        """Write the content of the file ``file_id`` to ``destination``, chunk by chunk.

        ``destination.write(chunk)`` may return an awaitable (an asynchronous
        writer): each is awaited before the next chunk is read. Raises
        :class:`gridfs.errors.NoFile` if there is no such file.
        """
        grid_out = adopt_grid_out(self.delegate.open_download_stream(file_id, session=session))
        copy_to(grid_out, destination, self._runtime.loop)

    @worker_method
    def download_to_stream_by_name(
        self, filename: str, destination: Any, revision: int = -1, session: Any = None
    ) -> None:
        """Like :meth:`download_to_stream`, for a revision of the file named ``filename``.

        ``revision`` counts from 0 (the first stored) or back from -1 (the
        latest, the default).
        """
        grid_out = adopt_grid_out(
            self.delegate.open_download_stream_by_name(filename, revision, session=session)
        )
        copy_to(grid_out, destination, self._runtime.loop)

    @worker_method
    def drop(self, session: Any = None) -> None:
        """Drop the bucket: its files and chunks collections, with every file in them."""
        self.delegate._files.drop(session=session)
        self.delegate._chunks.drop(session=session)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._database!r}, {self.bucket_name!r})"
