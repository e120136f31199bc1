"""MotorGridFS, MotorGridIn, MotorGridOut and MotorGridOutCursor against a real server."""

from __future__ import annotations

import asyncio
import datetime
import io
import os

import gridfs
import pytest
from bson import ObjectId
from gridfs.errors import FileExists, NoFile
from pymongo.errors import InvalidOperation
from tornado import gen

import motor
import motor.motor_asyncio as motor_asyncio
from motor.gridfs._delegates import DOWNLOAD_BATCH_BYTES, UPLOAD_BUFFER_BYTES

from .motor_fixtures import chunk_count, off_loop, sync_client


class RecordingReader:
    """A file-like that records every read size it is asked for."""

    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)
        self.sizes: list = []

    def read(self, size=-1):
        self.sizes.append(size)
        return self._stream.read(size)


class AsyncReader:
    """An asynchronous stream: ``read`` is a coroutine, as in aiofiles and friends."""

    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)
        self.reads = 0

    async def read(self, size=-1):
        self.reads += 1
        await asyncio.sleep(0)
        return self._stream.read(size)


@pytest.fixture
def fs(db):
    return motor.MotorGridFS(db)


def _files_doc(db_name: str, file_id, root: str) -> dict:
    with sync_client() as client:
        return client[db_name][root + ".files"].find_one({"_id": file_id})


async def files_doc(db_name: str, file_id, root: str = "fs") -> dict:
    """The files document, read by a plain PyMongo client (off the loop)."""
    return await off_loop(_files_doc, db_name, file_id, root)


# -- put, get and the files document ---------------------------------------------------


async def test_open_resolves_to_the_gridfs_and_put_get_round_trip(db, db_name):
    fs = await motor.MotorGridFS(db).open()
    assert isinstance(fs, motor.MotorGridFS)

    file_id = await fs.put(b"Contents", filename="a.txt", content_type="text/plain", color="red")
    assert isinstance(file_id, ObjectId)
    grid_out = await fs.get(file_id)
    assert isinstance(grid_out, motor.MotorGridOut)
    assert grid_out._id == file_id
    assert grid_out.filename == grid_out.name == "a.txt"
    assert grid_out.content_type == grid_out.contentType == "text/plain"
    assert grid_out.color == "red"  # a field of one's own
    assert grid_out.length == 8
    assert grid_out.chunk_size == gridfs.DEFAULT_CHUNK_SIZE
    assert isinstance(grid_out.upload_date, datetime.datetime)
    assert grid_out.metadata is None and grid_out.aliases is None
    assert await grid_out.read() == b"Contents"
    assert await grid_out.read() == b""

    # The files document holds PyMongo's fields and the caller's, nothing of Motor's own.
    assert set(await files_doc(db_name, file_id)) == {
        "_id", "filename", "contentType", "color", "length", "chunkSize", "uploadDate"
    }


async def test_put_honours_id_and_takes_file_likes_and_str_with_encoding(fs):
    assert await fs.put(b"Contents", _id=42) == 42
    with pytest.raises(FileExists):
        await fs.put(b"again", _id=42)

    reader = RecordingReader(b"Lengthy contents" * 1000)
    file_id = await fs.put(reader, chunk_size=1024)
    assert await (await fs.get(file_id)).read() == b"Lengthy contents" * 1000
    assert reader.sizes and all(0 < size <= 1024 for size in reader.sizes), reader.sizes

    file_id = await fs.put("héllo wörld", encoding="utf-8")
    grid_out = await fs.get(file_id)
    assert grid_out.encoding == "utf-8"
    assert (await grid_out.read()).decode("utf-8") == "héllo wörld"

    with pytest.raises(TypeError):
        await fs.put("text without an encoding")
    with pytest.raises(TypeError):
        await fs.put(12345)


