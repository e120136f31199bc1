"""What the harness and its workers agree on (standard library only).

The benchmarks are those of MongoDB's driver benchmarking specification
(single- and multi-document). Each iteration runs ``ops`` operations, split
over ``min(concurrency, ops)`` concurrent lanes (coroutines, or threads for
PyMongo sync); an iteration's score is its size in MB (10^6 bytes of BSON)
over its time.

At concurrency 100, single-document benchmarks keep their N operations; the
multi-document ones (find many, bulk inserts, GridFS) cut the same data into
``concurrency`` shares (100 finds of N/100 documents, 100 insert_many of
N/100 documents, 100 files of 1/100 of the GridFS file), so that every
iteration moves the same number of bytes at either concurrency. Large-document
benchmarks have 10 documents, so at most 10 of their operations are in flight.
"""

import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_DIR = os.path.join(ROOT, "bench")
WORK_DIR = os.path.join(BENCH_DIR, ".work")  # gitignored: data, build, replies
RESULTS_DIR = os.path.join(BENCH_DIR, "results")  # gitignored: each run's output
SHARED_DIR = os.path.join(os.path.dirname(ROOT), "shared")
DATA_ARCHIVE = os.path.join(SHARED_DIR, "bench-data", "single_and_multi_document.tgz")
DATA_DIR = os.path.join(WORK_DIR, "data", "single_and_multi_document")

DB_NAME = "perftest"
CORPUS = "corpus"  # the tweets that find one / find many read

# name, label, kind (single / multi), data set
BENCHMARKS = [
    ("run_command", "Run command", "single", None),
    ("find_one", "Find one by ID", "single", "tweet"),
    ("small_insert", "Small doc insertOne", "single", "small_doc"),
    ("large_insert", "Large doc insertOne", "single", "large_doc"),
    ("find_many", "Find many and empty the cursor", "multi", "tweet"),
    ("small_bulk", "Small doc bulk insert", "multi", "small_doc"),
    ("large_bulk", "Large doc bulk insert", "multi", "large_doc"),
    ("gridfs_upload", "GridFS upload", "multi", "gridfs"),
    ("gridfs_download", "GridFS download", "multi", "gridfs"),
]
BENCH_NAMES = [b[0] for b in BENCHMARKS]
LABELS = {b[0]: b[1] for b in BENCHMARKS}
KINDS = {b[0]: b[2] for b in BENCHMARKS}
LARGE_DOCS = 10

COMPETITORS = [
    # key, label, venv ("dev" = .venv with this repo's Motor, "motor3")
    ("motor", "Motor (this repo)", "dev"),
    ("motor3", "Motor 3.7.1", "motor3"),
    ("pymongo_async", "PyMongo Async", "dev"),
    ("pymongo_sync", "PyMongo sync", "dev"),
]
COMPETITOR_KEYS = [c[0] for c in COMPETITORS]
# Only when asked for (bench/run.py --loop-watchdog): this repository's Motor
# with motor.diagnostics' loop watchdog enabled, to measure what it costs.
WATCHDOG_COMPETITOR = "motor_watchdog"
# Only when asked for (bench/run.py --idle-poll-off): this repository's
# Motor with idle polling off (MOTOR_IDLE_POLL_US=0), to measure what the
# polling (motor/runtime/idle_poll.py) gains and costs.
SLEEPING_COMPETITOR = "motor_no_idle_poll"
COMPETITOR_LABELS = {c[0]: c[1] for c in COMPETITORS}
COMPETITOR_LABELS[WATCHDOG_COMPETITOR] = "Motor, loop watchdog on"
COMPETITOR_LABELS[SLEEPING_COMPETITOR] = "Motor, idle polling off"
# Table order: Motor's variants right after Motor.
TABLE_KEYS = ["motor", WATCHDOG_COMPETITOR, SLEEPING_COMPETITOR, *COMPETITOR_KEYS[1:]]


def ops_per_iteration(bench, concurrency, n):
    """How many operations (and lanes) an iteration has."""
    if bench in ("large_insert",):
        return LARGE_DOCS
    if KINDS[bench] == "single":
        return n
    if bench == "large_bulk":
        return min(concurrency, LARGE_DOCS)
    return concurrency


def task_bytes(bench, concurrency, n, gridfs_bytes, sizes):
    """An iteration's size in bytes of BSON (the specification's "task size").

    ``sizes`` gives the BSON size of one hello command, tweet (with its
    _id), small and large document.
    """
    ops = ops_per_iteration(bench, concurrency, n)
    if bench == "run_command":
        return n * sizes["hello"]
    if bench in ("find_one",):
        return n * sizes["tweet"]
    if bench == "small_insert":
        return n * sizes["small_doc"]
    if bench in ("large_insert", "large_bulk"):
        return LARGE_DOCS * sizes["large_doc"]
    if bench == "find_many":
        return (n // ops) * ops * sizes["tweet"]
    if bench == "small_bulk":
        return (n // ops) * ops * sizes["small_doc"]
    return (gridfs_bytes // ops) * ops


def shares(total, parts):
    """Split range(total) into ``parts`` contiguous (start, stop) slices."""
    base, extra = divmod(total, parts)
    out, start = [], 0
    for i in range(parts):
        stop = start + base + (1 if i < extra else 0)
        out.append((start, stop))
        start = stop
    return out


# -- a raw OP_MSG {ping: 1}, for the floor measurement ---------------------------

def ping_message(request_id=1):
    """OP_MSG carrying {ping: 1, $db: "admin"}, encoded by hand."""
    elements = (b"\x10ping\x00" + struct.pack("<i", 1)
                + b"\x02$db\x00" + struct.pack("<i", 6) + b"admin\x00")
    doc = struct.pack("<i", 4 + len(elements) + 1) + elements + b"\x00"
    body = struct.pack("<I", 0) + b"\x00" + doc
    return struct.pack("<iiii", 16 + len(body), request_id, 0, 2013) + body


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    import math

    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]
