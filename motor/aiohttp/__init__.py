"""Serve GridFS files from an aiohttp application.

Needs aiohttp (``pip install motor[aiohttp]``)::

    import aiohttp.web
    from motor.aiohttp import AIOHTTPGridFS
    from motor.motor_asyncio import AsyncIOMotorClient

    client = AsyncIOMotorClient()
    gridfs_handler = AIOHTTPGridFS(client.my_database)

    app = aiohttp.web.Application()
    # The route must have a {filename} variable.
    resource = app.router.add_resource("/fs/{filename}")
    resource.add_route("GET", gridfs_handler)
    resource.add_route("HEAD", gridfs_handler)
    aiohttp.web.run_app(app)

A request for ``/fs/movie.webm`` gets the latest file named ``movie.webm``
from the ``fs`` bucket. The answers are those of
:class:`motor.web.GridFSHandler`, in aiohttp's manner (see :class:`AIOHTTPGridFS`).
:func:`get_gridfs_file`, :func:`get_cache_time` and :func:`set_extra_headers`
are the defaults of the three hooks the handler takes.

.. versionadded:: 4.0
"""

from __future__ import annotations

import asyncio
import datetime
import inspect
from typing import Any, Awaitable, Callable

try:
    import aiohttp.web
    from aiohttp.helpers import ETAG_ANY, QUOTED_ETAG_RE
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        "motor.aiohttp needs aiohttp, which is not installed: pip install motor[aiohttp]"
    ) from exc

import gridfs

from motor.core.database import AgnosticDatabase
from motor.gridfs.serving import (
    UNSATISFIABLE,
    cache_headers,
    gridfs_etag,
    mime_type,
    parse_http_date,
    read_range,
    resolve_range,
    utc_seconds,
)

__all__ = ["AIOHTTPGridFS", "get_cache_time", "get_gridfs_file", "set_extra_headers"]

GetGridFSFile = Callable[[Any, str, "aiohttp.web.Request"], Awaitable[Any]]
GetCacheTime = Callable[[str, datetime.datetime, str], int]
SetExtraHeaders = Callable[["aiohttp.web.StreamResponse", Any], None]


def get_gridfs_file(bucket: Any, filename: str, request: aiohttp.web.Request) -> Awaitable[Any]:
    """The default ``get_gridfs_file`` hook: the latest file named ``filename``.

    :param bucket: an AsyncIOMotorGridFSBucket on the handler's root collection.
    :param filename: what the route's ``{filename}`` matched.
    :param request: the :class:`aiohttp.web.Request`.

    A hook returns an awaitable MotorGridOut. To serve files by ``_id``::

        def get_file_by_id(bucket, filename, request):
            return bucket.open_download_stream(ObjectId(filename))

        handler = AIOHTTPGridFS(db, get_gridfs_file=get_file_by_id)

    Raising :class:`gridfs.errors.NoFile` (or resolving to None) gives a 404.
    """
    grid_out: Awaitable[Any] = bucket.open_download_stream_by_name(filename)
    return grid_out


def get_cache_time(filename: str, modified: datetime.datetime, mime_type: str) -> int:
    """The default ``get_cache_time`` hook: 0, clients revalidate every time.

    :param filename: what the route's ``{filename}`` matched.
    :param modified: the file's upload date.
    :param mime_type: the Content-Type it is served with.

    A hook returns how many seconds clients may cache the file without
    asking again: more than 0 sends ``Cache-Control: max-age=<seconds>``
    and ``Expires``; 0 sends ``Cache-Control: public``. To cache images an hour::

        def image_cache_time(filename, modified, mime_type):
            return 3600 if mime_type.startswith("image/") else 0

        handler = AIOHTTPGridFS(db, get_cache_time=image_cache_time)
    """
    return 0


def set_extra_headers(response: aiohttp.web.StreamResponse, gridout: Any) -> None:
    """The default ``set_extra_headers`` hook: adds nothing.

    :param response: the :class:`aiohttp.web.StreamResponse` about to be sent
      (its status may still become 304, 206 or 416).
    :param gridout: the AsyncIOMotorGridOut served.

    For example::

        def gzip_header(response, gridout):
            response.headers["Content-Encoding"] = "gzip"

        handler = AIOHTTPGridFS(db, set_extra_headers=gzip_header)
    """


