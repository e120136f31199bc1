"""CRUD, commands and every way of reading a cursor, against a real server."""

from __future__ import annotations

import asyncio

import pytest
from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure
from tornado import gen

import motor


async def _fill(coll, n):
    await coll.insert_many([{"_id": i, "x": i} for i in range(n)])


async def test_insert_find_update_delete_round_trip(coll):
    result = await coll.insert_one({"name": "a", "n": 1})
    assert isinstance(result.inserted_id, ObjectId)
    assert (await coll.find_one({"_id": result.inserted_id}))["name"] == "a"

    await coll.insert_many([{"name": "b", "n": 2}, {"name": "c", "n": 3}])
    assert await coll.count_documents({}) == 3
    assert await coll.estimated_document_count() == 3

    updated = await coll.update_one({"name": "a"}, {"$set": {"n": 10}})
    assert updated.modified_count == 1
    many = await coll.update_many({"n": {"$lt": 5}}, {"$inc": {"n": 100}})
    assert many.modified_count == 2
    replaced = await coll.replace_one({"name": "c"}, {"name": "c2", "n": 0})
    assert replaced.matched_count == 1

    doc = await coll.find_one_and_update(
        {"name": "a"}, {"$inc": {"n": 1}}, return_document=ReturnDocument.AFTER
    )
    assert doc["n"] == 11
    assert (await coll.find_one_and_replace({"name": "c2"}, {"name": "c3"}))["name"] == "c2"
    assert (await coll.find_one_and_delete({"name": "c3"}))["name"] == "c3"

    assert (await coll.delete_one({"name": "a"})).deleted_count == 1
    assert (await coll.delete_many({})).deleted_count == 1
    assert await coll.find_one() is None


async def test_distinct_indexes_and_bulk_write(coll):
    from pymongo import InsertOne, UpdateOne

    await coll.bulk_write([InsertOne({"k": 1}), InsertOne({"k": 2}), UpdateOne({"k": 1}, {"$set": {"k": 3}})])
    assert sorted(await coll.distinct("k")) == [2, 3]

    name = await coll.create_index([("k", ASCENDING)], unique=True)
    assert name in await coll.index_information()
    names = [index["name"] async for index in coll.list_indexes()]
    assert name in names
    with pytest.raises(DuplicateKeyError):
        await coll.insert_one({"k": 2})
    await coll.drop_index(name)
    assert name not in await coll.index_information()


async def test_database_commands_and_collections(db, client):
    assert (await db.command("ping"))["ok"] == 1
    assert (await client.admin.command({"ping": 1}))["ok"] == 1
    created = await db.create_collection("made")
    assert isinstance(created, motor.MotorCollection)
    assert "made" in await db.list_collection_names()
    names = [info["name"] async for info in await db.list_collections()]
    assert "made" in names
    assert db.name in await client.list_database_names()
    await db.drop_collection("made")
    assert "made" not in await db.list_collection_names()
    info = await client.server_info()
    assert "version" in info


async def test_aggregate_cursor_runs_on_first_use(coll):
    await _fill(coll, 10)
    cursor = coll.aggregate([{"$match": {"x": {"$gte": 5}}}, {"$sort": {"x": -1}}])
    assert isinstance(cursor, motor.MotorLatentCommandCursor)
    assert [doc["x"] async for doc in cursor] == [9, 8, 7, 6, 5]
    total = await coll.aggregate([{"$group": {"_id": None, "t": {"$sum": "$x"}}}]).to_list(None)
    assert total == [{"_id": None, "t": 45}]


async def test_fetch_next_and_next_object_read_every_document(coll):
    await _fill(coll, 25)
    cursor = coll.find().sort("_id").batch_size(4)
    seen = []
    while await cursor.fetch_next:
        seen.append(cursor.next_object()["_id"])
    assert seen == list(range(25))
    assert cursor.next_object() is None
    assert not cursor.alive


async def test_to_list_honours_length_and_may_omit_it(coll):
    await _fill(coll, 30)
    cursor = coll.find().sort("_id").batch_size(7)
    with pytest.raises(ValueError):
        cursor.to_list(-1)
    first = await cursor.to_list(10)
    assert [d["_id"] for d in first] == list(range(10))
    rest = await cursor.to_list(length=None)
    assert [d["_id"] for d in rest] == list(range(10, 30))
    assert await cursor.to_list(5) == []
    # As in Motor 3, omitting length means all of them.
    assert len(await coll.find().to_list()) == 30


async def test_async_for_with_chained_options(coll):
    await _fill(coll, 20)
    cursor = coll.find({"x": {"$gte": 3}}, {"_id": 0}).sort("x", DESCENDING).skip(2).limit(5)
    assert isinstance(cursor, motor.MotorCursor)
    assert [doc async for doc in cursor] == [{"x": x} for x in (17, 16, 15, 14, 13)]


async def test_each_calls_back_per_document_then_none(coll, io_loop):
    await _fill(coll, 12)
    done = asyncio.get_running_loop().create_future()
    received = []

    def on_doc(doc, error):
        assert error is None
        if doc is None:
            done.set_result(received)
        else:
            received.append(doc["_id"])

    coll.find().sort("_id").batch_size(5).each(on_doc)
    assert await asyncio.wait_for(done, 10) == list(range(12))


async def test_each_stops_when_callback_returns_false(coll):
    await _fill(coll, 12)
    received = []

    def on_doc(doc, error):
        received.append(doc)
        return len(received) < 3

    coll.find().sort("_id").batch_size(5).each(on_doc)
    await asyncio.sleep(0.3)
    assert [d["_id"] for d in received] == [0, 1, 2]


