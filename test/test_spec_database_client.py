"""The spec's MotorDatabase and MotorClient (PyMongo 2's API), against a real server."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from bson import Binary, DBRef
from bson.son import SON
from pymongo import ReadPreference
from pymongo.errors import (
    CollectionInvalid,
    ConfigurationError,
    CursorNotFound,
    InvalidName,
    InvalidOperation,
    OperationFailure,
)
from pymongo.write_concern import WriteConcern

import motor
from motor.spec import ALL, OFF, SLOW_ONLY, CommandRemoved
from test.motor_fixtures import off_loop, sync_client, test_uri

# -- Database.command ---------------------------------------------------------------


async def test_command_by_name_with_value_and_keywords(db):
    await db.things.insert([{"k": 1}, {"k": 2}, {"k": 2}])
    assert (await db.command("ping"))["ok"] == 1.0
    reply = await db.command("count", "things", query={"k": 2})
    assert reply["n"] == 2
    reply = await db.command(SON([("distinct", "things"), ("key", "k")]))
    assert sorted(reply["values"]) == [1, 2]
    # The tutorial's count command through SON.
    reply = await db.command(SON([("count", "things")]))
    assert reply["n"] == 3 and reply["ok"] == 1.0


async def test_command_check_and_allowable_errors(db):
    with pytest.raises(OperationFailure):
        await db.command("no_such_command_here")
    reply = await db.command("no_such_command_here", check=False)
    assert reply["ok"] == 0
    reply = await db.command("no_such_command_here", allowable_errors=[59])
    assert reply["ok"] == 0 and reply["code"] == 59
    # Positionally: the path without keyword arguments (check, then
    # allowable_errors as a tuple).
    reply = await db.command("no_such_command_here", 1, False)
    assert reply["ok"] == 0
    reply = await db.command("no_such_command_here", 1, True, (59,))
    assert reply["ok"] == 0 and reply["code"] == 59
    with pytest.raises(OperationFailure):
        await db.command("no_such_command_here", 1, True, ())


async def test_command_read_preference_as_a_mode_number(db):
    # 1 is PyMongo 2's PRIMARY_PREFERRED; tag sets come along.
    reply = await db.command("ping", read_preference=1, tag_sets=[{}])
    assert reply["ok"] == 1.0
    with pytest.raises(ConfigurationError):
        await db.command("ping", read_preference=17)


async def test_command_encodes_uuids_with_uuid_subtype(db, db_name):
    value = uuid.uuid4()
    await db.command("insert", "uuids", documents=[{"_id": 3, "u": value}])
    await db.command("insert", "uuids", documents=[{"_id": 4, "u": value}], uuid_subtype=4)

    def stored_values():
        with sync_client() as sync:
            return {d["_id"]: d["u"] for d in sync[db_name].uuids.find()}

    stored = await off_loop(stored_values)
    assert isinstance(stored[3], Binary) and stored[3].subtype == 3
    assert isinstance(stored[4], Binary) and stored[4].subtype == 4
    assert stored[4].as_uuid() == value


async def test_command_replies_use_the_clients_document_class(make_client, db_name):
    client = make_client(document_class=SON)
    reply = await client[db_name].command("ping")
    assert isinstance(reply, SON)


# -- collections ---------------------------------------------------------------------


async def test_collection_names_with_and_without_system_collections(db):
    await db.create_collection("plain")
    await db.create_collection("system.js")
    assert sorted(await db.collection_names()) == ["plain", "system.js"]
    assert await db.collection_names(include_system_collections=False) == ["plain"]


async def test_create_collection_capped_size_max(db):
    capped = await db.create_collection("capped", capped=True, size=4096, max=3)
    assert isinstance(capped, motor.MotorCollection)
    for i in range(5):
        await capped.insert({"i": i})
    assert [d["i"] for d in await capped.find().to_list(None)] == [2, 3, 4]
    with pytest.raises(CollectionInvalid):
        await db.create_collection("capped")


async def test_drop_collection_by_name_or_object(db):
    await db.create_collection("one")
    await db.create_collection("two")
    await db.drop_collection("one")
    await db.drop_collection(db.two)
    assert await db.collection_names() == []


async def test_validate_collection_and_dereference(db):
    await db.things.insert({"_id": 1, "x": "y"})
    result = await db.validate_collection("things")
    assert result["valid"] is True
    assert (await db.validate_collection(db.things))["valid"] is True
    with pytest.raises(OperationFailure):
        await db.validate_collection("missing")
    assert await db.dereference(DBRef("things", 1)) == {"_id": 1, "x": "y"}
    assert await db.dereference(DBRef("things", 2)) is None
    with pytest.raises(ValueError):
        await db.dereference(DBRef("things", 1, database="elsewhere"))


def test_database_connection_is_its_client(client):
    assert client.test.connection is client


# -- server state ------------------------------------------------------------------------


async def test_current_op_runs_on_admin_and_includes_idle_ops(client, db):
    result = await db.current_op()
    assert isinstance(result["inprog"], list) and result["ok"] == 1.0
    everything = await client.admin.current_op(True)
    assert isinstance(everything["inprog"], list)
    with pytest.raises(TypeError):
        await db.current_op("yes")


async def test_is_locked_recipe_and_fsync_lock(client):
    # The spec's replacement for MotorClient.is_locked.
    result = await client.admin.current_op()
    assert bool(result.get("fsyncLock", None)) is False
    assert (await client.fsync())["ok"] == 1.0
    try:
        await client.fsync(lock=True)
    except OperationFailure as exc:
        if "not supported" not in str(exc):
            raise
        # Without lock support there is nothing to unlock, and unlock says so.
        with pytest.raises(OperationFailure):
            await client.unlock()
        return
    try:
        assert (await client.admin.current_op()).get("fsyncLock")
    finally:
        await client.unlock()
    assert not (await client.admin.current_op()).get("fsyncLock")


async def test_profiling_level_info_and_errors(db):
    assert await db.profiling_level() == OFF
    await db.set_profiling_level(ALL)
    try:
        assert await db.profiling_level() == ALL
        await db.profiled.find_one({"x": "profiled query"})
        info = await db.profiling_info()
        assert any("profiled" in str(record) for record in info)
        await db.set_profiling_level(SLOW_ONLY, slow_ms=50)
        assert await db.profiling_level() == SLOW_ONLY
    finally:
        await db.set_profiling_level(OFF)
    assert await db.profiling_level() == OFF
    with pytest.raises(ValueError):
        await db.set_profiling_level(5)
    with pytest.raises(TypeError):
        await db.set_profiling_level(OFF, slow_ms="slow")


# -- users ---------------------------------------------------------------------------------


async def _roles(db, name):
    users = (await db.command("usersInfo", name))["users"]
    return (
        sorted(
            role["role"] if role["db"] == db.name else f"{role['db']}:{role['role']}"
            for role in users[0]["roles"]
        )
        if users
        else None
    )


async def test_add_user_creates_updates_and_remove_user_drops(db):
    await db.add_user("writer", "secret")
    assert await _roles(db, "writer") == ["dbOwner"]
    await db.add_user("reader", "secret", read_only=True)
    assert await _roles(db, "reader") == ["read"]
    # Again: the password changes, the roles stay unless read_only says.
    await db.add_user("writer", "new secret")
    assert await _roles(db, "writer") == ["dbOwner"]
    await db.add_user("writer", read_only=True)
    assert await _roles(db, "writer") == ["read"]
    await db.add_user("other", "pw", otherDBRoles={"elsewhere": ["read"]})
    assert await _roles(db, "other") == ["dbOwner", "elsewhere:read"]
    await db.remove_user("reader")
    assert await _roles(db, "reader") is None
    for name in ("writer", "other"):
        await db.remove_user(name)


async def test_add_user_refuses_user_source_and_conflicting_roles(db):
    with pytest.raises(ConfigurationError, match="userSource"):
        await db.add_user("u", userSource="elsewhere")
    with pytest.raises(ConfigurationError):
        await db.add_user("u", "pw", read_only=True, roles=["read"])
    with pytest.raises(TypeError):
        await db.add_user(5, "pw")


# -- commands today's servers lack ----------------------------------------------------------


REMOVED = [
    ("eval", ("function() { return 1; }",), "eval command"),
    ("error", (), "getLastError"),
    ("last_status", (), "getLastError"),
    ("previous_error", (), "getPrevError"),
    ("reset_error_history", (), "resetError"),
]


@pytest.mark.parametrize("method, args, removed", REMOVED, ids=[r[0] for r in REMOVED])
async def test_removed_command_names_its_replacement(db, method, args, removed):
    try:
        result = await getattr(db, method)(*args)
    except CommandRemoved as exc:
        assert isinstance(exc, OperationFailure) and exc.code == 59
        assert removed in str(exc)
        assert "MongoDB" in str(exc) and "removed" in str(exc)
    else:  # an old server that still has the command
        assert result is None or isinstance(result, (dict, float, int))


async def test_copy_database_runs_copydb_or_names_its_replacement(client, db):
    await db.things.insert({"a": 1})
    target = f"{db.name}_copy"
    try:
        await client.copy_database(db.name, target)
    except CommandRemoved as exc:
        assert "mongodump" in str(exc) and "$out" in str(exc)
    else:
        try:
            assert await client[target].things.count() == 1
        finally:
            await client.drop_database(target)


async def test_copy_database_never_shows_the_password(client, db):
    with pytest.raises(OperationFailure) as info:
        await client.copy_database(db.name, f"{db.name}_copy", username="u", password="S3cr3t-pw")
    assert "S3cr3t-pw" not in str(info.value) and "S3cr3t-pw" not in repr(info.value)
    assert "S3cr3t-pw" not in str(info.value.details)


async def test_copy_database_checks_names(client):
    with pytest.raises(TypeError):
        await client.copy_database(1, "b")
    with pytest.raises(InvalidName):
        await client.copy_database("a", "bad.name")


# -- client constructor ---------------------------------------------------------------------


@pytest.mark.parametrize("option", ["slave_okay", "slaveok", "slaveOk", "safe"])
def test_deprecated_options_raise_configuration_error(option):
    with pytest.raises(ConfigurationError, match="deprecated"):
        motor.MotorClient(test_uri(), **{option: True})


@pytest.mark.parametrize("option", ["slaveOk=true", "safe=true"])
def test_deprecated_uri_options_raise_configuration_error(option):
    with pytest.raises(ConfigurationError, match="URI"):
        motor.MotorClient(f"mongodb://127.0.0.1:27017/?{option}")


def test_deprecated_options_raise_on_the_replica_set_client_too():
    with pytest.raises(ConfigurationError):
        motor.MotorReplicaSetClient("localhost", replicaSet="rs", slave_okay=True)


async def test_auto_start_request_is_ignored(make_client, db_name):
    separator = "&" if "?" in test_uri() else "?"
    for client in (
        make_client(auto_start_request=True),
        make_client(test_uri() + separator + "auto_start_request=true"),
    ):
        assert "auto_start_request" not in repr(client)
        assert await client[db_name].things.count() == 0


def test_pymongo2_constructor_arguments(io_loop):
    client = motor.MotorClient(
        "localhost",
        27017,
        7,
        SON,
        True,
        io_loop=io_loop,
        read_preference=3,
        tag_sets=[{"dc": "ny"}, {}],
        secondary_acceptable_latency_ms=25,
    )
    assert client.max_pool_size == 7
    assert client.document_class is SON and client.tz_aware is True
    assert client.read_preference.mode == ReadPreference.SECONDARY_PREFERRED.mode
    assert client.tag_sets == [{"dc": "ny"}, {}]
    assert client.secondary_acceptable_latency_ms == 25
    assert client.host == "localhost" and client.port == 27017
    with pytest.raises(TypeError):
        motor.MotorClient("localhost", 27017, 1, dict, False, "extra")


def test_max_concurrent_wins_over_max_pool_size(io_loop):
    client = motor.MotorClient("localhost", max_pool_size=5, max_concurrent=9, io_loop=io_loop)
    assert client.max_pool_size == 9


def test_ssl_options_are_translated():
    from motor.spec.options import client_arguments

    _, kwargs = client_arguments(
        ("localhost",),
        {"ssl": True, "ssl_certfile": "c.pem", "ssl_cert_reqs": 0, "ssl_ca_certs": "ca.pem"},
    )
    assert kwargs == {
        "host": "localhost",
        "ssl": True,
        "tlsCertificateKeyFile": "c.pem",
        "tlsAllowInvalidCertificates": True,
        "tlsCAFile": "ca.pem",
    }
    with pytest.raises(ConfigurationError, match="one PEM file"):
        motor.MotorClient("localhost", ssl_certfile="a.pem", ssl_keyfile="b.key")


# -- client methods ----------------------------------------------------------------------------


def test_open_sync_then_use(make_client, io_loop, db_name):
    client = make_client()
    assert client.open_sync() is client
    assert client.connected

    async def use():
        await client[db_name].things.insert({"x": 1})
        return await client[db_name].things.count()

    assert io_loop.run_sync(use) == 1


async def test_open_with_a_positional_callback(make_client):
    client = make_client()
    loop = asyncio.get_running_loop()
    opened = loop.create_future()
    client.open(lambda result, error: opened.set_result((result, error)))
    assert await asyncio.wait_for(opened, 10) == (client, None)


async def test_database_names_and_drop_database(client, db, db_name):
    await db.things.insert({"x": 1})
    assert db_name in await client.database_names()
    await client.drop_database(db_name)
    assert db_name not in await client.database_names()
    await db.things.insert({"x": 1})
    await client.drop_database(db)
    assert db_name not in await client.database_names()


async def test_server_info_alive_and_disconnect(client, db):
    info = await client.server_info()
    assert "version" in info and info["ok"] == 1.0
    assert await client.alive() is True
    await db.things.insert({"x": 1})
    pools = [server.pool for server in client.delegate._topology._servers.values()]
    generations = [pool.gen.get_overall() for pool in pools]
    client.disconnect()
    assert [pool.gen.get_overall() for pool in pools] == [g + 1 for g in generations]
    assert all(not pool.conns for pool in pools)
    # Usable again at once: new connections are made.
    assert await db.things.count() == 1
    assert await client.alive() is True


async def test_alive_is_false_when_no_server_answers(make_client):
    from test.servers import find_free_port

    port = await off_loop(find_free_port)
    client = make_client(f"mongodb://127.0.0.1:{port}/?directConnection=true")
    loop = asyncio.get_running_loop()
    started = loop.time()
    # As soon as the monitor fails to reach it: not after the 20 s connect timeout.
    assert await client.alive() is False
    assert await client.alive() is False
    assert loop.time() - started < 5


async def test_kill_cursors_kills_server_cursors(client, db):
    await db.things.insert([{"i": i} for i in range(10)])
    cursor = db.things.find().batch_size(2)
    assert await cursor.fetch_next
    cursor_id = cursor.cursor_id
    assert cursor_id
    await client.kill_cursors([cursor_id, 123456789])  # an unknown id is ignored
    with pytest.raises(CursorNotFound):
        await cursor.to_list(None)

    other = db.things.find().batch_size(2)
    assert await other.fetch_next
    await client.close_cursor(other.cursor_id)
    with pytest.raises(CursorNotFound):
        await other.to_list(None)
    with pytest.raises(TypeError):
        await client.kill_cursors(cursor_id)
    with pytest.raises(TypeError):
        await client.close_cursor("1")


async def test_closed_client_cannot_be_used_again(make_client, db_name):
    client = make_client()
    await client[db_name].things.count()
    await client.close()
    with pytest.raises(InvalidOperation):
        await client[db_name].things.count()


# -- client properties -----------------------------------------------------------------------


async def test_server_properties_after_open(client):
    await client.open()
    assert (client.host, client.port) == client.address
    assert client.is_primary is True
    assert client.is_mongos is False
    assert client.max_bson_size == 16 * 1024 * 1024
    assert client.max_pool_size == 100
    assert client.address in client.nodes
    assert client.tz_aware is False


def test_max_bson_size_is_zero_before_connecting(client):
    assert client.max_bson_size == 0


async def test_document_class_can_be_set(client, db):
    await db.things.insert({"b": 2, "a": 1})
    assert client.document_class is dict
    client.document_class = SON
    assert client.document_class is SON
    doc = await client[db.name].things.find_one()
    assert isinstance(doc, SON) and list(doc) == ["_id", "b", "a"]
    with pytest.raises(TypeError):
        client.document_class = list


async def test_write_concern_dict_as_the_spec_shows_it(client, db):
    assert client.write_concern == {}
    client.write_concern = {"w": 2, "wtimeout": 1000}
    assert client.write_concern == {"wtimeout": 1000, "w": 2}
    client.write_concern["j"] = True
    assert client.write_concern == {"wtimeout": 1000, "j": True, "w": 2}
    assert client.delegate.write_concern == WriteConcern(w=2, wtimeout=1000, j=True)
    client.write_concern = {"j": True}
    assert client.write_concern == {"j": True}
    # "Setting w=0 disables write acknowledgement and all other write concern options."
    client.write_concern["w"] = 0
    assert client.write_concern == {"j": True, "w": 0}
    assert client.delegate.write_concern.acknowledged is False
    # The property returns the value itself, not a copy.
    document = client.write_concern
    document["w"] = 1
    assert client.write_concern is document
    del document["j"]
    assert client.delegate.write_concern == WriteConcern(w=1)
    # New databases and collections start from the client's write concern.
    assert client[db.name].things.write_concern == {"w": 1}
    assert (await client[db.name].things.update({}, {"$set": {"a": 1}}, upsert=True))["n"] == 1


async def test_write_concern_is_checked(client):
    with pytest.raises(ConfigurationError):
        client.write_concern = {"w": "majority", "wtimeout": "soon"}
    with pytest.raises(ConfigurationError):
        client.write_concern["fsync"] = True
        client.write_concern["j"] = True  # PyMongo 4: j and fsync together are refused
    with pytest.raises(ConfigurationError):
        client.write_concern = "w=1"


def test_read_preference_tag_sets_and_latency_are_settable(client):
    assert client.read_preference == ReadPreference.PRIMARY
    assert client.tag_sets == [{}]
    client.read_preference = ReadPreference.SECONDARY_PREFERRED
    client.tag_sets = [{"dc": "ny"}, {}]
    assert client.read_preference.tag_sets == [{"dc": "ny"}, {}]
    assert client.test.things.read_preference == client.read_preference
    assert client.secondary_acceptable_latency_ms == 15
    client.secondary_acceptable_latency_ms = 40
    assert client.secondary_acceptable_latency_ms == 40
    assert client.test.secondary_acceptable_latency_ms == 40
    with pytest.raises(ConfigurationError, match="client"):
        client.test.secondary_acceptable_latency_ms = 10


async def test_database_objects_are_usable_before_open(make_client, db_name):
    # Motor 3 behaviour, kept: the spec's InvalidOperation before open() is not raised.
    client = make_client()
    assert not client.connected
    assert await client[db_name].things.count() == 0
    assert client.connected
