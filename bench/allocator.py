#!/usr/bin/env python3
"""GridFS at c=1 and the thread it runs on: the allocator's share.

    python3 bench/allocator.py [--rounds 5] [--bench gridfs_upload,gridfs_download]

Runs PyMongo sync's GridFS upload and download of the benchmark's 50 MB
file against the canned server, once on the process's main thread and once
on a thread of its own, and prints ms per file (best and median of the
rounds) and minor page faults per file. Same code, same process layout;
only the thread differs, and with it glibc's malloc arena: the main thread
allocates from the main arena, which on this workload gives freed memory
back to the kernel more often than a thread's arena does, so the next
file's buffers come back as fresh pages, each one a page fault (the
fault counts show how many). Motor's calls run on the loop's
thread (the main thread, in the benchmarks and in most applications);
Motor 3.7.1's run on its thread pool's threads.

Runs after ``bench/run.py`` has built the server and the replies for
N=2000 (``--fast`` does). With ``GLIBC_TUNABLES`` set in the environment,
it shows what a setting does to both threads (see doc/gridfs.rst).
"""

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (the harness: the canned server, pinning, venvs)
from common import WORK_DIR  # noqa: E402

INNER = r'''
import resource, sys, threading, time
sys.path.insert(0, {here!r})
import worker
bench, uri, rounds, where = {args!r}
driver = worker.SyncDriver()
driver.connect(uri, 100)
plan = worker.Plan(driver, bench, 1, 2000, worker.Data({data!r}, 52428800), "pymongo_sync")

def measure():
    driver.before(plan, first=True)
    driver.timed(plan)
    times = []
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(rounds):
        driver.before(plan)
        start = time.perf_counter()
        driver.timed(plan)
        times.append((time.perf_counter() - start) * 1e3)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / rounds
    times.sort()
    print("%-16s %-12s %8.1f %8.1f %10.0f" % (bench, where, times[0], times[len(times) // 2],
                                            faults), flush=True)

if where == "main thread":
    measure()
else:
    thread = threading.Thread(target=measure)
    thread.start()
    thread.join()
'''


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--bench", default="gridfs_upload,gridfs_download")
    parser.add_argument("--unpinned", action="store_true")
    args = parser.parse_args()
    replies_dir = os.path.join(WORK_DIR, "replies-n2000-g52428800-c1_100")
    binary = os.path.join(WORK_DIR, "build", "canned_server")
    if not (os.path.isdir(replies_dir) and os.path.exists(binary)):
        sys.exit("no canned server or replies for N=2000: run bench/run.py --fast first")
    python = run._envs.venv_python(run._envs.DEV_VENV)
    data = os.path.join(WORK_DIR, "data", "single_and_multi_document")
    server_core, client_core = (None, None) if args.unpinned else (run.SERVER_CORE,
                                                                   run.CLIENT_CORE)
    tunables = os.environ.get("GLIBC_TUNABLES")
    print("GLIBC_TUNABLES=%s" % tunables if tunables else "glibc's default malloc settings")
    print("%-16s %-12s %8s %8s %10s" % ("benchmark", "thread", "best ms", "med ms",
                                         "faults/file"))
    server = run.CannedServer(binary, replies_dir, server_core)
    try:
        for bench in args.bench.split(","):
            for where in ("main thread", "own thread"):
                server.load(bench, 1)
                code = INNER.format(here=HERE, data=data,
                                    args=(bench, server.uri, args.rounds, where))
                subprocess.check_call(run.pinned([python, "-c", code], client_core),
                                      cwd=WORK_DIR)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
