"""The loop watchdog catches the IOLoop thread blocking, and only then.

Each positive test blocks the loop thread on purpose (for 0.2 s, well over
the 60 ms stall limit) inside ``loop_watchdog.expect_violation()``, which keeps
the violation from failing the run and hands it back for assertions.
"""

from __future__ import annotations

import asyncio
import functools
import os
import queue
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
import time
import types
from pathlib import Path

import pytest
from tornado import gen
from tornado.ioloop import IOLoop

from .loop_watchdog import (
    BUSY,
    DNS,
    IDLE,
    LOCK,
    SLEEP,
    SOCKET,
    TLS_HANDSHAKE,
    classify_frame,
)

BLOCK = 0.2  # seconds each positive test blocks the loop thread


def _check(violations, category, request, detail=None):
    """The one violation of this stall has the category, detail, test and stack expected."""
    assert len(violations) == 1, [v.summary() for v in violations]  # one record per stall
    v = violations[0]
    assert v.category == category, v.format()
    if detail is not None:
        assert detail in v.detail, v.format()
    assert request.node.name in v.stack, v.format()  # the test's own frame is in the stack
    assert v.test == request.node.nodeid
    assert v.phase == "call"
    assert v.gap_ms > 60
    return v


class _LockHolder:
    """A helper thread, started outside the loop, that holds locks on request.

    (Starting a thread on the loop thread blocks it: ``Thread.start()`` waits
    on a condition until the new thread runs -- the watchdog catches that
    under load.)
    """

    def __init__(self):
        self.requests = queue.SimpleQueue()
        self.releases = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            request = self.requests.get()
            if request is None:
                return
            lock, acquired = request
            with lock:
                acquired.set()
                time.sleep(self.releases.get())

    async def hold(self, lock):
        """Have the helper take ``lock``; returns once it holds it."""
        acquired = threading.Event()
        self.requests.put((lock, acquired))  # SimpleQueue.put never blocks
        while not acquired.is_set():
            await asyncio.sleep(0.001)

    def release_in(self, seconds=BLOCK):
        """Tell the helper to let go ``seconds`` from now (without blocking)."""
        self.releases.put(seconds)

    def close(self):
        self.releases.put(0)
        self.requests.put(None)
        self.thread.join(10)


@pytest.fixture
def lock_holder():
    holder = _LockHolder()
    yield holder
    holder.close()


# --- runner plumbing ------------------------------------------------------------


async def test_io_loop_is_current(io_loop, event_loop):
    assert IOLoop.current() is io_loop
    assert asyncio.get_running_loop() is event_loop
    assert io_loop.asyncio_loop is event_loop


def test_io_loop_is_current_outside_the_loop(io_loop):
    assert IOLoop.current() is io_loop


@gen.coroutine
def test_gen_coroutine_runs_on_the_loop(io_loop):
    assert asyncio.get_running_loop() is io_loop.asyncio_loop
    yield gen.sleep(0.001)
    assert IOLoop.current() is io_loop


def test_plain_function_returning_an_awaitable_runs_on_the_loop(io_loop):
    async def check():
        assert asyncio.get_running_loop() is io_loop.asyncio_loop
        await asyncio.sleep(0)

    return check()


@pytest.fixture
def value_from_loop(io_loop):
    async def compute():
        await asyncio.sleep(0)
        return 42

    return io_loop.run_sync(compute)


async def test_sync_fixture_can_run_sync(value_from_loop):
    assert value_from_loop == 42


@pytest.mark.timeout_seconds(5)
async def test_timeout_marker_allows_short_test():
    await asyncio.sleep(0.01)


# --- positive: the watchdog catches each kind of blocking ----------------------------


async def test_time_sleep_is_a_violation(loop_watchdog, request):
    with loop_watchdog.expect_violation(SLEEP) as caught:
        time.sleep(BLOCK)
    _check(caught, SLEEP, request, "time.sleep()")


async def test_lock_acquire_is_a_violation(loop_watchdog, lock_holder, request):
    lock = threading.Lock()
    await lock_holder.hold(lock)
    lock_holder.release_in(BLOCK)
    with loop_watchdog.expect_violation(LOCK) as caught:
        lock.acquire()
        lock.release()
    _check(caught, LOCK, request, "lock.acquire()")


