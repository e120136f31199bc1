#!/usr/bin/env python3
"""How many connections a server is best served with, at concurrency 100.

    python3 bench/pool_sizes.py [--pools 100,20,10]
                                [--benchmarks find_one,small_insert,gridfs_download]
                                [--n 2000] [--rounds 7] [--servers secantus,canned]

Motor keeps as many requests at the server as there are callers, up to
``maxPoolSize`` (100 by default, PyMongo's); Motor 3.7.1 keeps at most as many
as its thread pool has threads (5 per core: 10 on 2 cores). This measures what
that difference costs each side: one client process (core 0) with one Motor
client per pool size, rounds interleaved (the order reversed every other
round) against one server (core 1), 100 callers each. Per pool size: µs per
operation, the server's CPU time per operation (from /proc), the client's
CPU time per operation, best and median of the rounds.

Against SecantusDB (a Python server on one core, so the server is the
bottleneck) and against the canned C server (which answers at once, so the
client is). Runs after ``bench/run.py`` (any mode with N=2000 or the given
--n) has built the canned server and its replies. Standard library only.
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (the harness: servers, pinning, venvs)
from common import WORK_DIR  # noqa: E402

CLIENT = r'''
import asyncio, io, json, os, statistics, sys, time
import motor.motor_tornado
from tornado.ioloop import IOLoop

uri, server_pid, bench, n, rounds, pools, seed = json.loads(sys.argv[1])
CALLERS = 100
FILES = 200


def cpu(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu():
    t = os.times()
    return t.user + t.system


async def main():
    clients = {p: motor.motor_tornado.MotorClient(uri, maxPoolSize=p) for p in pools}
    buckets = {p: motor.motor_tornado.MotorGridFSBucket(clients[p].perftest,
                                                        bucket_name="pool_sizes")
               for p in pools}
    if seed and bench == "gridfs_download":
        # The harness's c=100 GridFS share at N=2000: 1/2000 of the 50 MB file.
        await buckets[pools[0]].drop()
        file_ids = [await buckets[pools[0]].upload_from_stream("f%d" % i, os.urandom(26214))
                    for i in range(FILES)]
    elif seed:
        coll = clients[pools[0]].perftest.pool_sizes
        await coll.drop()
        await coll.insert_many([{"_id": i, "x": "y" * 100} for i in range(1000)])
    samples = {p: [] for p in pools}
    for r in range(rounds + 1):  # round 0 warms every pool up
        for p in pools if r % 2 else pools[::-1]:
            coll, bucket = clients[p].perftest.pool_sizes, buckets[p]
            todo = iter(range(n))

            async def caller():
                for i in todo:
                    if bench == "gridfs_download":
                        await bucket.download_to_stream(file_ids[i % FILES], io.BytesIO())
                    elif bench == "find_one":
                        await coll.find_one({"_id": i % 1000})
                    else:
                        await coll.insert_one({"i": i})

            s0, c0, t0 = cpu(server_pid), own_cpu(), time.perf_counter()
            await asyncio.gather(*(caller() for _ in range(CALLERS)))
            t1, c1, s1 = time.perf_counter(), own_cpu(), cpu(server_pid)
            if r:
                samples[p].append(((t1 - t0) / n * 1e6, (s1 - s0) / n * 1e6,
                                   (c1 - c0) / n * 1e6))
    out = {}
    for p, rows in samples.items():
        columns = list(zip(*rows))
        out[p] = {name: [min(col), statistics.median(col)]
                  for name, col in zip(("us", "server_cpu_us", "client_cpu_us"), columns)}
    for client in clients.values():
        client.close()
    print(json.dumps(out))


IOLoop.current().run_sync(main)
'''


def measure(python, server, bench, n, rounds, pools, seed):
    args = json.dumps([server.uri, server.pid, bench, n, rounds, pools, seed])
    output = subprocess.check_output(run.pinned([python, "-c", CLIENT, args], run.CLIENT_CORE),
                                     cwd=WORK_DIR, text=True)
    return {int(p): v for p, v in json.loads(output.strip().splitlines()[-1]).items()}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pools", default="100,20,10")
    parser.add_argument("--benchmarks", default="find_one,small_insert")
    parser.add_argument("--servers", default="secantus,canned")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    pools = [int(p) for p in args.pools.split(",")]
    benches = args.benchmarks.split(",")
    python = run._envs.venv_python(run._envs.DEV_VENV)
    if not run.can_pin():
        sys.exit("pool_sizes.py needs taskset and 2 cores (server and client apart)")
    results = []
    for server_name in args.servers.split(","):
        if server_name == "canned":
            replies = [d for d in os.listdir(WORK_DIR)
                       if d.startswith("replies-n%d-" % args.n) and d.endswith("_100")]
            binary = os.path.join(WORK_DIR, "build", "canned_server")
            if not replies or not os.path.exists(binary):
                sys.exit("no canned server or replies for N=%d: run bench/run.py --fast first"
                         % args.n)
            server = run.CannedServer(binary, os.path.join(WORK_DIR, sorted(replies)[-1]),
                                      run.SERVER_CORE)
        else:
            server = run.Secantus(run.SERVER_CORE)
        try:
            for bench in benches:
                if bench == "gridfs_download" and server_name == "canned":
                    # Its replies are canned for the harness's own files.
                    print("%-16s %-12s skipped: SecantusDB only" % (server.label, bench))
                    continue
                server.load(bench, 100)
                found = measure(python, server, bench, args.n, args.rounds, pools,
                                seed=server_name == "secantus")
                for p in pools:
                    results.append((server.label, bench, p, found[p]))
                    r = found[p]
                    print("%-16s %-12s maxPoolSize=%-3d  µs/op best %6.0f med %6.0f   "
                          "server CPU µs/op best %6.0f med %6.0f   client CPU µs/op best "
                          "%6.0f med %6.0f" % (server.label, bench, p, *r["us"],
                                               *r["server_cpu_us"], *r["client_cpu_us"]),
                          flush=True)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
