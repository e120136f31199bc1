"""TLS through Motor's IOStream connections, against a TLS-only SecantusDB.

The server (started once for the module) presents a certificate for
``localhost`` and ``127.0.0.1`` signed by a test CA. The loop watchdog fails
the run if any TLS handshake happened on the loop thread in blocking mode.
"""

from __future__ import annotations

import asyncio
import os
import shutil

import pytest
from pymongo import monitoring
from pymongo.errors import ServerSelectionTimeoutError
from tornado.iostream import SSLIOStream

from motor.runtime.greenlets import LoopRuntime

from test.servers import SecantusServer, ServerStartError, make_test_certificates, secantusd_path

HOSTS = ["localhost", "127.0.0.1"]


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    if not (shutil.which("openssl") or os.path.exists("/usr/bin/openssl")):
        pytest.skip("the openssl command is needed to make test certificates")
    return make_test_certificates(tmp_path_factory.mktemp("tls-certificates"))


@pytest.fixture(scope="module")
def tls_server(certificates):
    if not os.path.exists(secantusd_path()):
        pytest.skip(f"no SecantusDB launcher at {secantusd_path()} to start a TLS server")
    server = SecantusServer(
        tls_cert_file=certificates["server_cert"],
        tls_key_file=certificates["server_key"],
        tls_ca_file=certificates["ca"],
    )
    try:
        server.start()
    except ServerStartError as exc:
        pytest.fail(f"could not start a TLS SecantusDB: {exc}")
    yield server
    server.stop()


def tls_uri(server, host: str) -> str:
    return f"mongodb://{host}:{server.port}/?directConnection=true"


def _app_connections(client) -> list:
    pools = [server.pool for server in client.delegate._topology._servers.values()]
    return [conn for pool in pools for conn in pool.conns]


class ConnectionsCreated(monitoring.ConnectionPoolListener):
    def __init__(self) -> None:
        self.created = 0

    def connection_created(self, event):
        self.created += 1

    def _ignore(self, event):
        pass

    pool_created = pool_ready = pool_cleared = pool_closed = _ignore
    connection_ready = connection_closed = _ignore
    connection_check_out_started = connection_check_out_failed = _ignore
    connection_checked_out = connection_checked_in = _ignore


@pytest.mark.parametrize("host", HOSTS)
async def test_tls_client_trusting_test_ca_inserts_and_finds(make_client, tls_server, certificates, host):
    client = make_client(
        tls_uri(tls_server, host), tls=True, tlsCAFile=certificates["ca"], serverSelectionTimeoutMS=5000
    )
    coll = client.tls_test[f"things_{host.replace('.', '_')}"]
    await coll.drop()
    result = await coll.insert_one({"over": "tls", "host": host})
    assert await coll.find_one({"_id": result.inserted_id}) == {
        "_id": result.inserted_id,
        "over": "tls",
        "host": host,
    }
    # Motor's own connection (not only PyMongo's monitor) speaks TLS.
    connections = _app_connections(client)
    assert connections
    assert all(isinstance(conn.conn.sock.stream, SSLIOStream) for conn in connections)


@pytest.mark.parametrize("host", HOSTS)
async def test_tls_client_with_wrong_ca_fails_certificate_verification(
    make_client, tls_server, certificates, host
):
    client = make_client(
        tls_uri(tls_server, host),
        tls=True,
        tlsCAFile=certificates["other_ca"],
        serverSelectionTimeoutMS=500,
    )
    with pytest.raises(ServerSelectionTimeoutError) as info:
        await client.tls_test.things.find_one()
    message = str(info.value)
    assert "CERTIFICATE_VERIFY_FAILED" in message or "certificate verify failed" in message, message


async def test_tls_client_presenting_a_client_certificate_works(make_client, tls_server, certificates):
    client = make_client(
        tls_uri(tls_server, "127.0.0.1"),
        tls=True,
        tlsCAFile=certificates["ca"],
        tlsCertificateKeyFile=certificates["client_pem"],
        serverSelectionTimeoutMS=5000,
    )
    assert (await client.admin.command("ping"))["ok"] == 1


async def test_tls_allow_invalid_certificates_accepts_an_untrusted_server(
    make_client, tls_server, certificates
):
    client = make_client(
        tls_uri(tls_server, "127.0.0.1"),
        tls=True,
        tlsCAFile=certificates["other_ca"],
        tlsAllowInvalidCertificates=True,
        serverSelectionTimeoutMS=5000,
    )
    assert (await client.admin.command("ping"))["ok"] == 1


async def test_plain_client_cannot_talk_to_tls_only_server(make_client, tls_server):
    client = make_client(tls_uri(tls_server, "127.0.0.1"), serverSelectionTimeoutMS=500)
    with pytest.raises(ServerSelectionTimeoutError):
        await client.admin.command("ping")