async def test_with_lock_is_a_violation(loop_watchdog, lock_holder, request):
    lock = threading.Lock()
    await lock_holder.hold(lock)
    lock_holder.release_in(BLOCK)
    with loop_watchdog.expect_violation(LOCK) as caught:
        with lock:
            pass
    _check(caught, LOCK, request, "with lock")


async def test_with_rlock_attribute_is_a_violation(loop_watchdog, lock_holder, request):
    # The name says nothing about locks: the object's type does.
    pool = types.SimpleNamespace(gate=threading.RLock())
    await lock_holder.hold(pool.gate)
    lock_holder.release_in(BLOCK)
    with loop_watchdog.expect_violation(LOCK) as caught:
        with pool.gate:
            pass
    _check(caught, LOCK, request, "with pool.gate")


async def test_condition_wait_is_a_violation(loop_watchdog, request):
    cond = threading.Condition()
    with loop_watchdog.expect_violation(LOCK) as caught:
        with cond:
            cond.wait(BLOCK)
    v = _check(caught, LOCK, request)
    assert "Condition.wait" in v.detail


async def test_event_wait_is_a_violation(loop_watchdog, request):
    with loop_watchdog.expect_violation(LOCK) as caught:
        threading.Event().wait(BLOCK)
    v = _check(caught, LOCK, request)
    assert "threading.Condition.wait" in v.detail


async def test_socket_recv_is_a_violation(loop_watchdog, request):
    a, b = socket.socketpair()
    with a, b:
        a.settimeout(BLOCK)
        with loop_watchdog.expect_violation(SOCKET) as caught:
            with pytest.raises(socket.timeout):
                a.recv(1)
    _check(caught, SOCKET, request, "a.recv()")


async def test_socket_file_read_is_a_violation(loop_watchdog, request):
    a, b = socket.socketpair()
    with a, b, a.makefile("rb") as reader:
        a.settimeout(BLOCK)
        with loop_watchdog.expect_violation(SOCKET) as caught:
            with pytest.raises(OSError):
                reader.read(1)
    v = _check(caught, SOCKET, request)
    assert "recv_into" in v.detail


async def test_blocking_call_through_an_alias_is_a_violation(loop_watchdog, request):
    a, b = socket.socketpair()
    with a, b:
        a.settimeout(BLOCK)
        receive = a.recv  # the call site says "receive", the object says socket.recv
        with loop_watchdog.expect_violation(SOCKET) as caught:
            with pytest.raises(socket.timeout):
                receive(1)
    _check(caught, SOCKET, request, "receive() [socket.recv]")


async def test_select_is_a_violation(loop_watchdog, request):
    import select

    a, b = socket.socketpair()
    with a, b:
        with loop_watchdog.expect_violation(SOCKET) as caught:
            select.select([a], [], [], BLOCK)
    _check(caught, SOCKET, request, "select.select()")


async def test_tls_handshake_is_a_violation(loop_watchdog, request):
    a, b = socket.socketpair()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with a, b, ctx.wrap_socket(a, do_handshake_on_connect=False) as tls:
        tls.settimeout(BLOCK)  # the peer never answers the ClientHello
        with loop_watchdog.expect_violation(TLS_HANDSHAKE) as caught:
            with pytest.raises(OSError):
                tls.do_handshake()
    _check(caught, TLS_HANDSHAKE, request, "do_handshake()")


async def test_blocking_call_named_getaddrinfo_is_dns(loop_watchdog, lock_holder, request):
    # Real resolution can't be made reliably slow; a C callable that blocks,
    # called as ``resolver.getaddrinfo(...)``, looks the same to the watchdog.
    gate = threading.Lock()
    resolver = types.SimpleNamespace(getaddrinfo=functools.partial(gate.acquire))
    await lock_holder.hold(gate)
    lock_holder.release_in(BLOCK)
    with loop_watchdog.expect_violation(DNS) as caught:
        got_it = resolver.getaddrinfo()  # returns once the helper lets go
        gate.release()
    assert got_it
    _check(caught, DNS, request, "resolver.getaddrinfo()")


def getaddrinfo(host, port):
    """Stand-in for a resolver that waits on the network."""
    time.sleep(BLOCK)
    return []


