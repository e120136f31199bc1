#!/usr/bin/env python3
"""Profile one competitor on one benchmark against the canned server.

    python3 bench/profile.py [--competitor motor] [--bench run_command] [--conc 1]
                             [--n 20000] [--tool cprofile|pyspy|none] [--tls]

Runs after ``bench/run.py`` has built the server and the replies (any mode
with the same --n). ``cprofile`` prints the top functions by own time;
``pyspy`` records a flame graph (SVG) with py-spy from .venv-bench;
``none`` prints µs per operation (and CPU per operation) only. ``--tls``
profiles over TLS: the canned server's OpenSSL variant (built by
``bench/run.py --tls``) with a test CA made in bench/.work/tls, the client
verifying certificate and host name.
"""

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import ROOT, WORK_DIR  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tools"))
import _envs  # noqa: E402

INNER = r'''
import cProfile, os, pstats, sys, time
sys.path.insert(0, {here!r})
import worker
name, bench, conc, n, uri, tool, rounds = {args!r}
driver = worker.SyncDriver() if name == "pymongo_sync" else worker.AsyncDriver(name)
driver.connect(uri, 100)
data = worker.Data({data!r}, 52428800)
plan = worker.Plan(driver, bench, conc, n, data, name)
driver.before(plan, first=True)
driver.timed(plan)
import gc
gc_stats = dict(time=0.0, counts=[0, 0, 0], began=0.0)
def gc_callback(phase, info):
    if phase == "start":
        gc_stats["began"] = time.perf_counter()
    else:
        gc_stats["time"] += time.perf_counter() - gc_stats["began"]
        gc_stats["counts"][info["generation"]] += 1
gc.callbacks.append(gc_callback)
for _ in range(rounds):
    driver.before(plan)
    cpu = time.process_time()
    if tool == "cprofile":
        prof = cProfile.Profile()
        prof.enable()
    elapsed, _lat = driver.timed(plan)
    if tool == "cprofile":
        prof.disable()
    cpu = time.process_time() - cpu
    print("%s %s c=%d: %.1f us/op, CPU %.1f us/op; GC %.1f us/op, collections by "
          "generation %s, %d objects tracked" % (
              name, bench, conc, elapsed / plan.ops * 1e6, cpu / plan.ops * 1e6,
              gc_stats["time"] / plan.ops * 1e6, gc_stats["counts"], len(gc.get_objects())),
          flush=True)
    gc_stats.update(time=0.0, counts=[0, 0, 0])
if tool == "cprofile":
    stats = pstats.Stats(prof)
    stats.sort_stats("tottime").print_stats(45)
    stats.sort_stats("cumtime").print_stats(45)
'''


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--competitor", default="motor")
    parser.add_argument("--bench", default="run_command")
    parser.add_argument("--conc", type=int, default=1)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tool", default="none", choices=["cprofile", "pyspy", "none"])
    parser.add_argument("--unpinned", action="store_true")
    parser.add_argument("--python", help="the interpreter to profile in (default: the "
                        "competitor's venv's), e.g. another checkout's venv for an A/B")
    parser.add_argument("--tls", action="store_true", help="over TLS (see the docstring)")
    parser.add_argument("--svg", default=os.path.join(WORK_DIR, "profile.svg"))
    args = parser.parse_args()
    # The worker reads the full-size GridFS file (52428800 bytes), so only
    # replies made for it, with this benchmark at this concurrency, will do.
    rules = "rules-%s-c%d.txt" % (args.bench, args.conc)
    replies = [d for d in os.listdir(WORK_DIR)
               if d.startswith("replies-n%d-g52428800-" % args.n)
               and os.path.exists(os.path.join(WORK_DIR, d, rules))]
    if not replies:
        sys.exit("no replies for N=%d, %s at c=%d: run bench/run.py --n %d first"
                 % (args.n, args.bench, args.conc, args.n))
    replies_dir = os.path.join(WORK_DIR, sorted(replies)[-1])
    binary = os.path.join(WORK_DIR, "build", "canned_server_tls" if args.tls else "canned_server")
    if not os.path.exists(binary):
        sys.exit("no %s: run bench/run.py%s first" % (binary, " --tls" if args.tls else ""))
    server_cmd = [binary, "0", os.path.join(replies_dir, rules)]
    certificates = None
    if args.tls:
        certificates = _envs.load_servers().make_test_certificates(os.path.join(WORK_DIR, "tls"))
        server_cmd += [certificates["server_cert"], certificates["server_key"]]
    client_pin = []
    if not args.unpinned:
        server_cmd = ["taskset", "-c", "1", *server_cmd]
        client_pin = ["taskset", "-c", "0"]
    server = subprocess.Popen(server_cmd, stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline().split()[1])
    uri = "mongodb://127.0.0.1:%d/?directConnection=true" % port
    if certificates:
        uri += "&tls=true&tlsCAFile=%s" % certificates["ca"]
    python = args.python or os.path.join(
        ROOT, ".venv-motor3" if args.competitor == "motor3" else ".venv", "bin", "python")
    code = INNER.format(here=HERE, data=os.path.join(WORK_DIR, "data",
                                                      "single_and_multi_document"),
                        args=(args.competitor, args.bench, args.conc, args.n, uri, args.tool,
                              args.rounds))
    command = [*client_pin, python, "-c", code]
    if args.tool == "pyspy":
        pyspy = os.path.join(ROOT, ".venv-bench", "bin", "py-spy")
        fmt = ["-f", "raw"] if args.svg.endswith(".txt") else []
        command = [*client_pin, pyspy, "record", *fmt, "-r", "1000", "-o", args.svg,
                   "--", python, "-c", code]
    try:
        subprocess.call(command, cwd=WORK_DIR)
    finally:
        server.terminate()
        server.wait()
    if args.tool == "pyspy":
        print("flame graph:", args.svg)


if __name__ == "__main__":
    main()
