"""Row 6 of the fault matrix: cancellation storms.

1,000 operations are given up at random points while 200 others run:
``asyncio.wait_for`` with tiny timeouts, ``tornado.gen.with_timeout`` (which
stops waiting but lets the operation go on), and ``task.cancel()`` after a
random delay. Half the delays are 0-5 ms (given up before the request
leaves, or while it is on the wire), half 0-1 s (while queued for a
connection, waiting for the reply, or already finished). Web frameworks do this to every request that times
out.

What must hold afterwards:

* the pool is healthy: no connection stays checked out or reserved, every
  operation that was not cancelled returned its right result, and a new
  operation completes promptly;
* nothing is reported to the loop's exception handler or logged by asyncio
  (no "exception was never retrieved", no "Task was destroyed but it is
  pending");
* a cancelled insert happened once or not at all (each insert carries its
  own number; no number is in the collection twice), and every insert that
  returned is there.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import gc
import logging
import random

import pytest
from tornado import gen

import motor.motor_tornado
from motor.motor_asyncio import AsyncIOMotorClient
from test.faults.support import pool_settles, pool_state
from test.motor_fixtures import test_uri

STORM = 1000
BYSTANDERS = 200
PROMPT = 1.0  # seconds a new operation may take once the storm is over

pytestmark = [pytest.mark.timeout(120)]


@pytest.fixture
def loop_reports(event_loop, caplog):
    """Everything that reaches the loop's exception handler or asyncio's logger."""
    reports = []
    previous = event_loop.get_exception_handler()
    event_loop.set_exception_handler(lambda loop, context: reports.append(context))
    caplog.set_level(logging.DEBUG, logger="asyncio")
    caplog.set_level(logging.DEBUG, logger="tornado")
    yield reports
    event_loop.set_exception_handler(previous)


@pytest.mark.timeout_seconds(90)
async def test_cancellation_storm_leaves_pool_healthy_and_writes_whole(
    io_loop, db_name, loop_reports, caplog
):
    loop = asyncio.get_running_loop()
    client = AsyncIOMotorClient(test_uri(), io_loop=loop, maxPoolSize=50)
    tornado_client = motor.motor_tornado.MotorClient(test_uri(), io_loop=io_loop, maxPoolSize=50)
    coll = client[db_name].storm
    tornado_coll = tornado_client[db_name].storm
    rng = random.Random(20261204)
    try:
        await coll.insert_many([{"k": -i - 1, "seed": True} for i in range(50)])
        await coll.create_index("k")
        returned: set[int] = set()
        abandoned_futures = []
        outcomes = collections.Counter()

        async def via_wait_for(k, write):
            op = coll.insert_one({"k": k}) if write else coll.find_one({"k": -1 - k % 50})
            try:
                await asyncio.wait_for(op, delay(k))
                outcomes["wait_for finished"] += 1
                if write:
                    returned.add(k)
            except asyncio.TimeoutError:
                outcomes["wait_for cancelled"] += 1

        async def via_task_cancel(k, write):
            async def op():
                if write:
                    await coll.insert_one({"k": k})
                    returned.add(k)
                else:
                    await coll.find_one({"k": -1 - k % 50})

            task = asyncio.ensure_future(op())
            await asyncio.sleep(delay(k))
            task.cancel()
            try:
                await task
                outcomes["cancel finished"] += 1
            except asyncio.CancelledError:
                outcomes["cancel cancelled"] += 1

        async def via_with_timeout(k, write):
            future = (tornado_coll.insert_one({"k": k}) if write
                      else tornado_coll.find_one({"k": -1 - k % 50}))
            abandoned_futures.append((k, write, future))
            try:
                await gen.with_timeout(datetime.timedelta(seconds=delay(k)), future)
                outcomes["with_timeout finished"] += 1
            except gen.TimeoutError:
                outcomes["with_timeout gave up"] += 1

        async def bystander(n):
            await asyncio.sleep(rng.uniform(0, 0.2))
            doc = await coll.find_one({"k": -1 - n % 50})
            assert doc == {"_id": doc["_id"], "k": -1 - n % 50, "seed": True}
            return True

        def delay(k):
            return rng.uniform(0, 0.005) if k % 4 < 2 else rng.uniform(0, 1.0)

        ways = [via_wait_for, via_task_cancel, via_with_timeout]
        storm = [ways[k % 3](k, write=k % 2 == 0) for k in range(STORM)]
        bystanders = [bystander(n) for n in range(BYSTANDERS)]
        results = await asyncio.wait_for(asyncio.gather(*storm, *bystanders), 60)
        assert all(results[STORM:]), "an operation that was not cancelled went wrong"

        # with_timeout let its operations go on: they end with results.
        for k, write, future in abandoned_futures:
            await asyncio.wait_for(asyncio.shield(future), 30)
            if write:
                returned.add(k)

        state = await pool_settles(client)
        await pool_settles(tornado_client)
        started = loop.time()
        assert await asyncio.wait_for(coll.find_one({"k": -1}), PROMPT)
        await asyncio.wait_for(coll.insert_one({"k": "after"}), PROMPT)
        prompt = loop.time() - started

        docs = await coll.find({"seed": {"$exists": False}, "k": {"$type": "int"}}).to_list(None)
        counts = collections.Counter(d["k"] for d in docs)
        twice = [k for k, n in counts.items() if n > 1]
        assert not twice, f"cancelled inserts applied twice: {twice[:10]}"
        missing = returned - set(counts)
        assert not missing, f"inserts that returned are not in the collection: {sorted(missing)[:10]}"

        # Futures nobody awaited any more must not complain when collected.
        del storm, bystanders, abandoned_futures
        gc.collect()
        await asyncio.sleep(0.1)
        gc.collect()
        messages = [str(r.get("message")) for r in loop_reports]
        messages += [r.getMessage() for r in caplog.records
                     if r.name.startswith(("asyncio", "tornado"))]
        assert not messages, f"the storm left loop reports: {messages[:5]}"
        cancelled = sum(v for key, v in outcomes.items() if not key.endswith("finished"))
        print(f"\nrow 6: {dict(outcomes)}; {cancelled} cancelled; inserts applied "
              f"{len(counts)} (returned {len(returned)}), twice {len(twice)}; pool {state} / "
              f"{pool_state(tornado_client)}; next two ops {prompt * 1000:.1f} ms")
        assert cancelled >= STORM // 4, f"the storm cancelled too little to test anything: {outcomes}"
    finally:
        client.close()
        tornado_client.close()
