"""A synchronous PyMongo call on a Motor client's objects, made on the loop's thread.

``collection.delegate.insert_one(doc)`` asks PyMongo for a blocking call.
With Motor 3 (threads) it simply blocked; Motor 3.7.1's own suite does it in
a ``finally:`` clause. Here it must also complete, on the client's own
IOStream connections, and leave them fit for Motor's calls. It blocks the
loop while it runs (the caller asked for that), so the tests capture the
loop watchdog's reports instead of failing on them.
"""

from __future__ import annotations

import asyncio

import pytest

from motor.motor_asyncio import AsyncIOMotorClient
from test.motor_fixtures import test_uri

# A blocking call that deadlocked would hold the loop, and with it the async
# runner's own timeout: pytest-timeout's signal still ends the test.
pytestmark = pytest.mark.timeout(60)


async def test_delegate_call_uses_the_clients_open_connection(coll, loop_watchdog):
    await coll.insert_one({"_id": 1})
    with loop_watchdog.capture():
        result = coll.delegate.insert_one({"_id": 2})
    assert result.inserted_id == 2
    # The connection it used still serves Motor's calls.
    assert await coll.count_documents({}) == 2


async def test_delegate_call_opens_a_connection_on_a_fresh_client(io_loop, db_name, loop_watchdog):
    client = AsyncIOMotorClient(test_uri(), io_loop=io_loop.asyncio_loop)
    try:
        with loop_watchdog.capture():
            client.delegate[db_name].things.insert_one({"_id": "sync"})
        # The connection the synchronous call opened is one of the loop's:
        # Motor's own call reads the document back over the pool.
        assert await client[db_name].things.find_one() == {"_id": "sync"}
    finally:
        client.close()


def _idle_connections(client) -> int:
    pool = next(iter(client.delegate._topology._servers.values())).pool
    return len(pool.conns)


async def test_delegate_call_with_motor_calls_in_flight(coll, loop_watchdog):
    """Requests queued for the loop's next flush do not hold up the blocking call."""
    await coll.insert_many([{"_id": i} for i in range(10)])
    for _ in range(20):  # open a few connections for the pool to hold
        if _idle_connections(coll.database.client) >= 4:
            break
        await asyncio.gather(*[coll.find_one({"_id": i}) for i in range(8)])
    assert _idle_connections(coll.database.client) >= 4
    # Two calls under way: a small request now waits for the loop's flush.
    pending = [asyncio.ensure_future(coll.find_one({"_id": i})) for i in range(2)]
    await asyncio.sleep(0)
    with loop_watchdog.capture():
        for i in range(10, 20):
            coll.delegate.insert_one({"_id": i})
        found = coll.delegate.find_one({"_id": 3})
    assert found == {"_id": 3}
    assert [doc["_id"] for doc in await asyncio.gather(*pending)] == [0, 1]
    assert await coll.count_documents({}) == 20


async def test_delegate_call_refuses_to_wait_for_a_connection_only_the_loop_frees(
    make_client, db_name, loop_watchdog
):
    coll = make_client(maxPoolSize=1)[db_name].things
    await coll.insert_one({"_id": 1})
    held = asyncio.ensure_future(coll.find_one({"$where": "sleep(10) || true"}))
    await asyncio.sleep(0)  # the one connection is checked out by that call
    with loop_watchdog.capture():
        with pytest.raises(RuntimeError, match="would wait forever"):
            coll.delegate.insert_one({"_id": 2})
    await asyncio.gather(held, return_exceptions=True)
    # Nothing was lost or broken: the pool serves Motor's calls.
    assert await coll.count_documents({}) == 1


def test_delegate_call_without_a_running_loop_names_the_motor_call(io_loop, db_name):
    # A plain test function: no loop runs while it does. A connection opened
    # now could not belong to the client's loop, so the error says what to
    # call instead.
    client = AsyncIOMotorClient(test_uri(), io_loop=io_loop.asyncio_loop)
    try:
        with pytest.raises(RuntimeError, match=r"await collection\.insert_one"):
            client.delegate[db_name].things.insert_one({"_id": 1})
    finally:
        client.close()
