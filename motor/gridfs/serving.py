"""What Motor's two GridFS web handlers share: ETag, content type, dates, byte ranges.

:class:`motor.web.GridFSHandler` (Tornado) and :class:`motor.aiohttp.AIOHTTPGridFS`
(aiohttp) answer the same questions about a MotorGridOut the same way; only
how a request is read and an answer written differs. Nothing here does I/O.

The ETag of a GridFS file::

    from motor.gridfs.serving import gridfs_etag

    grid_out = await bucket.open_download_stream_by_name("movie.webm")
    etag = gridfs_etag(grid_out)   # 64 hex digits, served in quotes

is Motor 3's: the hex SHA-256 of ``str(_id)``, ``str(length)`` and
``str(upload_date)``, one after the other (UTF-8). It is computed from the
files document alone, never from the content, and an HTTP cache that holds
a file served by Motor 3.7 revalidates it here with a 304.

.. versionadded:: 4.0
"""

from __future__ import annotations

import datetime
import email.utils
import hashlib
import mimetypes
import re
from typing import Any, AsyncIterator, Optional, Tuple, Union

from gridfs.errors import CorruptGridFile

__all__ = [
    "UNSATISFIABLE",
    "MalformedHeader",
    "cache_headers",
    "etag_listed",
    "gridfs_etag",
    "if_range_matches",
    "mime_type",
    "parse_http_date",
    "parse_range",
    "read_range",
    "resolve_range",
    "utc_seconds",
]

_UTC = datetime.timezone.utc
# Larger than any file; stands for absurdly long numbers in a Range header.
_HUGE = 1 << 63
_RANGE_SPEC = re.compile(r"([0-9]*)-([0-9]*)")
_STRONG_ETAG = re.compile(r'"[\x21\x23-\x7e\x80-\xff]*"')
_WEAK_ETAG = re.compile(r'W/"[\x21\x23-\x7e\x80-\xff]*"')

ByteRange = Tuple[int, int]


class _Unsatisfiable:
    """A Range no byte of the file satisfies: answered with 416."""

    def __repr__(self) -> str:
        return "UNSATISFIABLE"


#: What :func:`resolve_range` returns for a range past the end of the file.
UNSATISFIABLE = _Unsatisfiable()


class MalformedHeader(ValueError):
    """A request header that does not parse; ``header`` names it."""

    def __init__(self, header: str) -> None:
        super().__init__(f"Malformed {header} header")
        self.header = header


def gridfs_etag(grid_out: Any) -> str:
    """The ETag (without quotes) of an opened MotorGridOut, Motor 3's formula.

    A replaced file gets another ETag: its ``_id`` and upload date differ.
    ``upload_date`` is taken as the client gives it, so, as with Motor 3, a
    client made with ``tz_aware=True`` (dates end in ``+00:00``) serves other
    ETags than one without.
    """
    digest = hashlib.sha256(str(grid_out._id).encode("utf8"))
    digest.update(str(grid_out.length).encode("utf8"))
    digest.update(str(grid_out.upload_date).encode("utf8"))
    return digest.hexdigest()


def mime_type(grid_out: Any, path: str) -> str:
    """The Content-Type to serve ``grid_out`` with.

    The file's ``contentType`` (or its metadata's), else a guess from its
    name or the request ``path``, else ``application/octet-stream``.
    """
    found = grid_out.content_type
    if not found and isinstance(grid_out.metadata, dict):
        found = grid_out.metadata.get("contentType")
    if not found:
        found = mimetypes.guess_type(grid_out.filename or path)[0]
    return found or "application/octet-stream"


def utc_seconds(when: datetime.datetime) -> datetime.datetime:
    """``when`` as an aware UTC datetime, to the second (HTTP dates have no less).

    A naive datetime is taken as UTC, which is what PyMongo returns.
    """
    if when.tzinfo is None:
        when = when.replace(tzinfo=_UTC)
    else:
        when = when.astimezone(_UTC)
    return when.replace(microsecond=0)


def parse_http_date(value: str) -> Optional[datetime.datetime]:
    """An HTTP-date as an aware UTC datetime, or None if it is not one."""
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    return utc_seconds(parsed)


