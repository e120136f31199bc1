"""Feed a driver the bad inputs of fault-matrix row 7; print what each did, as JSON.

Run by test_bad_input.py under two interpreters, to compare with this
project's Motor in the same run::

    .venv-motor3/bin/python test/faults/bad_input_probe.py motor  URI   # Motor 3.7.1
    .venv/bin/python        test/faults/bad_input_probe.py pymongo URI  # PyMongo, sync

Each case is bounded (``BOUND`` s): a case still running then is a "hang".
Output: ``{case: {"outcome": "raised"|"returned"|"hang", "type": ..., "message": ...}}``.
Only public driver API is used, so the same script runs against any Motor.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading

BOUND = 5.0
MB = 1024 * 1024


def nested(depth):
    doc = {"leaf": 1}
    for _ in range(depth):
        doc = {"d": doc}
    return doc


def cases(coll, db):
    """(name, zero-argument call) for every bad input that needs no special setup."""
    return [
        ("dollar_key", lambda: coll.insert_one({"$bad": 1})),
        ("non_str_key", lambda: coll.insert_one({1: "x"})),
        ("doc_17mb", lambda: coll.insert_one({"x": "a" * (17 * MB)})),
        ("depth_200", lambda: coll.insert_one(nested(200))),
        ("invalid_utf8", lambda: coll.insert_one({"s": b"bad \xff".decode("utf-8", "surrogateescape")})),
        ("bytes_key", lambda: coll.insert_one({b"\xff": 1})),
        ("non_dict_filter", lambda: coll.find(42)),
        ("non_dict_update", lambda: coll.update_one({}, 42)),
        ("negative_to_list_length", lambda: coll.find().to_list(-1)),
        ("negative_skip", lambda: coll.find().skip(-1)),
        ("negative_batch_size", lambda: coll.find().batch_size(-1)),
        ("empty_command", lambda: db.command({})),
    ]


def describe(exc):
    return {"outcome": "raised", "type": type(exc).__name__,
            "module": type(exc).__module__, "message": str(exc)[:300]}


# -- Motor (asyncio flavour) ----------------------------------------------------


async def _motor_case(call):
    result = call()
    if asyncio.isfuture(result) or asyncio.iscoroutine(result):
        result = await asyncio.wait_for(result, BOUND)
    return result


def probe_motor(uri):
    from motor.motor_asyncio import AsyncIOMotorClient

    report = {}

    async def main():
        client = AsyncIOMotorClient(uri, serverSelectionTimeoutMS=3000)
        db = client.motor_bad_input_probe
        coll = db.things
        await coll.drop()
        for name, call in cases(coll, db):
            try:
                await _motor_case(call)
                report[name] = {"outcome": "returned"}
            except asyncio.TimeoutError:
                report[name] = {"outcome": "hang"}
            except Exception as exc:
                report[name] = describe(exc)
        # A closed client.
        client.close()
        try:
            await _motor_case(lambda: coll.find_one({}))
            report["closed_client"] = {"outcome": "returned"}
        except asyncio.TimeoutError:
            report["closed_client"] = {"outcome": "hang"}
        except Exception as exc:
            report["closed_client"] = describe(exc)
        # A call from another thread while the loop runs.
        other = AsyncIOMotorClient(uri, serverSelectionTimeoutMS=3000)
        await other.admin.command("ping")
        box = {}

        def from_thread():
            try:
                box["result"] = other.motor_bad_input_probe.things.find_one({})
            except Exception as exc:
                box["error"] = exc

        thread = threading.Thread(target=from_thread)
        thread.start()
        while thread.is_alive():
            await asyncio.sleep(0.01)
        if "error" in box:
            report["other_thread"] = describe(box["error"])
        else:
            try:
                await asyncio.wait_for(asyncio.wrap_future(box["result"])
                                       if not asyncio.isfuture(box["result"])
                                       else box["result"], BOUND)
                report["other_thread"] = {"outcome": "returned"}
            except asyncio.TimeoutError:
                report["other_thread"] = {"outcome": "hang"}
            except Exception as exc:
                report["other_thread"] = describe(exc)
        other.close()

    asyncio.run(main())

    # A closed loop: the client was made on a loop that has since been closed.
    loop = asyncio.new_event_loop()
    try:
        client = loop.run_until_complete(_make_motor_client(uri))
        loop.close()
        try:
            result = client.motor_bad_input_probe.things.find_one({})
            if asyncio.iscoroutine(result):
                result.close()
            report["closed_loop"] = {"outcome": "returned", "type": type(result).__name__}
        except Exception as exc:
            report["closed_loop"] = describe(exc)
    except Exception as exc:
        report["closed_loop"] = {"outcome": "setup failed", "message": repr(exc)}
    return report


async def _make_motor_client(uri):
    from motor.motor_asyncio import AsyncIOMotorClient

    client = AsyncIOMotorClient(uri, serverSelectionTimeoutMS=3000)
    await client.admin.command("ping")
    return client


# -- PyMongo, synchronous ----------------------------------------------------------


def _bounded_sync(call):
    box = {}

    def run():
        try:
            result = call()
            if hasattr(result, "to_list") and not isinstance(result, list):
                pass
            box["result"] = result
        except Exception as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(BOUND)
    if thread.is_alive():
        return {"outcome": "hang"}
    if "error" in box:
        return describe(box["error"])
    return {"outcome": "returned"}


def probe_pymongo(uri):
    from pymongo import MongoClient

    client = MongoClient(uri, serverSelectionTimeoutMS=3000)
    db = client.motor_bad_input_probe
    coll = db.things
    coll.drop()
    report = {name: _bounded_sync(call) for name, call in cases(coll, db)}
    client.close()
    report["closed_client"] = _bounded_sync(lambda: coll.find_one({}))
    return report


if __name__ == "__main__":
    driver, uri = sys.argv[1], sys.argv[2]
    report = probe_motor(uri) if driver == "motor" else probe_pymongo(uri)
    print(json.dumps(report))
