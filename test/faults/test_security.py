"""Row 9 of the fault matrix: security regressions, against SecantusDB with ``--auth``.

* A wrong password, a user without the role, and a pooled connection that
  has expired (idle past ``maxIdleTimeMS`` after the user's password
  changed) all fail with OperationFailure; a failed authentication leaves no
  connection in the pool (nothing half-authenticated is ever reused).
* No password, and no URI with credentials, shows in any repr, log record,
  exception text or warning, including those of connections that failed
  (wrong password, server down, server killed mid-operation).
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from urllib.parse import quote_plus

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

from motor.motor_asyncio import AsyncIOMotorClient
from test.faults.support import off_loop, pool_settles, pool_state, start_own_server
from test.servers import find_free_port

ADMIN_PASSWORD = "Adm1n-Faults-Kestrel-4471"
WRITER_PASSWORD = "wr1ter/Faults:Heron@9902"  # URI-special characters on purpose
READER_PASSWORD = "r3ader-Faults-Egret-1385"
NEW_WRITER_PASSWORD = "n3w-Faults-Ibis-6620"
WRONG_PASSWORD = "wr0ng-Faults-Crane-3154"
PASSWORDS = (ADMIN_PASSWORD, WRITER_PASSWORD, READER_PASSWORD, NEW_WRITER_PASSWORD,
             WRONG_PASSWORD)
DB = "faults_auth"

pytestmark = [pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    server = start_own_server(tmp_path_factory.mktemp("faults-auth"))
    with MongoClient(server.uri) as setup:
        setup.admin.command("createUser", "admin", pwd=ADMIN_PASSWORD, roles=["root"])
        setup[DB].command("createUser", "writer", pwd=WRITER_PASSWORD, roles=["readWrite"])
        setup[DB].command("createUser", "reader", pwd=READER_PASSWORD, roles=["read"])
        setup[DB].things.insert_one({"_id": 1})
    server.stop()
    server.auth = True
    server.start()
    yield server
    server.stop()


def uri(server, user, password, port=None) -> str:
    return (f"mongodb://{quote_plus(user)}:{quote_plus(password)}@127.0.0.1:"
            f"{port or server.port}/{DB}?directConnection=true")


def secrets() -> list[str]:
    found = []
    for password in PASSWORDS:
        found += [password, quote_plus(password)]
    return found


@pytest.fixture
def evidence(caplog):
    """Every log record at DEBUG (PyMongo's command/connection logs too) and every warning."""
    caplog.set_level(logging.WARNING, logger="pymongo.topology")  # monitor threads
    caplog.set_level(logging.DEBUG)
    for name in ("pymongo", "pymongo.command", "pymongo.connection", "pymongo.serverSelection",
                 "motor", "asyncio", "tornado"):
        caplog.set_level(logging.DEBUG, logger=name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        texts: list[str] = []
        yield texts
    texts += [f"{r.getMessage()} {r.__dict__!r}" for r in caplog.records]
    texts += [f"{w.category.__name__}: {w.message}" for w in caught]
    for text in texts:
        for secret in secrets():
            assert secret not in text, f"a password shows in: {text[:500]!r}"


def everything_about(exc: BaseException, client) -> list[str]:
    texts = [str(exc), repr(exc), repr(getattr(exc, "details", None)), repr(client)]
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        texts += [str(cause), repr(cause)]
        cause = cause.__cause__ or cause.__context__
    return texts


def client_for(io_loop, address, **options):
    return AsyncIOMotorClient(address, io_loop=io_loop.asyncio_loop, **options)


@pytest.mark.timeout_seconds(30)
async def test_wrong_password_fails_and_leaves_no_connection(io_loop, auth_server, evidence):
    # A failed authentication marks the server Unknown until the next
    # heartbeat (SDAM); with the default 10 s heartbeat the next attempts
    # fail with a ServerSelectionTimeoutError that names the authentication
    # failure, as in PyMongo. A 0.5 s heartbeat shows each attempt's own error.
    client = client_for(io_loop, uri(auth_server, "writer", WRONG_PASSWORD),
                        serverSelectionTimeoutMS=3000, heartbeatFrequencyMS=500)
    try:
        for _ in range(3):  # and again: nothing half-open was pooled
            with pytest.raises(OperationFailure) as info:
                await client[DB].things.find_one({})
            assert info.value.code == 18, info.value  # AuthenticationFailed
            evidence += everything_about(info.value, client)
        assert pool_state(client) == {"idle": 0, "in_use": 0, "requests": 0}
    finally:
        client.close()


@pytest.mark.timeout_seconds(30)
async def test_user_without_the_role_is_refused(io_loop, auth_server, evidence):
    client = client_for(io_loop, uri(auth_server, "reader", READER_PASSWORD))
    try:
        assert await client[DB].things.find_one({}) == {"_id": 1}
        with pytest.raises(OperationFailure) as info:
            await client[DB].things.insert_one({"_id": "by reader"})
        assert info.value.code == 13, info.value  # Unauthorized
        evidence += everything_about(info.value, client)
        with pytest.raises(OperationFailure):
            await client.admin.command("createUser", "sneaky", pwd="x", roles=["root"])
        assert await client[DB].things.count_documents({"_id": "by reader"}) == 0
        await pool_settles(client)
    finally:
        client.close()


@pytest.mark.timeout_seconds(30)
async def test_expired_connection_reauthenticates_and_fails_cleanly(io_loop, auth_server, evidence):
    admin = client_for(io_loop, f"mongodb://admin:{quote_plus(ADMIN_PASSWORD)}@127.0.0.1:"
                       f"{auth_server.port}/?directConnection=true")
    client = client_for(io_loop, uri(auth_server, "writer", WRITER_PASSWORD),
                        maxIdleTimeMS=300, serverSelectionTimeoutMS=3000,
                        heartbeatFrequencyMS=500)
    try:
        await asyncio.gather(*[client[DB].things.find_one({}) for _ in range(5)])
        assert pool_state(client)["idle"] >= 1
        await admin[DB].command("updateUser", "writer", pwd=NEW_WRITER_PASSWORD)
        await asyncio.sleep(0.6)  # the pooled connections expire
        with pytest.raises(OperationFailure) as info:
            await client[DB].things.find_one({})
        assert info.value.code == 18, info.value
        evidence += everything_about(info.value, client)
        # The expired connections are gone and no new one was kept.
        assert pool_state(client) == {"idle": 0, "in_use": 0, "requests": 0}
    finally:
        client.close()
        await admin[DB].command("updateUser", "writer", pwd=WRITER_PASSWORD)
        admin.close()


@pytest.mark.timeout_seconds(60)
async def test_failed_connections_never_show_credentials(io_loop, auth_server, evidence):
    # Nothing listens on this port.
    down = client_for(io_loop, uri(auth_server, "writer", WRITER_PASSWORD, port=find_free_port()),
                      serverSelectionTimeoutMS=500, connectTimeoutMS=300)
    try:
        with pytest.raises(PyMongoError) as info:
            await down[DB].things.find_one({})
        evidence += everything_about(info.value, down)
    finally:
        down.close()

    # The server is killed under a working, authenticated client.
    client = client_for(io_loop, uri(auth_server, "writer", WRITER_PASSWORD),
                        serverSelectionTimeoutMS=500, retryReads=False, retryWrites=False)
    try:
        await client[DB].things.find_one({})
        evidence.append(repr(client))
        evidence.append(repr(client[DB].things))
        await off_loop(auth_server.kill)
        with pytest.raises(PyMongoError) as info:
            await client[DB].things.find_one({})
        evidence += everything_about(info.value, client)
        await off_loop(auth_server.start)
        # It reauthenticates on new connections and works again.
        for _ in range(50):
            try:
                assert await client[DB].things.find_one({"_id": 1}) == {"_id": 1}
                break
            except PyMongoError as exc:
                evidence += everything_about(exc, client)
                await asyncio.sleep(0.2)
        else:
            pytest.fail("the client did not recover after the server came back")
    finally:
        client.close()