def _route_error(request: aiohttp.web.Request) -> aiohttp.web.HTTPInternalServerError:
    try:
        route = request.match_info.route.resource.get_info()["formatter"]  # type: ignore[union-attr]
    except (AttributeError, KeyError):
        route = request.path
    return aiohttp.web.HTTPInternalServerError(
        text=f'Bad AIOHTTPGridFS route "{route}", requires a {{filename}} variable'
    )


def _etag_in(etags: tuple[Any, ...], etag: str, *, weak: bool) -> bool:
    """Whether aiohttp's parsed If-Match / If-None-Match names ``etag`` (or is ``*``)."""
    if len(etags) == 1 and etags[0].value == ETAG_ANY:
        return True
    return any(tag.value == etag for tag in etags if weak or not tag.is_weak)


class AIOHTTPGridFS:
    """An aiohttp request handler that serves files from GridFS.

    :param database: an AsyncIOMotorDatabase (or a MotorDatabase of the
      Tornado flavour: both run on aiohttp's asyncio loop).
    :param root_collection: the bucket name (default ``"fs"``).
    :param get_gridfs_file: the hook that chooses the file (:func:`get_gridfs_file`).
    :param get_cache_time: the hook that decides caching (:func:`get_cache_time`).
    :param set_extra_headers: the hook that adds headers (:func:`set_extra_headers`).

    Add it as the GET and HEAD handler of a route with a ``{filename}``
    variable. It answers as aiohttp's static files do:

    - 404 if there is no such file; 405 for other methods; 500 naming the
      route if it has no ``{filename}``;
    - ``Content-Type`` from the file's ``contentType`` (or its metadata's),
      else guessed from its name, else ``application/octet-stream``;
      ``Content-Length``; ``Last-Modified`` (the upload date); ``ETag``
      (Motor 3's, from the file's ``_id``, length and upload date:
      :func:`motor.gridfs.serving.gridfs_etag`); ``Accept-Ranges: bytes``;
      ``Cache-Control`` and ``Expires`` as ``get_cache_time`` decides; then
      ``set_extra_headers`` is called;
    - 412 when ``If-Match`` does not name the ETag (strong comparison) or,
      without ``If-Match``, when the file is newer than ``If-Unmodified-Since``;
    - 304 when ``If-None-Match`` names the ETag or, without
      ``If-None-Match``, when the file is not newer than ``If-Modified-Since``;
    - with ``Range: bytes=first-last`` (or ``first-``, or ``-suffix``), 206
      with those bytes and ``Content-Range``, so that browsers can seek in
      audio and video; 416 with ``Content-Range: bytes */<length>`` for a
      range past the end or a Range header aiohttp cannot parse (several
      ranges, for one). ``If-Range`` (a strong ETag or a date) is honoured:
      unless it still matches, the whole file is sent.

    The body is written chunk by chunk, each drained to the client before
    the next is read, so a file of any size holds about one chunk in memory
    per request.
    """

    def __init__(
        self,
        database: Any,
        root_collection: str = "fs",
        get_gridfs_file: GetGridFSFile = get_gridfs_file,
        get_cache_time: GetCacheTime = get_cache_time,
        set_extra_headers: SetExtraHeaders = set_extra_headers,
    ) -> None:
        if not isinstance(database, AgnosticDatabase):
            raise TypeError(
                "First argument to AIOHTTPGridFS must be an AsyncIOMotorDatabase, "
                f"not {database!r}"
            )
        self._database = database
        self._bucket = database._motor_class("AgnosticGridFSBucket")(database, root_collection)
        self._get_gridfs_file = get_gridfs_file
        self._get_cache_time = get_cache_time
        self._set_extra_headers = set_extra_headers
        # aiohttp's router wraps (with a DeprecationWarning) a handler it does
        # not recognise as a coroutine function; mark this callable object as one.
        if hasattr(inspect, "markcoroutinefunction"):  # Python 3.12+
            inspect.markcoroutinefunction(self)
        else:
            self._is_coroutine = asyncio.coroutines._is_coroutine  # type: ignore[attr-defined]

    async def __call__(self, request: aiohttp.web.Request) -> aiohttp.web.StreamResponse:
        filename = request.match_info.get("filename")
        if filename is None:
            raise _route_error(request)
        if request.method not in ("GET", "HEAD"):
            raise aiohttp.web.HTTPMethodNotAllowed(request.method, ["GET", "HEAD"])
        try:
            grid_out = await self._get_gridfs_file(self._bucket, filename, request)
        except gridfs.NoFile:
            raise aiohttp.web.HTTPNotFound(text=f"{request.path} not found") from None
        if grid_out is None:
            raise aiohttp.web.HTTPNotFound(text=f"{request.path} not found")
        try:
            return await self._respond(request, filename, grid_out)
        finally:
            await grid_out.close()

    async def _respond(
        self, request: aiohttp.web.Request, filename: str, grid_out: Any
    ) -> aiohttp.web.StreamResponse:
        response = aiohttp.web.StreamResponse()
        modified = utc_seconds(grid_out.upload_date)
        etag = gridfs_etag(grid_out)
        file_type = mime_type(grid_out, filename)
        response.etag = etag
        response.last_modified = modified
        response.content_type = file_type
        for name, value in cache_headers(self._get_cache_time(filename, modified, file_type)).items():
            if isinstance(value, datetime.datetime):
                value = value.strftime("%a, %d %b %Y %H:%M:%S GMT")
            response.headers[name] = value
        response.headers["Accept-Ranges"] = "bytes"
        self._set_extra_headers(response, grid_out)

        status = self._precondition_status(request, etag, modified)
        if status is not None:
            response.set_status(status)
            if status == 412:
                response.content_length = 0
            await response.prepare(request)
            return response

        length = int(grid_out.length)
        start, stop = 0, length
        byte_range = self._requested_range(request, length, etag, modified)
        if byte_range is UNSATISFIABLE:
            response.set_status(416)
            response.headers["Content-Range"] = f"bytes */{length}"
            response.content_length = 0
            await response.prepare(request)
            return response
        if byte_range is not None:
            start, stop = byte_range
            response.set_status(206)
            response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{length}"
        response.content_length = stop - start
        await response.prepare(request)
        if request.method == "GET" and stop > start:
            await self._send(request, response, grid_out, start, stop)
        return response

    @staticmethod
    def _precondition_status(
        request: aiohttp.web.Request, etag: str, modified: datetime.datetime
    ) -> int | None:
        """412, 304 or None, in the order HTTP gives (RFC 9110, 13.2.2)."""
        if_match = request.if_match
        if if_match is not None:
            if not _etag_in(if_match, etag, weak=False):
                return 412
        else:
            unmodified_since = request.if_unmodified_since
            if unmodified_since is not None and modified > unmodified_since:
                return 412
        if_none_match = request.if_none_match
        if if_none_match is not None:
            # When present it decides alone (If-Modified-Since is ignored).
            return 304 if _etag_in(if_none_match, etag, weak=True) else None
        modified_since = request.if_modified_since
        if modified_since is not None and modified <= modified_since:
            return 304
        return None

    @staticmethod
    def _requested_range(
        request: aiohttp.web.Request, length: int, etag: str, modified: datetime.datetime
    ) -> Any:
        """(start, stop), None for the whole file, or UNSATISFIABLE."""
        if "Range" not in request.headers:
            return None
        if_range = request.headers.get("If-Range")
        if if_range is not None:
            if_range = if_range.strip()
            match = QUOTED_ETAG_RE.fullmatch(if_range)
            if match is not None:
                # A weak ETag never matches here (RFC 9110, 13.1.5).
                if match.group(1) or match.group(2) != etag:
                    return None
            elif parse_http_date(if_range) != modified:
                return None
        try:
            requested = request.http_range
        except ValueError:
            return UNSATISFIABLE
        first, stop = requested.start, requested.stop
        if first is not None and first < 0:
            return resolve_range((None, -first), length)
        return resolve_range((first, None if stop is None else stop - 1), length)

    @staticmethod
    async def _send(
        request: aiohttp.web.Request,
        response: aiohttp.web.StreamResponse,
        grid_out: Any,
        start: int,
        stop: int,
    ) -> None:
        try:
            async for chunk in read_range(grid_out, start, stop):
                # write() waits until the transport has room (aiohttp drains).
                await response.write(chunk)
        except ConnectionResetError:
            # The client went away (a browser seeking in a video does this).
            pass
