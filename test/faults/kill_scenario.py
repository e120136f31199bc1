"""Fault-matrix row 1 as a script, to measure any Motor (this one or 3.7.1) the same way.

Starts its own SecantusDB on a storage directory, runs 200 concurrent
journaled inserts and 100 finds through ``motor.motor_asyncio``, kills the
server with SIGKILL once 20 inserts are acknowledged, starts it again 2 s
later on the same port and storage, and reports (JSON) what every operation
ended with, how long the same client took to recover, and whether every
acknowledged insert is in the collection once::

    .venv-motor3/bin/python test/faults/kill_scenario.py

Only public API; the server helper is loaded from ``test/servers.py`` by
path (it is standard library only), so ``motor`` is whichever the
interpreter has installed.
"""

from __future__ import annotations

import asyncio
import collections
import importlib.util
import json
import os
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
INSERTS, FINDS, DOWN_FOR, OP_BOUND = 200, 100, 2.0, 40.0


def load_servers():
    spec = importlib.util.spec_from_file_location(
        "motor_test_servers", os.path.join(HERE, os.pardir, "servers.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def scenario(server) -> dict:
    from bson import ObjectId
    from pymongo.errors import DuplicateKeyError

    import motor
    from motor.motor_asyncio import AsyncIOMotorClient

    loop = asyncio.get_running_loop()
    client = AsyncIOMotorClient(server.uri + "&journal=true", serverSelectionTimeoutMS=15000,
                                heartbeatFrequencyMS=500)
    coll = client.faults_row1.script
    await coll.drop()
    await coll.insert_one({"n": -1})
    acknowledged, errors, hung, retry_answer_lost = {}, [], [], 0
    finds_ok = 0
    enough = asyncio.Event()
    timings = {}

    async def insert(n):
        nonlocal retry_answer_lost
        doc = {"_id": ObjectId(), "n": n}
        try:
            await asyncio.wait_for(coll.insert_one(doc), OP_BOUND)
            acknowledged[doc["_id"]] = n
            if len(acknowledged) >= 20:
                enough.set()
        except asyncio.TimeoutError:
            hung.append(n)
        except DuplicateKeyError as exc:
            if (exc.details or {}).get("keyValue") == {"_id": doc["_id"]}:
                retry_answer_lost += 1  # the server forgot the retried write (see the test)
            else:
                errors.append(exc)
        except Exception as exc:
            errors.append(exc)

    async def find(n):
        nonlocal finds_ok
        await asyncio.sleep(n * 0.004)
        try:
            await asyncio.wait_for(coll.find_one({"n": n}), OP_BOUND)
            finds_ok += 1
        except asyncio.TimeoutError:
            hung.append(f"find {n}")
        except Exception as exc:
            errors.append(exc)

    async def killer():
        await asyncio.wait_for(enough.wait(), 30)
        timings["killed"] = loop.time()
        await loop.run_in_executor(None, server.restart, DOWN_FOR, True)
        timings["back"] = loop.time()

    started = loop.time()
    await asyncio.gather(killer(), *[insert(n) for n in range(INSERTS)],
                         *[find(n) for n in range(FINDS)])
    ended = loop.time()
    recovered = None
    while recovered is None and loop.time() - timings["back"] < 30:
        try:
            await asyncio.wait_for(coll.insert_one({"n": "after"}), OP_BOUND)
            recovered = loop.time()
        except Exception:
            await asyncio.sleep(0.1)
    docs = await coll.find().to_list(None)
    by_id = collections.Counter(d["_id"] for d in docs)
    by_n = collections.Counter(d["n"] for d in docs if isinstance(d["n"], int) and d["n"] >= 0)
    client.close()
    return {
        "driver": f"Motor {motor.version}",
        "acknowledged": len(acknowledged),
        "errors": dict(collections.Counter(type(e).__name__ for e in errors)),
        "error_examples": [str(e)[:200] for e in errors[:3]],
        "hung": len(hung),
        "finds_ok": finds_ok,
        "retry_answer_lost_by_server": retry_answer_lost,
        "lost": sum(1 for oid in acknowledged if by_id[oid] == 0),
        "doubled": sum(1 for count in by_n.values() if count > 1),
        "burst_s": round(ended - started, 2),
        "recovered": recovered is not None,
        "recover_after_back_s": round(recovered - timings["back"], 3) if recovered else None,
        "recover_after_kill_s": round(recovered - timings["killed"], 3) if recovered else None,
    }


def main() -> dict:
    servers = load_servers()
    storage = tempfile.mkdtemp(prefix="motor-kill-scenario-")
    server = servers.SecantusServer(storage_path=storage,
                                    executable=os.environ.get("MOTOR_TEST_SECANTUSD"))
    server.start()
    try:
        return asyncio.run(scenario(server))
    finally:
        server.stop()
        import shutil
        shutil.rmtree(storage, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(main()))
