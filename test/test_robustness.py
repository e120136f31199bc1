"""Motor under stress and failure, against a real server.

Concurrency beyond the pool size, slow and blocked operations, timeouts,
cancellation, unreachable servers, closing, abandoned cursors, misuse from
other threads and the callback convention.

Faults are injected with the server's ``failCommand`` failpoint (SecantusDB
and mongod both have it with test commands enabled), always scoped with
``appName`` to the client under test so that no other client is disturbed,
and always switched off again in a ``finally``. Failpoints are set through a
second Motor client: a blocking PyMongo call on the loop thread would trip
the loop watchdog.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import socket
import threading
import time
import uuid

import pytest
import pymongo
from pymongo import monitoring
from pymongo.errors import (
    ConnectionFailure,
    CursorNotFound,
    DuplicateKeyError,
    ExecutionTimeout,
    NetworkTimeout,
    OperationFailure,
    ServerSelectionTimeoutError,
    WaitQueueTimeoutError,
)
from pymongo.results import InsertOneResult

import motor
from motor.runtime.greenlets import current_worker
from test.motor_fixtures import Ticker

BLOCK_MS = 1000


# -- helpers --------------------------------------------------------------------


def _app_name() -> str:
    return f"motor-robustness-{uuid.uuid4().hex[:10]}"


@contextlib.asynccontextmanager
async def fail_point(admin_client, app_name: str, commands=("find",), *, times=1, **data):
    """Configure ``failCommand`` for ``app_name``'s connections; off on exit."""
    fail_data = {"failCommands": list(commands), "appName": app_name, **data}
    await admin_client.admin.command(
        {"configureFailPoint": "failCommand", "mode": {"times": times}, "data": fail_data}
    )
    try:
        yield
    finally:
        await admin_client.admin.command({"configureFailPoint": "failCommand", "mode": "off"})


def blocking(block_ms: int = BLOCK_MS) -> dict:
    return {"blockConnection": True, "blockTimeMS": block_ms}


def _app_pools(client) -> list:
    """The application connection pools of a Motor client's PyMongo delegate."""
    return [server.pool for server in client.delegate._topology._servers.values()]


def _checked_out(client) -> tuple[int, int]:
    """(connections checked out, checkout slots taken) over the client's pools."""
    pools = _app_pools(client)
    return sum(p.active_sockets for p in pools), sum(p.requests for p in pools)


class PoolEvents(monitoring.ConnectionPoolListener):
    """Counts CMAP events; runs on the loop thread for Motor's pools."""

    def __init__(self) -> None:
        self.created = 0
        self.closed = 0
        self.checked_out = 0
        self.checked_in = 0

    def connection_created(self, event):
        self.created += 1

    def connection_closed(self, event):
        self.closed += 1

    def connection_checked_out(self, event):
        self.checked_out += 1

    def connection_checked_in(self, event):
        self.checked_in += 1

    def pool_created(self, event):
        pass

    def pool_ready(self, event):
        pass

    def pool_cleared(self, event):
        pass

    def pool_closed(self, event):
        pass

    def connection_ready(self, event):
        pass

    def connection_check_out_started(self, event):
        pass

    def connection_check_out_failed(self, event):
        pass