async def test_each_rejects_a_non_callable(coll):
    with pytest.raises(TypeError):
        coll.find().each(None)


async def test_cursor_close_rewind_clone_and_properties(coll):
    await _fill(coll, 10)
    cursor = coll.find().sort("_id").batch_size(3)
    assert cursor.cursor_id is None
    assert await cursor.fetch_next
    assert cursor.cursor_id  # a live server cursor after the first batch
    assert cursor.alive
    assert cursor.next_object()["_id"] == 0

    cursor.rewind()
    assert [d["_id"] for d in await cursor.to_list(None)] == list(range(10))

    clone = cursor.clone()
    assert isinstance(clone, motor.MotorCursor)
    assert len(await clone.to_list(None)) == 10

    cursor = coll.find().batch_size(2)
    assert await cursor.fetch_next
    await cursor.close()
    # Closing kills the server cursor; only the batch already received is left.
    assert len(await cursor.to_list(None)) == 2
    assert not cursor.alive


async def test_cursor_explain_and_distinct(coll):
    await _fill(coll, 5)
    plan = await coll.find({"x": 1}).explain()
    assert isinstance(plan, dict) and plan
    assert sorted(await coll.find({"x": {"$lt": 3}}).distinct("x")) == [0, 1, 2]


async def test_tailable_await_cursor_on_capped_collection(db):
    capped = await db.create_collection("capped", capped=True, size=100000)
    await capped.insert_one({"i": 0})
    cursor = capped.find(cursor_type=motor_cursor_type("TAILABLE_AWAIT")).max_await_time_ms(200)
    seen = []

    async def tail():
        while len(seen) < 3:
            if await cursor.fetch_next:
                seen.append(cursor.next_object()["i"])

    tailing = asyncio.ensure_future(tail())
    await asyncio.sleep(0.2)
    await capped.insert_one({"i": 1})
    await asyncio.sleep(0.2)
    await capped.insert_one({"i": 2})
    await asyncio.wait_for(tailing, 10)
    assert seen == [0, 1, 2]
    assert cursor.alive
    await cursor.close()


def motor_cursor_type(name):
    from pymongo import CursorType

    return getattr(CursorType, name)


async def test_future_carries_pymongo_error(coll):
    await coll.insert_one({"_id": 1})
    with pytest.raises(DuplicateKeyError):
        await coll.insert_one({"_id": 1})
    with pytest.raises(OperationFailure):
        await coll.database.command("noSuchCommand")


async def test_callbacks_get_result_and_error_on_the_loop(coll):
    loop = asyncio.get_running_loop()
    outcome = loop.create_future()

    def inserted(result, error):
        outcome.set_result((result, error))

    assert coll.insert_one({"_id": 7}, callback=inserted) is None
    result, error = await outcome
    assert error is None and result.inserted_id == 7

    failed = loop.create_future()
    coll.insert_one({"_id": 7}, callback=lambda result, error: failed.set_result((result, error)))
    result, error = await failed
    assert result is None and isinstance(error, DuplicateKeyError)


async def test_non_callable_callback_is_a_type_error_at_call_time(coll):
    with pytest.raises(TypeError):
        coll.find_one({}, callback="not callable")
    with pytest.raises(TypeError):
        coll.find().to_list(1, callback=1)


async def test_gen_coroutine_yields_motor_futures(coll):
    @gen.coroutine
    def work():
        yield coll.insert_one({"_id": "gen"})
        doc = yield coll.find_one({"_id": "gen"})
        return doc

    assert (await work())["_id"] == "gen"


async def test_open_resolves_to_client_and_sets_connected(make_client):
    client = make_client()
    assert not client.connected
    assert await client.open() is client
    assert client.connected
    assert client.address is not None


async def test_open_with_callback(make_client):
    client = make_client()
    opened = asyncio.get_running_loop().create_future()
    client.open(callback=lambda result, error: opened.set_result((result, error)))
    result, error = await opened
    assert result is client and error is None


def test_open_sync_connects_before_the_loop_runs(make_client, io_loop):
    client = make_client()
    assert client.open_sync() is client
    assert client.connected

    async def use():
        return await client.admin.command("ping")

    assert io_loop.run_sync(use)["ok"] == 1


async def test_open_sync_refuses_a_running_loop(make_client):
    with pytest.raises(RuntimeError, match="await client.open"):
        make_client().open_sync()


def test_sync_client_shares_the_configuration(make_client):
    client = make_client(appname="motor-sync-twin", maxPoolSize=7)
    sync = client.sync_client()
    try:
        assert sync.options.pool_options.max_pool_size == 7
        assert sync.admin.command("ping")["ok"] == 1
    finally:
        sync.close()


def test_max_concurrent_and_max_wait_time_become_pool_options(make_client):
    client = make_client(max_concurrent=3, max_wait_time=1.5)
    pool_options = client.delegate.options.pool_options
    assert pool_options.max_pool_size == 3
    assert pool_options.wait_queue_timeout == 1.5
    with pytest.raises(TypeError, match="max_concurrent"):
        make_client(max_concurrent=0)
    with pytest.raises(TypeError, match="max_wait_time"):
        make_client(max_wait_time="soon")


async def test_database_and_collection_access(client):
    db = client.some_db
    assert isinstance(db, motor.MotorDatabase)
    assert db == client["some_db"]
    assert db.name == "some_db"
    coll = db.things.sub
    assert isinstance(coll, motor.MotorCollection)
    assert coll.name == "things.sub"
    assert coll.full_name == "some_db.things.sub"
    assert coll.database == db
    with pytest.raises(AttributeError):
        client._hidden  # noqa: B018