async def test_wait_inside_a_resolver_is_dns(loop_watchdog, request):
    with loop_watchdog.expect_violation(DNS) as caught:
        getaddrinfo("db.example.com", 27017)
    v = _check(caught, DNS, request, "time.sleep()")
    assert "getaddrinfo" in v.detail


async def test_blocking_inside_a_greenlet_on_the_loop_thread(loop_watchdog, request):
    greenlet = pytest.importorskip("greenlet")

    def child_blocks():
        time.sleep(BLOCK)
        return "done"

    with loop_watchdog.expect_violation(SLEEP) as caught:
        assert greenlet.greenlet(child_blocks).switch() == "done"
    assert len(caught) == 1
    assert "child_blocks" in caught[0].stack


@pytest.fixture
def blocked_in_fixture(io_loop, loop_watchdog):
    async def block():
        time.sleep(BLOCK)

    with loop_watchdog.expect_violation(SLEEP) as caught:
        io_loop.run_sync(block)
    return caught


def test_run_sync_in_fixtures_is_watched(blocked_in_fixture, request):
    (v,) = blocked_in_fixture
    assert v.phase == "setup" and v.test == request.node.nodeid


async def test_one_record_per_stall(loop_watchdog):
    with loop_watchdog.expect_violation() as caught:
        time.sleep(BLOCK)
        threading.Event().wait(BLOCK)  # same stall: no heartbeat in between
    assert len(caught) == 1, [v.summary() for v in caught]
    # (normally caught in the sleep; on a starved machine maybe only later)
    assert caught[0].category in (SLEEP, LOCK)
    await asyncio.sleep(0.05)  # the heartbeat runs: the stall is over
    assert caught[0].gap_ms > BLOCK * 1000  # the record followed the stall past its 1st block
    with loop_watchdog.expect_violation(LOCK) as caught:
        threading.Event().wait(BLOCK)  # a new stall, a new record
    assert [v.category for v in caught] == [LOCK]


async def test_expect_violation_fails_when_nothing_blocks(loop_watchdog):
    with pytest.raises(AssertionError, match="expected the IOLoop thread to be caught blocking"):
        with loop_watchdog.expect_violation():
            await asyncio.sleep(0.01)
    with pytest.raises(AssertionError, match="in socket"):
        with loop_watchdog.expect_violation(SOCKET):
            time.sleep(BLOCK)


# --- negative: busy or idle is not blocking -------------------------------------------


async def test_cpu_busy_loop_is_only_a_slow_callback(loop_watchdog, request):
    with loop_watchdog.capture() as cap:
        deadline = time.perf_counter() + BLOCK
        n = 0
        while time.perf_counter() < deadline:
            n += 1
    await asyncio.sleep(0.05)  # let the heartbeat end the stall
    assert cap.violations == []
    slow = [n for n in cap.notes if n.kind == "slow-callback"]
    assert len(slow) == 1, cap.notes
    assert slow[0].test == request.node.nodeid
    assert slow[0].gap_ms > 150


async def test_cpu_busy_loop_calling_acquire_is_not_a_violation(loop_watchdog):
    # Uncontended acquire() calls are instantaneous: a sample that lands on one
    # must not count as waiting (the thread's CPU clock shows it computing).
    lock = threading.Lock()
    with loop_watchdog.capture() as cap:
        deadline = time.perf_counter() + BLOCK
        while time.perf_counter() < deadline:
            for _ in range(100):
                lock.acquire()
                lock.release()
    await asyncio.sleep(0.05)
    assert cap.violations == []


async def test_idle_loop_is_not_a_violation(loop_watchdog):
    with loop_watchdog.capture() as cap:
        await asyncio.sleep(0.3)
    assert cap.violations == []
    assert [n for n in cap.notes if n.kind == "slow-callback"] == []


async def test_watchdog_stays_out_of_the_way_of_a_healthy_loop(loop_watchdog):
    samples, stalls, wakeups = loop_watchdog.samples, loop_watchdog.stalls, loop_watchdog.wakeups
    await asyncio.sleep(0.3)
    assert time.monotonic() - loop_watchdog.last_heartbeat < 0.05  # the heartbeat runs
    if loop_watchdog.stalls == stalls:  # (an overloaded machine can stall even an idle loop)
        assert loop_watchdog.samples == samples  # no frame was even looked at
        # The sampler sleeps until a stall could matter: ~20-30 ms, not 5 ms.
        assert loop_watchdog.wakeups - wakeups <= 20


