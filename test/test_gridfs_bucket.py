"""MotorGridFSBucket (Motor 3's GridFS API) against a real server."""

from __future__ import annotations

import asyncio
import io
import os

import gridfs
import pytest
from bson import ObjectId
from gridfs.errors import FileExists, NoFile

import motor
import motor.motor_asyncio as motor_asyncio
from motor.gridfs._delegates import DOWNLOAD_BATCH_BYTES

from .motor_fixtures import chunk_count, sync_client


@pytest.fixture
def bucket(db):
    return motor.MotorGridFSBucket(db)


class RecordingReader:
    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)
        self.sizes: list = []

    def read(self, size=-1):
        self.sizes.append(size)
        return self._stream.read(size)


class AsyncSink:
    """An asynchronous destination: ``write`` is a coroutine."""

    def __init__(self) -> None:
        self.parts: list = []

    async def write(self, data):
        await asyncio.sleep(0)
        self.parts.append(bytes(data))


async def test_upload_from_stream_and_download_to_stream(bucket, db_name):
    data = os.urandom(100_000)
    reader = RecordingReader(data)
    file_id = await bucket.upload_from_stream(
        "data.bin", reader, chunk_size_bytes=10_000, metadata={"contentType": "application/x-test"}
    )
    assert isinstance(file_id, ObjectId)
    assert all(0 < size <= 10_000 for size in reader.sizes), reader.sizes  # never read whole
    assert await chunk_count(db_name, file_id) == 10

    destination = io.BytesIO()
    assert await bucket.download_to_stream(file_id, destination) is None
    assert destination.getvalue() == data

    sink = AsyncSink()
    await bucket.download_to_stream(file_id, sink)
    assert [len(p) for p in sink.parts] == [10_000] * 10
    assert b"".join(sink.parts) == data

    grid_out = await bucket.open_download_stream(file_id)
    assert grid_out.metadata == {"contentType": "application/x-test"}
    with pytest.raises(AttributeError):
        grid_out.sha256  # noqa: B018 - uploads store no hash of the content

    with pytest.raises(NoFile):
        await bucket.download_to_stream(ObjectId(), io.BytesIO())


async def test_upload_bytes_and_async_streams_with_and_without_id(bucket):
    assert isinstance(await bucket.upload_from_stream("b", b"bytes"), ObjectId)

    class AsyncReader:
        def __init__(self, data):
            self._stream = io.BytesIO(data)

        async def read(self, size=-1):
            await asyncio.sleep(0)
            return self._stream.read(size)

    data = os.urandom(5000)
    assert await bucket.upload_from_stream_with_id(7, "a", AsyncReader(data), chunk_size_bytes=1000) is None
    assert await (await bucket.open_download_stream(7)).read() == data
    with pytest.raises(FileExists):
        await bucket.upload_from_stream_with_id(7, "a", b"again")


async def test_revisions_by_name(bucket):
    for n in range(3):
        await bucket.upload_from_stream("notes.txt", f"revision {n}".encode())
        await asyncio.sleep(0.002)

    async def content(revision):
        destination = io.BytesIO()
        await bucket.download_to_stream_by_name("notes.txt", destination, revision=revision)
        return destination.getvalue()

    assert await content(-1) == b"revision 2"
    assert await content(0) == b"revision 0"
    assert await content(-3) == b"revision 0"
    assert await (await bucket.open_download_stream_by_name("notes.txt")).read() == b"revision 2"
    assert await (await bucket.open_download_stream_by_name("notes.txt", 1)).read() == b"revision 1"
    with pytest.raises(NoFile):
        await bucket.open_download_stream_by_name("notes.txt", 3)
    with pytest.raises(NoFile):
        await bucket.download_to_stream_by_name("nothing", io.BytesIO())


async def test_open_upload_stream_gives_a_grid_in(bucket, db_name):
    grid_in = bucket.open_upload_stream("up.txt", chunk_size_bytes=3, metadata={"by": "test"})
    assert isinstance(grid_in, motor.MotorGridIn)
    await grid_in.write(b"abcdefg")
    await grid_in.close()
    grid_out = await bucket.open_download_stream(grid_in._id)
    assert grid_out.filename == "up.txt" and grid_out.metadata == {"by": "test"}
    assert grid_out.chunk_size == 3 and await grid_out.read() == b"abcdefg"

    async with bucket.open_upload_stream_with_id("my-id", "with-id.txt") as grid_in:
        await grid_in.write(b"xyz")
    assert grid_in._id == "my-id" and grid_in.closed
    assert await (await bucket.open_download_stream("my-id")).read() == b"xyz"

    with pytest.raises(ZeroDivisionError):
        async with bucket.open_upload_stream_with_id("gone", "gone.txt", chunk_size_bytes=1) as grid_in:
            await grid_in.write(b"abc")
            raise ZeroDivisionError("the block failed")
    assert await chunk_count(db_name, "gone") == 0


