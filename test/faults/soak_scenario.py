"""The soak of fault-matrix row 5, runnable under any Motor (this one or 3.7.1).

Mixed operations at a fixed concurrency, then client open/close cycles (each
with real work), sampling the process's open file descriptors, RSS, threads,
greenlets and the server's open connections at fixed intervals. Prints one
JSON document. Only public API, so the same script measures Motor 3.7.1::

    .venv/bin/python        test/faults/soak_scenario.py URI --ops 100000 --cycles 500
    .venv-motor3/bin/python test/faults/soak_scenario.py URI --ops 100000 --cycles 500

``test_soak.py`` runs it for both in the same test run and compares.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import os
import random
import sys
import threading
import time

KEYS = 200  # the working set stays this small: the soak measures the driver


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return round(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def live_greenlets() -> int:
    if "greenlet" not in sys.modules:
        return 0
    greenlet = sys.modules["greenlet"].greenlet
    # type(), not isinstance(): a dead weakref proxy raises on isinstance().
    return sum(1 for o in gc.get_objects() if issubclass(type(o), greenlet))


async def settle(longest: float = 5.0) -> None:
    """Let closed clients' monitor threads and sockets go before a sample.

    They stop after ``close()`` returns, some later than others: PyMongo's
    monitor notices it was cancelled at the end of its 0.5 s read slice,
    so a client closed in the middle of a heartbeat keeps its threads
    that long. Wait until the thread count has not fallen for 1 s (two
    slices), at most ``longest`` seconds. A leaked thread never stops, so a
    leak still shows in the drift.
    """
    end = time.monotonic() + longest
    count, steady_since = threading.active_count(), time.monotonic()
    while time.monotonic() < end:
        await asyncio.sleep(0.05)
        now = threading.active_count()
        if now < count:
            count, steady_since = now, time.monotonic()
        elif time.monotonic() - steady_since >= 1.0:
            return


async def sample(admin, label) -> dict:
    gc.collect()
    await settle()
    gc.collect()
    status = await admin.admin.command("serverStatus")
    return {"at": label, "fds": open_fds(), "rss_mb": rss_mb(),
            "threads": threading.active_count(), "greenlets": live_greenlets(),
            "server_connections": status["connections"]["current"]}


async def close(client) -> None:
    result = client.close()
    if inspect.isawaitable(result):
        await result


async def one_op(coll, rng) -> None:
    """One operation of the mix: point reads and writes, and a cursor with getMores.

    Only ``_id`` lookups on at most ``KEYS`` documents: SecantusDB is a Python
    server and scans are slow; the soak measures the driver, not the server.
    """
    key = rng.randrange(KEYS)
    kind = rng.random()
    if kind < 0.40:
        await coll.find_one({"_id": key})
    elif kind < 0.60:
        await coll.update_one({"_id": key}, {"$inc": {"n": 1}}, upsert=True)
    elif kind < 0.75:
        await coll.replace_one({"_id": key}, {"n": 0, "pad": "x" * rng.randrange(2000)},
                               upsert=True)
    elif kind < 0.82:
        # Insert and remove: the collection never grows (a growing one would
        # slow the server down over a long soak, not the driver).
        result = await coll.insert_one({"temporary": True})
        await coll.delete_one({"_id": result.inserted_id})
    elif kind < 0.90:
        await coll.delete_one({"_id": key})
    else:
        keys = list(range(key, key + 12))
        await coll.find({"_id": {"$in": keys}}).batch_size(5).to_list(None)


async def main(uri, ops, concurrency, every_ops, cycles, every_cycles, db_name) -> dict:
    from motor.motor_asyncio import AsyncIOMotorClient

    import motor
    rng = random.Random(5)
    admin = AsyncIOMotorClient(uri)
    client = AsyncIOMotorClient(uri, maxPoolSize=concurrency)
    coll = client[db_name].soak
    await coll.drop()
    report = {"driver": f"Motor {motor.version}", "python": sys.version.split()[0],
              "ops": ops, "concurrency": concurrency, "cycles": cycles, "errors": 0,
              "op_samples": [], "cycle_samples": []}
    report["op_samples"].append(await sample(admin, 0))
    done = 0
    started = time.monotonic()
    while done < ops:
        batch = min(every_ops, ops - done)
        # `concurrency` tasks share the batch, each running operations back to back.
        counter = iter(range(batch))

        async def runner():
            for _ in counter:
                try:
                    await one_op(coll, rng)
                except Exception:
                    report["errors"] += 1

        await asyncio.gather(*[runner() for _ in range(concurrency)])
        done += batch
        sampling = time.monotonic()
        report["op_samples"].append(await sample(admin, done))
        started += time.monotonic() - sampling  # rates leave out the samples' waits
    report["ops_per_s"] = round(ops / (time.monotonic() - started))
    await close(client)

    report["cycle_samples"].append(await sample(admin, 0))
    started = time.monotonic()
    for cycle in range(1, cycles + 1):
        cycling = AsyncIOMotorClient(uri, maxPoolSize=5)
        cycled = cycling[db_name].soak
        await asyncio.gather(cycled.insert_one({"cycle": cycle}),
                             cycled.find_one({"_id": cycle % KEYS}),
                             cycled.update_one({"_id": cycle % KEYS}, {"$set": {"c": cycle}}))
        await cycled.find({"_id": {"$in": list(range(30))}}).batch_size(10).to_list(None)
        await close(cycling)
        if cycle % every_cycles == 0:
            sampling = time.monotonic()
            report["cycle_samples"].append(await sample(admin, cycle))
            started += time.monotonic() - sampling
    report["cycles_per_s"] = round(cycles / (time.monotonic() - started), 1)
    await admin.drop_database(db_name)
    await close(admin)
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("uri")
    parser.add_argument("--ops", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--sample-every-ops", type=int, default=10_000)
    parser.add_argument("--cycles", type=int, default=500)
    parser.add_argument("--sample-every-cycles", type=int, default=50)
    parser.add_argument("--db", default="motor_soak")
    args = parser.parse_args()
    result = asyncio.run(main(args.uri, args.ops, args.concurrency, args.sample_every_ops,
                              args.cycles, args.sample_every_cycles, args.db))
    print(json.dumps(result))