# --- the classifier on frames captured from helper threads ------------------------------


class _Probe:
    """Runs ``target(release, *args)`` in a helper thread and classifies its frame."""

    def __init__(self, target, *args):
        self.release = threading.Event()
        started = threading.Event()

        def run():
            started.set()
            target(self.release, *args)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        started.wait(5)

    def classify(self):
        return classify_frame(sys._current_frames()[self.thread.ident])

    def classify_when(self, until, timeout=5.0):
        deadline = time.monotonic() + timeout
        result = self.classify()
        while not until(result) and time.monotonic() < deadline:
            time.sleep(0.002)
            result = self.classify()
        return result

    def finish(self):
        self.release.set()
        self.thread.join(5)


def _frame_of(target, *args, until=lambda result: result.category != BUSY):
    """Classify ``target``'s frame once ``until(result)``; returns (result, finish)."""
    probe = _Probe(target, *args)
    return probe.classify_when(until), probe.finish


def _sleeper(release):
    while not release.is_set():
        time.sleep(0.01)


def test_classifier_sleep():
    result, finish = _frame_of(_sleeper)
    finish()
    assert result.category == SLEEP and result.detail.startswith("time.sleep()")
    assert "_sleeper" in result.location


def _fake_resolver(release, host):
    def getaddrinfo(host, port):
        release.wait(5)

    getaddrinfo(host, 27017)


def test_classifier_dns_context():
    result, finish = _frame_of(_fake_resolver, "db.example.com")
    finish()
    assert result.category == DNS
    assert "getaddrinfo" in result.detail


def _idle_event_loop(release):
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(loop.run_in_executor(None, release.wait, 5))
    finally:
        loop.close()


def test_classifier_event_loop_idle_wait_is_benign():
    probe = _Probe(_idle_event_loop)
    try:
        result = probe.classify_when(lambda r: r.category == IDLE)
        assert result.category == IDLE and not result.blocking
        assert "selectors" in result.detail
        for _ in range(5):  # and stays idle while the loop waits
            time.sleep(0.005)
            assert probe.classify().category == IDLE
    finally:
        probe.finish()


def _selector_wait(release):
    import selectors

    a, b = socket.socketpair()
    with a, b, selectors.DefaultSelector() as sel:
        sel.register(a, selectors.EVENT_READ)
        while not release.is_set():
            sel.select(0.01)


def test_classifier_selector_outside_the_loop_is_socket():
    result, finish = _frame_of(_selector_wait)
    finish()
    assert result.category == SOCKET


def _busy(release):
    x = 0
    while not release.is_set():
        x += 1


def test_classifier_busy():
    probe = _Probe(_busy)
    try:
        time.sleep(0.02)
        for _ in range(5):
            result = probe.classify()
            assert result.category == BUSY and not result.blocking, result
            time.sleep(0.005)
    finally:
        probe.finish()


def _nonblocking_receiver(release, sock):
    buf = bytearray(1)
    while not release.is_set():
        try:
            sock.recv_into(buf)
        except BlockingIOError:
            pass


def _blocking_receiver(release, sock):
    while not release.is_set():
        try:
            sock.recv_into(bytearray(1))
        except socket.timeout:
            pass


def test_a_call_on_a_non_blocking_socket_is_recognised():
    # Such a call returns at once: a loop thread found sitting at it without
    # using a CPU was waiting for the GIL, and is not reported as blocked.
    from motor.diagnostics._classify import calls_nonblocking_socket

    a, b = socket.socketpair()
    with a, b:
        a.setblocking(False)
        probe = _Probe(_nonblocking_receiver, a)
        try:
            deadline = time.monotonic() + 5
            frame = sys._current_frames()[probe.thread.ident]
            while not calls_nonblocking_socket(frame) and time.monotonic() < deadline:
                time.sleep(0.001)
                frame = sys._current_frames()[probe.thread.ident]
            assert calls_nonblocking_socket(frame)
        finally:
            probe.finish()
        a.settimeout(0.05)  # blocking, with a timeout
        result, finish = _frame_of(_blocking_receiver, a)
        try:
            assert result.category == SOCKET
            assert not calls_nonblocking_socket(sys._current_frames()[finish.__self__.thread.ident])
        finally:
            finish()


