"""motor.web.GridFSHandler over real HTTP: headers, conditional requests, byte ranges."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import email.utils
import hashlib
import logging
import os
import random
import socket

import gridfs
import pytest
import tornado.web
from bson import ObjectId
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer

import motor
import motor.motor_asyncio as motor_asyncio
import motor.web

from .motor_fixtures import off_loop, sync_client


@contextlib.asynccontextmanager
async def serving(app: tornado.web.Application):
    """Serve ``app`` on a free port of 127.0.0.1; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # an IP literal: no DNS lookup on the loop
    sock.listen(128)
    sock.setblocking(False)
    server = HTTPServer(app)
    server.add_sockets([sock])
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.stop()
        await server.close_all_connections()


@pytest.fixture
def http():
    client = AsyncHTTPClient(force_instance=True)
    yield client
    client.close()


DATA = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture
def bucket(db):
    return motor.MotorGridFSBucket(db)


async def upload(bucket, name, data=DATA, chunk_size=1000, **metadata):
    return await bucket.upload_from_stream(
        name, data, chunk_size_bytes=chunk_size, metadata=metadata or None
    )


def app_for(db, handler=motor.web.GridFSHandler, **kwargs):
    return tornado.web.Application([(r"/fs/(.*)", handler, {"database": db, **kwargs})])


async def get(http, url, method="GET", **headers):
    return await http.fetch(url, method=method, headers=headers, raise_error=False)


def motor3_etag(file_id, length, upload_date) -> str:
    """The quoted ETag Motor 3.7's handlers serve: SHA-256 of _id, length and upload date."""
    digest = hashlib.sha256()
    for part in (file_id, length, upload_date):
        digest.update(str(part).encode())
    return f'"{digest.hexdigest()}"'


def etag_of(grid_out) -> str:
    return motor3_etag(grid_out._id, grid_out.length, grid_out.upload_date)


# -- GET and HEAD ----------------------------------------------------------------------


async def test_get_head_and_404(http, bucket, db):
    file_id = await upload(bucket, "photo.png")
    grid_out = await bucket.open_download_stream(file_id)
    async with serving(app_for(db)) as base:
        response = await get(http, base + "/fs/photo.png")
        assert response.code == 200
        assert response.body == DATA
        headers = response.headers
        assert headers["Content-Type"] == "image/png"  # guessed from the name
        assert headers["Content-Length"] == str(len(DATA))
        assert headers["Etag"] == etag_of(grid_out)
        assert headers["Accept-Ranges"] == "bytes"
        assert headers["Cache-Control"] == "public"
        assert "Expires" not in headers
        last_modified = email.utils.parsedate_to_datetime(headers["Last-Modified"])
        uploaded = grid_out.upload_date.replace(tzinfo=datetime.timezone.utc, microsecond=0)
        assert last_modified == uploaded

        head = await get(http, base + "/fs/photo.png", method="HEAD")
        assert head.code == 200 and head.body == b""
        for name in ("Content-Type", "Content-Length", "Etag", "Last-Modified", "Accept-Ranges"):
            assert head.headers[name] == headers[name]

        assert (await get(http, base + "/fs/missing.png")).code == 404
        assert (await get(http, base + "/fs/missing.png", method="HEAD")).code == 404
        assert (await get(http, base + "/fs/photo.png", method="DELETE")).code == 405


async def test_content_type_from_the_file_its_metadata_or_a_default(http, bucket, db):
    await upload(bucket, "from-metadata", contentType="audio/wav")
    await upload(bucket, "unknown-kind")
    grid_in = bucket.open_upload_stream("from-field.bin")
    await grid_in.set("content_type", "text/plain")
    await grid_in.write(b"text")
    await grid_in.close()
    async with serving(app_for(db)) as base:
        assert (await get(http, base + "/fs/from-metadata")).headers["Content-Type"] == "audio/wav"
        assert (await get(http, base + "/fs/from-field.bin")).headers["Content-Type"] == "text/plain"
        assert (
            await get(http, base + "/fs/unknown-kind")
        ).headers["Content-Type"] == "application/octet-stream"


