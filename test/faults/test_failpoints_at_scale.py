"""Row 3 of the fault matrix: failpoints at scale.

``failCommand`` closes the connection, or answers with an error code that is
retryable or not, on insert, update, find, getMore and commitTransaction,
while 100 operations of one client run at once. The first ``FAILURES``
matching commands fail.

What must hold:

* retryable faults are invisible to the caller: every one of the 100
  operations returns its right result (retryable writes, retryable reads,
  commitTransaction's retry). The one exception is the specifications'
  own: an operation is retried once, so one whose retry was also caught by
  the failpoint (possible when its retry overtakes other operations' first
  attempts) raises. A command listener groups attempts by operation id, and
  only operations caught twice may raise. getMore is never retried (the retryable reads
  specification leaves it out), so there a closed connection raises
  AutoReconnect and an error code raises the server's error;
* a non-retryable error code raises the server's error, with its code, in
  exactly ``FAILURES`` operations, and the others succeed;
* afterwards nothing is checked out or reserved, and every connection the
  pool created is either still in it or was closed (none lost from the count).

The failpoints are scoped to the client under test with ``appName``. The
server attaches no RetryableWriteError label to a failpoint's error (mongod
does for retryable codes; SecantusDB does not), so the retryable-write
cases ask for the label explicitly, which is what mongod would send.
"""

from __future__ import annotations

import asyncio
import collections
import uuid

import pytest
from pymongo import monitoring
from pymongo.errors import ConnectionFailure, OperationFailure

from motor.motor_asyncio import AsyncIOMotorClient
from test.faults.support import fail_point, pool_settles
from test.motor_fixtures import test_uri

CONCURRENCY = 100
FAILURES = 10
RETRYABLE_CODE = 9001  # SocketException: retryable, not a state change
OTHER_CODE = 2  # BadValue: not retryable

pytestmark = [pytest.mark.timeout(120)]


class Connections(monitoring.ConnectionPoolListener):
    """Connections created and closed (application pools only: Motor's)."""

    def __init__(self) -> None:
        self.created = 0
        self.closed = 0

    def connection_created(self, event):
        self.created += 1

    def connection_closed(self, event):
        self.closed += 1