class CommandLog(monitoring.CommandListener):
    """Records (command name, command document) of each command started."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, dict]] = []

    def started(self, event):
        self.commands.append((event.command_name, dict(event.command)))

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


@pytest.fixture
def admin_client(make_client):
    """A Motor client for configuring failpoints and checking server state."""
    return make_client()


@pytest.fixture
def coll_name():
    return f"robust_{uuid.uuid4().hex[:8]}"


async def _fill(client, db_name, coll_name, n):
    coll = client[db_name][coll_name]
    await coll.insert_many([{"_id": i, "v": i * 7} for i in range(n)])
    return coll


# -- 1. many concurrent operations, one connection ----------------------------------


async def test_thousand_concurrent_find_one_share_one_connection_without_deadlock(
    make_client, db_name, coll_name
):
    events = PoolEvents()
    client = make_client(max_concurrent=1, event_listeners=[events])
    coll = await _fill(client, db_name, coll_name, 1000)

    ids = list(range(1000))
    # A deadlock would hang here; wait_for turns it into a failure.
    results = await asyncio.wait_for(
        asyncio.gather(*[coll.find_one({"_id": i}) for i in ids]), timeout=45
    )

    assert [doc["_id"] for doc in results] == ids
    assert all(doc["v"] == doc["_id"] * 7 for doc in results)
    # max_concurrent=1: every operation reused the one connection.
    assert events.created == 1
    assert events.checked_out == events.checked_in
    assert _checked_out(client) == (0, 0)


# -- 2. a blocked operation does not hold up the others -------------------------------


async def test_blocked_find_does_not_delay_operations_on_other_connections(
    make_client, admin_client, db_name, coll_name
):
    app_name = _app_name()
    client = make_client(appName=app_name)
    other_client = make_client()
    coll = await _fill(client, db_name, coll_name, 10)
    other_coll = other_client[db_name][coll_name]
    await other_coll.find_one()

    finished: dict[str, float] = {}

    async def timed(label, awaitable):
        result = await awaitable
        finished[label] = time.monotonic()
        return result

    async with fail_point(admin_client, app_name, ["find"], **blocking()):
        started = time.monotonic()
        blocked = asyncio.ensure_future(timed("blocked find", coll.find_one({"_id": 3})))
        # Everything else this client sends is not a find, so the failpoint
        # (times: 1) can only catch the find above; other_client's find is
        # outside the failpoint's appName.
        others = await asyncio.gather(
            timed("insert", coll.insert_one({"_id": 100})),
            timed("count", coll.count_documents({"_id": {"$lt": 10}})),
            timed("distinct", coll.distinct("v")),
            timed("ping", client.admin.command("ping")),
            timed("update", coll.update_one({"_id": 1}, {"$set": {"w": 1}})),
            timed("other client's find", other_coll.find_one({"_id": 4})),
        )
        assert not blocked.done()
        blocked_doc = await blocked

    assert blocked_doc == {"_id": 3, "v": 21}
    assert others[0].inserted_id == 100
    assert others[1] == 10
    assert sorted(others[2]) == [i * 7 for i in range(10)]
    assert others[4].modified_count == 1
    assert others[5] == {"_id": 4, "v": 28}
    assert finished["blocked find"] - started >= BLOCK_MS / 1000 - 0.05
    for label, when in finished.items():
        if label != "blocked find":
            assert when < finished["blocked find"], label
            assert when - started < 0.8, label


# -- 3. max_wait_time ----------------------------------------------------------------


async def test_max_wait_time_raises_motor_pool_timeout(make_client, admin_client, db_name, coll_name):
    app_name = _app_name()
    # retryReads=False: PyMongo retries a read once after a checkout timeout,
    # which would make the wait twice max_wait_time.
    client = make_client(max_concurrent=1, max_wait_time=0.2, appName=app_name, retryReads=False)
    coll = await _fill(client, db_name, coll_name, 5)
    ticker = Ticker()

    async with fail_point(admin_client, app_name, ["find"], **blocking()):
        blocked = asyncio.ensure_future(coll.find_one({"_id": 1}))
        started = time.monotonic()
        with pytest.raises(motor.MotorPoolTimeout) as info:
            await coll.find_one({"_id": 2})
        waited = time.monotonic() - started
        assert not blocked.done()
        assert await blocked == {"_id": 1, "v": 7}

    assert isinstance(info.value, ConnectionFailure)
    assert isinstance(info.value, WaitQueueTimeoutError)
    assert "max_wait_time" in str(info.value)
    assert 0.18 <= waited < 0.7
    assert ticker.stop() >= 5
    # The pool is usable again once the blocked operation is done.
    assert await coll.find_one({"_id": 2}) == {"_id": 2, "v": 14}
    assert _checked_out(client) == (0, 0)


async def test_max_wait_time_applies_to_writes_too(make_client, admin_client, db_name, coll_name):
    app_name = _app_name()
    client = make_client(max_concurrent=1, max_wait_time=0.2, appName=app_name, retryWrites=False)
    coll = await _fill(client, db_name, coll_name, 1)

    async with fail_point(admin_client, app_name, ["find"], **blocking()):
        blocked = asyncio.ensure_future(coll.find_one())
        with pytest.raises(motor.MotorPoolTimeout):
            await coll.insert_one({"_id": "late"})
        await blocked
    assert await coll.count_documents({"_id": "late"}) == 0


# -- 4. socket timeouts and client-side operation timeouts (CSOT) ----------------------


async def test_socket_timeout_ms_raises_network_timeout_while_loop_runs(
    make_client, admin_client, db_name, coll_name
):
    app_name = _app_name()
    # retryReads=False: otherwise PyMongo retries the timed-out read on a new
    # connection, which the (times: 1) failpoint no longer blocks.
    client = make_client(socketTimeoutMS=200, appName=app_name, retryReads=False)
    coll = await _fill(client, db_name, coll_name, 1)
    ticker = Ticker()

    async with fail_point(admin_client, app_name, ["find"], **blocking()):
        started = time.monotonic()
        with pytest.raises(NetworkTimeout) as info:
            await coll.find_one()
        waited = time.monotonic() - started

    assert type(info.value) is NetworkTimeout
    assert "socketTimeoutMS: 200" in str(info.value)
    assert 0.18 <= waited < 0.8
    assert ticker.stop() >= 8
    # The timed-out connection was discarded; the next operation gets a new one.
    assert await coll.find_one() == {"_id": 0, "v": 0}
    assert _checked_out(client) == (0, 0)


def _assert_csot_timeout(exc: BaseException, is_secantus: bool) -> None:
    # The server blocks before running the command, so what fires first is
    # PyMongo's own deadline on the socket read: NetworkTimeout. (A server
    # that enforced the maxTimeMS PyMongo derives from timeoutMS during the
    # block could answer MaxTimeMSExpired first: ExecutionTimeout.)
    if is_secantus:
        assert type(exc) is NetworkTimeout
    else:
        assert isinstance(exc, (NetworkTimeout, ExecutionTimeout))
    assert exc.timeout is True
    assert "timeoutMS: 200" in str(exc)


async def test_client_timeout_ms_raises_network_timeout_for_blocked_find(
    make_client, admin_client, db_name, coll_name, is_secantus
):
    app_name = _app_name()
    client = make_client(timeoutMS=200, appName=app_name)
    coll = await _fill(client, db_name, coll_name, 1)
    ticker = Ticker()

    async with fail_point(admin_client, app_name, ["find"], **blocking()):
        started = time.monotonic()
        with pytest.raises(ConnectionFailure) as info:
            await coll.find_one()
        waited = time.monotonic() - started

    _assert_csot_timeout(info.value, is_secantus)
    assert 0.18 <= waited < 0.8
    assert ticker.stop() >= 8
    assert await coll.find_one() == {"_id": 0, "v": 0}


async def test_pymongo_timeout_context_applies_to_motor_operations(
    make_client, admin_client, db_name, coll_name, is_secantus
):
    app_name = _app_name()
    client = make_client(appName=app_name)
    coll = await _fill(client, db_name, coll_name, 1)
    ticker = Ticker()

    async with fail_point(admin_client, app_name, ["find"], **blocking()):
        started = time.monotonic()
        with pytest.raises(ConnectionFailure) as info:
            with pymongo.timeout(0.2):
                await coll.find_one()
        waited = time.monotonic() - started

    _assert_csot_timeout(info.value, is_secantus)
    assert 0.18 <= waited < 0.8
    assert ticker.stop() >= 8
    # Outside the context there is no deadline any more.
    assert await coll.find_one() == {"_id": 0, "v": 0}


async def test_timeout_ms_raises_execution_timeout_when_server_reports_max_time_expired(
    make_client, admin_client, db_name, coll_name
):
    client = make_client(timeoutMS=5000)
    coll = await _fill(client, db_name, coll_name, 1)
    # maxTimeAlwaysTimeOut: the server fails the next operation carrying a
    # maxTimeMS (which timeoutMS makes PyMongo send) with MaxTimeMSExpired.
    await admin_client.admin.command(
        {"configureFailPoint": "maxTimeAlwaysTimeOut", "mode": {"times": 1}}
    )
    try:
        with pytest.raises(ExecutionTimeout) as info:
            await coll.find_one()
    finally:
        await admin_client.admin.command({"configureFailPoint": "maxTimeAlwaysTimeOut", "mode": "off"})
    assert type(info.value) is ExecutionTimeout
    assert info.value.code == 50
    assert info.value.timeout is True


# -- 5. cancellation -------------------------------------------------------------------


async def test_cancelled_operation_returns_its_connection_to_the_pool(
    make_client, admin_client, db_name, coll_name
):
    app_name = _app_name()
    events = PoolEvents()
    client = make_client(max_concurrent=1, appName=app_name, event_listeners=[events])
    coll = await _fill(client, db_name, coll_name, 5)

    async with fail_point(admin_client, app_name, ["find"], **blocking(500)):
        started = time.monotonic()
        task = asyncio.ensure_future(coll.find_one({"_id": 1}))
        await asyncio.sleep(0.05)
        assert _checked_out(client) == (1, 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # Cancelling is immediate for the caller...
        assert time.monotonic() - started < 0.3
        # ...and the operation's connection comes back once the server answers.
        doc = await asyncio.wait_for(coll.find_one({"_id": 2}), timeout=2)
        assert doc == {"_id": 2, "v": 14}
        assert time.monotonic() - started < 0.5 + 1.0

    assert _checked_out(client) == (0, 0)
    assert events.checked_out == events.checked_in
    # Neither leaked nor thrown away: the one connection was reused.
    assert events.created == 1
    assert events.closed == 0


async def test_cancelled_wait_for_a_connection_does_not_leak_a_slot(
    make_client, admin_client, db_name, coll_name
):
    app_name = _app_name()
    events = PoolEvents()
    client = make_client(max_concurrent=1, appName=app_name, event_listeners=[events])
    coll = await _fill(client, db_name, coll_name, 5)

    async with fail_point(admin_client, app_name, ["find"], **blocking(500)):
        holder = asyncio.ensure_future(coll.find_one({"_id": 1}))
        waiter = asyncio.ensure_future(coll.find_one({"_id": 2}))  # queued in the pool
        await asyncio.sleep(0.05)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert await holder == {"_id": 1, "v": 7}

    doc = await asyncio.wait_for(coll.find_one({"_id": 3}), timeout=2)
    assert doc == {"_id": 3, "v": 21}
    assert _checked_out(client) == (0, 0)
    assert events.checked_out == events.checked_in
    assert events.created == 1


# -- 6. unreachable server -----------------------------------------------------------


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_unreachable_server_raises_server_selection_timeout_while_loop_runs(make_client):
    port = _closed_port()
    client = make_client(
        f"mongodb://127.0.0.1:{port}/?directConnection=true", serverSelectionTimeoutMS=300
    )
    ticker = Ticker()
    started = time.monotonic()
    with pytest.raises(ServerSelectionTimeoutError) as info:
        await client.test.things.find_one()
    waited = time.monotonic() - started

    assert f"127.0.0.1:{port}" in str(info.value)
    # PyMongo re-checks the topology every 0.5 s, so the error comes at the
    # first check after serverSelectionTimeoutMS.
    assert 0.29 <= waited < 2.0
    assert ticker.stop() >= 10
    assert not client.connected


async def test_open_on_unreachable_server_raises_server_selection_timeout(make_client):
    client = make_client(
        f"mongodb://127.0.0.1:{_closed_port()}/?directConnection=true", serverSelectionTimeoutMS=300
    )
    ticker = Ticker()
    with pytest.raises(ServerSelectionTimeoutError):
        await client.open()
    assert ticker.stop() >= 10


# -- 7. closing ------------------------------------------------------------------------


def _tcp_connections_to(port: int) -> dict[str, str]:
    """This process's TCP sockets whose remote port is ``port``: local addr -> inode."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as lines:
                next(lines)
                for line in lines:
                    fields = line.split()
                    local, remote, inode = fields[1], fields[2], fields[9]
                    if int(remote.rsplit(":", 1)[1], 16) == port and inode in inodes:
                        found[local] = inode
        except OSError:
            continue
    return found


