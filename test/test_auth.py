"""Authentication against a SecantusDB started with ``--auth`` (SCRAM-SHA-256).

The module's server is made in two steps, as with mongod: started without
``--auth`` to create the users, then restarted with it on the same storage.
Credentials in a URI work at ``open()`` / ``open_sync()``; ``authenticate()``
and ``logout()`` work on an open client; a wrong password raises
OperationFailure; a password never shows in a repr, a log record or an
exception.
"""

from __future__ import annotations

import asyncio
import logging
import os
from urllib.parse import quote_plus

import pytest
from pymongo import MongoClient
from pymongo.errors import ConfigurationError, InvalidOperation, OperationFailure

from test.servers import SecantusServer, ServerStartError, secantusd_path

ADMIN_PASSWORD = "Adm1n-Quokka-8842"
USER_PASSWORD = "us3r-Wombat/7731"  # a "/" to show it is percent-encoded in URIs
OTHER_PASSWORD = "0ther-Numbat-5519"
WRONG_PASSWORD = "wr0ng-Platypus-2266"
PASSWORDS = (ADMIN_PASSWORD, USER_PASSWORD, OTHER_PASSWORD, WRONG_PASSWORD)
DB = "auth_db"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    if not os.path.exists(secantusd_path()):
        pytest.skip(f"no SecantusDB launcher at {secantusd_path()} to start an --auth server")
    storage = tmp_path_factory.mktemp("auth-server")
    server = SecantusServer(storage_path=storage)
    try:
        server.start()
        with MongoClient(server.uri) as setup:
            setup.admin.command("createUser", "admin", pwd=ADMIN_PASSWORD, roles=["root"])
            setup[DB].command("createUser", "user", pwd=USER_PASSWORD, roles=["readWrite"])
            setup[DB].command("createUser", "other", pwd=OTHER_PASSWORD, roles=["read"])
            setup[DB].things.insert_one({"_id": 1, "secret": "data"})
        server.stop()
        server.auth = True
        server.start()
    except ServerStartError as exc:
        pytest.fail(f"could not start SecantusDB with --auth: {exc}")
    yield server
    server.stop()


def uri(server, user=None, password=None, db=""):
    credentials = f"{quote_plus(user)}:{quote_plus(password)}@" if user else ""
    return f"mongodb://{credentials}127.0.0.1:{server.port}/{db}?directConnection=true"


def assert_no_password(*texts):
    for text in texts:
        for password in PASSWORDS + (quote_plus(USER_PASSWORD),):
            assert password not in str(text), f"a password shows in: {text!r}"


