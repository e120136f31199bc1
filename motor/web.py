"""Serve GridFS files from a Tornado application.

::

    import motor
    import motor.web
    import tornado.web

    db = motor.MotorClient().my_database
    application = tornado.web.Application([
        (r"/media/(.*)", motor.web.GridFSHandler, {"database": db}),
    ])

A request for ``/media/movie.webm`` gets the latest file named ``movie.webm``
from the ``fs`` bucket. See :class:`GridFSHandler`.

.. versionadded:: 4.0
"""

from __future__ import annotations

import datetime
import email.utils
import mimetypes
import re
from typing import Any

import gridfs
import tornado.web
from gridfs.errors import CorruptGridFile
from tornado.iostream import StreamClosedError

__all__ = ["GridFSHandler"]

_UTC = datetime.timezone.utc
# Larger than any file; used for absurdly long numbers in a Range header.
_HUGE = 1 << 63
_RANGE_SPEC = re.compile(r"([0-9]*)-([0-9]*)")
_STRONG_ETAG = re.compile(r'"[\x21\x23-\x7e\x80-\xff]*"')
_WEAK_ETAG = re.compile(r'W/"[\x21\x23-\x7e\x80-\xff]*"')


class _Unsatisfiable:
    """A Range no byte of the file satisfies: answered with 416."""


_UNSATISFIABLE = _Unsatisfiable()


def _bad_request(header: str) -> tornado.web.HTTPError:
    return tornado.web.HTTPError(400, reason=f"Malformed {header} header")


