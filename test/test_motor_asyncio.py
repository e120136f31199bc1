"""Motor 3 drop-in behaviour of both flavours.

The same tests run with ``motor.motor_asyncio.AsyncIOMotorClient`` and
``motor.motor_tornado.MotorClient``: the code a Motor 3 application wrote for
either must keep working unchanged.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from bson import ObjectId
from pymongo import ReturnDocument
from tornado import gen
from tornado.ioloop import IOLoop

import motor
import motor.motor_asyncio as motor_asyncio
import motor.motor_tornado as motor_tornado
from motor.motor_asyncio import AsyncIOMotorClient
from motor.motor_tornado import MotorClient

FLAVOURS = {
    # flavour: (the module its classes come from, class name prefix)
    "asyncio": (motor_asyncio, "AsyncIOMotor"),
    "tornado": (motor_tornado, "Motor"),
}


@pytest.fixture(params=sorted(FLAVOURS))
def flavour(request):
    return request.param


@pytest.fixture
def any_client(flavour, io_loop, uri):
    """A Motor 3 drop-in client of the flavour under test, on the test loop."""
    if flavour == "asyncio":
        client = AsyncIOMotorClient(uri, io_loop=io_loop.asyncio_loop)
    else:
        client = MotorClient(uri, io_loop=io_loop)
    yield client
    io_loop.run_sync(client.close)


@pytest.fixture
def any_db(any_client, db_name):
    return any_client[db_name]


@pytest.fixture
def any_coll(any_db):
    return any_db.test_collection


def motor_cls(flavour: str, name: str) -> type:
    module, prefix = FLAVOURS[flavour]
    return getattr(module, prefix + name)


# -- CRUD and reading ----------------------------------------------------------------


async def test_crud_round_trip(any_coll):
    inserted = await any_coll.insert_one({"name": "a", "n": 1})
    assert isinstance(inserted.inserted_id, ObjectId)
    assert (await any_coll.find_one({"_id": inserted.inserted_id}))["name"] == "a"

    many = await any_coll.insert_many([{"name": "b", "n": 2}, {"name": "c", "n": 3}])
    assert len(many.inserted_ids) == 2
    assert await any_coll.count_documents({}) == 3

    assert (await any_coll.update_one({"name": "a"}, {"$set": {"n": 10}})).modified_count == 1
    assert (await any_coll.update_many({"n": {"$lt": 5}}, {"$inc": {"n": 100}})).modified_count == 2
    assert (await any_coll.replace_one({"name": "c"}, {"name": "c2", "n": 0})).matched_count == 1
    after = await any_coll.find_one_and_update(
        {"name": "a"}, {"$inc": {"n": 1}}, return_document=ReturnDocument.AFTER
    )
    assert after["n"] == 11

    assert (await any_coll.delete_one({"name": "a"})).deleted_count == 1
    assert (await any_coll.delete_many({})).deleted_count == 2
    assert await any_coll.find_one() is None
    assert await any_coll.count_documents({}) == 0


async def test_async_for_over_find_yields_every_document_in_order(any_coll):
    await any_coll.insert_many([{"_id": i} for i in range(7)])
    seen = [doc["_id"] async for doc in any_coll.find().sort("_id").batch_size(2)]
    assert seen == list(range(7))


async def test_async_for_over_aggregate_without_awaiting_the_call(any_coll):
    await any_coll.insert_many([{"_id": i, "even": i % 2 == 0} for i in range(6)])
    pipeline = [{"$match": {"even": True}}, {"$sort": {"_id": -1}}]
    seen = [doc["_id"] async for doc in any_coll.aggregate(pipeline)]
    assert seen == [4, 2, 0]


async def test_to_list_with_length_returns_at_most_length(any_coll):
    await any_coll.insert_many([{"_id": i} for i in range(5)])
    cursor = any_coll.find().sort("_id")
    assert [d["_id"] for d in await cursor.to_list(length=2)] == [0, 1]
    assert [d["_id"] for d in await cursor.to_list(length=2)] == [2, 3]
    assert [d["_id"] for d in await cursor.to_list(length=10)] == [4]
    assert await cursor.to_list(length=10) == []


async def test_to_list_length_none_returns_everything(any_coll):
    await any_coll.insert_many([{"_id": i} for i in range(5)])
    docs = await any_coll.find().batch_size(2).to_list(None)
    assert sorted(d["_id"] for d in docs) == list(range(5))
    aggregated = await any_coll.aggregate([{"$sort": {"_id": 1}}]).to_list(length=3)
    assert [d["_id"] for d in aggregated] == [0, 1, 2]


async def test_to_list_without_length_returns_everything(any_coll):
    """Motor 3.7's signature is ``to_list(length=None)``: the argument may be omitted."""
    await any_coll.insert_many([{"_id": i} for i in range(4)])
    assert len(await any_coll.find().batch_size(3).to_list()) == 4
    assert len(await any_coll.aggregate([]).to_list()) == 4


