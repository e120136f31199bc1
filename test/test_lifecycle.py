"""The lifecycle of clients, loops and workers, against a real server.

What a client leaves behind once the application is done with it: nothing.
A call's objects are freed when the caller drops them (a dropped cursor is
killed on the server), ``close()`` takes effect at once whether the loop is
running, stopped or closed, a client dropped without ``close()`` closes its
connections when collected, and a closed loop is freed with Motor's runtime
and workers. Also what the server and the application see of Motor: the
handshake names Motor, the unclosed-client warning names the Motor class.

Server-side connections are counted per client through ``currentOp`` with
``idleConnections`` (each test client has its own ``appName``); open cursors
through ``serverStatus``.

Several tests make loops of their own (a fresh loop has a fresh runtime, so
its first calls start new workers): they are plain functions, run while the
session loop is stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import os
import time
import uuid
import warnings
import weakref

import pytest
import tornado
from tornado.platform.asyncio import AsyncIOLoop
from bson.codec_options import CodecOptions
from pymongo import monitoring
from pymongo.driver_info import DriverInfo
from pymongo.errors import InvalidOperation

import motor
from motor.motor_asyncio import AsyncIOMotorClient
from motor.motor_tornado import MotorClient
from motor.runtime.greenlets import LoopRuntime
from test.motor_fixtures import off_loop, sync_client, test_uri

# How long PyMongo's monitor threads may take to notice that they were told
# to stop and close their connections (they check every 0.5 s).
MONITOR_STOP_SECONDS = 5.0


# -- helpers ---------------------------------------------------------------------


def _app_name() -> str:
    return f"motor-lifecycle-{uuid.uuid4().hex[:10]}"


def _server_connections(app_name: str) -> list[dict]:
    """The server's connections from clients named ``app_name`` (blocking)."""
    with sync_client() as probe:
        reply = probe.admin.command({"currentOp": 1, "$all": True, "idleConnections": True})
    return [
        op
        for op in reply["inprog"]
        if op.get("clientMetadata", {}).get("application", {}).get("name") == app_name
    ]


def _wait_for_no_connections(app_name: str, timeout: float = MONITOR_STOP_SECONDS) -> int:
    """Poll the server until ``app_name`` has no connection left; how many are left."""
    deadline = time.monotonic() + timeout
    while True:
        left = len(_server_connections(app_name))
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def _socket_inode(fd: int) -> str | None:
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None
    return target if target.startswith("socket:[") else None


def _open_socket_inodes() -> set[str]:
    inodes = (_socket_inode(int(fd)) for fd in os.listdir("/proc/self/fd"))
    return {inode for inode in inodes if inode is not None}


def _app_sockets(client) -> list:
    """The IOStreamSockets of the client's idle application connections."""
    servers = client.delegate._topology._servers.values()
    return [conn.conn.sock for server in servers for conn in server.pool.conns]


def _loop_registered_fds(loop) -> set[int]:
    return set(loop._selector.get_map().keys()) if not loop.is_closed() else set()


needs_proc = pytest.mark.skipif(
    not os.path.exists("/proc/self/fd"), reason="needs Linux /proc to list this process's sockets"
)


@contextlib.contextmanager
def own_loop():
    """A new asyncio loop (and so a new Motor runtime), closed on exit."""
    loop = asyncio.new_event_loop()
    try:
        yield loop
    finally:
        if not loop.is_closed():
            loop.close()


class Document(dict):
    """A document class whose instances can be weakly referenced."""


class CommandLog(monitoring.CommandListener):
    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event):
        self.names.append(event.command_name)

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def _open_cursors() -> int:
    with sync_client() as probe:
        return probe.admin.command("serverStatus")["metrics"]["cursor"]["open"]["total"]


@pytest.fixture
def collection_name(db_name):
    with sync_client() as setup:
        setup[db_name].things.insert_many([{"_id": i, "v": i} for i in range(10)])
    return "things"


# -- a call's objects are freed when the caller drops them -------------------------


def test_dropped_cursor_is_killed_on_server(db_name, collection_name):
    # The cursor's first batch is the first call of a new worker (a new
    # loop has a new runtime): that call's closure must not outlive it.
    baseline = _open_cursors()
    commands = CommandLog()
    with own_loop() as loop:
        client = AsyncIOMotorClient(test_uri(), io_loop=loop, event_listeners=[commands])
        cursor = client[db_name][collection_name].find().sort("_id").batch_size(2)
        assert loop.run_until_complete(cursor.next()) == {"_id": 0, "v": 0}
        assert cursor.cursor_id
        assert _open_cursors() == baseline + 1
        del cursor
        gc.collect()

        async def wait_for_kill() -> None:
            # The client's periodic task (every second, on the loop) sends killCursors.
            deadline = time.monotonic() + 5
            while "killCursors" not in commands.names and time.monotonic() < deadline:
                await asyncio.sleep(0.05)

        loop.run_until_complete(wait_for_kill())
        client.close()
    assert "killCursors" in commands.names
    assert _open_cursors() == baseline


