"""Row 4 of the fault matrix: the application holds the loop with CPU for 3 s.

A coroutine computes for 3 s without yielding while 100 operations are in
flight and heartbeats fall due (every 0.5 s). PyMongo's monitors run in
their own threads with blocking sockets, so they keep checking the server;
the operations' replies wait in the socket buffers. Afterwards:

* every operation completes with its right result, none times out
  spuriously, even with ``socketTimeoutMS`` shorter than the busy spell:
  the reply was there in time, the loop was not;
* the server is never marked Unknown for longer than a heartbeat.

The busy spell is the application's doing, so it runs inside the loop
watchdog's ``capture()``: not a Motor failure.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from pymongo import monitoring

from motor.motor_asyncio import AsyncIOMotorClient
from test.faults.support import pool_settles
from test.motor_fixtures import test_uri

BUSY_FOR = 3.0
HEARTBEAT_MS = 500
UNKNOWN_AT_MOST = 1.0  # seconds the server may be Unknown in all

pytestmark = [pytest.mark.timeout(90)]


class Unknowns(monitoring.ServerListener):
    """When the server's description turned Unknown and back."""

    def __init__(self) -> None:
        self.changes: list[tuple[float, str]] = []

    def opened(self, event):
        pass

    def closed(self, event):
        pass

    def description_changed(self, event):
        self.changes.append((time.monotonic(), event.new_description.server_type_name))

    def unknown_time(self, until: float) -> float:
        total, since = 0.0, None
        for when, kind in self.changes:
            if kind == "Unknown" and since is None:
                since = when
            elif kind != "Unknown" and since is not None:
                total, since = total + when - since, None
        if since is not None:
            total += until - since
        return total


@pytest.mark.timeout_seconds(60)
async def test_operations_complete_after_loop_held_busy_for_3s(io_loop, db_name, loop_watchdog):
    unknowns = Unknowns()
    client = AsyncIOMotorClient(
        test_uri(), io_loop=io_loop.asyncio_loop, heartbeatFrequencyMS=HEARTBEAT_MS,
        socketTimeoutMS=2000, event_listeners=[unknowns])
    coll = client[db_name].busy
    try:
        await coll.insert_many([{"_id": i, "v": i * 3} for i in range(50)])
        await asyncio.gather(*[coll.find_one({"_id": i}) for i in range(50)])  # pool warm
        unknowns.changes.clear()

        reads = [asyncio.ensure_future(coll.find_one({"_id": i})) for i in range(50)]
        writes = [asyncio.ensure_future(coll.insert_one({"_id": 100 + i})) for i in range(50)]
        await asyncio.sleep(0)  # the requests leave
        with loop_watchdog.capture():
            started = time.monotonic()
            while time.monotonic() - started < BUSY_FOR:
                sum(range(1000))  # the application's CPU work, holding the loop
            await asyncio.sleep(0.05)
        free_again = time.monotonic()

        found = await asyncio.wait_for(asyncio.gather(*reads), 20)
        inserted = await asyncio.wait_for(asyncio.gather(*writes), 20)
        completed_after = time.monotonic() - free_again
        assert [d["v"] for d in found] == [i * 3 for i in range(50)]
        assert [r.inserted_id for r in inserted] == [100 + i for i in range(50)]
        assert await coll.count_documents({}) == 100
        unknown = unknowns.unknown_time(time.monotonic())
        assert unknown <= UNKNOWN_AT_MOST, f"the server was Unknown for {unknown:.2f} s"
        state = await pool_settles(client)
        # A new operation is prompt again.
        started = time.monotonic()
        await asyncio.wait_for(coll.find_one({"_id": 1}), 1.0)
        print(f"\nrow 4: 100 ops completed {completed_after * 1000:.0f} ms after the loop was "
              f"free; server Unknown {unknown:.2f} s; next op "
              f"{(time.monotonic() - started) * 1000:.1f} ms; pool {state}")
    finally:
        client.close()