async def test_download_stream_reads_in_bounded_batches(bucket):
    data = os.urandom(300_000)
    file_id = await bucket.upload_from_stream("batched", data, chunk_size_bytes=1000)
    grid_out = await bucket.open_download_stream(file_id)
    received = [await grid_out.readchunk()]
    cursor = grid_out.delegate._chunk_iter._cursor
    assert cursor._batch_size == DOWNLOAD_BATCH_BYTES // 1000
    async for chunk in grid_out:
        received.append(chunk)
    assert b"".join(received) == data


async def test_find_delete_rename_and_drop(bucket, db, db_name):
    ids = {}
    for name in ("a", "b", "c"):
        ids[name] = await bucket.upload_from_stream(name, name.encode() * 10)

    cursor = bucket.find({"filename": {"$in": ["a", "c"]}}).sort("filename", -1)
    assert isinstance(cursor, motor.MotorGridOutCursor)
    found = await cursor.to_list(None)
    assert [g.filename for g in found] == ["c", "a"]
    assert await found[0].read() == b"c" * 10
    assert [g.filename async for g in bucket.find({}, limit=1, sort=[("filename", 1)])] == ["a"]

    await bucket.rename(ids["a"], "renamed")
    assert (await bucket.open_download_stream(ids["a"])).filename == "renamed"
    with pytest.raises(NoFile):
        await bucket.rename(ObjectId(), "x")
    await bucket.rename_by_name("b", "b2")
    assert (await bucket.open_download_stream(ids["b"])).filename == "b2"

    await bucket.delete(ids["c"])
    assert await chunk_count(db_name, ids["c"]) == 0
    with pytest.raises(NoFile):
        await bucket.open_download_stream(ids["c"])
    with pytest.raises(NoFile):
        await bucket.delete(ids["c"])
    await bucket.delete_by_name("b2")
    assert [g.filename async for g in bucket.find()] == ["renamed"]

    await bucket.drop()
    names = await db.list_collection_names()
    assert "fs.files" not in names and "fs.chunks" not in names


async def test_bucket_name_collection_and_options(db, db_name):
    bucket = motor.MotorGridFSBucket(db, bucket_name="images", chunk_size_bytes=4)
    assert bucket.collection.name == "images" and isinstance(bucket.collection, motor.MotorCollection)
    file_id = await bucket.upload_from_stream("x", b"12345678")
    assert await chunk_count(db_name, file_id, "images") == 2
    with pytest.warns(DeprecationWarning):
        old = motor.MotorGridFSBucket(db, collection="images")
    assert (await old.open_download_stream(file_id)).length == 8
    with pytest.raises(TypeError):
        motor.MotorGridFSBucket(db.images)
    from pymongo import WriteConcern
    from pymongo.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        motor.MotorGridFSBucket(db, write_concern=WriteConcern(w=0))


async def test_errors_and_results_through_callbacks(bucket):
    loop = asyncio.get_running_loop()
    uploaded = loop.create_future()
    assert bucket.upload_from_stream("cb", b"data", callback=lambda r, e: uploaded.set_result((r, e))) is None
    file_id, error = await uploaded
    assert error is None and isinstance(file_id, ObjectId)

    opened = loop.create_future()
    bucket.open_download_stream(ObjectId(), callback=lambda r, e: opened.set_result((r, e)))
    result, error = await opened
    assert result is None and isinstance(error, NoFile)

    grid_in = bucket.open_upload_stream("closed")
    await grid_in.close()
    written = loop.create_future()
    grid_in.write(b"x", callback=lambda r, e: written.set_result((r, e)))
    result, error = await written
    assert isinstance(error, ValueError)


async def test_asyncio_flavour(asyncio_client, db_name):
    bucket = motor_asyncio.AsyncIOMotorGridFSBucket(asyncio_client[db_name])
    file_id = await bucket.upload_from_stream("x", b"asyncio")
    grid_out = await bucket.open_download_stream(file_id)
    assert type(grid_out) is motor_asyncio.AsyncIOMotorGridOut
    assert type(bucket.open_upload_stream("y")) is motor_asyncio.AsyncIOMotorGridIn
    assert await grid_out.read() == b"asyncio"


async def test_sessions_are_passed_through(client, bucket):
    async with await client.start_session() as session:
        file_id = await bucket.upload_from_stream("s", b"in a session", session=session)
        grid_out = await bucket.open_download_stream(file_id, session=session)
        assert await grid_out.read() == b"in a session"
        files = await bucket.find({"_id": file_id}, session=session).to_list(None)
        assert files[0].delegate._session is session.delegate


def test_pymongo_gridfs_bucket_sees_motors_files(io_loop, db, db_name):
    """Files written by Motor are ordinary GridFS files (PyMongo reads them)."""
    bucket = motor.MotorGridFSBucket(db)
    file_id = io_loop.run_sync(lambda: bucket.upload_from_stream("shared", b"hello pymongo"))
    with sync_client() as client:
        assert gridfs.GridFSBucket(client[db_name]).open_download_stream(file_id).read() == b"hello pymongo"
