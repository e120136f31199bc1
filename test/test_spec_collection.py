"""The spec's MotorCollection and MotorCursor (PyMongo 2's API), against a real server.

``coll`` is a ``motor.MotorCollection``: the spec's flavour, whose methods
come from :mod:`motor.spec`. Every test checks what the server stored or
answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest
from bson import ObjectId
from bson.errors import InvalidDocument
from bson.son import SON
from pymongo import ASCENDING, DESCENDING, ReadPreference
from pymongo.errors import (
    ConfigurationError,
    DuplicateKeyError,
    InvalidOperation,
    NetworkTimeout,
    OperationFailure,
)
from tornado import gen

import motor
from motor.spec import CommandRemoved, SONManipulator


async def _fill(coll, n):
    await coll.insert_many([{"_id": i, "i": i} for i in range(n)])


# -- insert --------------------------------------------------------------------


async def test_insert_returns_the_new_id_and_sets_it_on_the_document(coll):
    document = {"key": "value"}
    _id = await coll.insert(document)
    assert isinstance(_id, ObjectId)
    assert document["_id"] == _id
    assert await coll.find_one({"_id": _id}) == {"_id": _id, "key": "value"}


async def test_insert_of_a_list_returns_the_list_of_ids_in_order(coll):
    docs = [{"n": n} for n in range(5)]
    ids = await coll.insert(docs)
    assert ids == [doc["_id"] for doc in docs]
    stored = await coll.find({}, sort=[("n", 1)]).to_list(None)
    assert [d["_id"] for d in stored] == ids


async def test_insert_keeps_a_given_id(coll):
    assert await coll.insert({"_id": "mine"}) == "mine"
    assert await coll.find_one("mine") == {"_id": "mine"}


async def test_insert_without_manipulate_leaves_the_document_alone(coll):
    document = {"plain": True}
    assert await coll.insert(document, manipulate=False) is None
    assert "_id" not in document
    stored = await coll.find_one({"plain": True})
    assert isinstance(stored["_id"], ObjectId)


async def test_duplicate_id_raises_duplicate_key_error_single_and_in_a_list(coll):
    await coll.insert({"_id": 1})
    with pytest.raises(DuplicateKeyError):
        await coll.insert({"_id": 1})
    with pytest.raises(DuplicateKeyError):
        await coll.insert([{"_id": 2}, {"_id": 1}, {"_id": 3}])
    # Ordered: the batch stopped at the duplicate.
    assert await coll.distinct("_id") == [1, 2]


async def test_continue_on_error_inserts_past_a_duplicate(coll):
    await coll.insert({"_id": 1})
    with pytest.raises(DuplicateKeyError):
        await coll.insert([{"_id": 2}, {"_id": 1}, {"_id": 3}], continue_on_error=True)
    assert sorted(await coll.distinct("_id")) == [1, 2, 3]


async def test_insert_callbacks_get_the_id_then_the_duplicate_key_error(coll):
    # The tutorial's example: two inserts of {'_id': 1} with one callback.
    loop = asyncio.get_running_loop()
    results = []
    done = loop.create_future()

    def my_callback(result, error):
        results.append((result, error))
        if len(results) == 2:
            done.set_result(None)

    document = {"_id": 1}
    assert coll.insert(document, callback=my_callback) is None
    coll.insert(document, callback=my_callback)
    await asyncio.wait_for(done, 10)
    # Both inserts run at once (on two connections): either may win.
    assert (1, None) in results
    [(result, error)] = [r for r in results if r != (1, None)]
    assert result is None and isinstance(error, DuplicateKeyError)


async def test_insert_checks_keys_before_sending(coll):
    with pytest.raises(InvalidDocument):
        await coll.insert({"$bad": 1})
    with pytest.raises(InvalidDocument):
        await coll.insert({"nested": {"a.b": 1}})
    assert await coll.count() == 0


async def test_empty_insert_raises_invalid_operation(coll):
    with pytest.raises(InvalidOperation):
        await coll.insert([])


async def test_insert_refuses_safe_and_takes_write_concern_options(coll):
    with pytest.raises(ConfigurationError, match="safe"):
        await coll.insert({"x": 1}, safe=True)
    assert await coll.count() == 0
    _id = await coll.insert({"x": 2}, w=1, j=False)
    assert (await coll.find_one(_id))["x"] == 2
    with pytest.raises(ConfigurationError, match="not a write concern option"):
        coll.write_concern = {"bogus": 1}


async def test_unacknowledged_insert_still_returns_the_id(coll):
    _id = await coll.insert({"fire": "forget"}, w=0)
    assert isinstance(_id, ObjectId)
    for _ in range(100):
        if await coll.find_one(_id):
            break
        await asyncio.sleep(0.02)
    assert (await coll.find_one(_id))["fire"] == "forget"


async def test_inserting_documents_one_after_another_in_a_gen_coroutine(coll):
    @gen.coroutine
    def do_insert():
        for i in range(200):
            result = yield coll.insert({"i": i})
            assert isinstance(result, ObjectId)

    await do_insert()
    assert await coll.count() == 200


# -- update, remove, save ----------------------------------------------------------


async def test_update_with_operators_returns_the_legacy_result(coll):
    await _fill(coll, 3)
    result = await coll.update({"i": 1}, {"$set": {"key": "value"}})
    assert result == {"ok": 1.0, "err": None, "n": 1, "nModified": 1, "updatedExisting": True}
    assert await coll.find_one({"i": 1}) == {"_id": 1, "i": 1, "key": "value"}


async def test_update_replaces_the_whole_document_but_its_id(coll):
    await _fill(coll, 3)
    result = await coll.update({"_id": 2}, {"key": "value"})
    assert result["n"] == 1 and result["updatedExisting"] is True
    assert await coll.find_one({"_id": 2}) == {"_id": 2, "key": "value"}


async def test_update_changes_one_document_unless_multi(coll):
    await _fill(coll, 5)
    assert (await coll.update({"i": {"$gt": 1}}, {"$set": {"k": 1}}))["n"] == 1
    assert await coll.count_documents({"k": 1}) == 1
    result = await coll.update({"i": {"$gt": 1}}, {"$set": {"k": 2}}, multi=True)
    assert result["n"] == 3 and result["nModified"] == 3
    assert await coll.count_documents({"k": 2}) == 3


async def test_update_without_a_match_reports_nothing_updated(coll):
    result = await coll.update({"i": 99}, {"$set": {"k": 1}})
    assert result["n"] == 0 and result["updatedExisting"] is False
    assert "upserted" not in result


async def test_upsert_reports_the_new_id(coll):
    result = await coll.update({"i": 99}, {"$set": {"k": 1}}, upsert=True)
    assert result["n"] == 1 and result["updatedExisting"] is False
    stored = await coll.find_one({"i": 99})
    assert result["upserted"] == stored["_id"] and stored["k"] == 1


async def test_multi_update_with_a_replacement_document_is_refused(coll):
    await _fill(coll, 2)
    with pytest.raises(OperationFailure, match=r"\$ operators"):
        await coll.update({}, {"replaced": True}, multi=True)
    assert await coll.count_documents({"replaced": True}) == 0


async def test_unacknowledged_update_returns_none(coll):
    await _fill(coll, 1)
    assert await coll.update({"_id": 0}, {"$set": {"w0": True}}, w=0) is None


async def test_update_checks_its_arguments(coll):
    with pytest.raises(TypeError):
        await coll.update("not a dict", {"$set": {"a": 1}})
    with pytest.raises(TypeError):
        await coll.update({}, {"$set": {"a": 1}}, upsert="yes")


async def test_remove_by_query_by_id_one_or_all(coll):
    await _fill(coll, 6)
    assert await coll.remove({"i": {"$gte": 4}}) == {"ok": 1.0, "err": None, "n": 2}
    assert (await coll.remove(0))["n"] == 1
    assert (await coll.remove({"i": {"$lt": 4}}, multi=False))["n"] == 1
    assert await coll.count() == 2
    assert (await coll.remove())["n"] == 2
    assert await coll.count() == 0


async def test_save_inserts_then_replaces_by_id(coll):
    doc = {"key": "value"}
    _id = await coll.save(doc)
    assert doc["_id"] == _id
    doc["other_key"] = "other_value"
    assert await coll.save(doc) == _id
    assert await coll.find_one() == {"_id": _id, "key": "value", "other_key": "other_value"}
    assert await coll.count() == 1
    # save() of a document with an unknown _id upserts it.
    assert await coll.save({"_id": "new", "a": 1}) == "new"
    assert await coll.count() == 2
    await coll.remove(doc)
    assert await coll.count() == 1


# -- find_and_modify -----------------------------------------------------------------


async def test_find_and_modify_returns_the_old_or_the_new_document(coll):
    await _fill(coll, 3)
    old = await coll.find_and_modify({"_id": 1}, {"$inc": {"i": 10}})
    assert old == {"_id": 1, "i": 1}
    new = await coll.find_and_modify({"_id": 1}, {"$inc": {"i": 10}}, new=True)
    assert new == {"_id": 1, "i": 21}


async def test_find_and_modify_sort_fields_and_remove(coll):
    await _fill(coll, 4)
    doc = await coll.find_and_modify(
        {}, {"$set": {"top": True}}, sort=[("i", DESCENDING)], new=True, fields=["top"]
    )
    assert doc == {"_id": 3, "top": True}
    removed = await coll.find_and_modify({"i": {"$lt": 2}}, remove=True, sort=[("i", ASCENDING)])
    assert removed == {"_id": 0, "i": 0}
    assert await coll.count() == 3


async def test_find_and_modify_nothing_matched_upsert_and_full_response(coll):
    assert await coll.find_and_modify({"_id": 9}, {"$set": {"a": 1}}) is None
    # The spec: "If upserting and new is false, returns {}."
    assert await coll.find_and_modify({"_id": 9}, {"$set": {"a": 1}}, upsert=True) == {}
    assert await coll.find_one(9) == {"_id": 9, "a": 1}
    reply = await coll.find_and_modify({"_id": 9}, {"$set": {"a": 2}}, full_response=True)
    assert reply["ok"] == 1.0
    assert reply["value"] == {"_id": 9, "a": 1}
    assert reply["lastErrorObject"]["updatedExisting"] is True


async def test_find_and_modify_needs_update_or_remove(coll):
    with pytest.raises(ValueError):
        await coll.find_and_modify({"_id": 1})
    with pytest.raises(ValueError):
        await coll.find_and_modify({"_id": 1}, {"$set": {"a": 1}}, remove=True)


# -- counting --------------------------------------------------------------------------


async def test_count_on_collection_and_cursor(coll):
    assert await coll.count() == 0
    await _fill(coll, 20)
    assert await coll.count() == 20
    assert await coll.find({"i": {"$gt": 10}}).count() == 9
    cursor = coll.find().skip(5).limit(10)
    assert await cursor.count() == 20
    assert await cursor.count(with_limit_and_skip=True) == 10
    assert await coll.find().skip(15).limit(10).count(True) == 5
    assert await coll.find()[3:3].count(True) == 0
    with pytest.raises(TypeError):
        await cursor.count("yes")


async def test_count_of_a_missing_collection_is_zero(db):
    assert await db.never_created.count() == 0
    assert await db.never_created.find({"a": 1}).count() == 0


# -- cursors: slicing, PyMongo 2's find() keywords -------------------------------------------


async def test_an_index_past_the_end_yields_nothing_instead_of_raising(coll):
    await _fill(coll, 10)
    cursor = coll.find()[100]
    count = 0
    while await cursor.fetch_next:
        cursor.next_object()
        count += 1
    assert count == 0


async def test_an_index_gives_a_cursor_over_that_one_document(coll):
    await _fill(coll, 10)
    base = coll.find().sort("i")
    cursor = base[5]
    assert isinstance(cursor, motor.MotorCursor) and cursor is not base
    assert await cursor.to_list(10) == [{"_id": 5, "i": 5}]
    # The index adds to a skip already set; a limit already set is ignored.
    assert await coll.find().sort("i").skip(2).limit(1)[3].to_list(10) == [{"_id": 5, "i": 5}]


async def test_slices_set_skip_and_limit(coll):
    await _fill(coll, 10)
    docs = await coll.find().sort("i")[2:5].to_list(None)
    assert [d["i"] for d in docs] == [2, 3, 4]
    assert [d["i"] for d in await coll.find().sort("i")[7:].to_list(None)] == [7, 8, 9]
    assert await coll.find().sort("i")[8:20].count(with_limit_and_skip=True) == 2
    assert await coll.find()[5:2].to_list(None) == []
    assert await coll.find()[50:60].to_list(None) == []


async def test_bad_indices_raise_before_any_io(coll):
    cursor = coll.find()
    with pytest.raises(ValueError):
        cursor[-1]
    with pytest.raises(ValueError):
        cursor[1:5:2]
    with pytest.raises(TypeError):
        cursor["x"]
    with pytest.raises(TypeError, match="async for"):
        for _ in cursor:
            pass


async def test_slicing_a_started_cursor_raises_invalid_operation(coll):
    await _fill(coll, 3)
    cursor = coll.find()
    assert await cursor.fetch_next
    with pytest.raises(InvalidOperation):
        cursor[1]


async def test_find_takes_pymongo2_arguments(coll):
    await _fill(coll, 10)
    docs = await coll.find(
        spec={"i": {"$lt": 5}}, fields=["i"], skip=1, limit=2, sort=[("i", -1)]
    ).to_list(None)
    assert docs == [{"_id": 3, "i": 3}, {"_id": 2, "i": 2}]
    # Positionally, in PyMongo 2's order: spec, fields, skip, limit.
    docs = await coll.find({"i": {"$gte": 5}}, {"_id": 0}, 1, 2).sort("i").to_list(None)
    assert docs == [{"i": 6}, {"i": 7}]
    # PyMongo 4's names still work.
    docs = await coll.find(filter={"i": 9}, projection={"_id": 0}).to_list(None)
    assert docs == [{"i": 9}]


async def test_find_timeout_false_and_as_class(coll):
    await _fill(coll, 3)
    cursor = coll.find(timeout=False, as_class=SON)
    assert cursor.delegate._query_flags & 16  # noCursorTimeout
    docs = await cursor.to_list(None)
    assert len(docs) == 3 and all(isinstance(d, SON) for d in docs)


async def test_find_refuses_slave_okay(coll):
    with pytest.raises(ConfigurationError, match="read preference"):
        coll.find(slave_okay=True)


async def test_find_one_by_id_query_and_fields(coll):
    await _fill(coll, 3)
    assert await coll.find_one(2) == {"_id": 2, "i": 2}
    assert await coll.find_one({"i": {"$gt": 0}}, fields={"_id": 0}, sort=[("i", -1)]) == {"i": 2}
    assert await coll.find_one({"i": 99}) is None
    assert await coll.find_one() is not None


async def test_tailable_cursor_on_a_capped_collection_as_in_the_spec(db):
    collection = await db.create_collection("capped", capped=True, size=10000)
    await collection.insert({"n": 0})
    cursor = collection.find(tailable=True, await_data=True)
    results = []
    assert await cursor.fetch_next
    results.append(cursor.next_object()["n"])
    await collection.insert({"n": 1})
    while len(results) < 2:
        assert cursor.alive
        if await cursor.fetch_next:
            results.append(cursor.next_object()["n"])
    assert results == [0, 1]
    await cursor.close()


@contextlib.asynccontextmanager
async def _failpoint(admin_client, app_name, commands, **data):
    fail = {"failCommands": list(commands), "appName": app_name, **data}
    await admin_client.admin.command(
        {"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": fail}
    )
    try:
        yield
    finally:
        await admin_client.admin.command({"configureFailPoint": "failCommand", "mode": "off"})


async def test_network_timeout_raises_a_connection_failure(make_client, db_name):
    app_name = f"spec-timeout-{uuid.uuid4().hex[:8]}"
    client = make_client(appname=app_name)
    admin_client = make_client()
    coll = client[db_name].slow
    await coll.insert({"_id": 1})
    async with _failpoint(admin_client, app_name, ["find"], blockConnection=True, blockTimeMS=1500):
        with pytest.raises(NetworkTimeout):
            await coll.find_one({"_id": 1}, network_timeout=0.3)
    assert await coll.find_one({"_id": 1}, network_timeout=5) == {"_id": 1}
    async with _failpoint(admin_client, app_name, ["find"], blockConnection=True, blockTimeMS=1500):
        with pytest.raises(NetworkTimeout):
            await coll.find(network_timeout=0.3).to_list(None)


# -- indexes --------------------------------------------------------------------------


async def test_ensure_index_creates_once_within_cache_for(coll):
    assert await coll.ensure_index("x") == "x_1"
    assert "x_1" in await coll.index_information()
    assert await coll.ensure_index("x") is None
    # Dropping through this client forgets the index.
    await coll.drop_index("x_1")
    assert "x_1" not in await coll.index_information()
    assert await coll.ensure_index("x") == "x_1"
    assert "x_1" in await coll.index_information()


async def test_ensure_index_cache_expires(coll):
    assert (
        await coll.ensure_index([("a", ASCENDING), ("b", DESCENDING)], cache_for=0.05) == "a_1_b_-1"
    )
    await asyncio.sleep(0.1)
    assert await coll.ensure_index([("a", ASCENDING), ("b", DESCENDING)]) == "a_1_b_-1"


async def test_create_index_options_and_index_information(coll):
    name = await coll.create_index([("u", ASCENDING)], unique=True, name="unique_u")
    assert name == "unique_u"
    info = await coll.index_information()
    assert info["unique_u"]["unique"] is True
    assert info["unique_u"]["key"] == [("u", 1)]
    assert info["_id_"]["key"] == [("_id", 1)]
    await coll.insert({"u": 1})
    with pytest.raises(DuplicateKeyError):
        await coll.insert({"u": 1})
    # create_index remembers the index for ensure_index too.
    assert await coll.ensure_index("u", name="unique_u") is None


async def test_drop_indexes_and_drop_forget_the_cache(coll):
    await coll.ensure_index("p")
    await coll.drop_indexes()
    assert list(await coll.index_information()) == ["_id_"]
    assert await coll.ensure_index("p") == "p_1"
    await coll.drop()
    assert await coll.ensure_index("p") == "p_1"


async def test_ttl_is_a_deprecated_name_for_cache_for(coll):
    with pytest.warns(DeprecationWarning, match="cache_for"):
        assert await coll.ensure_index("t", ttl=60) == "t_1"


# -- aggregation, distinct, group, map/reduce ------------------------------------------------


async def test_aggregate_gives_the_result_document(coll):
    await _fill(coll, 6)
    result = await coll.aggregate(
        [{"$match": {"i": {"$gte": 2}}}, {"$group": {"_id": None, "total": {"$sum": "$i"}}}]
    )
    assert result == {"result": [{"_id": None, "total": 14}], "ok": 1.0}
    # A single stage may be given without a list.
    result = await coll.aggregate({"$match": {"i": 5}})
    assert result["result"] == [{"_id": 5, "i": 5}]


async def test_aggregate_with_a_callback_or_in_a_gen_coroutine(coll):
    await _fill(coll, 3)
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    pipeline = [{"$sort": {"i": -1}}, {"$limit": 1}]
    assert coll.aggregate(pipeline, callback=lambda r, e: done.set_result((r, e))) is None
    assert await asyncio.wait_for(done, 10) == ({"result": [{"_id": 2, "i": 2}], "ok": 1.0}, None)

    @gen.coroutine
    def f():
        result = yield coll.aggregate(pipeline)
        return result["result"]

    assert await f() == [{"_id": 2, "i": 2}]


async def test_aggregate_can_still_be_iterated(coll):
    await _fill(coll, 3)
    docs = [doc async for doc in coll.aggregate([{"$sort": {"i": 1}}])]
    assert [d["i"] for d in docs] == [0, 1, 2]


async def test_other_latent_cursors_are_not_awaitable(coll):
    with pytest.raises(TypeError, match="async for"):
        await coll.list_indexes()


async def test_distinct_rename_and_options(db):
    coll = db.source
    await coll.insert([{"k": 1}, {"k": 2}, {"k": 1}])
    assert sorted(await coll.distinct("k")) == [1, 2]
    assert sorted(await coll.find({"k": {"$gt": 0}}).distinct("k")) == [1, 2]
    await coll.rename("target")
    assert "target" in await db.collection_names()
    assert await db.target.count() == 3
    capped = await db.create_collection("capped_opts", capped=True, size=4096, max=3)
    options = await capped.options()
    assert options["capped"] is True and options["max"] == 3


async def test_group_runs_the_command_or_names_its_replacement(coll):
    await coll.insert([{"k": "a"}, {"k": "a"}, {"k": "b"}])
    try:
        result = await coll.group(["k"], {}, {"n": 0}, "function(doc, out) { out.n++; }")
    except CommandRemoved as exc:
        assert exc.code == 59
        assert "$group" in str(exc) and "aggregate" in str(exc)
        assert isinstance(exc, OperationFailure)
    else:  # a server from before MongoDB 4.2
        assert sorted((g["k"], g["n"]) for g in result) == [("a", 2.0), ("b", 1.0)]


async def _server_runs_map_reduce(coll) -> bool:
    await coll.insert([{"k": i % 2, "v": i} for i in range(6)])
    try:
        results = await coll.inline_map_reduce(
            "function() { emit(this.k, this.v); }",
            "function(k, vs) { return Array.sum(vs); }",
        )
    except CommandRemoved:
        return False
    return bool(results)


async def test_inline_map_reduce_and_map_reduce(coll):
    if not await _server_runs_map_reduce(coll):
        pytest.skip("the server's mapReduce runs no JavaScript map/reduce functions")
    map_js = "function() { emit(this.k, this.v); }"
    reduce_js = "function(k, vs) { return Array.sum(vs); }"
    results = await coll.inline_map_reduce(map_js, reduce_js)
    assert sorted((r["_id"], r["value"]) for r in results) == [(0, 6), (1, 9)]
    full = await coll.inline_map_reduce(map_js, reduce_js, full_response=True)
    assert full["ok"] == 1.0 and len(full["results"]) == 2
    out = await coll.map_reduce(map_js, reduce_js, "mr_out")
    assert isinstance(out, motor.MotorCollection) and out.name == "mr_out"
    assert await out.count() == 2


# -- SON manipulators ------------------------------------------------------------------


class Stamp(SONManipulator):
    def transform_incoming(self, son, collection):
        son["stamped"] = collection.name
        return son


class Hide(SONManipulator):
    def will_copy(self):
        return True

    def transform_outgoing(self, son, collection):
        son = dict(son)
        son.pop("secret", None)
        return son


async def test_son_manipulators_transform_inserted_and_returned_documents(db):
    db.add_son_manipulator(Stamp())
    db.add_son_manipulator(Hide())
    assert db.incoming_manipulators == ["Stamp"]
    assert db.outgoing_copying_manipulators == ["Hide"]
    assert db.incoming_copying_manipulators == [] and db.outgoing_manipulators == []
    coll = db.manipulated
    _id = await coll.insert({"secret": 1, "public": 2})
    assert await coll.find_one(_id) == {"_id": _id, "stamped": "manipulated", "public": 2}
    assert await coll.find().to_list(None) == [{"_id": _id, "stamped": "manipulated", "public": 2}]
    raw = await coll.find_one(_id, manipulate=False)
    assert raw["secret"] == 1


# -- settings --------------------------------------------------------------------------


async def test_collection_write_concern_dict_applies_at_once(coll):
    assert coll.write_concern == {}
    coll.write_concern["w"] = 0
    assert coll.delegate.write_concern.acknowledged is False
    assert await coll.update({}, {"$set": {"a": 1}}, upsert=True) is None
    coll.write_concern = {"w": 1}
    assert (await coll.update({}, {"$set": {"a": 2}}, upsert=True))["n"] == 1


def test_collection_read_preference_from_mode_numbers_and_tag_sets(client):
    coll = client.some_db.some_coll
    assert coll.read_preference == ReadPreference.PRIMARY
    coll.tag_sets = [{"dc": "ny"}]
    assert coll.read_preference == ReadPreference.PRIMARY  # primary has no tags
    coll.read_preference = 2  # PyMongo 2's SECONDARY
    assert coll.read_preference.mode == ReadPreference.SECONDARY.mode
    assert coll.read_preference.tag_sets == [{"dc": "ny"}]
    coll.read_preference = ReadPreference.NEAREST
    assert coll.read_preference.tag_sets == [{"dc": "ny"}]
    assert coll.secondary_acceptable_latency_ms == 15
    with pytest.raises(ConfigurationError):
        coll.read_preference = 9


def test_uuid_subtype_property(client):
    coll = client.some_db.some_coll
    coll.uuid_subtype = 4
    assert coll.uuid_subtype == 4
    coll.uuid_subtype = 3
    assert coll.uuid_subtype == 3
    with pytest.raises(ConfigurationError):
        coll.uuid_subtype = 7


async def test_reindex_runs_the_command_or_names_its_replacement(coll):
    await coll.insert({"a": 1})
    try:
        result = await coll.reindex()
    except CommandRemoved as exc:
        assert "drop_indexes()" in str(exc)
    else:  # a standalone server that still rebuilds indexes
        assert result["ok"] == 1.0


async def test_find_without_pymongo2_arguments_still_applies_manipulators(db):
    db.add_son_manipulator(Hide())
    await db.plain.insert_one({"_id": 1, "secret": 2, "public": 3})
    assert await db.plain.find({"_id": 1}).to_list(None) == [{"_id": 1, "public": 3}]
    assert await db.plain.find_one({"_id": 1}) == {"_id": 1, "public": 3}


async def test_an_empty_field_list_returns_only_ids(coll):
    await _fill(coll, 2)
    assert await coll.find({}, []).sort("_id").to_list(None) == [{"_id": 0}, {"_id": 1}]
    assert await coll.find(fields=[]).sort("_id").to_list(None) == [{"_id": 0}, {"_id": 1}]
    assert await coll.find_one({"_id": 1}, []) == {"_id": 1}