def test_results_of_a_burst_of_concurrent_calls_are_collected(db_name, collection_name):
    options = CodecOptions(document_class=Document)
    with own_loop() as loop:
        client = AsyncIOMotorClient(test_uri(), io_loop=loop)
        coll = client[db_name].get_collection(collection_name, codec_options=options)

        async def burst() -> list:
            # Twenty calls at once: each starts a worker of its own.
            lists = await asyncio.gather(*[coll.find().to_list(None) for _ in range(20)])
            assert all(len(docs) == 10 for docs in lists)
            return [weakref.ref(docs[0]) for docs in lists]

        refs = loop.run_until_complete(burst())
        # Let the loop drop what it held for its last callbacks.
        loop.run_until_complete(asyncio.sleep(0))
        gc.collect()
        alive = [i for i, ref in enumerate(refs) if ref() is not None]
        assert len(LoopRuntime.for_loop(loop)._idle) >= 20  # the workers are still there
        client.close()
    assert alive == []


# -- close() takes effect at once --------------------------------------------------


def _check_closed_at_once(client, app_sockets: list, app_inodes: set, loop) -> None:
    """What must hold the moment close() has returned."""
    assert client.delegate._closed and client.delegate._topology._closed
    assert all(sock._closed for sock in app_sockets)
    assert app_inodes & _open_socket_inodes() == set()
    fds_in_loop = _loop_registered_fds(loop)
    assert not any(sock._fd in fds_in_loop and sock._fd >= 0 for sock in app_sockets)


@needs_proc
async def test_close_on_a_running_loop_takes_effect_at_once(event_loop):
    app_name = _app_name()
    commands = CommandLog()
    client = AsyncIOMotorClient(
        test_uri(), io_loop=event_loop, appName=app_name, event_listeners=[commands]
    )
    coll = client.motor_test_lifecycle.things
    await asyncio.gather(*[coll.find_one() for _ in range(4)])
    app_sockets = _app_sockets(client)
    inodes = [_socket_inode(sock.fileno()) for sock in app_sockets]
    assert app_sockets and None not in inodes
    assert len(await off_loop(_server_connections, app_name)) >= 2  # app + monitor

    goodbye = client.close()
    # With the loop running, one idle connection ends the client's server
    # sessions in the background, then closes; every other one is closed.
    carrying_goodbye = [sock for sock in app_sockets if not sock._closed]
    assert len(carrying_goodbye) <= 1
    _check_closed_at_once(
        client,
        [sock for sock in app_sockets if sock not in carrying_goodbye],
        {inode for sock, inode in zip(app_sockets, inodes) if sock not in carrying_goodbye},
        event_loop,
    )
    with pytest.raises(InvalidOperation, match="after close"):
        await coll.find_one()
    await asyncio.wait_for(goodbye, 5)  # awaiting is optional: it waits for the goodbye
    assert all(sock._closed for sock in app_sockets)
    assert "endSessions" in commands.names
    assert await off_loop(_wait_for_no_connections, app_name) == 0


@needs_proc
def test_close_on_a_stopped_loop_takes_effect_at_once(io_loop):
    app_name = _app_name()
    client = MotorClient(test_uri(), io_loop=io_loop, appName=app_name)
    io_loop.run_sync(lambda: client.motor_test_lifecycle.things.find_one())
    app_sockets = _app_sockets(client)
    app_inodes = {_socket_inode(sock.fileno()) for sock in app_sockets}
    assert app_sockets and None not in app_inodes
    assert len(_server_connections(app_name)) >= 2

    client.close()  # the loop is not running: nothing may wait for it
    _check_closed_at_once(client, app_sockets, app_inodes, io_loop.asyncio_loop)
    assert _wait_for_no_connections(app_name) == 0
    with pytest.raises(InvalidOperation, match="after close"):
        io_loop.run_sync(lambda: client.motor_test_lifecycle.things.find_one())


@needs_proc
def test_close_after_the_loop_closed_takes_effect_at_once():
    # A synchronous test fixture's teardown: the loop is gone already.
    app_name = _app_name()
    with own_loop() as loop:
        client = AsyncIOMotorClient(test_uri(), io_loop=loop, appName=app_name)
        loop.run_until_complete(client.motor_test_lifecycle.things.find_one())
        app_sockets = _app_sockets(client)
        app_inodes = {_socket_inode(sock.fileno()) for sock in app_sockets}
        assert app_sockets and None not in app_inodes
        assert len(_server_connections(app_name)) >= 2
    assert loop.is_closed()

    client.close()
    _check_closed_at_once(client, app_sockets, app_inodes, loop)
    assert _wait_for_no_connections(app_name) == 0