async def test_cursor_next_raises_stop_async_iteration_at_the_end(any_coll):
    """As in Motor 3 (and PyMongo's AsyncCursor): ``next()`` never returns None."""
    await any_coll.insert_one({"_id": 1})
    for cursor in (any_coll.find(), any_coll.aggregate([])):
        assert await cursor.next() == {"_id": 1}
        with pytest.raises(StopAsyncIteration):
            await cursor.next()


async def test_to_list_rejects_a_negative_length(any_coll):
    with pytest.raises(ValueError):
        any_coll.find().to_list(length=-1)


# -- loops -------------------------------------------------------------------------------


async def test_get_io_loop_returns_the_flavours_loop(flavour, any_client, any_coll, io_loop):
    expected = io_loop.asyncio_loop if flavour == "asyncio" else io_loop
    if flavour == "asyncio":
        assert isinstance(any_client.get_io_loop(), asyncio.AbstractEventLoop)
    else:
        assert isinstance(any_client.get_io_loop(), IOLoop)
    assert any_client.get_io_loop() is expected
    assert any_coll.database.get_io_loop() is expected
    assert any_coll.get_io_loop() is expected
    assert any_coll.find().get_io_loop() is expected
    assert any_coll.aggregate([]).get_io_loop() is expected
    assert any_coll.watch().get_io_loop() is expected


async def test_io_loop_property_is_the_clients_loop(any_client):
    """Motor 3's ``client.io_loop``: the loop, not a database named "io_loop"."""
    assert any_client.io_loop is any_client.get_io_loop()


async def test_default_io_loop_is_the_running_loop(uri, io_loop):
    asyncio_client = AsyncIOMotorClient(uri)
    tornado_client = MotorClient(uri)
    try:
        assert asyncio_client.get_io_loop() is asyncio.get_running_loop()
        assert tornado_client.get_io_loop() is IOLoop.current()
        assert tornado_client.get_io_loop() is io_loop
        # And they work there.
        assert (await asyncio_client.admin.command("ping"))["ok"] == 1
        assert (await tornado_client.admin.command("ping"))["ok"] == 1
    finally:
        await asyncio_client.close()
        await tornado_client.close()


_MODULE_LEVEL_CLIENT_SCRIPT = """
import asyncio, sys
from motor.motor_asyncio import AsyncIOMotorClient

client = AsyncIOMotorClient(sys.argv[1])  # made before any loop runs

async def main():
    assert client.get_io_loop() is asyncio.get_running_loop()
    await client[sys.argv[2]].things.insert_one({"_id": "from asyncio.run"})
    print((await client[sys.argv[2]].things.find_one())["_id"])
    await client.drop_database(sys.argv[2])
    await client.close()

asyncio.run(main())
"""