async def test_an_empty_file(http, bucket, db):
    file_id = await upload(bucket, "empty", data=b"")
    grid_out = await bucket.open_download_stream(file_id)
    async with serving(app_for(db)) as base:
        response = await get(http, base + "/fs/empty")
        assert response.code == 200 and response.body == b""
        assert response.headers["Content-Length"] == "0"
        assert response.headers["Etag"] == etag_of(grid_out)
        assert (await get(http, base + "/fs/empty", Range="bytes=0-")).code == 416
        assert (await get(http, base + "/fs/empty", Range="bytes=-5")).code == 200


async def test_latest_revision_is_served(http, bucket, db):
    await upload(bucket, "doc.txt", data=b"old")
    await asyncio.sleep(0.002)
    await upload(bucket, "doc.txt", data=b"new")
    async with serving(app_for(db)) as base:
        assert (await get(http, base + "/fs/doc.txt")).body == b"new"


# -- conditional requests ------------------------------------------------------------------


async def test_if_none_match_and_if_modified_since(http, bucket, db):
    await upload(bucket, "c.bin")
    async with serving(app_for(db)) as base:
        url = base + "/fs/c.bin"
        first = await get(http, url)
        etag, last_modified = first.headers["Etag"], first.headers["Last-Modified"]

        for value in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            response = await get(http, url, **{"If-None-Match": value})
            assert response.code == 304, value
            assert response.body == b"" and response.headers["Etag"] == etag
        assert (await get(http, url, **{"If-None-Match": '"other"'})).code == 200

        assert (await get(http, url, **{"If-Modified-Since": last_modified})).code == 304
        later = email.utils.format_datetime(
            datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1), usegmt=True
        )
        assert (await get(http, url, **{"If-Modified-Since": later})).code == 304
        earlier = "Mon, 01 Jan 2001 00:00:00 GMT"
        response = await get(http, url, **{"If-Modified-Since": earlier})
        assert response.code == 200 and response.body == DATA
        # If-None-Match decides alone when both are sent.
        response = await get(http, url, **{"If-None-Match": '"other"', "If-Modified-Since": later})
        assert response.code == 200
        head = await get(http, url, method="HEAD", **{"If-None-Match": etag})
        assert head.code == 304


# -- byte ranges -------------------------------------------------------------------------


async def test_single_ranges_give_206(http, bucket, db):
    await upload(bucket, "r.bin")
    n = len(DATA)
    async with serving(app_for(db)) as base:
        url = base + "/fs/r.bin"
        cases = {
            "bytes=0-4": (0, 5),
            "bytes=5-": (5, n),
            "bytes=-3": (n - 3, n),
            "bytes=-100000": (0, n),
            "bytes=2-100000": (2, n),
            "bytes=999-2001": (999, 2002),  # across chunk boundaries
            f"bytes={n - 1}-": (n - 1, n),
            "BYTES = 10-19": (10, 20),
            "bytes=0-0": (0, 1),
            "bytes=0-99999999999999999999999999": (0, n),
        }
        for header, (start, stop) in cases.items():
            response = await get(http, url, Range=header)
            assert response.code == 206, header
            assert response.body == DATA[start:stop], header
            assert response.headers["Content-Range"] == f"bytes {start}-{stop - 1}/{n}", header
            assert response.headers["Content-Length"] == str(stop - start), header

        # HEAD ignores Range (HTTP defines ranges for GET only).
        head = await get(http, url, method="HEAD", Range="bytes=0-4")
        assert head.code == 200 and head.headers["Content-Length"] == str(n)


async def test_random_ranges_match_python_slices(http, bucket, db):
    data = os.urandom(20_000)
    await upload(bucket, "random.bin", data=data, chunk_size=777)
    rng = random.Random(4)
    async with serving(app_for(db)) as base:
        for _ in range(25):
            start = rng.randrange(len(data))
            stop = rng.randrange(start, len(data)) + 1
            response = await get(http, base + "/fs/random.bin", Range=f"bytes={start}-{stop - 1}")
            assert response.code == 206 and response.body == data[start:stop]


