"""Row 7 of the fault matrix: bad input never hangs or kills the loop; it gets a clear error.

Each bad input is fed to this Motor in the test process (under the loop
watchdog), bounded, and then the same client must still work. The same
inputs go to Motor 3.7.1 and to synchronous PyMongo in subprocesses
(``bad_input_probe.py``) in the same run: where this Motor's error type
differs from PyMongo's, the test names why this one is at least as clear.

Two inputs are the server's to judge, not the driver's: a ``$``-prefixed
top-level field and a document nested 200 deep (mongod refuses depths over
100 and, since 5.0, accepts ``$`` field names; SecantusDB accepts both). For
those the rule is "the same outcome as PyMongo", with no hang.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading

import pytest
from bson.errors import InvalidDocument
from pymongo.errors import DocumentTooLarge, InvalidOperation

from motor.motor_asyncio import AsyncIOMotorClient
from test.faults.bad_input_probe import BOUND, cases
from test.faults.support import (
    MOTOR3_PYTHON, motor3_available, off_loop, ours_python, run_script)
from test.motor_fixtures import test_uri

pytestmark = [pytest.mark.timeout(120)]

# case -> (exception type, pattern the message must match): the problem is named.
EXPECTED = {
    "non_str_key": (InvalidDocument, r"string keys, key was 1"),
    "doc_17mb": (DocumentTooLarge, r"too large \(17\d+ bytes\)"),
    "invalid_utf8": (UnicodeEncodeError, r"surrogates not allowed"),
    "bytes_key": (InvalidDocument, r"string keys, key was b'\\xff'"),
    "non_dict_filter": (TypeError, r"^filter must be"),
    "non_dict_update": (TypeError, r"^update must either be a list or .*dict"),
    "negative_to_list_length": (ValueError, r"length must be .*non-negative.*-1"),
    "negative_skip": (ValueError, r"skip must be >= 0"),
    "negative_batch_size": (ValueError, r"batch_size must be >= 0"),
    "empty_command": ((ValueError, TypeError, InvalidOperation), r"(?i)empty"),
}
SERVERS_CALL = ("dollar_key", "depth_200")

async def outcome_of(call) -> dict:
    """Run one bad-input call on this Motor, bounded; describe how it ended."""
    try:
        result = call()
        if asyncio.isfuture(result) or asyncio.iscoroutine(result):
            await asyncio.wait_for(result, BOUND)
        return {"outcome": "returned"}
    except asyncio.TimeoutError:
        return {"outcome": "hang"}
    except Exception as exc:
        return {"outcome": "raised", "type": type(exc).__name__, "error": exc,
                "message": str(exc)}


@pytest.mark.parametrize("case", [name for name, _ in cases(None, None)])
@pytest.mark.timeout_seconds(30)
async def test_bad_input_gets_clear_error_and_client_lives_on(io_loop, db_name, case):
    client = AsyncIOMotorClient(test_uri(), io_loop=io_loop.asyncio_loop,
                                serverSelectionTimeoutMS=3000)
    try:
        db = client[db_name]
        call = dict(cases(db.things, db))[case]
        got = await outcome_of(call)
        assert got["outcome"] != "hang", f"{case} hung for {BOUND:g} s"
        if case in SERVERS_CALL:
            pass  # the server's answer; compared with PyMongo's below
        else:
            error_type, pattern = EXPECTED[case]
            assert got["outcome"] == "raised", f"{case}: no error, {got}"
            assert isinstance(got["error"], error_type), f"{case}: {got['error']!r}"
            assert re.search(pattern, got["message"]), f"{case}: unclear: {got['message']!r}"
        # The loop and the client live on.
        assert (await asyncio.wait_for(db.command("ping"), BOUND))["ok"] == 1
        await asyncio.wait_for(db.things.insert_one({"after": case}), BOUND)
    finally:
        client.close()


@pytest.mark.timeout_seconds(30)
async def test_closed_client_raises_invalid_operation(io_loop, db_name):
    client = AsyncIOMotorClient(test_uri(), io_loop=io_loop.asyncio_loop)
    await client.admin.command("ping")
    client.close()
    got = await outcome_of(lambda: client[db_name].things.find_one({}))
    assert got["outcome"] == "raised" and isinstance(got["error"], InvalidOperation), got
    assert "after close" in got["message"]


@pytest.mark.timeout_seconds(30)
async def test_call_from_another_thread_raises_runtime_error_naming_threads(io_loop, db_name):
    client = AsyncIOMotorClient(test_uri(), io_loop=io_loop.asyncio_loop)
    try:
        await client.admin.command("ping")
        box = {}

        def from_thread():
            try:
                box["result"] = client[db_name].things.find_one({})
            except Exception as exc:
                box["error"] = exc

        thread = threading.Thread(target=from_thread, name="bad-input-thread")
        thread.start()
        while thread.is_alive():
            await asyncio.sleep(0.01)
        assert isinstance(box.get("error"), RuntimeError), box
        assert "bad-input-thread" in str(box["error"])
        assert await client[db_name].things.find_one({}) is None  # still works here
    finally:
        client.close()


@pytest.mark.timeout(30)
def test_call_on_closed_loop_raises_runtime_error():
    loop = asyncio.new_event_loop()
    try:
        client = AsyncIOMotorClient(test_uri(), io_loop=loop, serverSelectionTimeoutMS=3000)
        loop.run_until_complete(client.admin.command("ping"))
        client.close()
        other = AsyncIOMotorClient(test_uri(), io_loop=loop, serverSelectionTimeoutMS=3000)
    finally:
        loop.close()
    with pytest.raises(RuntimeError, match="closed"):
        result = other.db.things.find_one({})
        if asyncio.iscoroutine(result):
            result.close()


@pytest.mark.timeout_seconds(30)
async def test_callback_not_callable_refused_and_raising_callback_reaches_handler(
    make_client, db_name, event_loop
):
    coll = make_client()[db_name].things
    with pytest.raises(TypeError, match="callback"):
        coll.insert_one({"_id": 1}, callback="not callable")
    assert await coll.count_documents({}) == 0  # the refused insert never ran

    reports = []
    previous = event_loop.get_exception_handler()
    event_loop.set_exception_handler(lambda loop, context: reports.append(context))
    try:
        done = asyncio.Event()

        def raising_callback(result, error):
            done.set()
            raise ZeroDivisionError("raised by the application's callback")

        coll.insert_one({"_id": 2}, callback=raising_callback)
        await asyncio.wait_for(done.wait(), BOUND)
        for _ in range(20):
            if reports:
                break
            await asyncio.sleep(0.01)
    finally:
        event_loop.set_exception_handler(previous)
    assert any(isinstance(r.get("exception"), ZeroDivisionError) for r in reports), reports
    # The loop lives on and so does the client.
    assert await coll.find_one({"_id": 2}) == {"_id": 2}


# -- side by side with Motor 3.7.1 and PyMongo -----------------------------------


# Where this Motor's error type differs from PyMongo's on purpose: why it is clearer.
CLEARER = {
    "empty_command": "PyMongo lets a bare StopIteration out (no message at all)",
}


@pytest.mark.timeout_seconds(120)
async def test_bad_input_errors_match_pymongo_and_motor3(io_loop, db_name):
    ours = {}
    client = AsyncIOMotorClient(test_uri(), io_loop=io_loop.asyncio_loop,
                                serverSelectionTimeoutMS=3000)
    try:
        db = client[db_name]
        for name, call in cases(db.things, db):
            ours[name] = await outcome_of(call)
    finally:
        client.close()
    pymongo = json.loads((await off_loop(
        lambda: run_script(ours_python(), "bad_input_probe.py", "pymongo", test_uri(),
                           timeout=90))).stdout)
    motor3 = {}
    if motor3_available():
        motor3 = json.loads((await off_loop(
            lambda: run_script(MOTOR3_PYTHON, "bad_input_probe.py", "motor", test_uri(),
                               timeout=90))).stdout)

    table = []
    for name in ours:
        mine, theirs = ours[name], pymongo[name]
        table.append((name, mine.get("type", mine["outcome"]), theirs.get("type", theirs["outcome"]),
                      motor3.get(name, {}).get("type", motor3.get(name, {}).get("outcome", "-"))))
        assert mine["outcome"] != "hang", name
        if name in CLEARER:
            continue
        assert mine["outcome"] == theirs["outcome"], (name, mine, theirs)
        if theirs["outcome"] == "raised":
            assert mine["type"] == theirs["type"] or name in CLEARER, (name, mine, theirs)
    print("\nrow 7: case | this Motor | PyMongo | Motor 3.7.1")
    for row in table:
        print("  " + " | ".join(row))