class FailedAttempts(monitoring.CommandListener):
    """Failed attempts of one command, by operation id (a retry keeps its operation's id)."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.by_operation: collections.Counter = collections.Counter()

    def started(self, event):
        pass

    def succeeded(self, event):
        pass

    def failed(self, event):
        if event.command_name == self.command:
            self.by_operation[event.operation_id] += 1

    def caught_twice(self) -> int:
        return sum(1 for count in self.by_operation.values() if count >= 2)


for _name in ("connection_ready", "connection_check_out_started",
              "connection_check_out_failed", "connection_checked_out",
              "connection_checked_in", "pool_created", "pool_ready", "pool_cleared",
              "pool_closed"):
    setattr(Connections, _name, lambda self, event: None)


# One operation per command; each returns something the test can check.


async def do_insert(client, coll, i):
    result = await coll.insert_one({"_id": i, "kind": "inserted"})
    return result.inserted_id == i


async def do_update(client, coll, i):
    result = await coll.update_one({"_id": i}, {"$inc": {"hits": 1}})
    return result.matched_count == 1 and result.modified_count == 1


async def do_find(client, coll, i):
    return await coll.find_one({"_id": i}) == {"_id": i, "hits": 0}


async def do_get_more(client, coll, i):
    docs = await coll.find({"_id": {"$lt": 5}}).sort("_id").batch_size(2).to_list(None)
    return [d["_id"] for d in docs] == [0, 1, 2, 3, 4]


async def do_commit(client, coll, i):
    # with_transaction: what applications are told to use. It retries the
    # whole transaction on TransientTransactionError (an insert inside a
    # transaction is never retried alone) and the commit on
    # UnknownTransactionCommitResult.
    async def insert(session):
        await coll.insert_one({"_id": i, "kind": "in transaction"}, session=session)

    async with await client.start_session() as session:
        await session.with_transaction(insert)
    return True


OPERATIONS = {
    "insert": (do_insert, True, False),
    "update": (do_update, True, True),
    "find": (do_find, False, True),
    "getMore": (do_get_more, False, True),
    "commitTransaction": (do_commit, True, False),
}  # command: (operation, is a write, needs CONCURRENCY documents first)

FAULTS = ["closeConnection", "retryableErrorCode", "otherErrorCode"]


def fault_data(command: str, fault: str, app_name: str) -> dict:
    data = {"failCommands": [command], "appName": app_name}
    is_write = OPERATIONS[command][1]
    if fault == "closeConnection":
        data["closeConnection"] = True
    elif fault == "retryableErrorCode":
        data["errorCode"] = RETRYABLE_CODE
        if is_write:
            data["errorLabels"] = ["RetryableWriteError"]
    else:
        data["errorCode"] = OTHER_CODE
    return data


def expected_failure(command: str, fault: str):
    """(exception type, code) that FAILURES operations must raise, or None: invisible."""
    if fault == "otherErrorCode":
        return OperationFailure, OTHER_CODE
    if command == "getMore":  # never retried
        if fault == "closeConnection":
            # A network error marks the server Unknown and pauses its pool
            # (CMAP): the getMores of other cursors in flight fail too.
            return ConnectionFailure, None
        return OperationFailure, RETRYABLE_CODE
    return None


class Row3Client:
    """One client for every case, its pool warmed once (opening 100 connections
    per case would only repeat the same work fifteen times)."""

    def __init__(self, io_loop) -> None:
        self.app_name = f"faults-row3-{uuid.uuid4().hex[:8]}"
        self.connections = Connections()
        self.attempts = FailedAttempts("")
        self.client = AsyncIOMotorClient(
            test_uri(), io_loop=io_loop.asyncio_loop, appName=self.app_name,
            event_listeners=[self.connections, self.attempts])
        self.admin = AsyncIOMotorClient(test_uri(), io_loop=io_loop.asyncio_loop)
        self.baseline = None


@pytest.fixture(scope="module")
def row3(io_loop):
    shared = Row3Client(io_loop)
    yield shared
    shared.client.close()
    shared.admin.close()


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("command", list(OPERATIONS))
@pytest.mark.timeout_seconds(60)
async def test_failpoint_under_concurrency(row3, db_name, command, fault):
    client, admin, app_name = row3.client, row3.admin, row3.app_name
    connections = row3.connections
    attempts = row3.attempts
    attempts.command = command
    attempts.by_operation.clear()
    operation, _, needs_docs = OPERATIONS[command]
    coll = client[db_name][f"row3_{command}"]
    if needs_docs:
        await coll.insert_many([{"_id": i, "hits": 0} for i in range(CONCURRENCY)])
    else:
        await coll.database.create_collection(coll.name)
    if row3.baseline is None:
        # Warm the pool at the same concurrency, once: that is the baseline.
        await asyncio.gather(*[coll.find_one({"_id": i}) for i in range(CONCURRENCY)])
        row3.baseline = await pool_settles(client)
    baseline = row3.baseline

    async with fail_point(admin, {"times": FAILURES}, **fault_data(command, fault, app_name)):
        outcomes = await asyncio.wait_for(asyncio.gather(
            *[operation(client, coll, i) for i in range(CONCURRENCY)], return_exceptions=True
        ), 45)

    errors = [o for o in outcomes if isinstance(o, BaseException)]
    wrong = [i for i, o in enumerate(outcomes) if o is False]
    assert not wrong, f"operations returned wrong results: {wrong[:10]}"
    expected = expected_failure(command, fault)
    if expected is None:
        assert len(errors) <= attempts.caught_twice(), (
            f"a retryable fault reached the caller of an operation caught once: {errors[:3]!r}; "
            f"failed attempts by operation: {dict(attempts.by_operation)}")
    else:
        error_type, code = expected
        kinds = collections.Counter(type(e).__name__ for e in errors)
        if error_type is ConnectionFailure:
            assert len(errors) >= FAILURES, f"expected {FAILURES} failures or more, got {kinds}"
        else:
            assert len(errors) == FAILURES, f"expected {FAILURES} failures, got {kinds}"
        for error in errors:
            assert isinstance(error, error_type), repr(error)
            if code is not None:
                assert error.code == code, repr(error)

    # The writes that succeeded are there, once each.
    if command in ("insert", "commitTransaction"):
        count = await coll.count_documents({})
        assert count == CONCURRENCY - len(errors), (count, len(errors))
    elif command == "update":
        hits = collections.Counter(d["hits"] for d in await coll.find().to_list(None))
        expected_hits = collections.Counter({1: CONCURRENCY - len(errors), 0: len(errors)})
        assert hits == +expected_hits, hits

    after = await pool_settles(client)
    assert connections.created - connections.closed == after["idle"], (
        f"connections unaccounted for: created {connections.created}, closed "
        f"{connections.closed}, idle {after['idle']}")
    assert after["idle"] <= max(baseline["idle"], CONCURRENCY), (baseline, after)
    # And the client keeps working at the same concurrency.
    assert len(await asyncio.gather(
        *[coll.find_one({}) for _ in range(CONCURRENCY)])) == CONCURRENCY