async def test_unsatisfiable_multiple_and_foreign_ranges(http, bucket, db):
    await upload(bucket, "u.bin")
    n = len(DATA)
    async with serving(app_for(db)) as base:
        url = base + "/fs/u.bin"
        huge = "9" * 30
        for header in (f"bytes={n}-", f"bytes={n + 10}-{n + 20}", "bytes=-0", f"bytes={huge}-"):
            response = await get(http, url, Range=header)
            assert response.code == 416, header
            assert response.headers["Content-Range"] == f"bytes */{n}"
            assert response.body == b""
        # Several ranges, or a unit other than bytes: the whole file (HTTP allows it).
        for header in ("bytes=0-1,5-6", "items=0-5"):
            response = await get(http, url, Range=header)
            assert response.code == 200 and response.body == DATA, header


async def test_if_range(http, bucket, db):
    await upload(bucket, "ir.bin")
    async with serving(app_for(db)) as base:
        url = base + "/fs/ir.bin"
        first = await get(http, url)
        etag, last_modified = first.headers["Etag"], first.headers["Last-Modified"]

        matching = await get(http, url, Range="bytes=0-9", **{"If-Range": etag})
        assert matching.code == 206 and matching.body == DATA[:10]
        by_date = await get(http, url, Range="bytes=0-9", **{"If-Range": last_modified})
        assert by_date.code == 206
        for stale in ('"0123"', f"W/{etag}", "Mon, 01 Jan 2001 00:00:00 GMT"):
            response = await get(http, url, Range="bytes=0-9", **{"If-Range": stale})
            assert response.code == 200 and response.body == DATA, stale
        # Without Range, If-Range means nothing.
        assert (await get(http, url, **{"If-Range": '"0123"'})).code == 200


async def test_malformed_headers_get_400_never_500(http, bucket, db):
    await upload(bucket, "m.bin")
    async with serving(app_for(db)) as base:
        url = base + "/fs/m.bin"
        malformed = [
            {"Range": "bytes=abc"},
            {"Range": "bytes=5-3"},
            {"Range": "bytes"},
            {"Range": "bytes="},
            {"Range": "bytes=--1"},
            {"Range": "bytes=1-2-3"},
            {"Range": "bytes= , "},
            {"Range": "bytes=-"},
            {"Range": "bytes=0-1, x"},
            {"If-Modified-Since": "yesterday"},
            {"If-Modified-Since": "Mon, 99 Foo 2001 00:00:00 GMT"},
            {"Range": "bytes=0-1", "If-Range": '"unterminated'},
            {"Range": "bytes=0-1", "If-Range": "W/nope"},
            {"Range": "bytes=0-1", "If-Range": "not a date"},
        ]
        for headers in malformed:
            response = await get(http, url, **headers)
            assert response.code == 400, headers
        # Odd but harmless values are simply not matched.
        for headers in ({"If-None-Match": "garbage"}, {"If-None-Match": '"'}, {"If-None-Match": ""}):
            response = await get(http, url, **headers)
            assert response.code == 200, headers


# -- what subclasses change -----------------------------------------------------------------


async def test_overridable_methods(http, bucket, db):
    file_id = await upload(bucket, "by-id.bin")

    class ById(motor.web.GridFSHandler):
        def get_gridfs_file(self, bucket, filename, request):
            assert request is self.request
            if filename == "none":
                return asyncio.sleep(0, result=None)
            return bucket.open_download_stream(ObjectId(filename))

        def get_cache_time(self, path, modified, mime_type):
            assert isinstance(modified, datetime.datetime)
            assert mime_type == "application/octet-stream"
            return 3600

        def set_extra_headers(self, path, gridout):
            self.set_header("X-Served-From", f"gridfs:{gridout.filename}")

    async with serving(app_for(db, ById)) as base:
        response = await get(http, f"{base}/fs/{file_id}")
        assert response.code == 200 and response.body == DATA
        assert response.headers["Cache-Control"] == "max-age=3600"
        expires = email.utils.parsedate_to_datetime(response.headers["Expires"])
        now = datetime.datetime.now(datetime.timezone.utc)
        assert datetime.timedelta(minutes=59) < expires - now <= datetime.timedelta(hours=1)
        assert response.headers["X-Served-From"] == "gridfs:by-id.bin"
        assert (await get(http, f"{base}/fs/{ObjectId()}")).code == 404
        assert (await get(http, f"{base}/fs/none")).code == 404