async def test_close_with_a_callback_calls_it_once_closed(event_loop):
    client = AsyncIOMotorClient(test_uri(), io_loop=event_loop)
    await client.motor_test_lifecycle.things.find_one()
    outcome = event_loop.create_future()
    assert client.close(callback=lambda result, error: outcome.set_result((result, error))) is None
    assert await asyncio.wait_for(outcome, 5) == (None, None)
    with pytest.raises(InvalidOperation):
        await client.motor_test_lifecycle.things.find_one()


async def test_close_before_first_use_leaves_the_client_unusable(event_loop):
    client = AsyncIOMotorClient(test_uri(), io_loop=event_loop)
    await client.close()
    with pytest.raises(InvalidOperation, match="after close"):
        await client.motor_test_lifecycle.things.find_one()


async def test_close_of_an_auto_encrypting_client_takes_effect_at_once(event_loop, db_name):
    pytest.importorskip("pymongocrypt", reason="pymongo[encryption] (pymongocrypt) is not installed")
    from bson.binary import STANDARD
    from pymongo.encryption import Algorithm
    from pymongo.encryption_options import AutoEncryptionOpts

    from motor.motor_asyncio import AsyncIOMotorClientEncryption

    kms = {"local": {"key": os.urandom(96)}}
    key_vault = f"{db_name}.datakeys"
    plain = AsyncIOMotorClient(test_uri(), io_loop=event_loop)
    encryption = AsyncIOMotorClientEncryption(
        kms, key_vault, plain, CodecOptions(uuid_representation=STANDARD)
    )
    try:
        key = await encryption.create_data_key("local")
        value = await encryption.encrypt(
            "secret", Algorithm.AEAD_AES_256_CBC_HMAC_SHA_512_Deterministic, key_id=key
        )
        await plain[db_name].things.insert_one({"_id": 1, "x": value})
    finally:
        await encryption.close()
        plain.close()

    app_name = _app_name()
    client = AsyncIOMotorClient(
        test_uri(),
        io_loop=event_loop,
        appName=app_name,
        auto_encryption_opts=AutoEncryptionOpts(kms, key_vault, bypass_auto_encryption=True),
    )
    # Decrypting reads the key vault through PyMongo's internal client,
    # which then holds a server session of its own.
    assert await client[db_name].things.find_one() == {"_id": 1, "x": "secret"}
    key_vault_client = client.delegate._encrypter._internal_client
    assert key_vault_client is not None

    await client.close()  # its own endSessions would have waited on the loop thread
    assert key_vault_client._closed and client.delegate._closed
    assert await off_loop(_wait_for_no_connections, app_name) == 0


# -- dropped clients and closed loops are collected --------------------------------


def test_clients_dropped_without_close_are_collected_with_their_loops():
    app_name = _app_name()
    clients, loops, runtimes = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # the point of this test
        for _ in range(20):
            loop = asyncio.new_event_loop()
            client = AsyncIOMotorClient(test_uri(), io_loop=loop, appName=app_name)
            loop.run_until_complete(client.motor_test_lifecycle.things.find_one())
            clients.append(weakref.ref(client))
            loops.append(weakref.ref(loop))
            runtimes.append(weakref.ref(client._runtime))
            loop.close()
            del client, loop
        # Tornado keeps a closed loop's IOLoop wrapper until it makes the
        # next one: one more loop, used by Motor, lets the last go.
        with own_loop() as last:
            other = AsyncIOMotorClient(test_uri(), io_loop=last)
            last.run_until_complete(other.motor_test_lifecycle.things.find_one())
            other.close()
        gc.collect()
    assert [ref() for ref in clients] == [None] * 20
    assert [ref() for ref in runtimes] == [None] * 20
    assert [ref() for ref in loops] == [None] * 20
    assert _wait_for_no_connections(app_name) == 0


async def test_clients_dropped_on_a_running_loop_close_their_connections(event_loop):
    app_name = _app_name()
    clients = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        for _ in range(10):
            client = AsyncIOMotorClient(test_uri(), io_loop=event_loop, appName=app_name)
            coll = client.motor_test_lifecycle.things
            await asyncio.gather(*[coll.find_one() for _ in range(3)])
            clients.append(weakref.ref(client))
            del client, coll
        gc.collect()
    assert [ref() for ref in clients] == [None] * 10
    assert await off_loop(_wait_for_no_connections, app_name) == 0


_HELD: contextvars.ContextVar = contextvars.ContextVar("motor_test_lifecycle_held")