def _socket_inode(fd: int) -> str | None:
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None
    return target[len("socket:[") : -1] if target.startswith("socket:[") else None


def _open_socket_inodes() -> set[str]:
    inodes = (_socket_inode(int(fd)) for fd in os.listdir("/proc/self/fd"))
    return {inode for inode in inodes if inode is not None}


async def test_closed_client_leaves_no_sockets_open(make_client):
    if not os.path.exists("/proc/self/fd") or not os.path.exists("/proc/net/tcp"):
        pytest.skip("needs Linux /proc to list this process's sockets")
    probe = make_client()
    await probe.open()
    port = probe.address[1]
    await probe.close()

    before = _tcp_connections_to(port)
    client = make_client(max_concurrent=4)
    coll = client.test_robustness.things
    await asyncio.gather(*[coll.find_one() for _ in range(8)])
    app_inodes = {
        _socket_inode(conn.conn.sock.fileno()) for pool in _app_pools(client) for conn in pool.conns
    }
    assert len(app_inodes) >= 2 and None not in app_inodes
    mine = set(_tcp_connections_to(port).items()) - set(before.items())
    # The application connections, plus the monitor's.
    assert app_inodes < {inode for _, inode in mine}

    await client.close()
    for _ in range(2):
        await asyncio.sleep(0)
    # Motor's own connections are closed at once...
    assert app_inodes & _open_socket_inodes() == set()

    # ...and PyMongo's monitor threads close theirs when they next wake up.
    deadline = time.monotonic() + 3
    while mine & set(_tcp_connections_to(port).items()) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert mine & set(_tcp_connections_to(port).items()) == set()


