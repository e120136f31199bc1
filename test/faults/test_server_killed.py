"""Rows 1 and 2 of the fault matrix: the server dies, mid-flight or while idle.

Row 1: 200 concurrent inserts (and a find burst) are in flight when the
server is killed with SIGKILL and started again 2 s later on the same port
and storage. Every operation ends, with a result or a clear network error;
the same client recovers; every acknowledged insert is in the collection,
once. For the asyncio flavour, the Tornado flavour and callbacks.

Row 2: the server restarts while the client's pool holds idle connections:
the next operation succeeds (reads and writes are retried once) or fails
once with a clear error and the one after succeeds; the pool replaces the
dead sockets and keeps no slot or connection counted as in use.

Writes use ``journal=true``: without it a write is acknowledged before the
storage engine has it on disk, and a server killed at that moment loses it
(mongod's documented w:1 behaviour; SecantusDB's too). That loss is the
server's, not the driver's, so the test asks for journaled writes.

One more server gap shows here: SecantusDB does not keep its record of
retryable writes across a crash. An insert that reached the disk just before
the kill, and whose reply was lost with the connection, is retried by the
driver (same session, same transaction number) and answered with
DuplicateKeyError for the insert's own ``_id``, where mongod would answer with
the first attempt's result. The write happened once; the test accepts that
answer only on SecantusDB, only for the operation's own ``_id``, and only when
the document is in the collection exactly once.
"""

from __future__ import annotations

import asyncio
import collections
import json
import time

import pytest
from bson import ObjectId
from pymongo import monitoring
from pymongo.errors import DuplicateKeyError
from tornado import gen

import motor
import motor.motor_tornado
from motor.motor_asyncio import AsyncIOMotorClient
from test.faults.support import (
    CLEAR_NETWORK_ERRORS,
    MOTOR3_PYTHON,
    motor3_available,
    ours_python,
    run_script,
    kill_and_restart,
    off_loop,
    pool_settles,
    start_own_server,
)

INSERTS = 200
FINDS = 100
DOWN_FOR = 2.0
# Server selection outlasts the restart; anything longer than this is a hang.
SELECTION_MS = 15000
OP_BOUND = 40.0