async def test_root_collection_and_asyncio_database(http, asyncio_client, db_name):
    db = asyncio_client[db_name]
    bucket = motor_asyncio.AsyncIOMotorGridFSBucket(db, "media")
    await bucket.upload_from_stream("clip.wav", b"RIFF....")
    async with serving(app_for(db, root_collection="media")) as base:
        response = await get(http, base + "/fs/clip.wav")
        assert response.code == 200 and response.body == b"RIFF...."
        assert response.headers["Content-Type"] in ("audio/x-wav", "audio/wav")


async def test_etag_is_motor3s_and_reads_no_content(http, db, db_name):
    """A file PyMongo stored gets Motor 3.7's ETag, from its files document alone."""
    data = os.urandom(5000)

    def upload_with_pymongo():
        with sync_client() as client:
            return gridfs.GridFSBucket(client[db_name]).upload_from_stream("foreign", data)

    def files_document():
        with sync_client() as client:
            return client[db_name].fs.files.find_one({"_id": file_id})

    def drop_chunks():
        with sync_client() as client:
            client[db_name].fs.chunks.drop()

    file_id = await off_loop(upload_with_pymongo)
    before = await off_loop(files_document)
    expected = motor3_etag(file_id, len(data), before["uploadDate"])
    async with serving(app_for(db)) as base:
        response = await get(http, base + "/fs/foreign")
        assert response.code == 200 and response.headers["Etag"] == expected
        assert await off_loop(files_document) == before  # nothing stored with the file
        # Without its chunks the file cannot be sent, but HEAD and 304s still answer.
        await off_loop(drop_chunks)
        head = await get(http, base + "/fs/foreign", method="HEAD")
        assert head.code == 200 and head.headers["Etag"] == expected
        assert (await get(http, base + "/fs/foreign", **{"If-None-Match": expected})).code == 304


async def test_a_replaced_file_gets_a_new_etag(http, bucket, db):
    """Same name, same length, even the same _id: the upload date tells them apart."""
    await bucket.upload_from_stream_with_id("same-id", "song.mp3", b"A" * 100)
    async with serving(app_for(db)) as base:
        url = base + "/fs/song.mp3"
        old_etag = (await get(http, url)).headers["Etag"]
        assert (await get(http, url, **{"If-None-Match": old_etag})).code == 304

        await bucket.delete("same-id")
        await asyncio.sleep(0.002)  # upload dates are stored to the millisecond
        await bucket.upload_from_stream_with_id("same-id", "song.mp3", b"B" * 100)
        response = await get(http, url, **{"If-None-Match": old_etag})
        assert response.code == 200 and response.body == b"B" * 100
        new_etag = response.headers["Etag"]
        assert new_etag != old_etag
        assert new_etag == etag_of(await bucket.open_download_stream("same-id"))
        assert (await get(http, url, **{"If-None-Match": new_etag})).code == 304
        # An If-Range naming the old file's ETag gets the whole new file.
        stale = await get(http, url, Range="bytes=0-9", **{"If-Range": old_etag})
        assert stale.code == 200 and stale.body == b"B" * 100


async def test_tz_aware_client_serves_motor3s_etag_for_aware_dates(http, make_client, db_name):
    """Motor 3 hashes str(upload_date): a tz_aware client's dates end in +00:00."""
    db = make_client(tz_aware=True)[db_name]
    bucket = motor.MotorGridFSBucket(db)
    file_id = await bucket.upload_from_stream("aware.txt", b"aware")
    grid_out = await bucket.open_download_stream(file_id)
    assert grid_out.upload_date.tzinfo is not None
    async with serving(app_for(db)) as base:
        response = await get(http, base + "/fs/aware.txt")
        assert response.headers["Etag"] == etag_of(grid_out)
        assert str(grid_out.upload_date).endswith("+00:00")


async def test_a_client_that_goes_away_mid_stream(bucket, db, http, caplog):
    big = os.urandom(3 * 1024 * 1024)
    await upload(bucket, "big.bin", data=big, chunk_size=255 * 1024)
    caplog.set_level(logging.WARNING)
    async with serving(app_for(db)) as base:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /fs/big.bin HTTP/1.1\r\nHost: test\r\n\r\n")
        await writer.drain()
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        await reader.readexactly(300_000)
        writer.close()  # hang up with most of the file unsent
        await writer.wait_closed()
        await asyncio.sleep(0.3)
        response = await get(http, base + "/fs/big.bin", Range="bytes=-10")
        assert response.code == 206 and response.body == big[-10:]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
