"""motor.aiohttp.AIOHTTPGridFS on a real aiohttp server: headers, conditional requests, ranges."""

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
import subprocess
import sys
import warnings

import aiohttp
import aiohttp.web
import gridfs
import pytest

import motor
import motor.motor_asyncio as motor_asyncio
from motor.aiohttp import AIOHTTPGridFS

from .motor_fixtures import off_loop, sync_client, test_uri

DATA = bytes(range(256)) * 40  # 10,240 bytes


@contextlib.asynccontextmanager
async def serving(*routes):
    """Serve ``(path, handler)`` routes (GET, HEAD and POST) on 127.0.0.1; yields the base URL."""
    app = aiohttp.web.Application()
    for path, handler in routes:
        resource = app.router.add_resource(path)
        for method in ("GET", "HEAD", "POST"):
            resource.add_route(method, handler)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # an IP literal: no DNS lookup on the loop
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    site = aiohttp.web.SockSite(runner, sock)
    await site.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await runner.cleanup()


@pytest.fixture
def http(io_loop):
    session = io_loop.run_sync(make_session)
    yield session
    io_loop.run_sync(session.close)


async def make_session() -> aiohttp.ClientSession:
    # Made on the loop, which aiohttp needs running.
    return aiohttp.ClientSession(auto_decompress=False)


@pytest.fixture
def adb(asyncio_client, db_name):
    return asyncio_client[db_name]


@pytest.fixture
def bucket(adb):
    return motor_asyncio.AsyncIOMotorGridFSBucket(adb)


async def upload(bucket, name, data=DATA, chunk_size=1000, **metadata):
    return await bucket.upload_from_stream(
        name, data, chunk_size_bytes=chunk_size, metadata=metadata or None
    )


class Answer:
    """What a request got: status, headers and the whole body."""

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body


async def get(http, url, method="GET", **headers) -> Answer:
    async with http.request(method, url, headers=headers) as response:
        return Answer(response.status, response.headers, await response.read())


def motor3_etag(file_id, length, upload_date) -> str:
    """The quoted ETag Motor 3.7's handlers serve: SHA-256 of _id, length and upload date."""
    digest = hashlib.sha256()
    for part in (file_id, length, upload_date):
        digest.update(str(part).encode())
    return f'"{digest.hexdigest()}"'


def etag_of(grid_out) -> str:
    return motor3_etag(grid_out._id, grid_out.length, grid_out.upload_date)


def http_date(when: datetime.datetime) -> str:
    return email.utils.format_datetime(when.astimezone(datetime.timezone.utc), usegmt=True)


# -- GET, HEAD and errors ---------------------------------------------------------------


async def test_get_head_404_and_405(http, bucket, adb):
    file_id = await upload(bucket, "photo.png")
    grid_out = await bucket.open_download_stream(file_id)
    async with serving(("/fs/{filename}", AIOHTTPGridFS(adb))) as base:
        response = await get(http, base + "/fs/photo.png")
        assert response.status == 200 and response.body == DATA
        headers = response.headers
        assert headers["Content-Type"] == "image/png"  # guessed from the name
        assert headers["Content-Length"] == str(len(DATA))
        assert headers["ETag"] == etag_of(grid_out)
        assert headers["Accept-Ranges"] == "bytes"
        assert headers["Cache-Control"] == "public"
        assert "Expires" not in headers
        last_modified = email.utils.parsedate_to_datetime(headers["Last-Modified"])
        uploaded = grid_out.upload_date.replace(tzinfo=datetime.timezone.utc, microsecond=0)
        assert last_modified == uploaded

        head = await get(http, base + "/fs/photo.png", method="HEAD")
        assert head.status == 200 and head.body == b""
        for name in ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Accept-Ranges"):
            assert head.headers[name] == headers[name]

        assert (await get(http, base + "/fs/missing.png")).status == 404
        assert (await get(http, base + "/fs/missing.png", method="HEAD")).status == 404
        post = await get(http, base + "/fs/photo.png", method="POST")
        assert post.status == 405 and post.headers["Allow"] in ("GET,HEAD", "HEAD,GET")


async def test_content_type_from_the_file_its_metadata_or_a_default(http, bucket, adb):
    await upload(bucket, "from-metadata", contentType="audio/wav")
    await upload(bucket, "unknown-kind")
    grid_in = bucket.open_upload_stream("from-field.bin")
    await grid_in.set("content_type", "text/plain")
    await grid_in.write(b"text")
    await grid_in.close()
    async with serving(("/fs/{filename}", AIOHTTPGridFS(adb))) as base:
        for name, expected in [
            ("from-metadata", "audio/wav"),
            ("from-field.bin", "text/plain"),
            ("unknown-kind", "application/octet-stream"),
        ]:
            for method in ("GET", "HEAD"):
                response = await get(http, f"{base}/fs/{name}", method=method)
                assert response.headers["Content-Type"].split(";")[0] == expected, name