def _call_sites_sample(sock, n, self, a, x, receive, time):
    sock.recv(n)
    time.sleep(self.timeout)
    receive(1)
    a.b.c(x, y=2)
    self._pool.checkout(n).sock.sendall(b"x" * n)
    with self._lock:
        pass
    while time.monotonic() < n:
        n += 1


def test_call_site_decoding_with_and_without_column_positions():
    from motor.diagnostics import _classify as wd

    offsets, instrs = wd._instructions(_call_sites_sample.__code__)
    seen = []
    for idx, instr in enumerate(instrs):
        # Python 3.13 calls with keyword arguments through CALL_KW.
        if instr.opname in ("CALL", "CALL_KW", "BEFORE_WITH"):
            op, names = wd._call_site(_call_sites_sample.__code__, instr.offset)
            seen.append(".".join(names))
            # The fallback used under ``-X no_debug_ranges`` agrees.
            assert wd._fallback_chain(instrs, idx, op == "BEFORE_WITH") == names
    assert seen == [
        "sock.recv",
        "time.sleep",
        "receive",
        "a.b.c",
        "self._pool.checkout",
        "checkout().sock.sendall",
        "self._lock",
        "",  # the with statement's __exit__ call
        "time.monotonic",
        "time.monotonic",
    ]


# --- end to end: a run that blocks the loop fails -------------------------------------------

_INNER_TESTS = '''
import asyncio
import time

import pytest


async def test_blocks_the_loop():
    time.sleep(0.2)


async def test_clean():
    await asyncio.sleep(0.01)


@pytest.mark.timeout_seconds(0.3)
async def test_times_out():
    await asyncio.sleep(5)


def test_sync():
    pass
'''

_INNER_ASYNCGEN = '''
import asyncio
import time

_keep = []


async def test_leaves_an_async_generator_open():
    async def agen():
        try:
            yield 1
            yield 2
        finally:
            time.sleep(0.2)  # runs at session end, in loop.shutdown_asyncgens()

    gen = agen()
    _keep.append(gen)
    assert await gen.__anext__() == 1
'''


def _run_inner(tmp_path, source):
    here = Path(__file__).parent
    pkg = tmp_path / "test"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "loop_watchdog.py").write_text((here / "loop_watchdog.py").read_text())
    # The runner and watchdog plumbing only: Motor's fixtures need a server.
    conftest = (here / "conftest.py").read_text()
    (pkg / "conftest.py").write_text(conftest.partition("# --- Motor fixtures ---")[0])
    (pkg / "test_inner.py").write_text(textwrap.dedent(source))
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTEST_ADDOPTS", None)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA"]
    proc = subprocess.run(
        [*command, str(pkg / "test_inner.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, proc.stdout + proc.stderr


def test_end_to_end_violation_fails_the_test_and_the_run(tmp_path):
    code, out = _run_inner(tmp_path, _INNER_TESTS)
    assert code == 1, out
    assert "FAILED test/test_inner.py::test_blocks_the_loop" in out, out
    assert "loop watchdog: the IOLoop thread blocked during call" in out, out
    assert "PASSED test/test_inner.py::test_clean" in out, out
    assert "PASSED test/test_inner.py::test_sync" in out, out
    assert "FAILED test/test_inner.py::test_times_out" in out, out
    assert "2 failed, 2 passed" in out, out
    assert "timed out after 0.3 s" in out, out
    assert "LOOP WATCHDOG: 1 IOLoop blocking violation(s)" in out, out
    assert "sleep: time.sleep()" in out, out


def test_end_to_end_violation_outside_any_test_fails_the_run(tmp_path):
    code, out = _run_inner(tmp_path, _INNER_ASYNCGEN)
    assert "1 passed" in out, out
    assert code == 1, out
    assert "LOOP WATCHDOG: 1 IOLoop blocking violation(s)" in out, out
    assert "<session finish> [sessionfinish]" in out, out
