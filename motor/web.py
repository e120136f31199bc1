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
from typing import Any

import gridfs
import tornado.web
from tornado.iostream import StreamClosedError

from motor.gridfs.serving import (
    UNSATISFIABLE,
    MalformedHeader,
    cache_headers,
    etag_listed,
    gridfs_etag,
    if_range_matches,
    mime_type,
    parse_http_date,
    parse_range,
    read_range,
    resolve_range,
    utc_seconds,
)

__all__ = ["GridFSHandler"]


def _bad_request(header: str) -> tornado.web.HTTPError:
    return tornado.web.HTTPError(400, reason=f"Malformed {header} header")


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
      ``Content-Length``; ``Last-Modified`` (the upload date); ``ETag``,
      Motor 3's: the SHA-256 of the file's ``_id``, length and upload date
      (:func:`motor.gridfs.serving.gridfs_etag`; no content is read for it);
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
        modified = utc_seconds(grid_out.upload_date)
        etag = gridfs_etag(grid_out)
        self.set_header("Etag", f'"{etag}"')
        self.set_header("Last-Modified", modified)

        file_type = mime_type(grid_out, path)
        self.set_header("Content-Type", file_type)
        for name, value in cache_headers(self.get_cache_time(path, modified, file_type)).items():
            self.set_header(name, value)
        self.set_header("Accept-Ranges", "bytes")
        self.set_extra_headers(path, grid_out)

        try:
            if self._not_modified(etag, modified):
                self.set_status(304)
                return
            length = int(grid_out.length)
            start, stop = 0, length
            if self.request.method == "GET":
                byte_range = self._requested_range(length, etag, modified)
                if byte_range is UNSATISFIABLE:
                    self.set_status(416)
                    self.set_header("Content-Range", f"bytes */{length}")
                    self.clear_header("Content-Type")
                    return
                if byte_range is not None:
                    start, stop = byte_range
                    self.set_status(206)
                    self.set_header("Content-Range", f"bytes {start}-{stop - 1}/{length}")
        except MalformedHeader as exc:
            raise _bad_request(exc.header) from None
        self.set_header("Content-Length", stop - start)
        if include_body and stop > start:
            await self._send(grid_out, start, stop)

    def _not_modified(self, etag: str, modified: datetime.datetime) -> bool:
        headers = self.request.headers
        if_none_match = headers.get("If-None-Match")
        if if_none_match is not None:
            # When present it decides alone (If-Modified-Since is ignored).
            return etag_listed(if_none_match, etag)
        if_modified_since = headers.get("If-Modified-Since")
        if if_modified_since is not None:
            since = parse_http_date(if_modified_since)
            if since is None:
                raise MalformedHeader("If-Modified-Since")
            return modified <= since
        return False

    def _requested_range(self, length: int, etag: str, modified: datetime.datetime) -> Any:
        value = self.request.headers.get("Range")
        if value is None:
            return None
        specs = parse_range(value)
        if specs is None or len(specs) != 1:
            return None
        if_range = self.request.headers.get("If-Range")
        if if_range is not None and not if_range_matches(if_range, etag, modified):
            return None
        return resolve_range(specs[0], length)

    async def _send(self, grid_out: Any, start: int, stop: int) -> None:
        try:
            async for chunk in read_range(grid_out, start, stop):
                self.write(chunk)
                # Wait until the chunk has gone out before reading the next.
                await self.flush()
        except StreamClosedError:
            # The client went away (a browser seeking in a video does this).
            pass
