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

Two ways to move bytes, chosen per connection:

* **Direct** (plain TCP and TLS): once the IOStream has connected (and,
  for TLS, finished the handshake), Motor takes the
  descriptor out of Tornado's event registration (``IOLoop.remove_handler``)
  and does non-blocking ``send``/``recv_into`` on the IOStream's socket
  itself. A worker that must wait registers with the asyncio loop
  (``add_reader``), and the loop's callback switches straight back into it:
  no Future, no callback hop, no buffer copy through Tornado. A small read
  buffer takes a whole reply with one ``recv``, so PyMongo's header and
  body reads cost one system call, not two. The read registration stays in
  place between operations (a reply only arrives after a request, while the
  worker waits for it) and is dropped when the socket turns readable with
  nobody waiting. The IOStream still owns the socket and closes it.
  Over TLS the socket is the ``SSLSocket`` that ``SSLIOStream`` wrapped
  with PyMongo's ``SSLContext`` and verified (certificate and host name)
  during its handshake: non-blocking ``send``/``recv_into`` on it raise
  ``SSLWantWriteError``/``SSLWantReadError`` where a plain socket raises
  ``BlockingIOError``. A read returns at most one TLS record (16 KiB of
  data), and OpenSSL may hold decrypted data the descriptor no longer
  shows (``SSLSocket.pending()``), so a TLS read is taken to have drained
  the connection only when it returned less than a full record and nothing
  is pending.
* **Through the IOStream** (a stream that was not connected by
  :func:`open_socket_interface`): ``read_into``/``write`` Futures.

Timeouts: PyMongo reads in 0.5 s slices (``_POLL_TIMEOUT``) to notice
cancelled operations, so nearly every wait carries a 0.5 s timeout that
almost never fires. Those slices are checked by one coarse ticker per loop
(:meth:`LoopRuntime.watch_slice`) instead of a loop timer per wait; any other
timeout (a real deadline closer than a slice) gets an exact loop timer.