def _utc_seconds(when: datetime.datetime) -> datetime.datetime:
    """``when`` as an aware UTC datetime, to the second (HTTP dates have no less)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=_UTC)
    else:
        when = when.astimezone(_UTC)
    return when.replace(microsecond=0)


def _parse_http_date(value: str) -> datetime.datetime | None:
    """An HTTP-date as an aware UTC datetime, or None if it is not one."""
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    return _utc_seconds(parsed)


def _number(digits: str) -> int:
    # Python refuses to convert very long digit strings; no file is that big.
    return int(digits) if len(digits) <= 18 else _HUGE


def _parse_range(value: str) -> list[tuple[int | None, int | None]] | None:
    """The byte ranges of a Range header: [(first, last)], either may be None.

    Returns None for a range unit other than bytes (ignored, as HTTP says);
    raises HTTPError(400) for a bytes range that does not parse.
    """
    unit, equals, ranges = value.partition("=")
    if not equals:
        raise _bad_request("Range")
    if unit.strip().lower() != "bytes":
        return None
    specs: list[tuple[int | None, int | None]] = []
    for part in ranges.split(","):
        part = part.strip()
        if not part:
            continue
        match = _RANGE_SPEC.fullmatch(part)
        if match is None or not (match.group(1) or match.group(2)):
            raise _bad_request("Range")
        first = _number(match.group(1)) if match.group(1) else None
        last = _number(match.group(2)) if match.group(2) else None
        if first is not None and last is not None and last < first:
            raise _bad_request("Range")
        specs.append((first, last))
    if not specs:
        raise _bad_request("Range")
    return specs


def _resolve_range(spec: tuple[int | None, int | None], length: int) -> Any:
    """(start, stop) of the bytes to send, None for the whole file, or _UNSATISFIABLE."""
    first, last = spec
    if first is None:
        # A suffix: the last ``last`` bytes.
        assert last is not None
        if last == 0:
            return _UNSATISFIABLE
        if length == 0:
            return None
        return max(0, length - last), length
    if first >= length:
        return _UNSATISFIABLE
    stop = length if last is None else min(last + 1, length)
    return first, stop


def _etag_listed(header: str, etag: str) -> bool:
    """Whether an If-None-Match value names ``etag`` (weak comparison) or is ``*``."""
    for token in header.split(","):
        token = token.strip()
        if token == "*":
            return True
        if token.startswith("W/"):
            token = token[2:]
        if token.strip('"') == etag:
            return True
    return False


class GridFSHandler(tornado.web.RequestHandler):
    """Serves files from GridFS, much like :class:`tornado.web.StaticFileHandler`.

    Initialise it with the MotorDatabase (Tornado or asyncio flavour) and,
    optionally, the bucket name::

        (r"/static/(.*)", motor.web.GridFSHandler, {"database": db, "root_collection": "fs"})

    The path the URL pattern captures is the file name; the latest version of
    that file is served (override :meth:`get_gridfs_file` to choose
    otherwise). For GET and HEAD it answers:

    - 404 if there is no such file;
    - ``Content-Type`` from the file's ``contentType`` (or its metadata's),
      else guessed from its name, else ``application/octet-stream``;
      ``Content-Length``; ``Last-Modified`` (the upload date); ``ETag``, the
      SHA-256 of the content (stored with the file when it is written with
      Motor, or computed once on first request and stored then);
      ``Accept-Ranges: bytes``; ``Cache-Control`` and ``Expires`` as
      :meth:`get_cache_time` decides, and whatever :meth:`set_extra_headers` adds;
    - 304 when ``If-None-Match`` names the ETag or, without ``If-None-Match``,
      when the file is not newer than ``If-Modified-Since``;
    - for a GET with a single byte range (``Range: bytes=0-499``,
      ``bytes=500-``, ``bytes=-500``), 206 with those bytes and
      ``Content-Range``, so that browsers can seek in audio and video; 416 if
      the range starts past the end. ``If-Range`` (an ETag or a date) is
      honoured: if the file changed, the whole file is sent. A request for
      several ranges gets the whole file (HTTP allows that);
    - 400 for a ``Range``, ``If-Range`` or ``If-Modified-Since`` header that
      does not parse: a malformed header never causes a 500.

    The body goes out chunk by chunk, each flushed before the next is read,
    so serving a file of any size holds about one chunk in memory per request.
    """

    database: Any
    root_collection: str

    def initialize(self, database: Any, root_collection: str = "fs") -> None:
        self.database = database
        self.root_collection = root_collection

    # -- overridable -------------------------------------------------------------

    def get_gridfs_file(self, bucket: Any, filename: str, request: Any) -> Any:
        """Choose the file to serve: returns an awaitable MotorGridOut.

        :param bucket: a MotorGridFSBucket on ``root_collection``.
        :param filename: what the URL pattern captured.
        :param request: the :class:`tornado.httputil.HTTPServerRequest`.

        By default ``bucket.open_download_stream_by_name(filename)``. To serve
        files by ``_id`` instead::

            class ByIdHandler(motor.web.GridFSHandler):
                def get_gridfs_file(self, bucket, filename, request):
                    return bucket.open_download_stream(ObjectId(filename))

        Raising :class:`gridfs.errors.NoFile` (or resolving to None) gives a 404.
        """
        return bucket.open_download_stream_by_name(filename)

    def get_cache_time(self, path: str, modified: datetime.datetime, mime_type: str) -> int:
        """Seconds clients may cache the file without asking again.

        0 (the default) sends ``Cache-Control: public``, so clients revalidate
        with ``If-None-Match`` / ``If-Modified-Since`` each time; more sends
        ``Expires`` and ``Cache-Control: max-age=<seconds>``.
        """
        return 0

    def set_extra_headers(self, path: str, gridout: Any) -> None:
        """Add headers of your own to every answer (called before 304 checks)."""

    # -- GET and HEAD ------------------------------------------------------------

    async def get(self, path: str, include_body: bool = True) -> None:
        bucket = self.database._motor_class("AgnosticGridFSBucket")(
            self.database, self.root_collection
        )
        try:
            grid_out = await self.get_gridfs_file(bucket, path, self.request)
        except gridfs.NoFile:
            raise tornado.web.HTTPError(404) from None
        if grid_out is None:
            raise tornado.web.HTTPError(404)
        try:
            await self._respond(path, grid_out, include_body)
        finally:
            await grid_out.close()

    async def head(self, path: str) -> None:
        await self.get(path, include_body=False)

    async def _respond(self, path: str, grid_out: Any, include_body: bool) -> None:
        modified = _utc_seconds(grid_out.upload_date)
        etag = await grid_out.content_sha256()
        self.set_header("Etag", f'"{etag}"')
        self.set_header("Last-Modified", modified)

        mime_type = self._mime_type(path, grid_out)
        self.set_header("Content-Type", mime_type)
        cache_time = self.get_cache_time(path, modified, mime_type)
        if cache_time > 0:
            expires = datetime.datetime.now(_UTC) + datetime.timedelta(seconds=cache_time)
            self.set_header("Expires", expires)
            self.set_header("Cache-Control", f"max-age={cache_time}")
        else:
            self.set_header("Cache-Control", "public")
        self.set_header("Accept-Ranges", "bytes")
        self.set_extra_headers(path, grid_out)

        if self._not_modified(etag, modified):
            self.set_status(304)
            return

        length = int(grid_out.length)
        start, stop = 0, length
        if self.request.method == "GET":
            byte_range = self._requested_range(length, etag, modified)
            if byte_range is _UNSATISFIABLE:
                self.set_status(416)
                self.set_header("Content-Range", f"bytes */{length}")
                self.clear_header("Content-Type")
                return
            if byte_range is not None:
                start, stop = byte_range
                self.set_status(206)
                self.set_header("Content-Range", f"bytes {start}-{stop - 1}/{length}")
        self.set_header("Content-Length", stop - start)
        if include_body and stop > start:
            await self._send(grid_out, start, stop)

    def _mime_type(self, path: str, grid_out: Any) -> str:
        mime_type = grid_out.content_type
        if not mime_type and isinstance(grid_out.metadata, dict):
            mime_type = grid_out.metadata.get("contentType")
        if not mime_type:
            mime_type = mimetypes.guess_type(grid_out.filename or path)[0]
        return mime_type or "application/octet-stream"

    def _not_modified(self, etag: str, modified: datetime.datetime) -> bool:
        headers = self.request.headers
        if_none_match = headers.get("If-None-Match")
        if if_none_match is not None:
            # When present it decides alone (If-Modified-Since is ignored).
            return _etag_listed(if_none_match, etag)
        if_modified_since = headers.get("If-Modified-Since")
        if if_modified_since is not None:
            since = _parse_http_date(if_modified_since)
            if since is None:
                raise _bad_request("If-Modified-Since")
            return modified <= since
        return False

    def _requested_range(self, length: int, etag: str, modified: datetime.datetime) -> Any:
        value = self.request.headers.get("Range")
        if value is None:
            return None
        specs = _parse_range(value)
        if specs is None or len(specs) != 1:
            return None
        if_range = self.request.headers.get("If-Range")
        if if_range is not None and not self._if_range_matches(if_range, etag, modified):
            return None
        return _resolve_range(specs[0], length)

    def _if_range_matches(self, value: str, etag: str, modified: datetime.datetime) -> bool:
        value = value.strip()
        if value.startswith("W/"):
            if not _WEAK_ETAG.fullmatch(value):
                raise _bad_request("If-Range")
            return False  # a weak validator never matches here
        if value.startswith('"'):
            if not _STRONG_ETAG.fullmatch(value):
                raise _bad_request("If-Range")
            return value[1:-1] == etag
        date = _parse_http_date(value)
        if date is None:
            raise _bad_request("If-Range")
        return date == modified

    async def _send(self, grid_out: Any, start: int, stop: int) -> None:
        grid_out.seek(start)
        remaining = stop - start
        try:
            while remaining > 0:
                chunk = await grid_out.readchunk()
                if not chunk:
                    raise CorruptGridFile(
                        f"GridFS file {grid_out._id!r} ended {remaining} bytes before its length"
                    )
                if len(chunk) > remaining:
                    chunk = chunk[:remaining]
                remaining -= len(chunk)
                self.write(chunk)
                # Wait until the chunk has gone out before reading the next.
                await self.flush()
        except StreamClosedError:
            # The client went away (a browser seeking in a video does this).
            pass