def cache_headers(cache_time: int) -> dict[str, Any]:
    """``Cache-Control`` (and ``Expires``) for a file cacheable ``cache_time`` seconds.

    0 or less: ``Cache-Control: public`` (clients revalidate each time).
    ``Expires`` is an aware UTC datetime; each framework formats it.
    """
    if cache_time > 0:
        expires = datetime.datetime.now(_UTC) + datetime.timedelta(seconds=cache_time)
        return {"Expires": expires, "Cache-Control": f"max-age={cache_time}"}
    return {"Cache-Control": "public"}


def etag_listed(header: str, etag: str) -> bool:
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


def if_range_matches(value: str, etag: str, modified: datetime.datetime) -> bool:
    """Whether an If-Range value (a strong ETag or an HTTP-date) still holds.

    ``modified`` is the file's upload date from :func:`utc_seconds`. A weak
    ETag never matches (HTTP says so). Raises :class:`MalformedHeader` for a
    value that is neither.
    """
    value = value.strip()
    if value.startswith("W/"):
        if not _WEAK_ETAG.fullmatch(value):
            raise MalformedHeader("If-Range")
        return False
    if value.startswith('"'):
        if not _STRONG_ETAG.fullmatch(value):
            raise MalformedHeader("If-Range")
        return value[1:-1] == etag
    date = parse_http_date(value)
    if date is None:
        raise MalformedHeader("If-Range")
    return date == modified


def _number(digits: str) -> int:
    # Python refuses to convert very long digit strings; no file is that big.
    return int(digits) if len(digits) <= 18 else _HUGE


def parse_range(value: str) -> Optional[list[tuple[Optional[int], Optional[int]]]]:
    """The byte ranges of a Range header, as ``[(first, last)]``; either may be None.

    ``bytes=0-499`` gives ``[(0, 499)]``, ``bytes=-500`` ``[(None, 500)]``.
    Returns None for a range unit other than bytes (to be ignored, as HTTP
    says); raises :class:`MalformedHeader` for a bytes range that does not parse.
    """
    unit, equals, ranges = value.partition("=")
    if not equals:
        raise MalformedHeader("Range")
    if unit.strip().lower() != "bytes":
        return None
    specs: list[tuple[Optional[int], Optional[int]]] = []
    for part in ranges.split(","):
        part = part.strip()
        if not part:
            continue
        match = _RANGE_SPEC.fullmatch(part)
        if match is None or not (match.group(1) or match.group(2)):
            raise MalformedHeader("Range")
        first = _number(match.group(1)) if match.group(1) else None
        last = _number(match.group(2)) if match.group(2) else None
        if first is not None and last is not None and last < first:
            raise MalformedHeader("Range")
        specs.append((first, last))
    if not specs:
        raise MalformedHeader("Range")
    return specs


def resolve_range(
    spec: tuple[Optional[int], Optional[int]], length: int
) -> Union[ByteRange, None, _Unsatisfiable]:
    """``(start, stop)`` of the bytes to send, None for the whole file, or UNSATISFIABLE.

    ``spec`` is one ``(first, last)`` of :func:`parse_range` (``last`` is
    inclusive; ``stop`` is not). A suffix longer than the file is the whole file.
    """
    first, last = spec
    if first is None:
        # A suffix: the last ``last`` bytes.
        assert last is not None
        if last == 0:
            return UNSATISFIABLE
        if length == 0:
            return None
        return max(0, length - last), length
    if first >= length:
        return UNSATISFIABLE
    stop = length if last is None else min(last + 1, length)
    return first, stop


async def read_range(grid_out: Any, start: int, stop: int) -> AsyncIterator[bytes]:
    """The bytes ``start`` to ``stop`` (exclusive) of a file, a chunk at a time.

    Both web handlers send a response body this way::

        async for chunk in read_range(grid_out, start, stop):
            await send(chunk)

    Raises :class:`~gridfs.errors.CorruptGridFile` if the file's chunks end
    before its length says.
    """
    grid_out.seek(start)
    remaining = stop - start
    while remaining > 0:
        chunk = await grid_out.readchunk()
        if not chunk:
            raise CorruptGridFile(
                f"GridFS file {grid_out._id!r} ended {remaining} bytes before its length"
            )
        if len(chunk) > remaining:
            chunk = chunk[:remaining]
        remaining -= len(chunk)
        yield chunk