pytestmark = [pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = start_own_server(tmp_path_factory.mktemp("killed-server"))
    yield server
    server.stop()


def client_options(server) -> tuple[str, dict]:
    return server.uri + "&journal=true", dict(
        serverSelectionTimeoutMS=SELECTION_MS, heartbeatFrequencyMS=500
    )


class Outcomes:
    """What each operation of a burst ended with."""

    def __init__(self) -> None:
        self.acknowledged: dict[ObjectId, int] = {}
        self.errors: list[tuple[str, BaseException]] = []
        self.found = 0
        self.hung: list[str] = []
        # Inserts whose retry the server answered with DuplicateKeyError for
        # their own _id (see the module docstring).
        self.retry_answer_lost: dict[ObjectId, int] = {}

    def error_kinds(self) -> dict:
        return dict(collections.Counter(type(e).__name__ for _, e in self.errors))


async def bounded(what: str, awaitable, outcomes: Outcomes):
    """Await one operation; a clear error or a hang is recorded, not raised."""
    try:
        return True, await asyncio.wait_for(awaitable, OP_BOUND)
    except asyncio.TimeoutError:
        outcomes.hung.append(what)
    except Exception as exc:  # judged below: must be a clear network error
        outcomes.errors.append((what, exc))
    return False, None


async def kill_mid_burst(server, insert, find_one, find_all,
                         server_forgets_retried_writes: bool) -> dict:
    """Run the row-1 scenario with one flavour's operations; assert; return figures.

    ``insert(doc)``, ``find_one(filter)`` and ``find_all()`` return
    awaitables of the flavour under test.
    """
    await insert({"n": -1})  # connected, collection exists
    outcomes = Outcomes()
    some_acknowledged = asyncio.Event()
    loop = asyncio.get_running_loop()

    async def one_insert(n):
        doc = {"_id": ObjectId(), "n": n}
        ok, result = await bounded(f"insert {n}", insert(doc), outcomes)
        if not ok and outcomes.errors and outcomes.errors[-1][0] == f"insert {n}":
            error = outcomes.errors[-1][1]
            if (server_forgets_retried_writes and isinstance(error, DuplicateKeyError)
                    and (error.details or {}).get("keyValue") == {"_id": doc["_id"]}):
                outcomes.errors.pop()
                outcomes.retry_answer_lost[doc["_id"]] = n
        if ok:
            assert result.inserted_id == doc["_id"]
            outcomes.acknowledged[doc["_id"]] = n
            if len(outcomes.acknowledged) >= 20:
                some_acknowledged.set()

    async def one_find(n):
        await asyncio.sleep(n * 0.004)  # spread over the kill and the outage
        ok, _ = await bounded(f"find {n}", find_one({"n": n}), outcomes)
        outcomes.found += ok

    timings = {}

    async def killer():
        await asyncio.wait_for(some_acknowledged.wait(), 30)
        timings["killed"] = loop.time()
        await kill_and_restart(server, DOWN_FOR)
        timings["back"] = loop.time()

    ops = [one_insert(n) for n in range(INSERTS)] + [one_find(n) for n in range(FINDS)]
    started = loop.time()
    await asyncio.gather(killer(), *ops)
    timings["all_ended"] = loop.time()

    assert not outcomes.hung, f"operations hung (> {OP_BOUND:g} s): {outcomes.hung[:10]}"
    unclear = [(what, exc) for what, exc in outcomes.errors
               if not isinstance(exc, CLEAR_NETWORK_ERRORS) or not str(exc)]
    assert not unclear, f"operations ended with an unclear error: {unclear[:5]!r}"

    # The same client recovers: the next insert succeeds.
    recovered = None
    while recovered is None:
        try:
            await asyncio.wait_for(insert({"n": "after"}), OP_BOUND)
            recovered = loop.time()
        except CLEAR_NETWORK_ERRORS:
            assert loop.time() - timings["back"] < 30, "the client did not recover in 30 s"
            await asyncio.sleep(0.1)

    docs = await find_all()
    by_id = collections.Counter(d["_id"] for d in docs)
    by_n = collections.Counter(d["n"] for d in docs if isinstance(d["n"], int) and d["n"] >= 0)
    lost = [oid for oid in outcomes.acknowledged if by_id[oid] == 0]
    doubled = [n for n, count in by_n.items() if count > 1]
    assert not lost, f"{len(lost)} acknowledged inserts are not in the collection"
    assert not doubled, f"inserts applied twice: {doubled[:10]}"
    assert set(by_n) >= set(outcomes.acknowledged.values())
    assert all(by_id[oid] == 1 for oid in outcomes.retry_answer_lost), (
        "an insert answered with DuplicateKeyError for its own _id is not in the collection once")
    return {
        "acknowledged": len(outcomes.acknowledged),
        "errors": outcomes.error_kinds(),
        "finds_ok": outcomes.found,
        "lost": len(lost),
        "retry_answer_lost_by_server": len(outcomes.retry_answer_lost),
        "doubled": len(doubled),
        "burst_s": round(timings["all_ended"] - started, 2),
        "recover_after_back_s": round(recovered - timings["back"], 3),
        "recover_after_kill_s": round(recovered - timings["killed"], 3),
    }


def report(flavour: str, figures: dict) -> None:
    print(f"\nrow 1 ({flavour}): {figures}")


# -- row 1 ---------------------------------------------------------------------------


@pytest.mark.timeout_seconds(120)
async def test_asyncio_client_survives_server_killed_mid_burst(server, io_loop, is_secantus):
    uri, options = client_options(server)
    client = AsyncIOMotorClient(uri, io_loop=io_loop.asyncio_loop, **options)
    coll = client.faults_row1.asyncio_flavour
    try:
        await coll.drop()
        figures = await kill_mid_burst(
            server, coll.insert_one, coll.find_one, lambda: coll.find().to_list(None),
            is_secantus,
        )
        report("asyncio", figures)
    finally:
        client.close()


@pytest.mark.timeout_seconds(120)
@gen.coroutine
def test_tornado_client_survives_server_killed_mid_burst(server, io_loop, is_secantus):
    uri, options = client_options(server)
    client = motor.motor_tornado.MotorClient(uri, io_loop=io_loop, **options)
    coll = client.faults_row1.tornado_flavour
    try:
        yield coll.drop()
        figures = yield kill_mid_burst(
            server, coll.insert_one, coll.find_one, lambda: coll.find().to_list(None),
            is_secantus,
        )
        report("tornado", figures)
    finally:
        client.close()


def with_callback(method, *args):
    """Call a spec-API method with ``callback=``; a future of what the callback got."""
    future = asyncio.get_running_loop().create_future()

    def callback(result, error):
        if future.done():
            future.get_loop().call_exception_handler(
                {"message": "callback called twice", "result": result, "error": error})
        elif error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    assert method(*args, callback=callback) is None
    return future


@pytest.mark.timeout_seconds(120)
async def test_callbacks_survive_server_killed_mid_burst(server, io_loop, is_secantus):
    uri, options = client_options(server)
    client = motor.MotorClient(uri, io_loop=io_loop, **options)
    coll = client.faults_row1.callback_flavour
    try:
        await coll.drop()
        figures = await kill_mid_burst(
            server,
            lambda doc: with_callback(coll.insert_one, doc),
            lambda spec: with_callback(coll.find_one, spec),
            lambda: with_callback(coll.find().to_list, None),
            is_secantus,
        )
        report("callbacks", figures)
    finally:
        client.close()


# -- row 2 ---------------------------------------------------------------------------


class ConnectionEvents(monitoring.ConnectionPoolListener):
    """Counts every CMAP event by name."""

    def __init__(self) -> None:
        self.counts: collections.Counter = collections.Counter()


for _name in ("connection_created", "connection_ready", "connection_closed",
              "connection_check_out_started", "connection_check_out_failed",
              "connection_checked_out", "connection_checked_in", "pool_created",
              "pool_ready", "pool_cleared", "pool_closed"):
    setattr(ConnectionEvents, _name,
            (lambda name: lambda self, event: self.counts.update([name]))(_name))


@pytest.mark.parametrize("how", ["killed", "stopped"])
@pytest.mark.timeout_seconds(90)
async def test_idle_pool_recovers_after_server_restart(server, io_loop, how):
    events = ConnectionEvents()
    uri, options = client_options(server)
    client = AsyncIOMotorClient(uri, io_loop=io_loop.asyncio_loop, maxPoolSize=10,
                                event_listeners=[events], **options)
    coll = client.faults_row2[how]
    try:
        await coll.drop()
        await coll.insert_many([{"_id": i} for i in range(10)])
        # Ten concurrent reads: the pool holds several idle connections.
        await asyncio.gather(*[coll.find_one({"_id": i}) for i in range(10)])
        before = await pool_settles(client)
        assert before["idle"] >= 2, before
        created_before = events.counts["connection_created"]

        if how == "killed":
            await kill_and_restart(server, 0.5)
        else:
            await off_loop(server.restart, 0.5, False)
        back = time.monotonic()

        failures = []
        for attempt in range(2):
            try:
                assert await asyncio.wait_for(coll.find_one({"_id": 3}), 30) == {"_id": 3}
                break
            except CLEAR_NETWORK_ERRORS as exc:
                failures.append(exc)
        else:
            pytest.fail(f"two operations in a row failed after the restart: {failures!r}")
        first_ok = time.monotonic() - back
        await asyncio.wait_for(coll.insert_one({"_id": "after"}), 30)
        results = await asyncio.wait_for(
            asyncio.gather(*[coll.find_one({"_id": i}) for i in range(10)]), 30)
        assert [r["_id"] for r in results] == list(range(10))

        after = await pool_settles(client)
        # The dead sockets were closed and replaced, none is counted as in use.
        assert events.counts["connection_closed"] >= before["idle"], events.counts
        assert events.counts["connection_created"] > created_before
        assert events.counts["connection_checked_out"] == events.counts["connection_checked_in"]
        assert after["in_use"] == 0 and after["requests"] == 0, after
        assert 1 <= after["idle"] <= 10, after
        print(f"\nrow 2 ({how}): failed first {len(failures)}, first op ok after "
              f"{first_ok:.3f} s, pool {before} -> {after}, events {dict(events.counts)}")
    finally:
        client.close()


# -- side by side with Motor 3.7.1 -------------------------------------------------------


@pytest.mark.timeout_seconds(200)
async def test_server_killed_mid_burst_side_by_side_with_motor3():
    """The same scenario (``kill_scenario.py``) in a subprocess per driver, same run."""
    def measure(python):
        done = run_script(python, "kill_scenario.py", timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout)

    ours = await off_loop(measure, ours_python())
    print(f"\nrow 1 (script): {ours}")
    if motor3_available():
        print(f"row 1 (script): {await off_loop(measure, MOTOR3_PYTHON)}")
    assert ours["hung"] == 0 and ours["lost"] == 0 and ours["doubled"] == 0, ours
    assert not ours["errors"] or set(ours["errors"]) <= {
        "AutoReconnect", "NetworkTimeout", "ServerSelectionTimeoutError", "ConnectionFailure"}, ours
    assert ours["recovered"], ours
