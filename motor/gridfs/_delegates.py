"""PyMongo's GridIn and GridOut, tuned for running inside Motor's workers.

Motor's GridFS objects delegate to these subclasses of PyMongo's synchronous
classes. They change three things, all about memory and round trips:

* :class:`LoopGridIn` sends its chunks to the server at least every
  :data:`UPLOAD_BUFFER_BYTES` (PyMongo buffers up to 48 MB of chunks before
  one ``insert_many``).
* :class:`LoopGridOut` reads chunks with a cursor whose batches hold about
  :data:`DOWNLOAD_BATCH_BYTES` (a default batch may hold 16 MB of chunks).
* :func:`adopt_grid_in` / :func:`adopt_grid_out` turn the GridIn or GridOut
  that a PyMongo method made into one of these, so Motor can call PyMongo's
  own ``get_version``, ``open_download_stream`` and the rest unchanged.

Everything here runs in a Motor worker; nothing here knows about the loop
except :func:`file_reader`, which lets a worker read from an object whose
``read()`` is a coroutine (an asynchronous stream) by parking until it is done.

.. versionadded:: 4.0
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from gridfs.grid_file_shared import _CHUNK_OVERHEAD
from gridfs.synchronous.grid_file import GridIn, GridOut, GridOutChunkIterator

from motor.runtime.timing import wait_for_future

__all__ = [
    "DOWNLOAD_BATCH_BYTES",
    "UPLOAD_BUFFER_BYTES",
    "LoopGridIn",
    "LoopGridOut",
    "adopt_grid_in",
    "adopt_grid_out",
    "copy_to",
    "file_reader",
    "write_and_close",
]

# Chunks a GridIn keeps before sending them in one insert_many.
UPLOAD_BUFFER_BYTES = 2 * 1024 * 1024

# Bytes of chunks a GridOut asks for per batch (at least one chunk).
DOWNLOAD_BATCH_BYTES = 2 * 1024 * 1024


class LoopGridIn(GridIn):
    """A GridIn with a bounded upload buffer."""

    def _flush_data(self, data: Any, force: bool = False) -> None:
        if self._buffered_docs_size + len(data) + _CHUNK_OVERHEAD >= UPLOAD_BUFFER_BYTES:
            force = True
        super()._flush_data(data, force)


class _BatchedChunks(GridOutChunkIterator):
    """PyMongo's chunk iterator, with batches of about DOWNLOAD_BATCH_BYTES."""

    def _create_cursor(self) -> None:
        super()._create_cursor()
        assert self._cursor is not None
        self._cursor.batch_size(max(1, DOWNLOAD_BATCH_BYTES // max(1, self._chunk_size)))


class LoopGridOut(GridOut):
    """A GridOut whose chunk cursor fetches small batches."""

    def readchunk(self) -> bytes:
        if self._chunk_iter is None and len(self._buffer) <= self._buffer_pos:
            self.open()
            chunk_size = int(self.chunk_size)
            if self._position < int(self.length):
                self._chunk_iter = _BatchedChunks(
                    self, self._chunks, self._session, self._position // chunk_size
                )
        return super().readchunk()

    def read_line(self, size: int = -1) -> bytes:
        """One line (up to ``size`` bytes), found chunk by chunk."""
        return self._read_size_or_line(size=size, line=True)


def adopt_grid_in(grid_in: GridIn) -> LoopGridIn:
    """Make a GridIn that PyMongo built into a :class:`LoopGridIn`, in place."""
    if not isinstance(grid_in, LoopGridIn):
        # GridIn.__setattr__ would store "__class__" in the files document.
        object.__setattr__(grid_in, "__class__", LoopGridIn)
    return grid_in  # type: ignore[return-value]


def adopt_grid_out(grid_out: GridOut) -> LoopGridOut:
    """Make a GridOut that PyMongo built into a :class:`LoopGridOut`, in place."""
    if not isinstance(grid_out, LoopGridOut):
        grid_out.__class__ = LoopGridOut
    return grid_out  # type: ignore[return-value]


class _AwaitingReader:
    """A file-like whose ``read`` may return awaitables, read from a worker.

    The worker parks on each awaitable (the loop runs meanwhile), so an
    asynchronous stream can be uploaded chunk by chunk.
    """

    __slots__ = ("_read", "_loop")

    def __init__(self, read: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._read = read
        self._loop = loop

    def read(self, size: int = -1) -> Any:
        data = self._read(size)
        if inspect.isawaitable(data):
            data = wait_for_future(asyncio.ensure_future(data, loop=self._loop))
        return data


class _BufferReader:
    """Reads a bytearray or memoryview in slices, never copying it whole."""

    __slots__ = ("_view", "_pos")

    def __init__(self, buffer: Any) -> None:
        self._view = memoryview(buffer).cast("B")
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        start = self._pos
        end = len(self._view) if size is None or size < 0 else min(start + size, len(self._view))
        self._pos = end
        return bytes(self._view[start:end])


def write_and_close(grid_in: LoopGridIn, data: Any, loop: asyncio.AbstractEventLoop) -> Any:
    """Write ``data`` (bytes, str or a stream) to ``grid_in``, close it, return its _id.

    On an error the chunks already stored are removed before re-raising.
    """
    try:
        grid_in.write(file_reader(data, loop))
        grid_in.close()
    except Exception:
        try:
            grid_in.abort()
        except Exception:  # noqa: BLE001 - the first error is the one to report
            pass
        raise
    return grid_in._id


def copy_to(grid_out: LoopGridOut, destination: Any, loop: asyncio.AbstractEventLoop) -> None:
    """Write the rest of ``grid_out`` to ``destination`` chunk by chunk, then close it.

    ``destination.write`` may return an awaitable; the worker waits for it
    before reading the next chunk, so a slow destination holds one chunk.
    """
    try:
        while True:
            chunk = grid_out.readchunk()
            if not chunk:
                break
            result = destination.write(chunk)
            if inspect.isawaitable(result):
                wait_for_future(asyncio.ensure_future(result, loop=loop))
    finally:
        grid_out.close()


def file_reader(data: Any, loop: asyncio.AbstractEventLoop) -> Any:
    """What to hand GridIn.write for ``data``.

    bytes and str pass through (GridIn slices them itself); a bytearray or
    memoryview is read in slices; an object with ``read()`` is read chunk by
    chunk, awaiting its results if they are awaitable.
    """
    if isinstance(data, (bytes, str)):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return _BufferReader(data)
    read = getattr(data, "read", None)
    if read is None:
        return data  # GridIn raises its TypeError
    if isinstance(data, GridOut):
        return data  # a sync reader already, read in the worker
    return _AwaitingReader(read, loop)