.. versionadded:: 4.0
"""

from __future__ import annotations

import errno
import ipaddress
import os
import select
import socket
import ssl
import threading
import time
from asyncio import _get_running_loop
from typing import Any

from greenlet import getcurrent
from pymongo import _csot
from pymongo.errors import ConfigurationError
from pymongo.network_layer import _POLL_TIMEOUT, NetworkingInterface
from tornado.iostream import IOStream, SSLIOStream, StreamClosedError

from motor.runtime.greenlets import (
    BURST_BYTES,
    WAKE_BATCH,
    LoopRuntime,
    MotorWorker,
    current_worker,
)
from motor.runtime import threads
from motor.runtime.timing import wait_for_future

__all__ = ["IOStreamSocket", "open_socket_interface"]

# A reply up to this size arrives with one recv (header and body together).
_READ_BUFFER_SIZE = 64 * 1024
# Requests up to this size may wait for the runtime's flush, to go out in a
# row with other calls' requests.
_COALESCE_MAX = 16 * 1024
# The most data one TLS record carries: a TLS read returns at most this much,
# so a read this size may have left more records behind it.
_TLS_RECORD = 16 * 1024
# What a non-blocking read or write raises when it must wait, plain or TLS.
_WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)
_TIMED_OUT: Any = object()
_CLOSED: Any = object()


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


class _TellsMotorSocket:
    """Mixed into an IOStream class: tell its Motor socket before the descriptor closes."""

    motor_socket: Any = None

    def close_fd(self) -> None:
        owner = self.motor_socket
        if owner is not None:
            owner._on_close_fd()
        super().close_fd()  # type: ignore[misc]


class _MotorIOStream(_TellsMotorSocket, IOStream):
    """A plain TCP IOStream for a Motor socket."""


class _MotorSSLIOStream(_TellsMotorSocket, SSLIOStream):
    """The same for TLS: an SSLIOStream (its handshake and checks are Tornado's
    and PyMongo's)."""


class IOStreamSocket:
    """The subset of ``socket.socket`` PyMongo uses, over an IOStream."""

    __slots__ = (
        "stream", "_sock", "_fd", "_timeout", "_pending_read", "_loop", "_runtime",
        "_thread_id", "_direct", "_rbuf", "_rview", "_rstart", "_rend", "_readable",
        "_reading", "_waiter", "_wait_seq", "_timer", "_writing", "_closed", "_wake_deferred",
        "_read_error", "_unsent", "_pid", "_tls", "_full_read",
    )

    def __init__(self, stream: IOStream, timeout: float | None, loop: Any, runtime: Any = None):
        self.stream = stream
        self._timeout = timeout
        self._pending_read: Any = None
        self._loop = loop
        self._runtime = runtime
        self._thread_id = threading.get_ident()
        self._pid = os.getpid()
        self._closed = False
        self._waiter: Any = None
        self._wait_seq = 0
        self._timer: Any = None
        self._reading = False
        self._writing = False
        self._readable = False  # data may be waiting in the kernel
        self._wake_deferred = False  # queued in the runtime's burst control
        self._rstart = self._rend = 0
        self._read_error: OSError | None = None  # met by the loop's read, for the worker
        self._unsent: Any = None  # a request waiting for the runtime's next flush
        self._tls = isinstance(stream, _MotorSSLIOStream)
        self._direct = (
            runtime is not None
            and (self._tls or isinstance(stream, _MotorIOStream))
            and not stream.closed()
            and stream._read_buffer_size == 0
            and not stream.writing()
            and not (self._tls and stream._ssl_accepting)  # handshake done
        )
        # A read this long may have left more data behind it.
        self._full_read = _TLS_RECORD if self._tls else _READ_BUFFER_SIZE
        if self._direct:
            self._sock = stream.socket
            self._fd = self._sock.fileno()
            # A TLS server may have sent records right after its handshake
            # (session tickets): look before waiting.
            self._readable = self._tls
            self._rbuf = bytearray(_READ_BUFFER_SIZE)
            self._rview = memoryview(self._rbuf)
            stream.motor_socket = self
            # From now on the loop's registration for this descriptor is ours.
            stream.io_loop.remove_handler(self._fd)
        else:
            self._sock = None
            self._fd = -1
            self._rbuf = self._rview = None

    def settimeout(self, timeout: float | None) -> None:
        self._timeout = timeout

    def gettimeout(self) -> float | None:
        return self._timeout

    def fileno(self) -> int:
        sock = self.stream.socket
        return -1 if sock is None else sock.fileno()

    # -- direct mode: waiting for the descriptor -----------------------------------

    def _park(self, worker: MotorWorker, timeout: float | None) -> Any:
        """Park ``worker`` (the calling one) until ``_wake``; returns the wake value."""
        if self._closed:
            raise OSError(errno.EBADF, "connection closed")
        self._wait_seq = seq = self._wait_seq + 1
        self._waiter = worker
        if timeout is None:
            try:
                return worker.parent.switch()
            finally:
                if self._waiter is worker:
                    self._waiter = None
        if timeout == _POLL_TIMEOUT:
            # PyMongo's cancellation poll: checked by the runtime's ticker.
            runtime = self._runtime
            runtime.watch_slice(self, time.monotonic() + timeout)
            try:
                return worker.parent.switch()
            finally:
                if self._waiter is worker:
                    self._waiter = None
                runtime.unwatch_slice(self)
        self._timer = self._loop.call_later(max(timeout, 0), self._time_out, seq)
        try:
            return worker.parent.switch()
        finally:
            if self._waiter is worker:
                self._waiter = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _wake(self, value: Any = None) -> None:
        worker = self._waiter
        if worker is not None:
            self._waiter = None
            worker.switch(value)

    def _on_readable(self) -> None:
        # Loop callback (level-triggered): the reply, or an idle socket
        # closing under us. With nobody waiting for it, stop listening until
        # asked (a worker waiting to write is not woken by it).
        if self._waiter is None or self._writing:
            self._readable = True
            self._stop_reading()
            return
        if self._wake_deferred:
            return
        runtime = self._runtime
        if runtime.burst_bytes > BURST_BYTES and runtime.last_reader is not self:
            # Many large replies arrived at once and workers have already
            # read a lot of them this round: let the coroutines consume
            # those first (see LoopRuntime.defer_wake). Stop listening
            # meanwhile, the data is known to be there.
            self._wake_deferred = True
            self._readable = True
            self._stop_reading()
            runtime.defer_wake(self)
            return
        if runtime.wakes >= WAKE_BATCH or runtime.deferred_wakes:
            # Enough workers resumed since the coroutines last had a turn:
            # take the reply off the socket now (so the loop stops
            # reporting it) and resume this one on a later pass.
            self._wake_deferred = True
            self._read_for_waiter()
            if self._readable or self._read_error is not None:
                self._stop_reading()
            runtime.defer_wake(self)
            return
        runtime.wakes += 1
        self._wake()

    def deferred_wake(self) -> None:
        """The runtime's turn for a wake that :meth:`_on_readable` put off."""
        self._wake_deferred = False
        self._wake()

    def _read_for_waiter(self) -> None:
        # Read the reply into the read-ahead buffer for the worker waiting
        # for it, whose wake is put off to a later pass: unread, the reply
        # would make the loop report the descriptor again meanwhile.
        if self._rstart < self._rend:
            return
        try:
            count = self._sock.recv_into(self._rview)
        except _WOULD_BLOCK:
            # (A TLS read that wants to write, a renegotiation, is left to
            # the worker's own read.)
            self._readable = False
            return
        except OSError as exc:
            self._read_error = exc
            return
        if count == 0:
            self._readable = True  # end of stream: the worker's recv sees it too
            return
        self._took(count)
        self._rstart, self._rend = 0, count

    def flush(self) -> None:
        """Send the queued request (the runtime's flush, on the loop)."""
        data = self._unsent
        if data is None:
            return
        if self._closed:
            self._unsent = None
            return
        try:
            sent = self._sock.send(data)
        except _WOULD_BLOCK:
            # TLS: OpenSSL may have sent some records already; the retry
            # passes the same data, as it expects.
            sent = 0
        except OSError as exc:
            self._unsent = None
            self._fail_reader(exc)
            return
        if sent == len(data):
            self._unsent = None
            return
        # The kernel's buffer is full (rare for a small request): send the
        # rest when there is room, then let the worker's wait go on.
        self._unsent = bytes(memoryview(data)[sent:])
        self._loop.add_writer(self._fd, self._flush_rest)

    def _flush_rest(self) -> None:
        self._loop.remove_writer(self._fd)
        self.flush()

    def _fail_reader(self, exc: OSError) -> None:
        # A queued send failed: the worker waiting for the reply gets the error.
        self._read_error = exc
        if self._waiter is not None and not self._writing:
            self._wake()

    def _on_writable(self) -> None:
        self._stop_writing()
        self._wake()

    def _stop_reading(self) -> None:
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self._fd)

    def _stop_writing(self) -> None:
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self._fd)

    def _time_out(self, seq: int) -> None:
        self._timer = None
        if self._wait_seq == seq:
            self._wake(_TIMED_OUT)

    def slice_expired(self) -> None:
        """Called by the runtime's ticker when a 0.5 s poll slice has passed."""
        self._wake(_TIMED_OUT)

    def _on_close_fd(self) -> None:
        # The IOStream is about to close the descriptor: forget it in the
        # loop first (a reused fd number must not inherit our registration),
        # and wake a worker waiting on it.
        if self._unsent is not None:
            # A request queued for the next flush still goes out first (an
            # unacknowledged write, then close), as far as the kernel takes
            # it without waiting; and a flush waiting for room stops waiting.
            self._loop.remove_writer(self._fd)
            try:
                self._sock.send(self._unsent)
            except OSError:
                pass
            self._unsent = None
        self._closed = True
        self._stop_reading()
        self._stop_writing()
        if self._waiter is not None:
            self._loop.call_soon(self._wake, _CLOSED)

    def _wait(self, readable: bool) -> None:
        if self._closed:
            raise OSError(errno.EBADF, "connection closed")
        worker = getcurrent()
        if type(worker) is not MotorWorker and not isinstance(worker, MotorWorker):
            self._wait_blocking(readable)
            return
        if readable:
            if not self._reading:
                self._reading = True
                self._loop.add_reader(self._fd, self._on_readable)
        elif not self._writing:
            self._writing = True
            self._loop.add_writer(self._fd, self._on_writable)
        timeout = self._timeout
        if timeout is not None and timeout <= 0:
            raise socket.timeout("timed out")
        if readable:
            # A reply is due: the loop may poll for it before it sleeps.
            poller = self._runtime.idle_poll
            poller.replies_due += 1
            try:
                value = self._park(worker, timeout)
            finally:
                poller.replies_due -= 1
        else:
            value = self._park(worker, timeout)
        if value is _TIMED_OUT:
            raise socket.timeout("timed out")
        if value is _CLOSED:
            raise OSError(errno.ECONNRESET, "connection closed")

    def _wait_blocking(self, readable: bool) -> None:
        """Wait for the descriptor by blocking the calling thread.

        Only for a synchronous PyMongo call made outside Motor's workers on
        an object a Motor client owns, such as
        ``collection.delegate.insert_one(doc)``: the caller asked for a
        blocking call, and, as with Motor 3, it blocks (the loop too, if
        made on the loop's thread; :mod:`motor.diagnostics` reports it).
        Motor's own calls never come here.
        """
        unsent = self._unsent
        if unsent is not None:
            # Queued for the loop's next flush, which cannot come while this
            # thread waits: send it now (the flush then finds nothing).
            self._unsent = None
            view = memoryview(unsent).cast("B")
            sent = 0
            while sent < len(view):
                try:
                    sent += self._sock.send(view[sent:])
                except _WOULD_BLOCK as exc:
                    wants_read = isinstance(exc, ssl.SSLWantReadError)
                    self._poll_blocking(select.POLLIN if wants_read else select.POLLOUT)
        self._poll_blocking(select.POLLIN if readable else select.POLLOUT)

    def _poll_blocking(self, events: int) -> None:
        timeout = self._timeout
        if timeout is not None and timeout <= 0:
            raise socket.timeout("timed out")
        poller = select.poll()
        poller.register(self._fd, events)
        if not poller.poll(None if timeout is None else timeout * 1000):
            raise socket.timeout("timed out")

    # -- the socket methods PyMongo calls --------------------------------------------

    def sendall(self, data: bytes | memoryview) -> None:
        if not self._direct:
            self._sendall_stream(data)
            return
        if self._closed:
            raise OSError(errno.EBADF, "connection closed")
        unsent = self._unsent
        if unsent is not None:
            # An earlier request is still queued: keep the order.
            self._unsent = unsent + bytes(data)
            return
        runtime = self._runtime
        if runtime._active > 1 and len(data) <= _COALESCE_MAX:
            # Other calls are under way: send with theirs, all in a row on
            # the loop's next pass (see LoopRuntime.queue_send). A copy
            # unless it is bytes: the caller may reuse its buffer.
            self._unsent = data if type(data) is bytes else bytes(data)
            runtime.queue_send(self)
            return
        sock = self._sock
        wants_read = False
        try:
            sent = sock.send(data)
        except _WOULD_BLOCK as exc:
            sent = 0
            wants_read = isinstance(exc, ssl.SSLWantReadError)
        total = len(data)
        if sent == total:
            return
        # The kernel's buffer is full: wait for room, send the rest (TLS:
        # the same data again, as OpenSSL expects after a partial write).
        view = memoryview(data).cast("B")
        while sent < total:
            self._wait(wants_read)
            try:
                sent += sock.send(view[sent:])
                wants_read = False
            except _WOULD_BLOCK as exc:
                wants_read = isinstance(exc, ssl.SSLWantReadError)

    def recv_into(self, buffer: memoryview) -> int:
        if not self._direct:
            return self._recv_into_stream(buffer)
        if self._rstart >= self._rend:
            # Nothing read ahead: read (or wait for) the socket.
            if self._closed:
                raise OSError(errno.EBADF, "connection closed")
            want = len(buffer)
            sock = self._sock
            while True:
                if not self._readable:
                    # Just sent a request (or drained the socket): its reply
                    # cannot be here yet, so wait before trying.
                    self._wait(True)
                    if self._rstart < self._rend:
                        break  # the loop read it before waking us
                    error = self._read_error
                    if error is not None:
                        self._read_error = None
                        raise error
                try:
                    if want >= _READ_BUFFER_SIZE:
                        # A large reply: straight into PyMongo's buffer.
                        count = sock.recv_into(buffer)
                        self._readable = count == want or (
                            self._tls and (count >= _TLS_RECORD or sock.pending() > 0))
                        runtime = self._runtime
                        runtime.burst_bytes += count
                        runtime.last_reader = self
                        return count
                    count = sock.recv_into(self._rview)
                except _WOULD_BLOCK as exc:
                    self._readable = False
                    if type(exc) is ssl.SSLWantWriteError:
                        # TLS renegotiation: OpenSSL must write first.
                        self._wait(False)
                        self._readable = True
                    continue
                self._took(count)
                if count == 0:
                    return 0
                self._rstart, self._rend = 0, count
                break
        # From the read-ahead buffer: no system call.
        start = self._rstart
        count = min(len(buffer), self._rend - start)
        buffer[:count] = self._rview[start:start + count]
        self._rstart = start + count
        return count

    def _took(self, count: int) -> None:
        # A read that filled the read-ahead buffer (TLS: a whole record) may
        # have left more behind.
        if count >= self._full_read:
            self._readable = True
            # Large replies count towards the runtime's burst control.
            runtime = self._runtime
            runtime.burst_bytes += count
            runtime.last_reader = self
        else:
            # TLS: the descriptor does not show what OpenSSL already holds.
            self._readable = self._tls and self._sock.pending() > 0

    # -- through the IOStream (TLS) ---------------------------------------------------

    def _sendall_stream(self, data: bytes | memoryview) -> None:
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

    def _recv_into_stream(self, buffer: memoryview) -> int:
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
        """Close the stream; safe from any thread (monitors close pools).

        In a process forked from the one that opened it, or once its loop
        is closed, only the descriptor is closed (see
        :meth:`_close_descriptor`).
        """
        if self._pid != os.getpid() or self._loop.is_closed():
            self._close_descriptor()
        elif threading.get_ident() == self._thread_id:
            self.stream.close()
        else:
            self._loop.call_soon_threadsafe(self.stream.close)

    def _close_descriptor(self) -> None:
        # Close the descriptor and nothing else: no loop call, no stream
        # callbacks. After fork() the child shares its parent's epoll
        # instance, and an EPOLL_CTL_DEL from the child (remove_reader,
        # remove_handler) would silence this connection in the parent's
        # loop; closing the child's descriptor leaves the parent's
        # registration alone (it belongs to the parent's descriptor). A
        # closed loop has nothing left to unregister, and would refuse the
        # stream's callbacks.
        self._closed = True
        self._unsent = None
        self._waiter = None
        sock = self.stream.socket
        if sock is not None:
            sock.close()

    def __repr__(self) -> str:
        mode = "direct" if self._direct else "stream"
        return f"<IOStreamSocket fd={self.fileno()} timeout={self._timeout} {mode}>"


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
    lookup = threads.submit(loop, socket.getaddrinfo, host, port, family, socket.SOCK_STREAM)
    infos = wait_for_future(lookup, timeout)
    return [(af, sockaddr) for af, _type, _proto, _name, sockaddr in infos]