def test_a_closed_loop_is_freed_when_a_callers_context_held_its_client():
    # A call's context (copied into its worker) may hold the client itself,
    # as a bound session does: the idle worker must not keep it.
    with own_loop() as loop:
        client = AsyncIOMotorClient(test_uri(), io_loop=loop)

        async def call_with_client_in_context() -> None:
            _HELD.set(client)
            await client.motor_test_lifecycle.things.find_one()

        loop.run_until_complete(call_with_client_in_context())
        client.close()
        client_ref, runtime_ref = weakref.ref(client), weakref.ref(client._runtime)
        del client
    gc.collect()
    # (The loop itself Tornado may keep until it wraps another one, see
    # test_clients_dropped_without_close_are_collected_with_their_loops.)
    assert client_ref() is None and runtime_ref() is None


@pytest.mark.parametrize("flavour", ["asyncio", "tornado"])
def test_unclosed_client_warning_and_repr_name_the_motor_class(flavour):
    io_loop = AsyncIOLoop()  # a Tornado IOLoop over a new asyncio loop
    try:
        # The lines that make a client may hold a password: the warning
        # shows where they are, not what they say.
        if flavour == "asyncio":
            client = AsyncIOMotorClient(test_uri(), io_loop=io_loop.asyncio_loop, appName="s3cr3t")
        else:
            client = MotorClient(test_uri(), io_loop=io_loop, appName="s3cr3t")
        name = type(client).__name__
        shown = repr(client)
        io_loop.run_sync(lambda: client.motor_test_lifecycle.things.find_one())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del client
            gc.collect()
    finally:
        io_loop.close()
    assert shown.startswith(f"{name}(MongoClient(")
    messages = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert messages, "no ResourceWarning for an unclosed client"
    # (The stack it shows may mention Motor's internals; its words may not.)
    # PyMongo's prefix, so that filters written for PyMongo and Motor 3 apply.
    assert all(m.startswith(f"Unclosed MongoClient of a {name}, which was never closed.")
               for m in messages), messages
    assert all(f"Call {name}.close()" in m for m in messages), messages
    assert all("test_lifecycle.py" in m and "s3cr3t" not in m for m in messages), messages


# -- the handshake names Motor -----------------------------------------------------


def _handshakes(app_name: str) -> list[tuple[str, str, str]]:
    """(driver name, driver version, platform) of each of ``app_name``'s connections."""
    ops = _server_connections(app_name)
    assert ops, f"no connection from {app_name}"
    return [
        (
            op["clientMetadata"]["driver"]["name"],
            op["clientMetadata"]["driver"]["version"],
            op["clientMetadata"].get("platform", ""),
        )
        for op in ops
    ]


@pytest.mark.parametrize("flavour", ["asyncio", "tornado", "spec"])
async def test_handshake_names_motor(io_loop, flavour):
    app_name = _app_name()
    if flavour == "asyncio":
        client = AsyncIOMotorClient(test_uri(), io_loop=io_loop.asyncio_loop, appName=app_name)
        platform = "asyncio"
    elif flavour == "tornado":
        client = MotorClient(test_uri(), io_loop=io_loop, appName=app_name)
        platform = f"Tornado {tornado.version}"
    else:
        client = motor.MotorClient(test_uri(), io_loop=io_loop, appName=app_name)
        platform = f"Tornado {tornado.version}"
    try:
        await client.motor_test_lifecycle.things.find_one()
        handshakes = await off_loop(_handshakes, app_name)
    finally:
        client.close()
    # Application and monitoring connections alike.
    for name, version, server_platform in handshakes:
        assert name.split("|")[-1] == "Motor"
        assert version.split("|")[-1] == motor.version
        assert server_platform.endswith(f"|{platform}")


async def test_handshake_adds_the_applications_driver_info_after_motors(io_loop):
    app_name = _app_name()
    client = AsyncIOMotorClient(
        test_uri(),
        io_loop=io_loop.asyncio_loop,
        appName=app_name,
        driver=DriverInfo("SomeODM", "2.5", "ODM platform"),
    )
    try:
        await client.motor_test_lifecycle.things.find_one()
        handshakes = await off_loop(_handshakes, app_name)
    finally:
        client.close()
    # Application and monitoring connections alike.
    for name, version, platform in handshakes:
        assert name.split("|")[-2:] == ["Motor", "SomeODM"]
        assert version.split("|")[-2:] == [motor.version, "2.5"]
        assert platform.endswith("|asyncio|ODM platform")


def test_driver_info_of_the_wrong_type_is_refused():
    with pytest.raises(TypeError, match="DriverInfo"):
        AsyncIOMotorClient(test_uri(), driver={"name": "SomeODM"})