async def test_put_reads_async_streams_bytearrays_and_grid_outs(fs):
    data = os.urandom(10_000)
    reader = AsyncReader(data)
    file_id = await fs.put(reader, chunk_size=1000)
    assert reader.reads >= 10
    assert await (await fs.get(file_id)).read() == data

    copy_id = await fs.put(await fs.get(file_id), filename="copy")
    assert await (await fs.get(copy_id)).read() == data

    view_id = await fs.put(memoryview(bytearray(data)), chunk_size=999)
    assert await (await fs.get(view_id)).read() == data


async def test_put_that_fails_midway_leaves_no_chunks(fs, db_name):
    class Failing:
        def __init__(self):
            self.reads = 0

        def read(self, size=-1):
            self.reads += 1
            if self.reads > 3:
                raise OSError("disk on fire")
            return b"x" * size

    with pytest.raises(OSError, match="disk on fire"):
        await fs.put(Failing(), _id="doomed", chunk_size=100)
    assert await chunk_count(db_name, "doomed") == 0
    assert await files_doc(db_name, "doomed") is None


# -- MotorGridIn -----------------------------------------------------------------------


async def test_new_file_streams_chunks_and_reads_file_likes_in_chunks(fs, db_name):
    grid_in = fs.new_file(filename="streamed", chunk_size=4, encoding="utf-8")
    assert isinstance(grid_in, motor.MotorGridIn)
    assert await grid_in is grid_in  # "grid_in = await fs.new_file()" works too
    assert grid_in.closed is False
    assert grid_in.chunk_size == 4 and grid_in.filename == "streamed"
    with pytest.raises(AttributeError):
        grid_in.length  # noqa: B018 - only once closed

    await grid_in.write(b"First part\n")
    await grid_in.write("Second part")
    reader = RecordingReader(b"-from a file-")
    await grid_in.write(reader)
    assert all(0 < size <= 4 for size in reader.sizes), reader.sizes
    await grid_in.writelines([b"a", "b", io.BytesIO(b"c")])
    await grid_in.close()
    await grid_in.close()  # closing twice is fine

    content = b"First part\nSecond part-from a file-abc"
    assert grid_in.closed is True
    assert grid_in.length == len(content)
    assert isinstance(grid_in.upload_date, datetime.datetime)
    with pytest.raises(AttributeError):
        grid_in.sha256  # noqa: B018 - Motor no longer hashes what it stores
    grid_out = await fs.get(grid_in._id)
    assert await grid_out.read() == content
    assert await chunk_count(db_name, grid_in._id) == -(-len(content) // 4)


async def test_chunks_reach_the_server_before_close(fs, db_name):
    """PyMongo buffers up to 48 MB of chunks; Motor sends them every few MB."""
    grid_in = fs.new_file(_id="big", chunk_size=256 * 1024)
    piece = os.urandom(1024 * 1024)
    for _ in range(UPLOAD_BUFFER_BYTES // len(piece) + 2):
        await grid_in.write(piece)
    assert await chunk_count(db_name, "big") >= UPLOAD_BUFFER_BYTES // (256 * 1024) - 1
    assert grid_in.delegate._buffered_docs_size < UPLOAD_BUFFER_BYTES
    await grid_in.abort()
    assert await chunk_count(db_name, "big") == 0


async def test_set_before_and_after_close(fs, db_name):
    grid_in = fs.new_file()
    await grid_in.set("content_type", "image/png")  # stored on close
    await grid_in.set("filename", "picture.png")
    grid_in.custom = "before"  # a field of one's own: plain assignment works before close
    assert await files_doc(db_name, grid_in._id) is None
    await grid_in.close()

    await grid_in.set("my_field", "my_value")  # sent to the server at once
    assert grid_in.content_type == grid_in.contentType == "image/png"
    assert grid_in.my_field == "my_value" and grid_in.custom == "before"
    document = await files_doc(db_name, grid_in._id)
    assert document["contentType"] == "image/png"
    assert document["custom"] == "before" and document["my_field"] == "my_value"
    assert document["filename"] == "picture.png"

    grid_out = await fs.get(grid_in._id)
    assert grid_out.my_field == "my_value" and grid_out.content_type == "image/png"

    with pytest.raises(AttributeError, match="set"):
        grid_in.other = 1  # would need I/O: use set()
    with pytest.raises(AttributeError):
        await grid_in.set("length", 5)
    with pytest.raises(AttributeError):
        grid_in._id = 5
    with pytest.raises(AttributeError):
        grid_in.no_such_field  # noqa: B018


async def test_grid_in_attributes_follow_motor3s_rules(db, db_name):
    """Properties are read-only (set() sets them); own fields are assignable until close."""
    grid_in = motor.MotorGridIn(db.fs, bar="baz")
    assert isinstance(grid_in._id, ObjectId) and grid_in.bar == "baz"
    assert grid_in.filename is None and grid_in.content_type is None
    assert grid_in.chunk_size == gridfs.DEFAULT_CHUNK_SIZE
    for name in ("length", "upload_date", "uploadDate", "aliases", "metadata", "baz"):
        with pytest.raises(AttributeError):
            getattr(grid_in, name)
    for name in ("filename", "name", "content_type"):
        with pytest.raises(AttributeError, match=r"await grid_in\.set"):
            setattr(grid_in, name, "x")
    for name in ("_id", "length", "chunk_size", "upload_date", "uploadDate", "chunkSize", "md5"):
        with pytest.raises(AttributeError, match="cannot be set"):
            setattr(grid_in, name, 5)

    await grid_in.set("filename", "my_file")
    await grid_in.set("name", "my_file_2")  # the alias of filename
    await grid_in.set("content_type", "text/html")
    await grid_in.set("aliases", ["foo"])
    await grid_in.set("metadata", {"foo": 1})
    grid_in.bar = "foo"
    grid_in.baz = 5
    assert (grid_in.filename, grid_in.name) == ("my_file_2", "my_file_2")
    assert grid_in.content_type == "text/html" and grid_in.aliases == ["foo"]
    assert grid_in.metadata == {"foo": 1} and (grid_in.bar, grid_in.baz) == ("foo", 5)
    await grid_in.close()

    assert grid_in.length == 0 and isinstance(grid_in.upload_date, datetime.datetime)
    assert grid_in.uploadDate == grid_in.upload_date
    for name in ("filename", "length", "upload_date", "_id"):
        with pytest.raises(AttributeError):
            setattr(grid_in, name, 5)
    with pytest.raises(AttributeError, match="set"):
        grid_in.bar = "after close"
    await grid_in.set("bar", "a")
    document = await files_doc(db_name, grid_in._id)
    assert (document["filename"], document["contentType"]) == ("my_file_2", "text/html")
    assert (document["bar"], document["baz"]) == ("a", 5)
    assert (document["aliases"], document["metadata"]) == (["foo"], {"foo": 1})


async def test_write_to_closed_file_raises_value_error_by_future_and_callback(fs, io_loop):
    grid_in = fs.new_file()
    await grid_in.close()
    with pytest.raises(ValueError):
        await grid_in.write(b"late")

    done = asyncio.get_running_loop().create_future()
    assert grid_in.write(b"late", callback=lambda result, error: done.set_result((result, error))) is None
    result, error = await done
    assert result is None and isinstance(error, ValueError)


async def test_async_with_closes_or_aborts(fs, db_name):
    async with fs.new_file(_id="kept") as grid_in:
        await grid_in.write(b"data")
    assert grid_in.closed
    assert await (await fs.get("kept")).read() == b"data"

    with pytest.raises(RuntimeError):
        async with fs.new_file(_id="dropped", chunk_size=2) as grid_in:
            await grid_in.write(b"123456")
            raise RuntimeError("boom")
    assert await chunk_count(db_name, "dropped") == 0
    with pytest.raises(NoFile):
        await fs.get("dropped")


async def test_grid_in_checks_its_root_collection(db):
    with pytest.raises(TypeError):
        motor.MotorGridIn(db)  # a database, not a collection
    grid_in = motor.MotorGridIn(db.fs, filename="direct")
    await grid_in.write(b"x")
    await grid_in.close()
    assert (await motor.MotorGridFS(db).get_last_version("direct")).length == 1
    with pytest.raises(TypeError):
        motor.MotorGridFS(db.fs)


# -- MotorGridOut ----------------------------------------------------------------------


async def test_missing_file_raises_no_file_by_future_and_callback(fs):
    with pytest.raises(NoFile):
        await fs.get(ObjectId())
    with pytest.raises(NoFile):
        await fs.get_last_version("nothing")

    done = asyncio.get_running_loop().create_future()
    fs.get(ObjectId(), callback=lambda result, error: done.set_result((result, error)))
    result, error = await done
    assert result is None and isinstance(error, NoFile)


async def test_grid_out_attributes_need_open_and_never_do_io(db, fs):
    file_id = await fs.put(b"hello", filename="h.txt", metadata={"k": "v"})
    grid_out = motor.MotorGridOut(db.fs, file_id)
    with pytest.raises(InvalidOperation, match="open"):
        grid_out.filename  # noqa: B018
    with pytest.raises(InvalidOperation, match="open"):
        grid_out.my_field  # noqa: B018
    assert await grid_out.open() is grid_out
    assert grid_out.filename == "h.txt" and grid_out.metadata == {"k": "v"}
    with pytest.raises(AttributeError):
        grid_out.no_such_field  # noqa: B018

    with pytest.raises(NoFile):
        await motor.MotorGridOut(db.fs, "missing").open()
    with pytest.raises(TypeError):
        motor.MotorGridOut(db, file_id)


async def test_read_readline_readchunk_seek_and_tell(fs):
    data = b"line one\nline two\nlast line"
    grid_out = await fs.get(await fs.put(data, chunk_size=5))
    assert await grid_out.readline() == b"line one\n"
    assert await grid_out.readline() == b"line two\n"
    assert await grid_out.readline(4) == b"last"
    assert await grid_out.readline() == b" line"
    assert await grid_out.readline() == b""
    assert grid_out.tell() == len(data)

    assert grid_out.seek(0) == 0
    assert await grid_out.readchunk() == b"line "
    assert await grid_out.read(2) == b"on"
    assert await grid_out.readchunk() == b"e\nl"  # the rest of chunk #1
    assert grid_out.seek(-4, os.SEEK_END) == len(data) - 4
    assert await grid_out.read() == b"line"
    assert grid_out.seek(3) == 3
    assert grid_out.seek(2, os.SEEK_CUR) == 5
    assert await grid_out.read(8) == data[5:13]
    assert grid_out.readable() and grid_out.seekable()
    with pytest.raises(OSError):
        grid_out.seek(-1)
    with pytest.raises(io.UnsupportedOperation):
        grid_out.write(b"no")


async def test_seek_while_a_chunk_cursor_is_open(fs):
    data = os.urandom(50_000)
    grid_out = await fs.get(await fs.put(data, chunk_size=100))
    assert await grid_out.read(150) == data[:150]
    cursor = grid_out.delegate._chunk_iter._cursor
    # Batches are bounded: never 16 MB of chunks at once.
    assert 0 < cursor._batch_size <= max(1, DOWNLOAD_BATCH_BYTES // 100)
    grid_out.seek(40_000)
    assert grid_out.delegate._chunk_iter is None  # the old cursor is closed in the background
    assert await grid_out.read(1000) == data[40_000:41_000]
    grid_out.seek(10)
    assert await grid_out.read() == data[10:]
    await grid_out.close()


async def test_async_iteration_yields_chunks(fs):
    data = os.urandom(2500)
    grid_out = await fs.get(await fs.put(data, chunk_size=1000))
    chunks = [chunk async for chunk in grid_out]
    assert [len(c) for c in chunks] == [1000, 1000, 500]
    assert b"".join(chunks) == data

    async with await fs.get(grid_out._id) as again:
        assert await again.read() == data


async def test_stream_to_handler_writes_and_flushes_each_chunk(fs):
    class Handler:
        def __init__(self):
            self.events = []

        def write(self, chunk):
            self.events.append(("write", bytes(chunk)))

        def flush(self):
            self.events.append(("flush",))
            future = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(future.set_result, None)
            return future

    data = os.urandom(2500)
    grid_out = await fs.get(await fs.put(data, chunk_size=1000))
    handler = Handler()
    await grid_out.stream_to_handler(handler)
    kinds = [event[0] for event in handler.events]
    assert kinds == ["write", "flush"] * 3
    assert b"".join(event[1] for event in handler.events if event[0] == "write") == data


async def test_stream_to_handler_does_not_await_a_flush_that_returns_none(fs):
    """Some RequestHandler subclasses and test doubles return None from flush()."""

    class Handler:
        def __init__(self):
            self.written = b""
            self.flushes = 0

        def write(self, chunk):
            self.written += bytes(chunk)

        def flush(self):
            self.flushes += 1

    for size in (0, 1, 2500):
        data = os.urandom(size)
        grid_out = await fs.get(await fs.put(data, chunk_size=1000))
        handler = Handler()
        await grid_out.stream_to_handler(handler)
        assert handler.written == data
        assert handler.flushes == -(-size // 1000)


async def test_files_motor_did_not_write_read_the_same(fs, db_name):
    data = os.urandom(3000)

    def put_with_pymongo():
        with sync_client() as client:
            return gridfs.GridFS(client[db_name]).put(data, chunk_size=1000)

    file_id = await off_loop(put_with_pymongo)
    before = await files_doc(db_name, file_id)
    grid_out = await fs.get(file_id)
    assert await grid_out.read(10) == data[:10]
    assert grid_out.tell() == 10
    assert await grid_out.read() == data[10:]
    assert await files_doc(db_name, file_id) == before  # reading writes nothing


# -- versions, find, list, exists, delete -------------------------------------------------


async def test_versions(fs):
    for n in range(3):
        await fs.put(f"v{n}".encode(), filename="f", revision=n)
        await asyncio.sleep(0.002)  # distinct upload dates
    assert await (await fs.get_last_version("f")).read() == b"v2"
    assert await (await fs.get_version("f")).read() == b"v2"
    assert await (await fs.get_version("f", 0)).read() == b"v0"
    assert await (await fs.get_version("f", 1)).read() == b"v1"
    assert await (await fs.get_version("f", -2)).read() == b"v1"
    assert await (await fs.get_version(revision=0)).read() == b"v0"  # by any field
    with pytest.raises(NoFile):
        await fs.get_version("f", 3)


async def test_find_list_exists_and_delete(fs, db_name, io_loop):
    ids = [await fs.put(f"file {n}".encode(), filename=f"n{n}", n=n) for n in range(4)]

    cursor = fs.find({"n": {"$gte": 1}}).sort("n", -1)
    assert isinstance(cursor, motor.MotorGridOutCursor)
    found = [grid_out async for grid_out in cursor]
    assert [g.filename for g in found] == ["n3", "n2", "n1"]
    assert all(isinstance(g, motor.MotorGridOut) for g in found)
    assert await found[0].read() == b"file 3"

    listed = await fs.find().sort("n").to_list(None)
    assert [g.n for g in listed] == [0, 1, 2, 3]
    cursor = fs.find({"n": 2})
    assert await cursor.fetch_next
    assert cursor.next_object().filename == "n2"
    assert await fs.find({"n": 1}).next() is not None
    clone = fs.find({"n": 0}).clone()
    assert isinstance(clone, motor.MotorGridOutCursor)
    assert (await clone.to_list(1))[0].filename == "n0"

    seen = []
    done = asyncio.get_running_loop().create_future()

    def each(grid_out, error):
        if grid_out is None:
            done.set_result(error)
        else:
            seen.append(grid_out.filename)

    fs.find().sort("n").each(each)
    assert await done is None and seen == ["n0", "n1", "n2", "n3"]

    one = await fs.find_one({"n": 3})
    assert isinstance(one, motor.MotorGridOut) and one._id == ids[3]
    assert (await fs.find_one(ids[1])).filename == "n1"
    assert await fs.find_one({"n": 99}) is None

    assert sorted(await fs.list()) == ["n0", "n1", "n2", "n3"]
    assert await fs.exists(ids[0])
    assert await fs.exists({"filename": "n1"})
    assert await fs.exists(filename="n2")
    assert not await fs.exists(filename="nope")

    await fs.delete(ids[0])
    assert not await fs.exists(ids[0])
    assert await chunk_count(db_name, ids[0]) == 0
    with pytest.raises(NoFile):
        await fs.get(ids[0])


# -- flavours, callbacks and the Motor 0.2-era examples --------------------------------------


async def test_asyncio_flavour(asyncio_client, db_name):
    db = asyncio_client[db_name]
    fs = motor_asyncio.AsyncIOMotorGridFS(db, "custom")
    file_id = await fs.put(b"data", filename="x")
    grid_out = await fs.get(file_id)
    assert type(grid_out) is motor_asyncio.AsyncIOMotorGridOut
    assert type(fs.new_file()) is motor_asyncio.AsyncIOMotorGridIn
    assert type(fs.find()) is motor_asyncio.AsyncIOMotorGridOutCursor
    assert await grid_out.read() == b"data"
    with pytest.raises(TypeError):
        motor.MotorGridFS(db)  # a Tornado GridFS needs a Tornado database


async def test_callbacks(fs):
    loop = asyncio.get_running_loop()
    put_done = loop.create_future()
    assert fs.put(b"cb", callback=lambda r, e: put_done.set_result((r, e))) is None
    file_id, error = await put_done
    assert error is None
    get_done = loop.create_future()
    fs.get(file_id, callback=lambda r, e: get_done.set_result((r, e)))
    grid_out, error = await get_done
    assert error is None and grid_out.length == 2
    with pytest.raises(TypeError):
        fs.put(b"x", callback="not callable")


async def test_motor_02_documentation_examples(db):
    """The GridFS examples of the Motor docs (gen.coroutine and yield), verbatim in spirit."""

    @gen.coroutine
    def write_and_read():
        fs = yield motor.MotorGridFS(db).open()
        file_id = yield fs.put(b"Contents")
        specified_id = yield fs.put(b"Contents", _id=42)
        assert specified_id == 42

        gridin = yield fs.new_file()
        yield gridin.write(b"First part\n")
        yield gridin.write(b"Second part")
        yield gridin.close()
        gridout = yield fs.get(gridin._id)
        content = yield gridout.read()
        assert content == b"First part\nSecond part"

        gridin = yield fs.new_file()
        yield gridin.set("content_type", "image/png")
        yield gridin.close()
        yield gridin.set("my_field", "my_value")
        gridout = yield fs.get(gridin._id)
        assert gridin.content_type == gridin.contentType == "image/png"
        assert gridout.my_field == "my_value"

        gridout = yield fs.get(file_id)
        content = b""
        while len(content) < gridout.length:
            content += yield gridout.read(gridout.chunk_size)
        return content

    assert await write_and_read() == b"Contents"


# -- Motor 3's module names ---------------------------------------------------------------


def test_motor3_modules_motor_gridfs_and_motor_common_still_import():
    import motor.motor_common
    import motor.motor_gridfs

    for flavour in (motor, motor_asyncio):
        prefix = "Motor" if flavour is motor else "AsyncIOMotor"
        for name in ("GridFSBucket", "GridIn", "GridOut", "GridOutCursor", "GridFS"):
            generated = getattr(flavour, prefix + name)
            assert issubclass(generated, getattr(motor.motor_gridfs, "Agnostic" + name)), name
    assert set(motor.motor_gridfs.__all__) >= {
        "AgnosticGridFSBucket", "AgnosticGridIn", "AgnosticGridOut", "AgnosticGridOutCursor",
        "MotorGridOutProperty",
    }
    assert isinstance(motor.motor_common.callback_type_error, TypeError)


async def test_a_callback_that_is_not_callable_is_a_type_error(fs):
    with pytest.raises(TypeError, match="callback must be a callable"):
        fs.find_one({}, callback="not callable")
