"""Sessions, transactions and change streams, against a real replica set.

SecantusDB presents itself as a one-member replica set, so transactions and
change streams work there; against a standalone mongod these tests skip.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from pymongo.errors import OperationFailure, PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

import motor
from test.motor_fixtures import sync_client

# How long any single wait for a change may take before the test fails.
WAIT = 10


@pytest.fixture
def replica_set(server_info):
    hello = server_info["hello"]
    if not hello.get("setName") and hello.get("msg") != "isdbgrid":
        pytest.skip("sessions' transactions and change streams need a replica set or mongos")


async def _created(coll):
    """Create ``coll`` up front: transactions and streams want it to exist."""
    await coll.database.create_collection(coll.name)
    return coll


# -- sessions -------------------------------------------------------------------------------


async def test_async_with_session_ends_it_afterwards(client, coll):
    async with await client.start_session() as session:
        assert isinstance(session, motor.MotorClientSession)
        assert not session.has_ended
        await coll.insert_one({"_id": 1}, session=session)
        assert await coll.find_one({"_id": 1}, session=session) == {"_id": 1}
    assert session.has_ended


async def test_session_is_usable_with_the_asyncio_client(asyncio_client, db_name):
    from motor.motor_asyncio import AsyncIOMotorClientSession

    coll = asyncio_client[db_name].things
    async with await asyncio_client.start_session() as session:
        assert isinstance(session, AsyncIOMotorClientSession)
        assert session.client is asyncio_client
        await coll.insert_one({"_id": "a"}, session=session)
        assert await coll.count_documents({}, session=session) == 1
    assert session.has_ended


async def test_causally_consistent_session_reads_its_own_write(client, coll, replica_set):
    async with await client.start_session(causal_consistency=True) as session:
        assert session.options.causal_consistency
        assert session.operation_time is None
        result = await coll.insert_one({"_id": "w", "v": 1}, session=session)
        assert result.acknowledged
        write_time = session.operation_time
        assert write_time is not None
        assert session.cluster_time is not None
        majority = coll.with_options(read_concern=ReadConcern("majority"))
        assert await majority.find_one({"_id": "w"}, session=session) == {"_id": "w", "v": 1}
        await coll.update_one({"_id": "w"}, {"$inc": {"v": 1}}, session=session)
        assert session.operation_time >= write_time
        assert (await majority.find_one({"_id": "w"}, session=session))["v"] == 2


async def test_session_operations_accept_motor_cursors_and_commands(client, coll, replica_set):
    await coll.insert_many([{"_id": i} for i in range(3)])
    async with await client.start_session() as session:
        found = [doc["_id"] async for doc in coll.find(session=session).sort("_id")]
        assert found == [0, 1, 2]
        aggregated = await coll.aggregate([{"$count": "n"}], session=session).to_list(1)
        assert aggregated == [{"n": 3}]
        assert (await coll.database.command("ping", session=session))["ok"] == 1


needs_bind = pytest.mark.skipif(
    not hasattr(motor.MotorClientSession, "bind"), reason="no MotorClientSession.bind()"
)


@needs_bind
async def test_bound_session_is_passed_implicitly_inside_a_transaction(client, coll, replica_set):
    await _created(coll)
    async with await client.start_session() as session:
        async with session.start_transaction():
            async with session.bind(end_session=False):
                await coll.insert_one({"_id": "implicit"})  # no session= given
                assert await coll.count_documents({}) == 1  # sees its own write
            # Outside the bound block, operations are outside the transaction.
            assert await coll.count_documents({}) == 0
            await session.abort_transaction()
        assert not session.has_ended
    assert await coll.count_documents({}) == 0


@needs_bind
async def test_bound_session_ends_with_the_block_by_default(client, coll):
    session = await client.start_session()
    async with session.bind() as bound:
        assert bound is session
        await coll.insert_one({"_id": 1})
    assert session.has_ended


# -- transactions -------------------------------------------------------------------------


async def test_transaction_context_commits_on_success(client, coll, replica_set):
    await _created(coll)
    async with await client.start_session() as session:
        async with session.start_transaction():
            assert session.in_transaction
            await coll.insert_one({"_id": 1}, session=session)
            await coll.insert_one({"_id": 2}, session=session)
            # Not visible outside the transaction before the commit.
            assert await coll.count_documents({}) == 0
        assert not session.in_transaction
    assert sorted(doc["_id"] for doc in await coll.find().to_list(None)) == [1, 2]


async def test_transaction_context_aborts_on_exception(client, coll, replica_set):
    await _created(coll)
    async with await client.start_session() as session:
        with pytest.raises(LookupError):
            async with session.start_transaction():
                await coll.insert_one({"_id": 1}, session=session)
                raise LookupError("abort, please")
        assert not session.in_transaction
    assert await coll.find_one({"_id": 1}) is None
    assert await coll.count_documents({}) == 0


async def test_transaction_options_are_passed_on(client, coll, replica_set):
    await _created(coll)
    async with await client.start_session() as session:
        async with session.start_transaction(
            read_concern=ReadConcern("snapshot"), write_concern=WriteConcern("majority")
        ):
            await coll.insert_one({"_id": 1}, session=session)
            assert session.delegate._transaction.opts.read_concern == ReadConcern("snapshot")
    assert await coll.count_documents({}) == 1


async def test_explicit_commit_and_abort(client, coll, replica_set):
    await _created(coll)
    async with await client.start_session() as session:
        session.start_transaction()
        await coll.insert_one({"_id": "kept"}, session=session)
        await session.commit_transaction()
        session.start_transaction()
        await coll.insert_one({"_id": "dropped"}, session=session)
        await session.abort_transaction()
    assert [doc["_id"] for doc in await coll.find().to_list(None)] == ["kept"]


async def test_with_transaction_commits_and_returns_the_callbacks_result(client, coll, replica_set):
    await _created(coll)
    calls = []

    async def transfer(session):
        assert session.in_transaction
        calls.append(session)
        await coll.insert_one({"_id": "a", "n": 1}, session=session)
        await coll.insert_one({"_id": "b", "n": 2}, session=session)
        return "transferred"

    async with await client.start_session() as session:
        assert await session.with_transaction(transfer) == "transferred"
        assert not session.in_transaction
    assert calls == [session]
    assert await coll.count_documents({}) == 2


async def test_with_transaction_aborts_and_reraises_other_errors(client, coll, replica_set):
    await _created(coll)
    calls = 0

    async def fails(session):
        nonlocal calls
        calls += 1
        await coll.insert_one({"_id": 1}, session=session)
        raise KeyError("not transient")

    async with await client.start_session() as session:
        with pytest.raises(KeyError):
            await session.with_transaction(fails)
        assert not session.in_transaction
    assert calls == 1
    assert await coll.count_documents({}) == 0


@pytest.fixture
def fail_insert_once(make_client, db_name, replica_set):
    """A Motor client whose next insert fails with a TransientTransactionError.

    ``failCommand`` is server-wide; ``appName`` confines it to this client so
    other clients of the same server are never hit. Set with plain PyMongo.
    Skips if the server has no test commands (a production mongod).
    """
    app_name = f"motor-txn-retry-{uuid.uuid4().hex[:8]}"
    with sync_client() as admin_client:
        try:
            admin_client.admin.command(
                {
                    "configureFailPoint": "failCommand",
                    "mode": {"times": 1},
                    "data": {
                        "failCommands": ["insert"],
                        "errorCode": 112,  # WriteConflict
                        "errorLabels": ["TransientTransactionError"],
                        "appName": app_name,
                    },
                }
            )
        except OperationFailure as exc:
            pytest.skip(f"server does not allow configureFailPoint: {exc}")
    yield make_client(appname=app_name)
    # Use up the failure if the test did not, rather than switching
    # failCommand off server-wide under some other client's feet.
    with sync_client(appname=app_name) as drain:
        try:
            drain[db_name].failpoint_drain.insert_one({})
        except OperationFailure:
            pass


async def test_failpoint_makes_the_next_insert_fail_transiently(fail_insert_once, db_name):
    # Checks the server honours the failpoint the retry test below relies on.
    coll = fail_insert_once[db_name].things
    with pytest.raises(OperationFailure) as caught:
        await coll.insert_one({"_id": 1})
    assert caught.value.code == 112
    assert caught.value.has_error_label("TransientTransactionError")
    await coll.insert_one({"_id": 1})  # "times": 1
    assert await coll.count_documents({}) == 1


async def test_with_transaction_retries_a_transient_transaction_error(fail_insert_once, db_name):
    coll = fail_insert_once[db_name].things
    await _created(coll)
    attempts = []

    async def insert(session):
        attempts.append(session.in_transaction)
        await coll.insert_one({"_id": "once"}, session=session)
        return len(attempts)

    async with await fail_insert_once.start_session() as session:
        assert await session.with_transaction(insert) == 2
    assert attempts == [True, True]
    assert await coll.find({}).to_list(None) == [{"_id": "once"}]


# -- change streams -----------------------------------------------------------------------


async def test_collection_watch_next_receives_an_insert(coll, replica_set):
    await _created(coll)
    async with coll.watch() as stream:
        assert isinstance(stream, motor.MotorChangeStream)
        await coll.insert_one({"_id": 1, "x": "new"})
        change = await asyncio.wait_for(stream.next(), WAIT)
    assert change["operationType"] == "insert"
    assert change["fullDocument"] == {"_id": 1, "x": "new"}
    assert change["ns"] == {"db": coll.database.name, "coll": coll.name}


async def test_async_for_over_a_change_stream_receives_changes_in_order(coll, replica_set):
    await _created(coll)

    async def first_three(stream):
        seen = []
        async for change in stream:
            seen.append((change["operationType"], change["documentKey"]["_id"]))
            if len(seen) == 3:
                return seen

    async with coll.watch() as stream:
        await coll.insert_one({"_id": 1})
        await coll.update_one({"_id": 1}, {"$set": {"x": 1}})
        await coll.delete_one({"_id": 1})
        seen = await asyncio.wait_for(first_three(stream), WAIT)
    assert seen == [("insert", 1), ("update", 1), ("delete", 1)]


async def test_watch_pipeline_filters_changes(coll, replica_set):
    await _created(coll)
    async with coll.watch([{"$match": {"operationType": "delete"}}]) as stream:
        await coll.insert_one({"_id": 1})
        await coll.delete_one({"_id": 1})
        change = await asyncio.wait_for(stream.next(), WAIT)
    assert change["operationType"] == "delete"


async def test_try_next_returns_none_when_nothing_happened(coll, replica_set):
    await _created(coll)
    async with coll.watch(max_await_time_ms=100) as stream:
        assert await asyncio.wait_for(stream.try_next(), WAIT) is None
        assert stream.alive


async def test_try_next_returns_a_change_once_one_happened(coll, replica_set):
    await _created(coll)
    async with coll.watch(max_await_time_ms=100) as stream:
        await coll.insert_one({"_id": "t"})
        change = None
        for _ in range(50):
            change = await asyncio.wait_for(stream.try_next(), WAIT)
            if change is not None:
                break
        assert change is not None
        assert change["documentKey"] == {"_id": "t"}


async def test_try_next_opens_a_stream_that_was_not_entered(coll, replica_set):
    await _created(coll)
    stream = coll.watch(max_await_time_ms=100)
    try:
        assert await asyncio.wait_for(stream.try_next(), WAIT) is None
        await coll.insert_one({"_id": 2})
        change = await asyncio.wait_for(stream.next(), WAIT)
        assert change["documentKey"] == {"_id": 2}
    finally:
        await stream.close()


async def test_resume_token_is_set_after_a_change_and_resumes_after_it(coll, replica_set):
    await _created(coll)
    stream = coll.watch(max_await_time_ms=100)
    assert stream.resume_token is None  # nothing opened yet
    async with stream:
        await coll.insert_one({"_id": 1})
        first = await asyncio.wait_for(stream.next(), WAIT)
        assert stream.resume_token is not None
        assert stream.resume_token == first["_id"]
        token = stream.resume_token
    await coll.insert_one({"_id": 2})
    async with coll.watch(resume_after=token) as resumed:
        change = await asyncio.wait_for(resumed.next(), WAIT)
    assert change["documentKey"] == {"_id": 2}


async def test_database_watch_receives_changes_in_every_collection(db, replica_set):
    await _created(db.one)
    await _created(db.two)
    async with db.watch() as stream:
        await db.one.insert_one({"_id": "in one"})
        await db.two.insert_one({"_id": "in two"})
        changes = [await asyncio.wait_for(stream.next(), WAIT) for _ in range(2)]
    assert [(c["ns"]["coll"], c["documentKey"]["_id"]) for c in changes] == [
        ("one", "in one"),
        ("two", "in two"),
    ]


async def test_client_watch_receives_changes_in_every_database(client, db, replica_set):
    await _created(db.things)
    # Other tests may share the server: only look at this test's database.
    async with client.watch([{"$match": {"ns.db": db.name}}]) as stream:
        await db.things.insert_one({"_id": "anywhere"})
        change = await asyncio.wait_for(stream.next(), WAIT)
    assert change["ns"] == {"db": db.name, "coll": "things"}
    assert change["documentKey"] == {"_id": "anywhere"}


async def test_asyncio_client_change_stream(asyncio_client, db_name, replica_set):
    from motor.motor_asyncio import AsyncIOMotorChangeStream

    coll = await _created(asyncio_client[db_name].things)
    async with coll.watch() as stream:
        assert isinstance(stream, AsyncIOMotorChangeStream)
        await coll.insert_one({"_id": 1})
        change = await asyncio.wait_for(stream.next(), WAIT)
    assert change["documentKey"] == {"_id": 1}
    assert not stream.alive


async def test_close_makes_alive_false(coll, replica_set):
    await _created(coll)
    stream = coll.watch(max_await_time_ms=100)
    assert await asyncio.wait_for(stream.try_next(), WAIT) is None
    assert stream.alive
    await stream.close()
    assert not stream.alive
    assert [change async for change in stream] == []


async def test_close_before_first_use_makes_alive_false(coll, replica_set):
    stream = coll.watch()
    await stream.close()
    assert not stream.alive
    assert [change async for change in stream] == []


async def test_next_after_close_raises_stop_async_iteration(coll, replica_set):
    """As Motor 3 documents: ``next()`` on a closed change stream."""
    await _created(coll)
    stream = coll.watch(max_await_time_ms=100)
    assert await asyncio.wait_for(stream.try_next(), WAIT) is None
    await stream.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(stream.next(), WAIT)


async def test_try_next_after_close_returns_none(coll, replica_set):
    """Motor 3: try_next() returns None "when the cursor is closed"."""
    await _created(coll)
    stream = coll.watch(max_await_time_ms=100)
    assert await asyncio.wait_for(stream.try_next(), WAIT) is None
    await stream.close()
    assert await asyncio.wait_for(stream.try_next(), WAIT) is None
    unopened = coll.watch(max_await_time_ms=100)
    await unopened.close()
    assert await asyncio.wait_for(unopened.try_next(), WAIT) is None


async def test_next_after_close_before_first_use_raises_stop_async_iteration(coll, replica_set):
    stream = coll.watch()
    await stream.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(stream.next(), WAIT)


async def test_close_from_another_task_ends_a_running_async_for(coll, replica_set):
    """Motor 3: close() "stops any async for loops using this change stream"."""
    await _created(coll)
    stream = coll.watch(max_await_time_ms=100)

    async def consume():
        return [change["documentKey"]["_id"] async for change in stream]

    await asyncio.wait_for(stream.try_next(), WAIT)  # opened
    consumer = asyncio.ensure_future(consume())
    await coll.insert_one({"_id": "before close"})
    await asyncio.sleep(0.3)
    await stream.close()
    assert await asyncio.wait_for(consumer, WAIT) == ["before close"]
    assert not stream.alive


async def test_async_with_closes_the_stream(coll, replica_set):
    await _created(coll)
    async with coll.watch(max_await_time_ms=100) as stream:
        assert stream.alive
    assert not stream.alive


async def test_change_stream_in_a_session(client, coll, replica_set):
    await _created(coll)
    async with await client.start_session() as session:
        async with coll.watch(session=session, max_await_time_ms=100) as stream:
            await coll.insert_one({"_id": "s"}, session=session)
            change = await asyncio.wait_for(stream.next(), WAIT)
    assert change["documentKey"] == {"_id": "s"}


async def test_watch_on_a_missing_stage_raises_from_the_first_use(coll, replica_set):
    stream = coll.watch([{"$noSuchStage": {}}])
    with pytest.raises(PyMongoError):
        await asyncio.wait_for(stream.try_next(), WAIT)
    await stream.close()