# -- 8. abandoned cursors --------------------------------------------------------------


async def _open_cursors(admin_client) -> int:
    status = await admin_client.admin.command("serverStatus")
    return status["metrics"]["cursor"]["open"]["total"]


async def test_abandoned_cursor_is_killed_on_the_server(make_client, admin_client, db_name, coll_name):
    commands = CommandLog()
    client = make_client(event_listeners=[commands])
    await _fill(client, db_name, coll_name, 10)
    baseline = await _open_cursors(admin_client)

    cursor = client[db_name][coll_name].find().sort("_id").batch_size(2)
    assert await cursor.next() == {"_id": 0, "v": 0}
    cursor_id = cursor.cursor_id
    assert cursor_id
    assert await _open_cursors(admin_client) == baseline + 1

    del cursor
    gc.collect()

    # The client's periodic task (every second, on the loop) sends killCursors.
    deadline = time.monotonic() + 5
    while await _open_cursors(admin_client) > baseline and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert await _open_cursors(admin_client) == baseline

    kills = [cmd for name, cmd in commands.commands if name == "killCursors"]
    assert kills and kills[0]["cursors"] == [cursor_id]
    with pytest.raises(CursorNotFound) as info:
        await admin_client[db_name].command("getMore", cursor_id, collection=coll_name)
    assert info.value.code == 43