def test_client_made_before_asyncio_run_serves_the_loop_asyncio_run_makes(uri, db_name):
    """The usual Motor 3 program: a module-level client, then ``asyncio.run(main())``.

    In a fresh interpreter, since ``asyncio.run`` replaces the current loop.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [
            os.path.dirname(os.path.dirname(os.path.abspath(motor.__file__))),
            env.get("PYTHONPATH", ""),
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", _MODULE_LEVEL_CLIENT_SCRIPT, uri, db_name],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "from asyncio.run"


async def test_asyncio_client_refuses_a_tornado_io_loop(uri, io_loop):
    with pytest.raises(TypeError):
        AsyncIOMotorClient(uri, io_loop=io_loop)


async def test_tornado_client_refuses_an_asyncio_io_loop(uri, io_loop):
    with pytest.raises(TypeError):
        MotorClient(uri, io_loop=io_loop.asyncio_loop)


@pytest.mark.parametrize("cls", [AsyncIOMotorClient, MotorClient], ids=["asyncio", "tornado"])
async def test_client_refuses_an_io_loop_that_is_no_loop(uri, cls):
    with pytest.raises(TypeError):
        cls(uri, io_loop="not a loop")


# -- names: databases, collections, sub-collections ------------------------------------------


async def test_client_item_and_attribute_give_the_named_database(flavour, any_client):
    by_item = any_client["some_db"]
    by_attr = any_client.some_db
    assert type(by_item) is motor_cls(flavour, "Database")
    assert type(by_attr) is motor_cls(flavour, "Database")
    assert by_item.name == by_attr.name == "some_db"
    assert by_item.client is any_client


async def test_database_item_and_attribute_give_the_named_collection(flavour, any_client):
    db = any_client.some_db
    by_item = db["things"]
    by_attr = db.things
    assert type(by_item) is motor_cls(flavour, "Collection")
    assert type(by_attr) is motor_cls(flavour, "Collection")
    assert by_item.name == by_attr.name == "things"
    assert by_attr.full_name == "some_db.things"
    assert by_attr.database == db


async def test_sub_collection_names_join_with_dots(flavour, any_client):
    db = any_client.some_db
    sub = db.a.b
    assert type(sub) is motor_cls(flavour, "Collection")
    assert sub.name == "a.b"
    assert sub.full_name == "some_db.a.b"
    assert db.a["b"].name == "a.b"
    assert db["a.b"] == sub
    assert db.a.b.c.name == "a.b.c"
    assert sub.database == db


async def test_sub_collection_round_trip(any_db):
    sub = any_db.parent.child
    await sub.insert_one({"_id": 1})
    assert await any_db["parent.child"].find_one() == {"_id": 1}
    assert "parent.child" in await any_db.list_collection_names()


@pytest.mark.parametrize("name", ["_private", "__wrapped__", "_x"])
async def test_private_attribute_names_raise_attribute_error(any_client, name):
    with pytest.raises(AttributeError):
        getattr(any_client, name)
    with pytest.raises(AttributeError):
        getattr(any_client.some_db, name)
    with pytest.raises(AttributeError):
        getattr(any_client.some_db.things, name)
    assert not hasattr(any_client, name)


async def test_private_names_are_still_reachable_by_item(any_client):
    assert any_client["_private"].name == "_private"
    assert any_client.some_db["_private"].name == "_private"


async def test_calling_a_database_or_collection_raises_type_error(any_client):
    with pytest.raises(TypeError):
        any_client.some_db()
    with pytest.raises(TypeError):
        any_client.some_db.things.no_such_method()


# -- equality and hashing ---------------------------------------------------------------------


async def test_databases_with_the_same_name_are_equal_and_hash_alike(any_client):
    a1, a2, b = any_client.db_a, any_client["db_a"], any_client.db_b
    assert a1 == a2
    assert not a1 != a2
    assert hash(a1) == hash(a2)
    assert a1 != b
    assert not a1 == b
    assert len({a1, a2, b}) == 2
    assert {a1: 1}[a2] == 1


async def test_collections_with_the_same_name_are_equal_and_hash_alike(any_client):
    db = any_client.some_db
    c1, c2 = db.things, db["things"]
    assert c1 == c2
    assert hash(c1) == hash(c2)
    assert c1 != db.other
    assert c1 != any_client.other_db.things
    assert db.a.b == db["a.b"]
    assert hash(db.a.b) == hash(db["a.b"])
    assert len({c1, c2, db.other, db.a.b, db["a.b"]}) == 3


async def test_database_never_equals_a_collection_or_a_string(any_client):
    db = any_client.same
    assert db != db.same
    assert db != "same"
    assert db.things != "things"


# -- tornado.gen coroutines -------------------------------------------------------------------


async def test_gen_coroutine_can_yield_motor_futures(any_coll):
    @gen.coroutine
    def work():
        result = yield any_coll.insert_one({"_id": 1, "x": "a"})
        assert result.inserted_id == 1
        yield any_coll.insert_many([{"_id": 2, "x": "b"}, {"_id": 3, "x": "c"}])
        first, count = yield [any_coll.find_one({"_id": 1}), any_coll.count_documents({})]
        docs = yield any_coll.find().sort("_id").to_list(length=10)
        cursor = any_coll.find({"_id": {"$gt": 1}}).sort("_id")
        fetched = []
        while (yield cursor.fetch_next):
            fetched.append(cursor.next_object()["_id"])
        return first["x"], count, [d["_id"] for d in docs], fetched

    assert await work() == ("a", 3, [1, 2, 3], [2, 3])


def test_run_sync_with_a_gen_coroutine(io_loop, uri, db_name):
    """The Motor 3 Tornado idiom: IOLoop.run_sync on a gen.coroutine."""
    client = MotorClient(uri, io_loop=io_loop)
    coll = client[db_name].things

    @gen.coroutine
    def work():
        yield coll.insert_one({"_id": "k"})
        doc = yield coll.find_one({"_id": "k"})
        return doc

    try:
        assert io_loop.run_sync(work, timeout=30) == {"_id": "k"}
    finally:
        io_loop.run_sync(client.close)