def _tune(sock: socket.socket) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)


def _interface(sock: IOStreamSocket) -> NetworkingInterface:
    """PyMongo's wrapper around ``sock``, its hot methods bound straight to ours."""
    interface = NetworkingInterface(sock)
    interface.recv_into = sock.recv_into  # type: ignore[method-assign]
    interface.gettimeout = sock.gettimeout  # type: ignore[method-assign]
    interface.settimeout = sock.settimeout  # type: ignore[method-assign]
    return interface


def open_socket_interface(
    address: tuple[str, int], options: Any, ssl_session_cache: Any = None
) -> NetworkingInterface:
    """Connect to ``address`` for a Motor pool; runs in a Motor worker.

    ``ssl_session_cache`` is accepted for PyMongo's signature; Tornado's
    SSLIOStream does not resume TLS sessions, so each handshake is full.
    """
    worker = current_worker()
    if worker is None:
        return _open_blocking(address, options)
    runtime = worker.runtime
    loop = runtime.loop
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
            stream: IOStream = _MotorIOStream(sock)
            connecting = stream.connect(sockaddr)
        else:
            # PyMongo's SSLContext (CA, client certificate, check_hostname,
            # verify_mode) and the host name as given: Tornado's handshake
            # verifies the certificate and the name as PyMongo's would.
            stream = _MotorSSLIOStream(sock, ssl_options=ssl_context)
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
        return _interface(IOStreamSocket(stream, options.socket_timeout, loop, runtime))
    raise error or OSError(f"getaddrinfo returned no address for {host!r}")


