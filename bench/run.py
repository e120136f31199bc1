#!/usr/bin/env python3
"""Motor's benchmark harness: ``python3 bench/run.py --fast`` (standard library only).

Runs the driver benchmarking specification's single- and multi-document
benchmarks at concurrency 1 and 100 for four competitors, each in a worker
process of its own (bench/worker.py, driven over a pipe):

* ``motor``          this repository's ``motor.motor_tornado.MotorClient`` (.venv)
* ``motor3``         Motor 3.7.1's ``motor.motor_tornado.MotorClient`` (.venv-motor3)
* ``pymongo_async``  PyMongo's ``AsyncMongoClient`` on the same Tornado loop (.venv)
* ``pymongo_sync``   PyMongo's ``MongoClient``: one thread, or one per lane (.venv)

(``--loop-watchdog`` adds a fifth, ``motor_watchdog``: this repository's
Motor with ``motor.diagnostics``' loop watchdog enabled, compared with
``motor`` in a table of the watchdog's overhead; doc/diagnostics.rst;
``--idle-poll-off`` adds ``motor_no_idle_poll``, Motor with
``MOTOR_IDLE_POLL_US=0``, compared with ``motor`` in a table of what idle
polling gains and costs),
against two servers, every competitor in one harness run, interleaved round
robin (A B C D A B C D ...): a canned-reply wire server in C
(bench/canned_server.c, built here with gcc; it answers from replies that
bench/replies.py precomputes, so the client is the bottleneck), pinned
(clients on core 0, server on core 1, with taskset) and unpinned, and
SecantusDB (end to end). A floor is measured too: the same ping round trip
over a raw blocking socket and over a bare Tornado IOStream.

``--python X.Y`` runs all of them on another Python: .venv-pyX.Y (the test
runner's ``--python`` venv) and .venv-motor3-pyX.Y.

``--tls`` adds the same series over TLS: the canned server built with
OpenSSL (``-DCANNED_TLS``, needs libssl-dev) and SecantusDB with its
``--tls-cert-file``/``--tls-key-file``/``--tls-ca-file`` flags, both
presenting a certificate for 127.0.0.1 signed by a CA made at run time (in
the results directory, with the ``openssl`` command, as the test suite does).
Every competitor connects with ``tls=true&tlsCAFile=<that CA>``: certificate
and hostname verification on. ``--no-plain`` runs the TLS series only.

Output (bench/results/<stamp>/, or --out): results.json, results.md (the
tables and the targets), plot.png (µs per operation, log scale).
``--write-doc`` also rewrites doc/performance.rst and doc/performance.png.

Modes: ``--fast`` (the README's command, < 10 minutes on 2 cores), the
default (the specification's sizes: N=10,000, more rounds), ``--smoke``
(seconds; what test/test_bench_smoke.py runs). Options override a mode.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import (  # noqa: E402
    BENCH_NAMES, COMPETITOR_KEYS, COMPETITOR_LABELS, DATA_ARCHIVE, DATA_DIR, KINDS, LABELS,
    LARGE_DOCS, RESULTS_DIR, ROOT, SLEEPING_COMPETITOR, TABLE_KEYS, WATCHDOG_COMPETITOR,
    WORK_DIR, ops_per_iteration, percentile, task_bytes)

sys.path.insert(0, os.path.join(ROOT, "tools"))
import _envs  # noqa: E402

BENCH_VENV = os.path.join(ROOT, ".venv-bench")
BENCH_REQUIREMENTS = ["matplotlib==3.11.2", "py-spy==0.4.3"]
BUILD_DIR = os.path.join(WORK_DIR, "build")
CLIENT_CORE, SERVER_CORE = "0", "1"
SINGLE = [b for b in BENCH_NAMES if KINDS[b] == "single"]
FLOORS = {"ping_floor": "Ping round trip (floor)",
          "encode_floor": "BSON-encode the large doc (floor)"}

MODES = {
    # canned: N, rounds pinned, rounds unpinned; secantus: N, rounds
    "smoke": dict(n=40, rounds=1, unpinned_rounds=0, secantus_n=0, secantus_rounds=0,
                  gridfs_bytes=600_000, concurrency=[1, 4], floor_n=200, memory_n=0,
                  warmup=False),
    "fast": dict(n=2000, rounds=7, unpinned_rounds=3, secantus_n=300, secantus_rounds=3,
                 gridfs_bytes=52_428_800, concurrency=[1, 100], floor_n=5000,
                 memory_n=10_000, warmup=True),
    "full": dict(n=10_000, rounds=10, unpinned_rounds=5, secantus_n=2000, secantus_rounds=5,
                 gridfs_bytes=52_428_800, concurrency=[1, 100], floor_n=20_000,
                 memory_n=10_000, warmup=True),
}


def step(message):
    print("==> %s" % message, flush=True)


# -- environment -------------------------------------------------------------------

def ensure_environment(install, competitors, want_plot, want_secantus, motor_python=None):
    """The venvs each competitor runs in; returns {competitor: python}.

    ``motor_python``: measure the Motor of that interpreter's environment
    (the test suite's, which may be a .venv-pyX.Y) instead of .venv's.
    """
    if install and motor_python is None:
        _envs.ensure_dev_venv()
        if "motor3" in competitors:
            _envs.ensure_motor3_venv()
        if want_secantus:
            _envs.ensure_server_venv()
        if want_plot:
            _envs._ensure_venv(BENCH_VENV, _envs._stamp(" ".join(BENCH_REQUIREMENTS).encode()),
                               BENCH_REQUIREMENTS, "matplotlib and py-spy")
    pythons = {}
    dev = motor_python or _envs.venv_python(_envs.DEV_VENV)
    motor3 = _envs.venv_python(_envs.MOTOR3_VENV)
    if not os.path.exists(dev):
        _envs.fail("%s is missing: run once without --no-install" % _envs.DEV_VENV)
    for key in competitors:
        pythons[key] = motor3 if key == "motor3" else dev
    if "motor3" in competitors:
        if not os.path.exists(motor3):
            _envs.fail("%s is missing: run once without --no-install" % _envs.MOTOR3_VENV)
        # Motor 3's Tornado flavour needs Tornado, which Motor 3 does not
        # require: the same version as .venv's, so both Motors share it.
        tornado = subprocess.check_output(
            [dev, "-c", "import tornado; print(tornado.version)"], text=True).strip()
        have = subprocess.run([motor3, "-c", "import tornado; print(tornado.version)"],
                              capture_output=True, text=True).stdout.strip()
        if have != tornado:
            if not install:
                _envs.fail("%s lacks tornado==%s: run once without --no-install"
                           % (os.path.basename(_envs.MOTOR3_VENV), tornado))
            step("installing tornado==%s into %s (Motor 3's motor_tornado needs it)"
                 % (tornado, os.path.basename(_envs.MOTOR3_VENV)))
            subprocess.check_call([motor3, "-m", "pip", "install", "--quiet",
                                   "--disable-pip-version-check", "tornado==%s" % tornado])
    return pythons


def extract_data():
    if os.path.exists(os.path.join(DATA_DIR, "gridfs_large.bin")):
        return
    if not os.path.exists(DATA_ARCHIVE):
        _envs.fail("benchmark data not found at %s (shared/ must sit beside the repo)"
                   % DATA_ARCHIVE)
    step("extracting %s into %s" % (DATA_ARCHIVE, os.path.relpath(DATA_DIR, ROOT)))
    with tarfile.open(DATA_ARCHIVE) as archive:
        archive.extractall(os.path.dirname(DATA_DIR))


def build_canned_server(tls=False):
    """The canned server's binary; ``tls``: the variant that speaks TLS (OpenSSL)."""
    source = os.path.join(HERE, "canned_server.c")
    binary = os.path.join(BUILD_DIR, "canned_server_tls" if tls else "canned_server")
    if os.path.exists(binary) and os.path.getmtime(binary) >= os.path.getmtime(source):
        return binary
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        _envs.fail("gcc is needed to build bench/canned_server.c (apt-get install gcc)")
    os.makedirs(BUILD_DIR, exist_ok=True)
    flags = ["-DCANNED_TLS"] if tls else []
    libs = ["-lssl", "-lcrypto"] if tls else []
    step("building the canned server: %s -O2 %s%s" % (
        os.path.basename(gcc), " ".join(flags + [os.path.relpath(source, ROOT)]),
        " " + " ".join(libs) if libs else ""))
    result = subprocess.run([gcc, "-O2", "-Wall", *flags, "-o", binary, source, *libs],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        hint = (" (the TLS variant needs OpenSSL's headers: apt-get install libssl-dev)"
                if tls else "")
        _envs.fail("building %s failed%s:\n%s" % (os.path.relpath(source, ROOT), hint,
                                                   result.stdout))
    return binary


def make_certificates(directory):
    """A CA and a server certificate for 127.0.0.1 and localhost, made now with the
    openssl command (test/servers.py's make_test_certificates); returns their paths."""
    if not shutil.which("openssl"):
        _envs.fail("the openssl command is needed to make the TLS series' certificates "
                   "(apt-get install openssl)")
    step("making a test CA and server certificate in %s" % (
        os.path.relpath(directory, ROOT) if directory.startswith(ROOT) else directory))
    return _envs.load_servers().make_test_certificates(directory)


def tls_uri(uri, certificates):
    """``uri`` with TLS on, trusting only the test CA (certificate and hostname checked)."""
    return uri + "&tls=true&tlsCAFile=%s" % certificates["ca"]


def make_replies(python, n, gridfs_bytes, concurrency):
    out = os.path.join(WORK_DIR, "replies-n%d-g%d-c%s" % (
        n, gridfs_bytes, "_".join(map(str, concurrency))))
    manifest = os.path.join(out, "manifest.json")
    stamp = max(os.path.getmtime(os.path.join(HERE, f)) for f in ("replies.py", "common.py"))
    if not (os.path.exists(manifest) and os.path.getmtime(manifest) >= stamp):
        step("precomputing the canned replies (N=%d) into %s" % (n, os.path.relpath(out, ROOT)))
        shutil.rmtree(out, ignore_errors=True)
        subprocess.check_call([python, os.path.join(HERE, "replies.py"), DATA_DIR, out, str(n),
                               str(gridfs_bytes), ",".join(map(str, concurrency))])
    with open(manifest) as f:
        return out, json.load(f)


def can_pin():
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def pinned(command, core):
    return ["taskset", "-c", core, *command] if core is not None else command


# -- servers -------------------------------------------------------------------------

def read_exactly(sock, count):
    """``count`` bytes from a blocking socket (an SSLSocket takes no MSG_WAITALL)."""
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise RuntimeError("the canned server closed the connection")
        data += chunk
    return data


class CannedServer:
    label = "canned C server"

    def __init__(self, binary, replies_dir, core, certificates=None):
        self.replies_dir = replies_dir
        self.certificates = certificates
        command = [binary, "0", os.path.join(replies_dir, "rules-base.txt")]
        if certificates:
            command += [certificates["server_cert"], certificates["server_key"]]
        self.process = subprocess.Popen(pinned(command, core), stdout=subprocess.PIPE,
                                        text=True)
        line = self.process.stdout.readline()
        if not line.startswith("READY"):
            raise RuntimeError("canned server did not start: %r" % line)
        self.port = int(line.split()[1])
        self.pid = self.process.pid
        self.uri = "mongodb://127.0.0.1:%d/?directConnection=true" % self.port
        if certificates:
            self.uri = tls_uri(self.uri, certificates)

    def load(self, bench, conc):
        """Switch the replies to those of ``bench`` at ``conc`` (clients idle)."""
        import socket
        import struct

        path = os.path.join(self.replies_dir, "rules-%s-c%d.txt" % (bench, conc)).encode()
        elements = b"\x02benchLoad\x00" + struct.pack("<i", len(path) + 1) + path + b"\x00"
        doc = struct.pack("<i", 4 + len(elements) + 1) + elements + b"\x00"
        body = struct.pack("<I", 0) + b"\x00" + doc
        message = struct.pack("<iiii", 16 + len(body), 7, 0, 2013) + body
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            if self.certificates:
                import ssl

                context = ssl.create_default_context(cafile=self.certificates["ca"])
                sock = context.wrap_socket(sock, server_hostname="127.0.0.1")
            sock.sendall(message)
            header = read_exactly(sock, 16)
            read_exactly(sock, int.from_bytes(header[:4], "little") - 16)

    def stop(self):
        self.process.terminate()
        self.process.wait()


class Secantus:
    label = "SecantusDB"

    def __init__(self, core, certificates=None):
        servers = _envs.load_servers()
        launcher = os.environ.get("MOTOR_TEST_SECANTUSD") or _envs.secantusd_default()

        class PinnedServer(servers.SecantusServer):
            def command_line(self):
                return pinned(super().command_line(), core)

        os.makedirs(WORK_DIR, exist_ok=True)
        tls = {}
        if certificates:
            tls = dict(tls_cert_file=certificates["server_cert"],
                       tls_key_file=certificates["server_key"],
                       tls_ca_file=certificates["ca"])
        self.server = PinnedServer(executable=launcher, standalone=True,
                                   log_path=os.path.join(WORK_DIR, "secantusd.log"), **tls)
        self.server.start()
        self.pid = self.server.process.pid
        self.uri = self.server.uri
        if certificates:
            self.uri = tls_uri(self.uri, certificates)

    def load(self, bench, conc):
        pass

    def stop(self):
        self.server.stop()


# -- workers -------------------------------------------------------------------------

class Worker:
    def __init__(self, key, python, core, gridfs_bytes):
        self.key = key
        command = pinned([python, os.path.join(HERE, "worker.py"), key, DATA_DIR,
                          str(gridfs_bytes)], core)
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        env.pop("PYTHONPATH", None)
        if key == SLEEPING_COMPETITOR:
            env["MOTOR_IDLE_POLL_US"] = "0"
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env=env, cwd=WORK_DIR)
        self.info = self.call("hello")

    def call(self, cmd, **kwargs):
        self.process.stdin.write(json.dumps(dict(kwargs, cmd=cmd)) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("worker %s died (exit %s)" % (self.key, self.process.wait()))
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError("worker %s: %s\n%s" % (self.key, reply["error"],
                                                      reply.get("traceback", "")))
        return reply

    def stop(self):
        try:
            self.call("quit")
        except Exception:  # noqa: BLE001 - stopping anyway
            pass
        try:
            self.process.stdin.close()
            self.process.wait(20)
        except Exception:  # noqa: BLE001
            self.process.kill()
            self.process.wait()


def run_series(name, server, pythons, competitors, benches, concurrency, n, rounds,
               gridfs_bytes, sizes, client_core, warmup, floor_n):
    """All benchmarks against one server, competitors interleaved; returns records."""
    step("%s: starting %d workers%s" % (name, len(competitors),
                                         " on core %s" % client_core if client_core else ""))
    workers = [Worker(key, pythons[key], client_core, gridfs_bytes) for key in competitors]
    records = []
    try:
        for w in workers:
            w.call("connect", uri=server.uri, max_pool=100)
        if "find_one" in benches or "find_many" in benches:
            if isinstance(server, Secantus):
                step("%s: seeding %d tweets" % (name, n))
                workers[0].call("seed", n=n)
        for conc in concurrency:
            for bench in benches:
                server.load(bench, conc)
                ops = ops_per_iteration(bench, conc, n)
                size = task_bytes(bench, conc, n, gridfs_bytes, sizes)
                for w in workers:
                    w.call("setup", bench=bench, conc=conc, n=n, warmup=warmup)
                per = {w.key: [] for w in workers}
                for _round in range(rounds):
                    for w in workers:
                        reply = w.call("iteration", server_pid=server.pid)
                        per[w.key].append(reply)
                for w in workers:
                    records.append(summarize(name, bench, conc, w.key, per[w.key], ops, size))
                line = "  ".join("%s %.0f" % (w.key, records[-len(workers) + i]["us_best"])
                                 for i, w in enumerate(workers))
                step("%s: %s c=%d: best µs/op %s" % (name, bench, conc, line))
        if floor_n:
            floor_records = run_floors(name, server, pythons, client_core, rounds, floor_n,
                                       gridfs_bytes)
            records.extend(floor_records)
    finally:
        for w in workers:
            w.stop()
    return records, {w.key: w.info for w in workers}


def run_floors(name, server, pythons, core, rounds, n, gridfs_bytes):
    worker = Worker("floor", pythons.get("motor") or _envs.venv_python(_envs.DEV_VENV), core,
                    0)
    port = int(server.uri.split(":")[2].split("/")[0])
    try:
        server.load("run_command", 1)
        out = []
        for kind, label in (("socket", "raw blocking socket"), ("iostream", "Tornado IOStream"),
                            ("motor_bridge", "Motor's bridge, no PyMongo")):
            rows = [worker.call("floor", kind=kind, host="127.0.0.1", port=port, n=n)
                    for _ in range(rounds)]
            out.append(summarize(name, "ping_floor", 1, label, rows, n, n * 17))
        rows = [worker.call("encode_floor", n=LARGE_DOCS) for _ in range(rounds)]
        out.append(summarize(name, "encode_floor", 1, "bson.encode", rows, LARGE_DOCS,
                             LARGE_DOCS * 1))
        step("%s: floor: %s" % (name, "  ".join("%s %.1f µs" % (r["competitor"], r["us_best"])
                                               for r in out)))
        return out
    finally:
        worker.stop()


def summarize(series, bench, conc, key, rows, ops, size):
    times = sorted(r["elapsed"] for r in rows)
    median = percentile(times, 0.5) if len(times) % 2 else (
        (times[len(times) // 2 - 1] + times[len(times) // 2]) / 2)
    best = times[0]
    latencies = sorted(x for r in rows for x in r["latencies"])
    server_share = [r.get("server_cpu", 0) / r["elapsed"] for r in rows if r["elapsed"] > 0]
    client_share = [r.get("cpu", 0) / r["elapsed"] for r in rows if r["elapsed"] > 0]
    return {
        "series": series, "bench": bench, "conc": conc, "competitor": key,
        "rounds": len(rows), "ops": ops, "bytes": size,
        "elapsed": [r["elapsed"] for r in rows],
        "median_s": median, "best_s": best,
        "mbps_median": size / 1e6 / median, "mbps_best": size / 1e6 / best,
        "ops_median": ops / median, "ops_best": ops / best,
        "us_median": median / ops * 1e6, "us_best": best / ops * 1e6,
        "p50": percentile(latencies, 0.5), "p90": percentile(latencies, 0.9),
        "p99": percentile(latencies, 0.99),
        "server_cpu_share_max": max(server_share) if server_share else 0.0,
        # motor_watchdog: what the loop watchdog's sampler did, per round
        "watchdog": [r["watchdog"] for r in rows if "watchdog" in r],
        "server_cpu_share": [round(x, 3) for x in server_share],
        # the client's own CPU time per operation (less moved by other load than wall time)
        "cpu_us_best": min(r.get("cpu", 0) for r in rows) / ops * 1e6,
        "cpu_us_median": percentile(sorted(r.get("cpu", 0) for r in rows), 0.5) / ops * 1e6,
        "client_cpu_share": [round(x, 3) for x in client_share],
    }


# -- reporting ---------------------------------------------------------------------

def index(records):
    return {(r["series"], r["bench"], r["conc"], r["competitor"]): r for r in records}


def fmt(x, digits=None):
    if x != x:  # nan
        return "-"
    if digits is not None:
        return "%.*f" % (digits, x)
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    return "%.2f" % x


def ratio(a, b):
    return a / b if a and b else float("nan")


def table_rows(records, series):
    """Rows for one series: (cells...) with the column names first."""
    idx = index(records)
    header = ["benchmark", "c", "competitor", "MB/s med", "MB/s best", "ops/s med",
              "ops/s best", "µs/op med", "µs/op best", "p50 µs", "p90 µs", "p99 µs",
              "server CPU", "speed vs sync med/best", "speed vs Motor 3.7.1 med/best"]
    rows = [header]
    keys = sorted({(r["conc"], r["bench"]) for r in records if r["series"] == series
                   and r["bench"] not in FLOORS},
                  key=lambda k: (k[0], BENCH_NAMES.index(k[1])))
    for conc, bench in keys:
        for comp in TABLE_KEYS:
            r = idx.get((series, bench, conc, comp))
            if r is None:
                continue
            sync = idx.get((series, bench, conc, "pymongo_sync"))
            m3 = idx.get((series, bench, conc, "motor3"))

            def vs(other):
                if other is None:
                    return "-"
                return "%sx / %sx" % (fmt(ratio(r["ops_median"], other["ops_median"]), 2),
                                      fmt(ratio(r["ops_best"], other["ops_best"]), 2))

            rows.append([LABELS[bench], str(conc), COMPETITOR_LABELS[comp],
                         fmt(r["mbps_median"]), fmt(r["mbps_best"]),
                         fmt(r["ops_median"]), fmt(r["ops_best"]),
                         fmt(r["us_median"]), fmt(r["us_best"]),
                         fmt(r["p50"]), fmt(r["p90"]), fmt(r["p99"]),
                         "%.0f%%" % (100 * r["server_cpu_share_max"]),
                         vs(sync), vs(m3)])
    for r in records:
        if r["series"] != series or r["bench"] not in FLOORS:
            continue
        if True:
            rows.append([FLOORS[r["bench"]], "1", r["competitor"], "-", "-",
                         fmt(r["ops_median"]), fmt(r["ops_best"]), fmt(r["us_median"]),
                         fmt(r["us_best"]), fmt(r["p50"]), fmt(r["p90"]), fmt(r["p99"]),
                         "%.0f%%" % (100 * r["server_cpu_share_max"]), "-", "-"])
    return rows


def markdown_table(rows):
    lines = ["| " + " | ".join(rows[0]) + " |",
             "|" + "|".join("---" for _ in rows[0]) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def rst_table(rows):
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    rule = "  ".join("=" * w for w in widths)
    def line(row):
        return "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
    return "\n".join([rule, line(rows[0]), rule] + [line(r) for r in rows[1:]] + [rule])


def targets(records, series):
    """The issue's targets on ``series``, best of the rounds.

    Returns (text, ok, note) triples; ``note`` says, for a target missed,
    whether even the floor could meet it (no insert of the large document
    beats encoding it to BSON), or, at concurrency 1, how PyMongo sync fared
    against the same competitor. At concurrency 1 two targets apply to
    Motor's µs/op against PyMongo sync's: issue 5's (1.15x) and issue 11's
    (1.05x), each line with the client's CPU µs/op. GridFS upload and
    download: Motor's median ops/s at least Motor 3.7.1's (issue 11).
    """
    idx = index(records)
    out = []

    def get(bench, conc, comp):
        return idx.get((series, bench, conc, comp))

    encode = get("encode_floor", 1, "bson.encode")
    for bench in ("run_command", "find_one", "small_insert"):
        m, s = get(bench, 1, "motor"), get(bench, 1, "pymongo_sync")
        if m and s:
            x = m["us_best"] / s["us_best"]
            for goal in (1.15, 1.05):
                out.append(("c=1 %s: Motor µs/op %.1f (%s) vs PyMongo sync %.1f (%s) = %.3fx "
                            "(target <= %.2fx)" % (LABELS[bench], m["us_best"], cpu_text(m),
                                                   s["us_best"], cpu_text(s), x, goal),
                            x <= goal, ""))
    m, s = get("find_many", 1, "motor"), get("find_many", 1, "pymongo_sync")
    if m and s:
        m_docs, s_docs = docs(m) / m["best_s"], docs(s) / s["best_s"]
        x = s_docs / m_docs
        out.append(("c=1 %s: PyMongo sync %.0f docs/s vs Motor %.0f docs/s = %.3fx "
                    "(target <= 1.1x)" % (LABELS["find_many"], s_docs, m_docs, x), x <= 1.1, ""))
    concs = sorted({r["conc"] for r in records if r["series"] == series})
    for conc in concs:
        for bench in SINGLE:
            m = get(bench, conc, "motor")
            sync = get(bench, conc, "pymongo_sync")
            for other, goal in (("motor3", 1.25), ("pymongo_async", 1.3)):
                o = get(bench, conc, other)
                if not (m and o):
                    continue
                x = m["ops_best"] / o["ops_best"]
                note = ""
                if x < goal:
                    needed = o["us_best"] / goal
                    notes = []
                    if bench in ("large_insert",) and encode:
                        notes.append("floor: the target needs <= %.0f µs per insert; BSON-encoding "
                                     "the document alone takes %.0f µs (%.0f%% of PyMongo "
                                     "sync's %.0f µs per insert)%s"
                                     % (needed, encode["us_best"],
                                        100 * encode["us_best"] / sync["us_best"] if sync
                                        else 0, sync["us_best"] if sync else 0,
                                        ": below the floor" if needed < encode["us_best"]
                                        else ""))
                    elif conc == 1 and sync:
                        notes.append(sync_comparison(sync, o, other))
                    note = "; ".join(notes)
                out.append(("c=%d %s: Motor ops/s %.0f vs %s %.0f = %.2fx (target >= %.2fx)"
                            % (conc, LABELS[bench], m["ops_best"], COMPETITOR_LABELS[other],
                               o["ops_best"], x, goal), x >= goal, note))
        for bench in ("gridfs_upload", "gridfs_download"):
            m, o, sync = (get(bench, conc, c) for c in ("motor", "motor3", "pymongo_sync"))
            if not (m and o):
                continue
            # Issue 11: at least Motor 3.7.1's speed, by the median round.
            x = m["ops_median"] / o["ops_median"]
            note = ""
            if x < 1.0 and conc == 1 and sync:
                note = ("for comparison: PyMongo sync, which at c=1 runs on the main "
                        "thread as Motor's loop does, is %.2fx Motor 3.7.1 here (median "
                        "%.0f vs %.0f µs); see \"GridFS and the allocator\""
                        % (sync["ops_median"] / o["ops_median"], sync["us_median"],
                           o["us_median"]))
            out.append(("c=%d %s: Motor median ops/s %.2f vs Motor 3.7.1 %.2f = %.2fx "
                        "(target >= 1.00x)" % (conc, LABELS[bench], m["ops_median"],
                                               o["ops_median"], x), x >= 1.0, note))
    return out


def cpu_text(record):
    """The client's CPU µs per operation, best of rounds, for a target line."""
    return "CPU %.1f" % record["cpu_us_best"] if record.get("cpu_us_best") else "CPU -"


def sync_comparison(sync, other_record, other):
    """For a c=1 target missed: how PyMongo sync, which sleeps in a blocking
    read for every reply, fared against the same competitor."""
    return ("for comparison: PyMongo sync itself is %.2fx %s here (%.1f vs %.1f µs)"
            % (sync["ops_best"] / other_record["ops_best"], COMPETITOR_LABELS[other],
               sync["us_best"], other_record["us_best"]))


def tls_targets(records, series):
    """Issue 11's TLS targets on ``series``, best of the rounds, as :func:`targets`.

    Run command, find one and small insertOne: at c=1 within 1.15x PyMongo
    sync's µs/op; at c=1 and c=100 at least 1.25x Motor 3.7.1's ops/s; at
    c=100 at least 1.3x PyMongo Async's. Each line also gives the client's
    CPU µs/op (its own process time over the iteration's operations).
    """
    idx = index(records)
    out = []

    def get(bench, conc, comp):
        return idx.get((series, bench, conc, comp))

    benches = ("run_command", "find_one", "small_insert")
    for bench in benches:
        m, s = get(bench, 1, "motor"), get(bench, 1, "pymongo_sync")
        if m and s:
            x = m["us_best"] / s["us_best"]
            out.append(("TLS c=1 %s: Motor µs/op %.1f (%s) vs PyMongo sync %.1f (%s) = %.3fx "
                        "(target <= 1.15x)" % (LABELS[bench], m["us_best"], cpu_text(m),
                                               s["us_best"], cpu_text(s), x), x <= 1.15, ""))
    for conc in sorted({r["conc"] for r in records if r["series"] == series}):
        goals = [("motor3", 1.25)] + ([("pymongo_async", 1.3)] if conc > 1 else [])
        for bench in benches:
            m, sync = get(bench, conc, "motor"), get(bench, conc, "pymongo_sync")
            for other, goal in goals:
                o = get(bench, conc, other)
                if not (m and o):
                    continue
                x = m["ops_best"] / o["ops_best"]
                note = ""
                if x < goal and conc == 1 and sync:
                    note = sync_comparison(sync, o, other)
                out.append(("TLS c=%d %s: Motor ops/s %.0f (%s µs/op) vs %s %.0f (%s µs/op) "
                            "= %.2fx (target >= %.2fx)"
                            % (conc, LABELS[bench], m["ops_best"], cpu_text(m),
                               COMPETITOR_LABELS[other], o["ops_best"], cpu_text(o), x, goal),
                            x >= goal, note))
    return out


def beside_motor(records, competitor):
    """(``competitor``'s record, Motor's record) for each series, benchmark and
    concurrency both ran: Motor's variants are reported against Motor."""
    idx = index(records)
    for r in records:
        if r["competitor"] == competitor:
            motor = idx.get((r["series"], r["bench"], r["conc"], "motor"))
            if motor is not None:
                yield r, motor


def on_off_cells(on, off, key):
    """Off, on and on/off for one figure of two records."""
    return [fmt(off[key]), fmt(on[key]), fmt(ratio(on[key], off[key]), 3)]


def watchdog_overhead(records):
    """Rows comparing Motor with motor.diagnostics' loop watchdog on and off
    (``--loop-watchdog``), per series, benchmark and concurrency; [] without it."""
    rows = [["series", "benchmark", "c", "off µs/op med", "on µs/op med", "on/off med",
             "off µs/op best", "on µs/op best", "on/off best", "sampler CPU", "wake-ups/s",
             "stalls", "reported"]]
    for on, off in beside_motor(records, WATCHDOG_COMPETITOR):
        rows.append([on["series"], LABELS[on["bench"]], str(on["conc"])]
                    + on_off_cells(on, off, "us_median") + on_off_cells(on, off, "us_best")
                    + sampler_cells(on))
    return rows if len(rows) > 1 else []


def idle_poll_effect(records):
    """Rows comparing Motor with idle polling on (``motor``) and off
    (``--idle-poll-off``), per series, benchmark and concurrency: wall and
    client CPU µs per operation, best of rounds and median; [] without it."""
    rows = [["series", "benchmark", "c", "off µs/op best", "on µs/op best", "on/off best",
             "off µs/op med", "on µs/op med", "on/off med", "off CPU µs/op", "on CPU µs/op",
             "on/off CPU"]]
    for off, on in beside_motor(records, SLEEPING_COMPETITOR):
        rows.append([on["series"], LABELS[on["bench"]], str(on["conc"])]
                    + on_off_cells(on, off, "us_best") + on_off_cells(on, off, "us_median")
                    + on_off_cells(on, off, "cpu_us_best"))
    return rows if len(rows) > 1 else []


def sampler_cells(record):
    """The watchdog's sampler thread over all rounds: its CPU time as a share
    of the wall time, its wake-ups per second, stalls seen and reported."""
    w, elapsed = record.get("watchdog") or [], sum(record["elapsed"])
    if not w or not elapsed:
        return ["-"] * 4
    total = {k: sum(x[k] for x in w) for k in w[0]}
    return ["%.2f%%" % (100 * total["cpu"] / elapsed), "%.0f" % (total["wakeups"] / elapsed),
            str(total["stalls"]), str(total["reports"])]


def docs(record):
    """Documents an iteration of find many returns."""
    return record.get("docs") or 1


def report(results):
    out = []
    meta = results["meta"]
    out.append("# Motor benchmarks, %s" % meta["date"])
    out.append("")
    out.append("Machine: %s. Command: `%s`." % (meta["machine"], meta["command"]))
    out.append("")
    for series in results["series"]:
        s = results["series_info"][series]
        out.append("## %s" % series)
        out.append("")
        out.append("%s; N=%d, %d rounds (median and best of the rounds), GridFS file %d bytes."
                   % (s["description"], s["n"], s["rounds"], meta["gridfs_bytes"]))
        out.append("")
        out.append(markdown_table(table_rows(results["records"], series)))
        out.append("")
    for title, rows in (("Loop watchdog overhead", watchdog_overhead(results["records"])),
                        ("Idle polling", idle_poll_effect(results["records"]))):
        if rows:
            out += ["## %s (Motor with it on vs off, same run)" % title, "",
                    markdown_table(rows), ""]
    for key, title, check in (("target_series", "Targets", targets),
                              ("tls_target_series", "TLS targets", tls_targets)):
        series = results.get(key)
        if not series:
            continue
        out.append("## %s (%s, best of rounds)" % (title, series))
        out.append("")
        for text, ok, note in check(results["records"], series):
            out.append("- %s %s" % ("PASS" if ok else "FAIL", text))
            if note:
                out.append("  - %s" % note)
        out.append("")
    if results.get("memory"):
        out.append("")
        out.append("## Memory: %d concurrent pending find_one on one client" % (
            results["memory"]["n"]))
        out.append("")
        for key, m in results["memory"]["competitors"].items():
            out.append("- %s: peak RSS %.1f MB (%.1f MB before the burst, +%.1f MB), all done "
                       "in %.2f s" % (COMPETITOR_LABELS.get(key, key), m["peak_rss_kb"] / 1024,
                                      m["rss_before_kb"] / 1024,
                                      (m["peak_rss_kb"] - m["rss_before_kb"]) / 1024,
                                      m["elapsed_s"]))
        ratio_text = results["memory"].get("ratio")
        if ratio_text:
            out.append("- %s" % ratio_text)
    return "\n".join(out) + "\n"


def ssl_version():
    import ssl

    return ssl.OPENSSL_VERSION.split()[1]


def machine_description():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = ", %.1f GB RAM" % (kb / 1024 / 1024)
    except OSError:
        pass
    return "%d x %s%s, %s, Python %s" % (os.cpu_count() or 0, model, mem, platform.system()
                                         + " " + platform.release(), platform.python_version())


# -- main --------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--fast", action="store_const", const="fast", dest="mode",
                       help="the README's command: under 10 minutes on 2 cores")
    group.add_argument("--smoke", action="store_const", const="smoke", dest="mode",
                       help="seconds: tiny N, 1 round, canned server only")
    parser.add_argument("--n", type=int, help="operations / documents per iteration")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (canned, pinned)")
    parser.add_argument("--unpinned-rounds", type=int)
    parser.add_argument("--secantus-n", type=int, help="N against SecantusDB (0: skip it)")
    parser.add_argument("--secantus-rounds", type=int)
    parser.add_argument("--gridfs-bytes", type=int)
    parser.add_argument("--concurrency", help="comma-separated, e.g. 1,100")
    parser.add_argument("--benchmarks", help="comma-separated subset of " + ",".join(BENCH_NAMES))
    parser.add_argument("--competitors", help="comma-separated subset of "
                        + ",".join(COMPETITOR_KEYS))
    parser.add_argument("--memory-n", type=int, help="pending find_one for the memory test "
                        "(0: skip)")
    parser.add_argument("--loop-watchdog", action="store_true",
                        help="also run Motor with motor.diagnostics' loop watchdog enabled "
                        "(competitor %s, interleaved with the others) and report its "
                        "overhead" % WATCHDOG_COMPETITOR)
    parser.add_argument("--idle-poll-off", action="store_true",
                        help="also run Motor with idle polling off (competitor %s, "
                        "MOTOR_IDLE_POLL_US=0, interleaved with the others) and report "
                        "what the polling gains and costs" % SLEEPING_COMPETITOR)
    parser.add_argument("--tls", action="store_true",
                        help="also run every series over TLS (canned server built with OpenSSL, "
                        "SecantusDB with its TLS flags; certificates made at run time)")
    parser.add_argument("--no-plain", action="store_true",
                        help="with --tls: only the TLS series")
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--no-install", action="store_true", help="use the venvs as they are")
    parser.add_argument("--python", metavar="X.Y",
                        help="run every competitor on Python X.Y (found as tools/run_tests.py "
                             "--python finds it): Motor and both PyMongos in .venv-pyX.Y, "
                             "Motor 3.7.1 in .venv-motor3-pyX.Y")
    parser.add_argument("--motor-python", default=None,
                        help="the Python whose Motor, PyMongo and Tornado to measure "
                             "(default: .venv's)")
    parser.add_argument("--out", help="output directory (default bench/results/<stamp>)")
    parser.add_argument("--write-doc", action="store_true",
                        help="rewrite doc/performance.rst and doc/performance.png")
    parser.add_argument("--render-python-versions", metavar="RESULTS_DIR", nargs="+",
                        help="only write doc/performance-python-versions.rst from --python "
                             "runs' results, one per version")
    parser.add_argument("--render-doc", metavar="RESULTS_DIR",
                        help="only rewrite the doc page from an earlier run's results")
    args = parser.parse_args(argv)
    settings = dict(MODES[args.mode or "full"])
    for key in ("n", "rounds", "unpinned_rounds", "secantus_n", "secantus_rounds",
                "gridfs_bytes", "memory_n"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    if args.concurrency:
        settings["concurrency"] = [int(c) for c in args.concurrency.split(",")]
    settings["benchmarks"] = args.benchmarks.split(",") if args.benchmarks else list(BENCH_NAMES)
    settings["competitors"] = (args.competitors.split(",") if args.competitors
                               else list(COMPETITOR_KEYS))
    for b in settings["benchmarks"]:
        if b not in BENCH_NAMES:
            parser.error("unknown benchmark %r" % b)
    for c in settings["competitors"]:
        if c not in COMPETITOR_KEYS:
            parser.error("unknown competitor %r" % c)
    if args.loop_watchdog:
        if "motor" not in settings["competitors"]:
            parser.error("--loop-watchdog compares against Motor: keep motor in --competitors")
        at = settings["competitors"].index("motor") + 1
        settings["competitors"].insert(at, WATCHDOG_COMPETITOR)
    if args.idle_poll_off:
        if "motor" not in settings["competitors"]:
            parser.error("--idle-poll-off compares against Motor: keep motor in --competitors")
        at = settings["competitors"].index("motor") + 1
        settings["competitors"].insert(at, SLEEPING_COMPETITOR)
    if args.python and args.motor_python:
        parser.error("--python measures that Python's own venvs: leave out --motor-python")
    if args.no_floor:
        settings["floor_n"] = 0
    if args.no_plain and not args.tls:
        parser.error("--no-plain leaves nothing to run without --tls")
    settings["tls"], settings["plain"] = args.tls, not args.no_plain
    return args, settings


def use_python(version, argv):
    """Measure on Python ``version`` ("X.Y"): re-run this harness under that
    interpreter, whose venvs are .venv-pyX.Y (the test runner's, with Motor,
    both PyMongos and Tornado) and .venv-motor3-pyX.Y (Motor 3.7.1)."""
    import run_tests  # tools/, on sys.path

    python = run_tests.find_python(version)
    if python is None:
        _envs.fail("no Python %s found: looked for pyenv's %s.* and python%s on PATH"
                   % (version, version, version))
    version = run_tests._python_version(python)
    if "%d.%d" % sys.version_info[:2] != version:
        step("re-running under Python %s (%s)" % (version, python))
        sys.stdout.flush()
        os.execv(python, [python, os.path.abspath(__file__), *argv])
    _envs.DEV_VENV = os.path.join(ROOT, ".venv-py" + version)
    _envs.MOTOR3_VENV = os.path.join(ROOT, ".venv-motor3-py" + version)


def main(argv):
    started = time.monotonic()
    args, cfg = parse_args(argv)
    if args.render_python_versions:
        write_python_versions_doc(args.render_python_versions)
        return 0
    if args.render_doc:
        with open(os.path.join(args.render_doc, "results.json")) as f:
            results = json.load(f)
        plot = os.path.join(args.render_doc, "plot.png")
        write_doc(results, plot if os.path.exists(plot) else None)
        return 0
    if args.python:
        use_python(args.python, argv)
    mode = args.mode or "full"
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    want_plot = not args.no_plot
    pythons = ensure_environment(not args.no_install, cfg["competitors"], want_plot,
                                 cfg["secantus_n"] > 0, args.motor_python)
    extract_data()
    binary = build_canned_server()
    dev_python = args.motor_python or _envs.venv_python(_envs.DEV_VENV)
    replies_dir, manifest = make_replies(dev_python, cfg["n"], cfg["gridfs_bytes"],
                                         cfg["concurrency"])
    sizes = manifest["sizes"]
    pin = can_pin()
    if not pin:
        step("taskset or a second core is missing: every series runs unpinned")

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = args.out or os.path.join(RESULTS_DIR, stamp)
    os.makedirs(out_dir, exist_ok=True)
    # Settings every worker inherits from the environment (the allocator's,
    # Motor's) are part of the command that reproduces the run.
    inherited = ["%s=%s" % (k, v) for k, v in sorted(os.environ.items())
                 if k == "GLIBC_TUNABLES" or k.startswith(("MALLOC_", "MOTOR_"))]
    command = " ".join(inherited + ["python3 bench/run.py"] + argv)
    results = {
        "meta": {"date": datetime.datetime.now(datetime.timezone.utc).strftime(
                     "%Y-%m-%d %H:%M UTC"),
                 "machine": machine_description(), "command": command.strip(),
                 "mode": mode, "gridfs_bytes": cfg["gridfs_bytes"],
                 "pinned": pin, "settings": cfg},
        "series": [], "series_info": {}, "records": [], "versions": {},
    }
    plan = []
    for tls in ([False] if cfg["plain"] else []) + ([True] if cfg["tls"] else []):
        suffix = " TLS" if tls else ""
        if not cfg["rounds"]:
            pass
        elif pin:
            plan.append(("canned%s, pinned" % suffix, "canned", cfg["n"], cfg["rounds"], True,
                         tls))
            if cfg["unpinned_rounds"]:
                plan.append(("canned%s, unpinned" % suffix, "canned", cfg["n"],
                             cfg["unpinned_rounds"], False, tls))
        else:
            plan.append(("canned%s, unpinned" % suffix, "canned", cfg["n"], cfg["rounds"],
                         False, tls))
        if cfg["secantus_n"] and cfg["secantus_rounds"]:
            plan.append(("SecantusDB%s, %s" % (suffix, "pinned" if pin else "unpinned"),
                         "secantus", cfg["secantus_n"], cfg["secantus_rounds"], pin, tls))
    if not plan:
        _envs.fail("nothing to run: every series has 0 rounds")
    results["target_series"] = next((p[0] for p in plan if not p[5]), None)
    results["tls_target_series"] = next((p[0] for p in plan if p[5]), None)
    certificates = make_certificates(os.path.join(out_dir, "tls")) if cfg["tls"] else None
    tls_binary = build_canned_server(tls=True) if cfg["tls"] and cfg["rounds"] else None

    for name, kind, n, rounds, pinned_series, tls in plan:
        client_core = CLIENT_CORE if pinned_series else None
        server_core = SERVER_CORE if pinned_series else None
        if kind == "canned":
            if n != cfg["n"]:
                replies_dir, _ = make_replies(dev_python, n, cfg["gridfs_bytes"],
                                              cfg["concurrency"])
            server = CannedServer(tls_binary if tls else binary, replies_dir, server_core,
                                  certificates if tls else None)
            description = "canned C server (bench/canned_server.c)"
        else:
            step("starting SecantusDB (in memory)%s" % (" over TLS" if tls else ""))
            server = Secantus(server_core, certificates if tls else None)
            description = "SecantusDB %s, in memory, end to end" % _envs.SECANTUSDB_REQUIREMENT
        if tls:
            description += (", TLS (OpenSSL %s; clients verify the certificate and the host "
                            "name against a test CA)" % ssl_version())
        description += (", clients on core %s, server on core %s" % (CLIENT_CORE, SERVER_CORE)
                        if pinned_series else ", unpinned")
        try:
            records, infos = run_series(
                name, server, pythons, cfg["competitors"], cfg["benchmarks"],
                cfg["concurrency"], n, rounds, cfg["gridfs_bytes"], sizes, client_core,
                cfg["warmup"], cfg["floor_n"] if kind == "canned" and not tls else 0)
        except Exception as exc:  # noqa: BLE001 - report it, keep the other series
            step("%s FAILED: %s" % (name, exc))
            results.setdefault("errors", []).append("%s: %s" % (name, exc))
            continue
        finally:
            server.stop()
        for r in records:
            if r["bench"] == "find_many":
                r["docs"] = (n // r["ops"]) * r["ops"]
        results["series"].append(name)
        results["series_info"][name] = {"description": description, "n": n, "rounds": rounds}
        results["records"].extend(records)
        results["versions"].update(infos)
        with open(os.path.join(out_dir, "results.json"), "w") as f:
            json.dump(results, f, indent=1)  # what we have so far

    if cfg["memory_n"] and cfg["plain"]:
        results["memory"] = measure_memory(binary, replies_dir, pythons, cfg, pin)

    results["meta"]["elapsed_s"] = round(time.monotonic() - started, 1)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    text = report(results)
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write(text)
    print()
    print(text)
    plot_path = None
    if want_plot and os.path.exists(_envs.venv_python(BENCH_VENV)):
        plot_path = os.path.join(out_dir, "plot.png")
        subprocess.check_call([_envs.venv_python(BENCH_VENV), os.path.join(HERE, "plot.py"),
                               os.path.join(out_dir, "results.json"), plot_path])
    if results.get("errors"):
        step("some series failed: %s" % "; ".join(results["errors"]))
        return 1
    if args.write_doc:
        write_doc(results, plot_path)
    step("done in %.0f s: %s" % (time.monotonic() - started, os.path.relpath(out_dir, ROOT)
                                 if out_dir.startswith(ROOT) else out_dir))
    return 0


def measure_memory(binary, replies_dir, pythons, cfg, pin):
    """Peak RSS of a fresh worker while N find_one are pending on one client."""
    n = cfg["memory_n"]
    core_client = CLIENT_CORE if pin else None
    server = CannedServer(binary, replies_dir, SERVER_CORE if pin else None)
    out = {"n": n, "competitors": {}}
    try:
        server.load("find_one", 1)
        for key in ("motor", "motor3", "pymongo_async"):
            if key not in pythons:
                continue
            worker = Worker(key, pythons[key], core_client, 0)
            try:
                worker.call("connect", uri=server.uri, max_pool=100)
                out["competitors"][key] = worker.call("memory", n=n)
            finally:
                worker.stop()
            m = out["competitors"][key]
            step("memory: %s: peak RSS %.1f MB with %d pending find_one"
                 % (key, m["peak_rss_kb"] / 1024, n))
    finally:
        server.stop()
    c = out["competitors"]
    if "motor" in c and "motor3" in c:
        x = c["motor"]["peak_rss_kb"] / c["motor3"]["peak_rss_kb"]
        out["ratio"] = "%s Motor's peak RSS is %.2fx Motor 3.7.1's (target <= 1.5x)" % (
            "PASS" if x <= 1.5 else "FAIL", x)
    return out


DOC_PATH = os.path.join(ROOT, "doc", "performance.rst")
DOC_PLOT = os.path.join(ROOT, "doc", "performance.png")


PYTHON_DOC = os.path.join(ROOT, "doc", "performance-python-versions.rst")
SINGLE_DOC_BENCHES = ("run_command", "find_one", "small_insert")


def write_python_versions_doc(result_dirs):
    """doc/performance-python-versions.rst: the single-document rows of one
    run per Python version (``--render-python-versions DIR [DIR ...]``)."""
    runs = []
    for directory in result_dirs:
        with open(os.path.join(directory, "results.json")) as f:
            runs.append(json.load(f))
    runs.sort(key=lambda r: [int(x) for x in r["versions"]["motor"]["python"].split(".")])
    lines = [
        "Performance by Python version",
        "=============================",
        "",
        "The single-document benchmarks of :doc:`performance` on each Python version Motor",
        "supports, every competitor on that version (Motor and both PyMongos in the test",
        "runner's ``.venv-pyX.Y``, Motor 3.7.1 in ``.venv-motor3-pyX.Y``), one harness run per",
        "version against the canned server, pinned. To run one yourself:",
        "",
        ".. code-block:: bash",
        "",
        "    python3 bench/run.py --python 3.12 --fast --unpinned-rounds 0 \\",
        "        --benchmarks run_command,find_one,small_insert --secantus-n 0 \\",
        "        --memory-n 0 --no-floor",
        "",
        "Runs on different versions were made one after the other, not interleaved: compare",
        "the ratios within a table (measured side by side) more than µs across tables.",
        "Ratios are of the best round; µs per operation, lower is faster. On the 2 shared",
        "cores these were taken on, five c=1 runs of one build (before idle polling) on one",
        "Python gave Motor / PyMongo sync from 1.06x to 1.19x for run command: read",
        "differences smaller than that between versions as noise.",
        "",
    ]
    names = {c: COMPETITOR_LABELS[c] for c in ("motor", "motor3", "pymongo_async",
                                                "pymongo_sync")}
    for run in runs:
        version = run["versions"]["motor"]["python"]
        title = "Python %s" % version
        lines += [title, "-" * len(title), "",
                  "%s; %s; ``%s``." % (run["meta"]["date"], run["meta"]["machine"],
                                       run["meta"]["command"]), ""]
        found = {(r["bench"], r["conc"], r["competitor"]): r for r in run["records"]
                 if r["series"] == "canned, pinned"}
        header = ["Benchmark", "c", *[names[c] + " µs" for c in names],
                  "Motor vs sync (µs)", "vs Motor 3.7.1 (ops/s)", "vs PyMongo Async (ops/s)"]
        rows = []
        for bench in SINGLE_DOC_BENCHES:
            for conc in sorted({c for (b, c, _) in found if b == bench}):
                best = {c: found[(bench, conc, c)]["us_best"] for c in names
                        if (bench, conc, c) in found}
                if "motor" not in best:
                    continue

                def ratio(other, inverse=False):
                    if other not in best:
                        return "-"
                    value = best["motor"] / best[other] if inverse else best[other] / best["motor"]
                    return "%.2fx" % value

                rows.append([LABELS[bench], str(conc),
                             *["%.0f" % best[c] if c in best else "-" for c in names],
                             ratio("pymongo_sync", inverse=True), ratio("motor3"),
                             ratio("pymongo_async")])
        lines += [rst_table([header, *rows]), ""]
    with open(PYTHON_DOC, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    step("wrote %s" % os.path.relpath(PYTHON_DOC, ROOT))


def write_doc(results, plot_path):
    meta = results["meta"]
    lines = [
        "Performance",
        "===========",
        "",
        "Motor against PyMongo (sync and ``AsyncMongoClient``) and Motor 3.7.1, on MongoDB's",
        "driver benchmarking specification (single- and multi-document benchmarks). The",
        "harness is ``bench/run.py`` (method: ``bench/common.py`` and ``bench/run.py``'s",
        "docstring). To run it yourself, on a machine with Python 3 and gcc:",
        "",
        ".. code-block:: bash",
        "",
        "    python3 bench/run.py --fast      # under 10 minutes on 2 cores",
        "    python3 bench/run.py             # the specification's sizes, more rounds",
        "",
        "Every competitor runs in a process of its own, against the same server in the same",
        "run, interleaved round robin. The canned server (``bench/canned_server.c``) answers",
        "from precomputed replies, so that the client is the bottleneck: its CPU share during",
        "each iteration is in the \"server CPU\" column. \"speed vs\" columns are operations per",
        "second relative to PyMongo sync and to Motor 3.7.1 (above 1 is faster).",
        "",
        "Latest run",
        "----------",
        "",
        "- Date: %s" % meta["date"],
        "- Machine: %s" % meta["machine"],
        "- Command: ``%s``" % meta["command"],
        "",
    ]
    if plot_path:
        shutil.copyfile(plot_path, DOC_PLOT)
        lines += [".. image:: performance.png", "   :alt: microseconds per operation, by "
                  "benchmark and competitor (log scale)", ""]
    for series in results["series"]:
        info = results["series_info"][series]
        title = "%s" % series
        lines += [title, "~" * len(title), "",
                  "%s; N=%d, %d rounds." % (info["description"], info["n"], info["rounds"]),
                  "", rst_table(table_rows(results["records"], series)), ""]
    effect = idle_poll_effect(results["records"])
    if effect:
        title = "Idle polling: Motor with it on and off"
        lines += [title, "~" * len(title), "",
                  "The same Motor started with ``MOTOR_IDLE_POLL_US=0`` (``--idle-poll-off``), "
                  "in the same rounds; \"CPU\" is the client's CPU time per operation, best "
                  "of rounds (see \"Idle polling\" below).", "", rst_table(effect), ""]
    for key, name, check in (("target_series", "Targets", targets),
                             ("tls_target_series", "TLS targets", tls_targets)):
        if not results.get(key):
            continue
        title = "%s (%s, best of rounds)" % (name, results[key])
        lines += [title, "~" * len(title), ""]
        for text, ok, note in check(results["records"], results[key]):
            lines.append("- %s: %s" % ("PASS" if ok else "FAIL", text.replace("*", "\\*")))
            if note:
                lines.append("")
                lines.append("  - %s" % note)
                lines.append("")
        lines.append("")
    if results.get("memory"):
        m = results["memory"]
        title = "Memory: %d pending find_one on one client" % m["n"]
        lines += [title, "~" * len(title), ""]
        for key, v in m["competitors"].items():
            lines.append("- %s: peak RSS %.1f MB (%.1f MB before)" % (
                COMPETITOR_LABELS.get(key, key), v["peak_rss_kb"] / 1024,
                v["rss_before_kb"] / 1024))
        if m.get("ratio"):
            lines.append("- %s" % m["ratio"])
        lines.append("")
    notes = os.path.join(HERE, "performance_notes.rst")
    if os.path.exists(notes):
        with open(notes) as f:
            lines += [f.read()]
    with open(DOC_PATH, "w") as f:
        f.write("\n".join(lines).rstrip() + "\n")
    step("wrote %s" % os.path.relpath(DOC_PATH, ROOT))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