async def test_an_empty_file(http, bucket, adb):
    await upload(bucket, "empty", data=b"")
    async with serving(("/fs/{filename}", AIOHTTPGridFS(adb))) as base:
        response = await get(http, base + "/fs/empty")
        assert response.status == 200 and response.body == b""
        assert response.headers["Content-Length"] == "0"
        assert (await get(http, base + "/fs/empty", Range="bytes=0-")).status == 416


async def test_a_route_without_filename_is_a_500_naming_it(http, adb):
    async with serving(("/x/{wrongname}", AIOHTTPGridFS(adb))) as base:
        response = await get(http, base + "/x/foo")
        assert response.status == 500
        assert 'Bad AIOHTTPGridFS route "/x/{wrongname}"' in response.body.decode()


def test_needs_a_motor_database(db):
    with pytest.raises(TypeError, match="AsyncIOMotorDatabase"):
        AIOHTTPGridFS("not a database")
    with pytest.raises(TypeError, match="AsyncIOMotorDatabase"):
        AIOHTTPGridFS(db.fs)  # a collection


async def test_a_tornado_flavour_database_serves_too(http, db, db_name):
    await motor.MotorGridFSBucket(db, "media").upload_from_stream("clip.txt", b"RIFF")
    async with serving(("/fs/{filename}", AIOHTTPGridFS(db, root_collection="media"))) as base:
        response = await get(http, base + "/fs/clip.txt")
        assert response.status == 200 and response.body == b"RIFF"
        assert response.headers["Content-Type"].startswith("text/plain")


def test_without_aiohttp_the_import_error_says_what_to_install():
    script = (
        "import sys\n"
        "sys.modules['aiohttp'] = None  # as if it were not installed\n"
        "try:\n"
        "    import motor.aiohttp\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "pip install motor[aiohttp]" in out


# -- conditional requests ----------------------------------------------------------------


async def test_if_none_match_and_if_modified_since(http, bucket, adb):
    await upload(bucket, "c.bin")
    async with serving(("/fs/{filename}", AIOHTTPGridFS(adb))) as base:
        url = base + "/fs/c.bin"
        first = await get(http, url)
        etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]

        for value in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            response = await get(http, url, **{"If-None-Match": value})
            assert response.status == 304, value
            assert response.body == b"" and response.headers["ETag"] == etag
        for value in ('"other"', etag + "a", "garbage"):
            response = await get(http, url, **{"If-None-Match": value})
            assert response.status == 200 and response.body == DATA, value

        assert (await get(http, url, **{"If-Modified-Since": last_modified})).status == 304
        later = http_date(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1))
        assert (await get(http, url, **{"If-Modified-Since": later})).status == 304
        earlier = "Mon, 01 Jan 2001 00:00:00 GMT"
        response = await get(http, url, **{"If-Modified-Since": earlier})
        assert response.status == 200 and response.body == DATA
        # A date that does not parse is ignored, as aiohttp's static files do.
        assert (await get(http, url, **{"If-Modified-Since": "yesterday"})).status == 200
        # If-None-Match decides alone when both are sent.
        both = await get(http, url, **{"If-None-Match": '"other"', "If-Modified-Since": later})
        assert both.status == 200
        head = await get(http, url, method="HEAD", **{"If-None-Match": etag})
        assert head.status == 304


async def test_if_match_and_if_unmodified_since_give_412(http, bucket, adb):
    await upload(bucket, "p.bin")
    async with serving(("/fs/{filename}", AIOHTTPGridFS(adb))) as base:
        url = base + "/fs/p.bin"
        first = await get(http, url)
        etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
        assert (await get(http, url, **{"If-Match": etag})).status == 200
        assert (await get(http, url, **{"If-Match": "*"})).status == 200
        for value in ('"other"', f"W/{etag}"):  # If-Match compares strongly
            response = await get(http, url, **{"If-Match": value})
            assert response.status == 412 and response.body == b"", value
        assert (await get(http, url, **{"If-Unmodified-Since": last_modified})).status == 200
        earlier = "Mon, 01 Jan 2001 00:00:00 GMT"
        assert (await get(http, url, **{"If-Unmodified-Since": earlier})).status == 412