# -- 9. thread affinity ----------------------------------------------------------------


def _in_thread(fn):
    """Run ``fn`` in a new thread; a Future for what it returned or raised."""
    loop = asyncio.get_running_loop()
    outcome = loop.create_future()

    def run():
        try:
            result = ("returned", fn())
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            result = ("raised", exc)
        loop.call_soon_threadsafe(outcome.set_result, result)

    threading.Thread(target=run, name="not-the-loop").start()
    return outcome


async def test_io_method_from_another_thread_raises_runtime_error(make_client, db_name, coll_name):
    client = make_client()
    coll = await _fill(client, db_name, coll_name, 3)
    assert await coll.find_one({"_id": 1}) == {"_id": 1, "v": 7}

    calls = {
        "find_one": lambda: coll.find_one({}),
        "insert_one": lambda: coll.insert_one({"_id": "from thread"}),
        "to_list": lambda: coll.find().to_list(None),
        "command": lambda: client.admin.command("ping"),
    }
    for name, call in calls.items():
        kind, value = await _in_thread(call)
        assert kind == "raised", f"{name} returned {value!r} on another thread"
        assert isinstance(value, RuntimeError), name
        message = str(value)
        assert "must be called on the IOLoop's thread" in message, message
        assert "not-the-loop" in message

    # Nothing was started, and the client still works on its own thread.
    assert await coll.count_documents({}) == 3
    assert await coll.find_one({"_id": 2}) == {"_id": 2, "v": 14}