async def test_concurrent_tls_handshakes_each_open_a_connection(make_client, tls_server, certificates):
    events = ConnectionsCreated()
    client = make_client(
        tls_uri(tls_server, "127.0.0.1"),
        tls=True,
        tlsCAFile=certificates["ca"],
        max_concurrent=6,
        event_listeners=[events],
        serverSelectionTimeoutMS=5000,
    )
    loop_turns = 0
    stop = asyncio.Event()

    async def count_loop_turns():
        nonlocal loop_turns
        while not stop.is_set():
            await asyncio.sleep(0)
            loop_turns += 1

    counter = asyncio.ensure_future(count_loop_turns())
    try:
        # All six wait for the first server check, then open connections
        # (PyMongo opens up to two at once per pool).
        results = await asyncio.gather(*[client.admin.command("ping") for _ in range(6)])
    finally:
        stop.set()
        await counter
    assert all(result["ok"] == 1 for result in results)
    assert 2 <= events.created <= 6
    assert all(isinstance(conn.conn.sock.stream, SSLIOStream) for conn in _app_connections(client))
    # The handshakes were driven by the loop, which kept turning meanwhile.
    assert loop_turns > events.created


# -- the direct TLS path: Motor reads and writes the SSLSocket itself ----------------


def _tls_client(make_client, tls_server, certificates, **kwargs):
    return make_client(
        tls_uri(tls_server, "127.0.0.1"),
        tls=True,
        tlsCAFile=certificates["ca"],
        serverSelectionTimeoutMS=5000,
        **kwargs,
    )


async def test_tls_connections_read_and_write_the_ssl_socket_directly(
    make_client, tls_server, certificates
):
    client = _tls_client(make_client, tls_server, certificates)
    assert (await client.admin.command("ping"))["ok"] == 1
    connections = _app_connections(client)
    assert connections
    for conn in connections:
        sock = conn.conn.sock
        # Verified by the handshake with PyMongo's context, then taken over.
        assert sock.stream.socket.context.check_hostname
        assert sock.stream.socket.server_hostname == "127.0.0.1"
        assert "direct" in repr(sock), sock


@pytest.mark.parametrize("size", [40 * 1024, 12 * 1024 * 1024])
async def test_tls_reply_spanning_many_records_arrives_whole(
    make_client, tls_server, certificates, size
):
    # 40 KiB: a reply of three TLS records, read through the 64 KiB
    # read-ahead; 12 MiB: larger than the read-ahead (read straight into
    # PyMongo's buffer) and larger than the kernel's socket buffers, so the
    # request is written in parts (OpenSSL wants the same data again).
    client = _tls_client(make_client, tls_server, certificates)
    coll = client.tls_test[f"big_{size}"]
    await coll.drop()
    payload = os.urandom(size // 2).hex()
    await coll.insert_one({"_id": 1, "payload": payload})
    for _ in range(3):  # and the connection stays usable after it
        doc = await coll.find_one({"_id": 1})
        assert doc["payload"] == payload
        assert (await client.admin.command("ping"))["ok"] == 1


async def test_concurrent_tls_calls_each_get_their_own_reply(make_client, tls_server, certificates):
    client = _tls_client(make_client, tls_server, certificates, maxPoolSize=5)
    coll = client.tls_test.concurrent
    await coll.drop()
    await coll.insert_many([{"_id": i, "n": i * 7} for i in range(200)])
    runtime = LoopRuntime.for_loop(asyncio.get_running_loop())
    queued = 0
    queue_send = runtime.queue_send

    def counting_queue_send(sock):
        nonlocal queued
        queued += 1
        queue_send(sock)

    # Count the requests that waited for the loop's flush, to know the
    # coalesced path ran (the sends themselves are Motor's).
    runtime.queue_send = counting_queue_send
    try:
        docs = await asyncio.gather(*[coll.find_one({"_id": i}) for i in range(200)])
    finally:
        del runtime.queue_send
    assert [doc["n"] for doc in docs] == [i * 7 for i in range(200)]
    assert queued > 0


async def test_tls_server_closing_the_connection_fails_the_call_and_the_pool_recovers(
    make_client, tls_server, certificates
):
    app_name = "tls-close-under-call"
    client = _tls_client(make_client, tls_server, certificates, retryReads=False, appName=app_name)
    coll = client.tls_test.closing
    await coll.drop()
    await coll.insert_one({"_id": 1})
    # The server closes the TLS connection instead of answering the next
    # find, while Motor's worker waits for the reply on the SSLSocket.
    await client.admin.command(
        "configureFailPoint",
        "failCommand",
        mode={"times": 1},
        data={"failCommands": ["find"], "closeConnection": True, "appName": app_name},
    )
    from pymongo.errors import AutoReconnect

    with pytest.raises(AutoReconnect):
        await coll.find_one({"_id": 1})
    assert await coll.find_one({"_id": 1}) == {"_id": 1}