async def test_tz_aware_client_answers_if_modified_since(http, io_loop, bucket, db_name):
    await upload(bucket, "aware.bin")
    client = motor_asyncio.AsyncIOMotorClient(
        test_uri(), io_loop=io_loop.asyncio_loop, tz_aware=True
    )
    try:
        async with serving(("/fs/{filename}", AIOHTTPGridFS(client[db_name]))) as base:
            now = datetime.datetime.now(datetime.timezone.utc)
            url = base + "/fs/aware.bin"
            ago = http_date(now - datetime.timedelta(minutes=10))
            hence = http_date(now + datetime.timedelta(minutes=10))
            assert (await get(http, url, **{"If-Modified-Since": ago})).status == 200
            assert (await get(http, url, **{"If-Modified-Since": hence})).status == 304
            grid_out = await motor_asyncio.AsyncIOMotorGridFSBucket(
                client[db_name]
            ).open_download_stream_by_name("aware.bin")
            assert str(grid_out.upload_date).endswith("+00:00")
            assert (await get(http, url)).headers["ETag"] == etag_of(grid_out)
    finally:
        client.close()


async def test_a_replaced_file_gets_a_new_etag(http, bucket, adb):
    """Same name, same length, even the same _id: the upload date tells them apart."""
    await bucket.upload_from_stream_with_id("same-id", "song.mp3", b"A" * 100)
    async with serving(("/fs/{filename}", AIOHTTPGridFS(adb))) as base:
        url = base + "/fs/song.mp3"
        old_etag = (await get(http, url)).headers["ETag"]
        assert (await get(http, url, **{"If-None-Match": old_etag})).status == 304

        await bucket.delete("same-id")
        await asyncio.sleep(0.002)  # upload dates are stored to the millisecond
        await bucket.upload_from_stream_with_id("same-id", "song.mp3", b"B" * 100)
        response = await get(http, url, **{"If-None-Match": old_etag})
        assert response.status == 200 and response.body == b"B" * 100
        new_etag = response.headers["ETag"]
        assert new_etag != old_etag
        assert new_etag == etag_of(await bucket.open_download_stream("same-id"))
        assert (await get(http, url, **{"If-None-Match": new_etag})).status == 304


async def test_etag_of_a_file_pymongo_stored_is_motor3s(http, adb, db_name):
    def upload_with_pymongo():
        with sync_client() as client:
            file_id = gridfs.GridFSBucket(client[db_name]).upload_from_stream("foreign", b"x" * 99)
            return file_id, client[db_name].fs.files.find_one({"_id": file_id})["uploadDate"]

    file_id, uploaded = await off_loop(upload_with_pymongo)
    async with serving(("/fs/{filename}", AIOHTTPGridFS(adb))) as base:
        response = await get(http, base + "/fs/foreign")
        assert response.headers["ETag"] == motor3_etag(file_id, 99, uploaded)


# -- byte ranges ---------------------------------------------------------------------------


async def test_single_ranges_give_206(http, bucket, adb):
    await upload(bucket, "r.bin")
    n = len(DATA)
    async with serving(("/fs/{filename}", AIOHTTPGridFS(adb))) as base:
        url = base + "/fs/r.bin"
        cases = {
            "bytes=0-4": (0, 5),
            "bytes=5-": (5, n),
            "bytes=-3": (n - 3, n),
            "bytes=-100000": (0, n),
            "bytes=2-100000": (2, n),
            "bytes=999-2001": (999, 2002),  # across chunk boundaries
            f"bytes={n - 1}-": (n - 1, n),
            "bytes=0-0": (0, 1),
        }
        for header, (start, stop) in cases.items():
            response = await get(http, url, Range=header)
            assert response.status == 206, header
            assert response.body == DATA[start:stop], header
            assert response.headers["Content-Range"] == f"bytes {start}-{stop - 1}/{n}", header
            assert response.headers["Content-Length"] == str(stop - start), header

        # HEAD gets the headers a GET would, as with aiohttp's static files.
        head = await get(http, url, method="HEAD", Range="bytes=0-4")
        assert head.status == 206 and head.body == b""
        assert head.headers["Content-Length"] == "5"


async def test_random_ranges_match_python_slices(http, bucket, adb):
    data = os.urandom(20_000)
    await upload(bucket, "random.bin", data=data, chunk_size=777)
    rng = random.Random(4)
    async with serving(("/fs/{filename}", AIOHTTPGridFS(adb))) as base:
        for _ in range(25):
            start = rng.randrange(len(data))
            stop = rng.randrange(start, len(data)) + 1
            response = await get(http, base + "/fs/random.bin", Range=f"bytes={start}-{stop - 1}")
            assert response.status == 206 and response.body == data[start:stop]