def _open_blocking(address: tuple[str, int], options: Any) -> NetworkingInterface:
    """Connect by blocking the calling thread, for a synchronous PyMongo call.

    Such a call (``collection.delegate.insert_one(doc)``, made outside
    Motor's workers on the thread of the loop the client serves) blocks
    anyway, as with Motor 3; the connection it opens then serves Motor's
    own calls like any other, so it is an IOStream connection of that loop.
    """
    loop = _get_running_loop()
    if loop is None:
        raise RuntimeError(
            "A synchronous PyMongo call on a Motor client's objects (such as "
            "collection.delegate.insert_one()) needed a new connection outside the "
            "client's running loop; call the Motor method instead (await "
            "collection.insert_one(...))"
        )
    if options._ssl_context is not None:
        raise ConfigurationError(
            "A synchronous PyMongo call on a Motor client's objects (such as "
            "collection.delegate.insert_one()) cannot open a TLS connection; call the "
            "Motor method instead (await collection.insert_one(...))"
        )
    host, port = address
    timeout = _csot.remaining()
    if timeout is None:
        timeout = options.connect_timeout
    error: OSError | None = None
    if host.endswith(".sock"):
        targets: list[tuple[int, Any]] = [(socket.AF_UNIX, host)]
    else:
        family = socket.AF_INET if host == "localhost" or not socket.has_ipv6 else socket.AF_UNSPEC
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
        targets = [(af, sockaddr) for af, _type, _proto, _name, sockaddr in infos]
    for family, sockaddr in targets:
        sock = socket.socket(family, socket.SOCK_STREAM)
        _tune(sock)
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        sock.setblocking(False)
        runtime = LoopRuntime.for_loop(loop)
        return _interface(IOStreamSocket(_MotorIOStream(sock), options.socket_timeout, loop, runtime))
    raise error or OSError(f"getaddrinfo returned no address for {host!r}")