@pytest.fixture
def all_logs(caplog):
    """Log records at DEBUG from every logger, PyMongo's command and connection logs included.

    PyMongo's monitor threads log heartbeats to ``pymongo.topology``: kept at
    WARNING, so that they do not contend with the loop thread for the
    capturing handler's lock (they never carry credentials).
    """
    # (set_level also sets the capturing handler's level: DEBUG must come last.)
    caplog.set_level(logging.WARNING, logger="pymongo.topology")
    caplog.set_level(logging.DEBUG)
    for name in ("pymongo", "pymongo.command", "pymongo.connection", "pymongo.serverSelection"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def log_text(caplog) -> str:
    return "\n".join(f"{r.getMessage()} {r.__dict__!r}" for r in caplog.records)


# -- credentials in the URI ----------------------------------------------------------


async def test_uri_credentials_authenticate_at_open(make_client, auth_server):
    client = make_client(uri(auth_server, "admin", ADMIN_PASSWORD))
    assert await client.open() is client
    assert DB in await client.database_names()
    assert await client[DB].things.find_one() == {"_id": 1, "secret": "data"}
    assert_no_password(repr(client), repr(client[DB]), repr(client[DB].things))


def test_uri_credentials_for_a_database_with_open_sync(make_client, auth_server, io_loop):
    client = make_client(uri(auth_server, "user", USER_PASSWORD, DB)).open_sync()

    async def use():
        await client[DB].more.insert({"by": "user"})
        return await client[DB].more.find_one({}, {"_id": 0})

    assert io_loop.run_sync(use) == {"by": "user"}
    io_loop.run_sync(lambda: client[DB].more.drop())


async def test_wrong_uri_password_fails_at_open(make_client, auth_server, all_logs):
    client = make_client(uri(auth_server, "admin", WRONG_PASSWORD), serverSelectionTimeoutMS=3000)
    with pytest.raises(OperationFailure) as info:
        await client.open()
    assert info.value.code == 18  # AuthenticationFailed
    assert_no_password(str(info.value), repr(info.value), info.value.details, repr(client))
    assert_no_password(log_text(all_logs))


def test_wrong_uri_password_fails_at_open_sync(make_client, auth_server):
    client = make_client(uri(auth_server, "user", WRONG_PASSWORD, DB))
    with pytest.raises(OperationFailure) as info:
        client.open_sync()
    assert_no_password(str(info.value), repr(info.value))


async def test_without_credentials_operations_are_refused(make_client, auth_server):
    client = make_client(uri(auth_server))
    await client.open()  # the server answers hello without authentication
    with pytest.raises(OperationFailure) as info:
        await client[DB].things.find_one()
    assert info.value.code == 13  # Unauthorized


# -- authenticate() and logout() -------------------------------------------------------------


async def test_authenticate_then_logout_on_an_open_client(make_client, auth_server, all_logs):
    client = make_client(uri(auth_server))
    await client.open()
    with pytest.raises(OperationFailure):
        await client[DB].things.find_one()
    assert await client[DB].authenticate("user", USER_PASSWORD) is True
    assert await client[DB].things.find_one() == {"_id": 1, "secret": "data"}
    # Many operations at once, all on authenticated connections.
    counts = await asyncio.gather(*(client[DB].things.count() for _ in range(20)))
    assert counts == [1] * 20
    await client[DB].logout()
    with pytest.raises(OperationFailure) as info:
        await client[DB].things.find_one()
    assert info.value.code == 13
    assert_no_password(log_text(all_logs), repr(client))


async def test_authenticate_as_in_the_spec_with_the_default_mechanism(make_client, auth_server):
    # The spec's example: MONGODB-CR, its default, now negotiates SCRAM.
    client = make_client(uri(auth_server))
    await client.open()
    await client[DB].authenticate("user", USER_PASSWORD, mechanism="MONGODB-CR")
    assert (await client[DB].things.find_one())["secret"] == "data"


async def test_authenticate_with_scram_sha_256_and_a_source(make_client, auth_server):
    client = make_client(uri(auth_server))
    await client.open()
    await client.other_db.authenticate("user", USER_PASSWORD, source=DB, mechanism="SCRAM-SHA-256")
    assert (await client[DB].things.find_one())["_id"] == 1
    # The user was authenticated on DB (its source): logging out of other_db
    # changes nothing, logging out of DB does.
    await client.other_db.logout()
    assert (await client[DB].things.find_one())["_id"] == 1
    await client[DB].logout()
    with pytest.raises(OperationFailure):
        await client[DB].things.find_one()


async def test_wrong_password_raises_and_leaves_the_client_as_it_was(
    make_client, auth_server, all_logs
):
    client = make_client(uri(auth_server))
    await client.open()
    with pytest.raises(OperationFailure) as info:
        await client[DB].authenticate("user", WRONG_PASSWORD)
    assert info.value.code == 18
    # The spec's default mechanism is gone: the message names what replaced it.
    assert "MONGODB-CR" in str(info.value) and "SCRAM-SHA-256" in str(info.value)
    assert_no_password(str(info.value), repr(info.value), info.value.details)
    # Still unauthenticated, still usable, and a right password works at once.
    with pytest.raises(OperationFailure):
        await client[DB].things.find_one()
    await client[DB].authenticate("user", USER_PASSWORD)
    assert (await client[DB].things.find_one())["_id"] == 1
    assert_no_password(log_text(all_logs), repr(client))


async def test_authenticate_with_a_callback(make_client, auth_server):
    client = make_client(uri(auth_server))
    await client.open()
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    result = client[DB].authenticate(
        "user", USER_PASSWORD, callback=lambda r, e: done.set_result((r, e))
    )
    assert result is None
    assert await asyncio.wait_for(done, 10) == (True, None)
    failed = loop.create_future()
    client2 = make_client(uri(auth_server))
    client2[DB].authenticate(
        "user", WRONG_PASSWORD, callback=lambda r, e: failed.set_result((r, e))
    )
    outcome, error = await asyncio.wait_for(failed, 10)
    assert outcome is None and isinstance(error, OperationFailure)
    assert_no_password(str(error))


async def test_one_user_at_a_time(make_client, auth_server):
    client = make_client(uri(auth_server))
    await client[DB].authenticate("user", USER_PASSWORD)
    # The same user again is fine.
    assert await client[DB].authenticate("user", USER_PASSWORD) is True
    with pytest.raises(InvalidOperation, match="logout") as info:
        await client[DB].authenticate("other", OTHER_PASSWORD)
    assert_no_password(str(info.value))
    await client[DB].logout()
    await client[DB].authenticate("other", OTHER_PASSWORD)
    assert (await client[DB].things.find_one())["_id"] == 1
    with pytest.raises(OperationFailure):  # "other" may only read
        await client[DB].things.insert({"_id": 2})


async def test_authenticate_checks_its_arguments_without_showing_them(make_client, auth_server):
    client = make_client(uri(auth_server))
    with pytest.raises(TypeError):
        client[DB].authenticate(None, USER_PASSWORD)
    with pytest.raises(TypeError) as info:
        client[DB].authenticate("user", b"bytes-Secret-991")
    assert "bytes-Secret-991" not in str(info.value)
    with pytest.raises(ConfigurationError, match="SCRAM-SHA-256"):
        client[DB].authenticate("user", USER_PASSWORD, mechanism="NOPE")


async def test_add_user_then_authenticate_as_the_new_user(make_client, auth_server):
    admin = make_client(uri(auth_server, "admin", ADMIN_PASSWORD))
    await admin[DB].add_user("fresh", "Fr3sh-Echidna-3301", read_only=True)
    try:
        client = make_client(uri(auth_server))
        await client[DB].authenticate("fresh", "Fr3sh-Echidna-3301")
        assert (await client[DB].things.find_one())["_id"] == 1
        with pytest.raises(OperationFailure):
            await client[DB].things.insert({"_id": 3})
    finally:
        await admin[DB].remove_user("fresh")


async def test_a_mongodb_cr_uri_negotiates_scram(make_client, auth_server):
    client = make_client(
        uri(auth_server, "user", USER_PASSWORD, DB).replace("?", "?authMechanism=MONGODB-CR&")
    )
    await client.open()
    assert (await client[DB].things.find_one())["_id"] == 1


async def test_logout_of_uri_credentials(make_client, auth_server):
    client = make_client(uri(auth_server, "admin", ADMIN_PASSWORD))
    assert (await client[DB].things.find_one())["_id"] == 1
    await client[DB].logout()  # the credentials are admin's: nothing changes
    assert (await client[DB].things.find_one())["_id"] == 1
    await client.admin.logout()
    with pytest.raises(OperationFailure):
        await client[DB].things.find_one()


async def test_add_user_never_logs_the_password(make_client, auth_server, all_logs):
    admin = make_client(uri(auth_server, "admin", ADMIN_PASSWORD))
    await admin[DB].add_user("logged", OTHER_PASSWORD)
    await admin[DB].add_user("logged", WRONG_PASSWORD)  # updateUser
    await admin[DB].remove_user("logged")
    assert any("createUser" in r.getMessage() for r in all_logs.records)
    assert_no_password(log_text(all_logs))