async def test_unsatisfiable_and_unparsable_ranges_give_416(http, bucket, adb):
    await upload(bucket, "u.bin")
    n = len(DATA)
    async with serving(("/fs/{filename}", AIOHTTPGridFS(adb))) as base:
        url = base + "/fs/u.bin"
        # Past the end; and what aiohttp's Request.http_range cannot parse.
        for header in (f"bytes={n}-", f"bytes={n + 10}-{n + 20}", "bytes=abc", "bytes=5-3",
                       "bytes=0-1,5-6", "items=0-5"):
            response = await get(http, url, Range=header)
            assert response.status == 416, header
            assert response.headers["Content-Range"] == f"bytes */{n}", header
            assert response.body == b"", header


async def test_if_range(http, bucket, adb):
    await upload(bucket, "ir.bin")
    async with serving(("/fs/{filename}", AIOHTTPGridFS(adb))) as base:
        url = base + "/fs/ir.bin"
        first = await get(http, url)
        etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]

        matching = await get(http, url, Range="bytes=0-9", **{"If-Range": etag})
        assert matching.status == 206 and matching.body == DATA[:10]
        by_date = await get(http, url, Range="bytes=0-9", **{"If-Range": last_modified})
        assert by_date.status == 206 and by_date.body == DATA[:10]
        for stale in ('"0123"', f"W/{etag}", "Mon, 01 Jan 2001 00:00:00 GMT", "not a validator"):
            response = await get(http, url, Range="bytes=0-9", **{"If-Range": stale})
            assert response.status == 200 and response.body == DATA, stale
        # Without Range, If-Range means nothing.
        assert (await get(http, url, **{"If-Range": '"0123"'})).status == 200


# -- the hooks ---------------------------------------------------------------------------------


async def test_hooks_choose_the_file_the_cache_time_and_extra_headers(http, bucket, adb):
    file_id = "the-id"
    await bucket.upload_from_stream_with_id(file_id, "by-id.bin", DATA)
    seen = {}

    def by_id(bucket, filename, request):
        seen["request"] = request
        if filename == "none":
            return asyncio.sleep(0, result=None)
        return bucket.open_download_stream(filename)

    def cache_time(filename, modified, mime_type):
        seen["cache_time"] = (filename, modified, mime_type)
        return 3600

    def extra_headers(response, gridout):
        assert isinstance(response, aiohttp.web.StreamResponse)
        response.headers["X-Served-From"] = f"gridfs:{gridout.filename}"

    handler = AIOHTTPGridFS(
        adb, get_gridfs_file=by_id, get_cache_time=cache_time, set_extra_headers=extra_headers
    )
    async with serving(("/fs/{filename}", handler)) as base:
        assert (await get(http, base + "/fs/by-id.bin")).status == 404  # names mean nothing now
        response = await get(http, f"{base}/fs/{file_id}")
        assert response.status == 200 and response.body == DATA
        assert isinstance(seen["request"], aiohttp.web.Request)
        filename, modified, mime_type = seen["cache_time"]
        assert filename == str(file_id) and mime_type == "application/octet-stream"
        assert modified.tzinfo is not None
        assert response.headers["Cache-Control"] == "max-age=3600"
        expires = email.utils.parsedate_to_datetime(response.headers["Expires"])
        now = datetime.datetime.now(datetime.timezone.utc)
        assert datetime.timedelta(minutes=59) < expires - now <= datetime.timedelta(hours=1)
        assert response.headers["X-Served-From"] == "gridfs:by-id.bin"
        # Extra headers come with a 304 too.
        etag = response.headers["ETag"]
        not_modified = await get(http, f"{base}/fs/{file_id}", **{"If-None-Match": etag})
        assert not_modified.status == 304
        assert not_modified.headers["X-Served-From"] == "gridfs:by-id.bin"
        assert (await get(http, f"{base}/fs/other-id")).status == 404
        assert (await get(http, f"{base}/fs/none")).status == 404


def test_aiohttp_takes_the_handler_as_a_coroutine_function(adb):
    """No "Bare functions are deprecated" warning, and no wrapper around the handler."""
    handler = AIOHTTPGridFS(adb)
    app = aiohttp.web.Application()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        route = app.router.add_route("GET", "/fs/{filename}", handler)
    assert route.handler is handler


async def test_a_client_that_goes_away_mid_stream(bucket, adb, http, caplog):
    big = os.urandom(3 * 1024 * 1024)
    await upload(bucket, "big.bin", data=big, chunk_size=255 * 1024)
    caplog.set_level(logging.WARNING)
    async with serving(("/fs/{filename}", AIOHTTPGridFS(adb))) as base:
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
        assert response.status == 206 and response.body == big[-10:]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
