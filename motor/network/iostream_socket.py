"""A blocking-socket façade over a Tornado IOStream, for PyMongo's code.

PyMongo's synchronous network layer calls ``sendall``, ``recv_into``,
``settimeout``/``gettimeout``, ``fileno`` and ``close`` on its sockets.
:class:`IOStreamSocket` offers exactly those, over a Tornado
:class:`~tornado.iostream.IOStream` (or ``SSLIOStream``): a call that would
block parks the Motor worker making it, and the loop runs on.

:func:`open_socket_interface` replaces PyMongo's socket factory for Motor's
pools: it resolves the host off the loop thread (IP literals need no lookup),
connects and does the TLS handshake through the IOStream, all within
``connectTimeoutMS`` (or the operation's ``timeoutMS``).

.. versionadded:: 4.0
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import ssl
import threading
import time
from typing import Any

from pymongo import _csot
from pymongo.errors import ConfigurationError
from pymongo.network_layer import NetworkingInterface
from tornado.iostream import IOStream, SSLIOStream, StreamClosedError

from motor.runtime.greenlets import current_worker
from motor.runtime.timing import wait_for_future

__all__ = ["IOStreamSocket", "open_socket_interface"]


def _closed_error(exc: StreamClosedError, stream: IOStream) -> OSError:
    """The OSError PyMongo expects for a stream that closed under us."""
    real = getattr(exc, "real_error", None) or stream.error
    if isinstance(real, OSError):
        return real
    return OSError(errno.ECONNRESET, f"connection closed: {real or 'by peer'}")


def _retrieve_error(future: Any) -> None:
    # A failed background write resurfaces on the next read; retrieving the
    # error here keeps asyncio from logging it as never retrieved.
    if not future.cancelled():
        future.exception()


class IOStreamSocket:
    """The subset of ``socket.socket`` PyMongo uses, over an IOStream."""

    __slots__ = ("stream", "_timeout", "_pending_read", "_loop", "_thread_id")

    def __init__(self, stream: IOStream, timeout: float | None, loop: Any) -> None:
        self.stream = stream
        self._timeout = timeout
        self._pending_read: Any = None
        self._loop = loop
        self._thread_id = threading.get_ident()

    def settimeout(self, timeout: float | None) -> None:
        self._timeout = timeout

    def gettimeout(self) -> float | None:
        return self._timeout

    def fileno(self) -> int:
        sock = self.stream.socket
        return -1 if sock is None else sock.fileno()

    def sendall(self, data: bytes | memoryview) -> None:
        stream = self.stream
        try:
            future = stream.write(data)
        except StreamClosedError as exc:
            raise _closed_error(exc, stream) from None
        if future.done():
            try:
                future.result()
            except StreamClosedError as exc:
                raise _closed_error(exc, stream) from None
        else:
            # The kernel buffer is full: Tornado flushes the rest as the
            # socket drains. The reply cannot arrive before the request is
            # sent, so the next recv_into waits for both.
            future.add_done_callback(_retrieve_error)

    def recv_into(self, buffer: memoryview) -> int:
        stream = self.stream
        future = self._pending_read
        if future is None:
            try:
                future = stream.read_into(buffer, partial=True)
            except StreamClosedError as exc:
                raise _closed_error(exc, stream) from None
            if not future.done():
                # Kept across a timeout: PyMongo retries a timed-out read with
                # the same buffer, and an IOStream read cannot be withdrawn.
                self._pending_read = future
        if not future.done():
            wait_for_future(future, self._timeout)
        self._pending_read = None
        try:
            return future.result()
        except StreamClosedError as exc:
            raise _closed_error(exc, stream) from None

    def close(self) -> None:
        """Close the stream; safe from any thread (monitors close pools)."""
        if threading.get_ident() == self._thread_id:
            self.stream.close()
        else:
            self._loop.call_soon_threadsafe(self.stream.close)

    def __repr__(self) -> str:
        return f"<IOStreamSocket fd={self.fileno()} timeout={self._timeout}>"


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _resolve(host: str, port: int, timeout: float | None) -> list[tuple[int, Any]]:
    """getaddrinfo without blocking the loop: a thread does the lookup."""
    if _is_ip_literal(host):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return [(family, (host, port))]
    # As PyMongo does: 'localhost' is tried over IPv4 only (slow ::1 connects).
    family = socket.AF_INET if host == "localhost" or not socket.has_ipv6 else socket.AF_UNSPEC
    loop = current_worker().runtime.loop  # type: ignore[union-attr]
    lookup = loop.run_in_executor(
        None, socket.getaddrinfo, host, port, family, socket.SOCK_STREAM
    )
    infos = wait_for_future(lookup, timeout)
    return [(af, sockaddr) for af, _type, _proto, _name, sockaddr in infos]


def _tune(sock: socket.socket) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)


def open_socket_interface(
    address: tuple[str, int], options: Any, ssl_session_cache: Any = None
) -> NetworkingInterface:
    """Connect to ``address`` for a Motor pool; runs in a Motor worker.

    ``ssl_session_cache`` is accepted for PyMongo's signature; Tornado's
    SSLIOStream does not resume TLS sessions, so each handshake is full.
    """
    worker = current_worker()
    if worker is None:
        raise RuntimeError("Motor's pools open connections only in Motor's child greenlets")
    loop = worker.runtime.loop
    host, port = address

    timeout = _csot.remaining()
    if timeout is None:
        timeout = options.connect_timeout
    elif timeout <= 0:
        raise socket.timeout("timed out")
    deadline = None if timeout is None else time.monotonic() + timeout

    def remaining() -> float | None:
        return None if deadline is None else max(deadline - time.monotonic(), 0)

    ssl_context = options._ssl_context
    if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
        raise ConfigurationError(
            "Motor's TLS connections need a standard-library ssl.SSLContext, but "
            f"PyMongo built a {type(ssl_context).__name__} (PyOpenSSL is installed). "
            "Uninstall PyOpenSSL (pymongo[ocsp]) to use TLS with Motor."
        )

    if host.endswith(".sock"):
        targets: list[tuple[int, Any]] = [(socket.AF_UNIX, host)]
    else:
        targets = _resolve(host, port, remaining())

    error: OSError | None = None
    for family, sockaddr in targets:
        sock = socket.socket(family, socket.SOCK_STREAM)
        _tune(sock)
        if ssl_context is None:
            stream: IOStream = IOStream(sock)
            connecting = stream.connect(sockaddr)
        else:
            stream = SSLIOStream(sock, ssl_options=ssl_context)
            connecting = stream.connect(sockaddr, server_hostname=host)
        try:
            wait_for_future(connecting, remaining())
        except StreamClosedError as exc:
            error = _closed_error(exc, stream)
            stream.close()
            continue
        except BaseException:
            # Timed out (or the worker was interrupted): don't leak the fd.
            stream.close()
            if not connecting.done():
                connecting.add_done_callback(_retrieve_error)
            raise
        return NetworkingInterface(IOStreamSocket(stream, options.socket_timeout, loop))
    raise error or OSError(f"getaddrinfo returned no address for {host!r}")