# -- 10. callbacks ----------------------------------------------------------------------


async def test_callback_that_is_not_callable_raises_type_error_at_call_time(
    make_client, db_name, coll_name
):
    client = make_client()
    coll = client[db_name][coll_name]
    with pytest.raises(TypeError, match="callback"):
        coll.insert_one({"_id": 1}, callback="not callable")
    with pytest.raises(TypeError, match="callback"):
        coll.find_one({}, callback=42)
    with pytest.raises(TypeError, match="callback"):
        coll.find().to_list(None, callback=object())
    with pytest.raises(TypeError, match="callback"):
        client.open(callback=1)
    # The refused insert never ran.
    assert await coll.count_documents({}) == 0


async def test_operation_error_reaches_callback_and_future_alike(make_client, db_name, coll_name):
    client = make_client()
    coll = client[db_name][coll_name]
    await coll.insert_one({"_id": 1})
    loop = asyncio.get_running_loop()

    def outcome_callback():
        future = loop.create_future()

        def callback(result, error):
            future.set_result((result, error, threading.get_ident(), current_worker()))

        return future, callback

    # Error: callback(None, error).
    future, callback = outcome_callback()
    assert coll.insert_one({"_id": 1}, callback=callback) is None
    result, error, thread_id, worker = await asyncio.wait_for(future, 5)
    assert result is None
    assert type(error) is DuplicateKeyError
    assert error.code == 11000
    # Delivered by the loop, on its thread, outside Motor's workers.
    assert thread_id == threading.get_ident()
    assert worker is None

    # The same error through the Future.
    with pytest.raises(DuplicateKeyError) as info:
        await coll.insert_one({"_id": 1})
    assert info.value.code == error.code
    assert isinstance(info.value, OperationFailure)

    # Success: callback(result, None).
    future, callback = outcome_callback()
    coll.insert_one({"_id": 2}, callback=callback)
    result, error, _, _ = await asyncio.wait_for(future, 5)
    assert error is None
    assert isinstance(result, InsertOneResult) and result.inserted_id == 2

    # A cursor method follows the same convention.
    future, callback = outcome_callback()
    coll.find({"$invalidOperator": 1}).to_list(None, callback=callback)
    result, error, _, _ = await asyncio.wait_for(future, 5)
    assert result is None
    assert isinstance(error, OperationFailure)
    with pytest.raises(OperationFailure):
        await coll.find({"$invalidOperator": 1}).to_list(None)
