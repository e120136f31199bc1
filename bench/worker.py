"""One competitor, in a process of its own, driven by bench/run.py over a pipe.

    python worker.py COMPETITOR DATA_DIR

COMPETITOR is one of motor, motor_watchdog (Motor with motor.diagnostics'
loop watchdog enabled), motor_no_idle_poll (Motor started with
MOTOR_IDLE_POLL_US=0 by bench/run.py), motor3, pymongo_async, pymongo_sync, or floor
(raw-socket round trips). Commands arrive as JSON lines on stdin; each gets
one JSON line back on stdout (anything the drivers print goes to stderr).

Async competitors run on one Tornado IOLoop (asyncio underneath), each
command in ``io_loop.run_sync``; PyMongo sync runs in the calling thread at
concurrency 1 and in that many threads otherwise. Per iteration the worker
reports the wall time, each operation's latency and its own CPU time.
"""

import gc
import io
import json
import os
import resource
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import CORPUS, DB_NAME, LARGE_DOCS, ops_per_iteration, ping_message, shares  # noqa: E402

perf_counter = time.perf_counter


def load_json(data_dir, name):
    with open(os.path.join(data_dir, name + ".json")) as f:
        return json.load(f)


class Data:
    """The specification's data sets, loaded on first use."""

    def __init__(self, data_dir, gridfs_bytes):
        self._dir = data_dir
        self._gridfs_bytes = gridfs_bytes

    def __getattr__(self, name):
        if name == "gridfs":
            with open(os.path.join(self._dir, "gridfs_large.bin"), "rb") as f:
                value = f.read(self._gridfs_bytes)
        elif name in ("tweet", "small", "large"):
            value = load_json(self._dir, {"small": "small_doc", "large": "large_doc"}.get(name, name))
        else:
            raise AttributeError(name)
        setattr(self, name, value)
        return value


def process_cpu(pid):
    """CPU seconds (user + system) used so far by process ``pid`` (Linux)."""
    if not pid:
        return 0.0
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def current_rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


# -- the operations of each benchmark, the same text for every competitor ---------

class Plan:
    """What one iteration of a benchmark does: ``op(i)`` for i in range(ops)."""

    def __init__(self, driver, bench, conc, n, data, name):
        self.d = driver
        self.bench = bench
        self.conc = conc
        self.n = n
        self.data = data
        self.ops = ops_per_iteration(bench, conc, n)
        self.lanes = min(conc, self.ops)
        self.coll_name = "%s_%s" % (bench, name)
        self.bucket_name = "gfs_%s_%s" % (bench, name)
        self.docs = None
        self.ids = None
        # GridFS: every share the same size, as the canned replies assume.
        self.gridfs_share = len(data.gridfs) // self.ops if bench.startswith("gridfs") else 0

    def fresh_docs(self):
        d, n, ops = self.data, self.n, self.ops
        if self.bench == "small_insert":
            self.docs = [dict(d.small) for _ in range(n)]
        elif self.bench == "large_insert":
            self.docs = [dict(d.large) for _ in range(LARGE_DOCS)]
        elif self.bench == "small_bulk":
            per = n // ops
            self.docs = [[dict(d.small) for _ in range(per)] for _ in range(ops)]
        elif self.bench == "large_bulk":
            self.docs = [[dict(d.large) for _ in range(start, stop)]
                         for start, stop in shares(LARGE_DOCS, ops)]

    def gridfs_slice(self, i):
        k = self.gridfs_share
        return self.data.gridfs[i * k:(i + 1) * k]


def make_op(driver, plan):
    """The operation one benchmark times: a callable ``i -> result``.

    The same PyMongo-shaped calls for every competitor (an async driver's
    return awaitables); only emptying a cursor differs, so the driver makes
    that one (``driver.drain_op``).
    """
    db, bench = driver.db, plan.bench
    coll = db[plan.coll_name]
    if bench == "run_command":
        return lambda i: db.command("hello")
    if bench == "find_one":
        corpus, n = db[CORPUS], plan.n
        return lambda i: corpus.find_one({"_id": i % n + 1})
    if bench in ("small_insert", "large_insert"):
        docs = plan.docs
        return lambda i: coll.insert_one(docs[i])
    if bench in ("small_bulk", "large_bulk"):
        docs = plan.docs
        return lambda i: coll.insert_many(docs[i], ordered=True)
    if bench == "find_many":
        per, lanes = plan.n // plan.ops, plan.ops
        return driver.drain_op(db[CORPUS], None if lanes == 1 else per)
    bucket = driver.bucket_class(db, bucket_name=plan.bucket_name)
    if bench == "gridfs_upload":
        return lambda i: bucket.upload_from_stream("f%d" % i, plan.gridfs_slice(i))
    ids = plan.ids
    return lambda i: bucket.download_to_stream(ids[i], io.BytesIO())


class AsyncDriver:
    """Motor, Motor 3.7.1 or PyMongo Async on one Tornado IOLoop."""

    def __init__(self, name):
        self.name = name
        from tornado.ioloop import IOLoop

        self.io_loop = IOLoop()
        self.client = None
        self.stalls = []  # what the loop watchdog reported (motor_watchdog)
        self.watchdog = None
        if name == "motor_watchdog":
            from motor import diagnostics

            # As a user would leave it on in staging: the defaults, logging
            # to stderr (the harness shows it), and a callback we count.
            self.watchdog = diagnostics.enable_loop_watchdog(callback=self.stalls.append)

    def watchdog_counters(self):
        """The watchdog's sampler thread's CPU seconds and its counters so far."""
        wd = self.watchdog
        if wd is None:
            return None
        try:
            with open("/proc/self/task/%d/schedstat" % wd._thread.native_id) as f:
                cpu = int(f.read().split()[0]) / 1e9
        except (OSError, AttributeError, ValueError):
            cpu = float("nan")
        return {"cpu": cpu, "wakeups": wd.wakeups, "samples": wd.samples, "stalls": wd.stalls,
                "reports": len(self.stalls)}

    def run(self, fn, *args):
        return self.io_loop.run_sync(lambda: fn(*args), timeout=None)

    async def _connect(self, uri, max_pool):
        if self.name in ("motor", "motor_watchdog", "motor_no_idle_poll"):
            from motor.motor_tornado import MotorClient, MotorGridFSBucket
        elif self.name == "motor3":
            from motor.motor_tornado import MotorClient, MotorGridFSBucket
        else:
            from gridfs import AsyncGridFSBucket as MotorGridFSBucket
            from pymongo import AsyncMongoClient as MotorClient
        self.bucket_class = MotorGridFSBucket
        self.client = MotorClient(uri, maxPoolSize=max_pool)
        self.db = self.client[DB_NAME]
        await self.db.command("ping")

    def connect(self, uri, max_pool):
        self.run(self._connect, uri, max_pool)

    def close(self):
        async def close():
            result = self.client.close()
            if result is not None and hasattr(result, "__await__"):
                await result
        self.run(close)

    @staticmethod
    def drain_op(corpus, limit):
        async def drain(i):
            cursor = corpus.find({}) if limit is None else corpus.find({}, limit=limit)
            async for _doc in cursor:
                pass
        return drain

    async def _before(self, plan, first):
        bench, db = plan.bench, self.db
        if bench in ("small_insert", "large_insert", "small_bulk", "large_bulk"):
            plan.fresh_docs()
            await db[plan.coll_name].drop()
        elif bench == "gridfs_upload":
            bucket = self.bucket_class(db, bucket_name=plan.bucket_name)
            await db[plan.bucket_name + ".files"].drop()
            await db[plan.bucket_name + ".chunks"].drop()
            await bucket.upload_from_stream("one-byte", b"\x00")
        elif bench == "gridfs_download" and first:
            bucket = self.bucket_class(db, bucket_name=plan.bucket_name)
            await db[plan.bucket_name + ".files"].drop()
            await db[plan.bucket_name + ".chunks"].drop()
            plan.ids = [await bucket.upload_from_stream("f%d" % i, plan.gridfs_slice(i))
                        for i in range(plan.ops)]

    def before(self, plan, first=False):
        self.run(self._before, plan, first)

    async def _timed(self, op, ops, lanes):
        latencies = [0.0] * ops
        it = iter(range(ops))

        async def lane():
            for i in it:
                t = perf_counter()
                await op(i)
                latencies[i] = perf_counter() - t

        import asyncio

        start = perf_counter()
        if lanes == 1:
            await lane()
        else:
            await asyncio.gather(*[lane() for _ in range(lanes)])
        return perf_counter() - start, latencies

    def timed(self, plan):
        return self.run(self._timed, make_op(self, plan), plan.ops, plan.lanes)

    def memory(self, n):
        """Peak RSS while ``n`` find_one calls are pending on this one client."""
        async def burst():
            corpus = self.db[CORPUS]
            for _ in range(3):
                await corpus.find_one({"_id": 1})
            gc.collect()
            before = current_rss_kb()
            start = perf_counter()
            pending = [corpus.find_one({"_id": i % 1000 + 1}) for i in range(n)]
            launched = perf_counter() - start
            import asyncio

            results = await asyncio.gather(*pending)
            elapsed = perf_counter() - start
            assert len(results) == n and results[0] is not None
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            return {"rss_before_kb": before, "peak_rss_kb": peak,
                    "launch_s": launched, "elapsed_s": elapsed}
        return self.run(burst)

    def seed(self, n, tweet):
        async def seed():
            corpus = self.db[CORPUS]
            await corpus.drop()
            docs = [{"_id": i + 1, **tweet} for i in range(n)]
            for start in range(0, n, 1000):
                await corpus.insert_many(docs[start:start + 1000])
        self.run(seed)


class SyncDriver:
    """PyMongo's MongoClient: one thread, or ``concurrency`` threads."""

    name = "pymongo_sync"

    def connect(self, uri, max_pool):
        import gridfs
        from pymongo import MongoClient

        self.bucket_class = gridfs.GridFSBucket
        self.client = MongoClient(uri, maxPoolSize=max_pool)
        self.db = self.client[DB_NAME]
        self.db.command("ping")

    def close(self):
        self.client.close()

    @staticmethod
    def drain_op(corpus, limit):
        def drain(i):
            cursor = corpus.find({}) if limit is None else corpus.find({}, limit=limit)
            for _doc in cursor:
                pass
        return drain

    def before(self, plan, first=False):
        bench, db = plan.bench, self.db
        if bench in ("small_insert", "large_insert", "small_bulk", "large_bulk"):
            plan.fresh_docs()
            db[plan.coll_name].drop()
        elif bench == "gridfs_upload":
            bucket = self.bucket_class(db, bucket_name=plan.bucket_name)
            db[plan.bucket_name + ".files"].drop()
            db[plan.bucket_name + ".chunks"].drop()
            bucket.upload_from_stream("one-byte", b"\x00")
        elif bench == "gridfs_download" and first:
            bucket = self.bucket_class(db, bucket_name=plan.bucket_name)
            db[plan.bucket_name + ".files"].drop()
            db[plan.bucket_name + ".chunks"].drop()
            plan.ids = [bucket.upload_from_stream("f%d" % i, plan.gridfs_slice(i))
                        for i in range(plan.ops)]

    def timed(self, plan):
        op, ops, lanes = make_op(self, plan), plan.ops, plan.lanes
        latencies = [0.0] * ops
        it = iter(range(ops))

        def lane():
            for i in it:
                t = perf_counter()
                op(i)
                latencies[i] = perf_counter() - t

        if lanes == 1:
            start = perf_counter()
            lane()
            return perf_counter() - start, latencies
        go = threading.Event()

        def thread_main():
            go.wait()
            lane()

        threads = [threading.Thread(target=thread_main) for _ in range(lanes)]
        for t in threads:
            t.start()
        start = perf_counter()
        go.set()
        for t in threads:
            t.join()
        return perf_counter() - start, latencies

    def seed(self, n, tweet):
        corpus = self.db[CORPUS]
        corpus.drop()
        docs = [{"_id": i + 1, **tweet} for i in range(n)]
        for start in range(0, n, 1000):
            corpus.insert_many(docs[start:start + 1000])


# -- floors: round trips with no driver at all ---------------------------------------

def raw_socket_ping(host, port, n):
    """Blocking socket: send an OP_MSG ping, read the whole reply; n times."""
    import socket

    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    message = ping_message()
    header = bytearray(16)
    latencies = []
    try:
        start = perf_counter()
        for _ in range(n):
            t = perf_counter()
            sock.sendall(message)
            view, got = memoryview(header), 0
            while got < 16:
                got += sock.recv_into(view[got:])
            length = int.from_bytes(header[:4], "little")
            remaining = length - 16
            while remaining:
                remaining -= len(sock.recv(remaining))
            latencies.append(perf_counter() - t)
        return perf_counter() - start, latencies
    finally:
        sock.close()


def iostream_ping(host, port, n):
    """Tornado IOStream: the same round trip, on the loop."""
    import socket

    from tornado.ioloop import IOLoop
    from tornado.iostream import IOStream

    message = ping_message()

    async def main():
        sock = socket.socket()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        stream = IOStream(sock)
        await stream.connect((host, port))
        latencies = []
        start = perf_counter()
        for _ in range(n):
            t = perf_counter()
            await stream.write(message)
            header = await stream.read_bytes(16)
            await stream.read_bytes(int.from_bytes(header[:4], "little") - 16)
            latencies.append(perf_counter() - t)
        elapsed = perf_counter() - start
        stream.close()
        return elapsed, latencies

    return IOLoop().run_sync(main)


def motor_bridge_ping(host, port, n):
    """The same round trip through Motor's bridge, without PyMongo: each ping
    is a call run in a Motor worker (``LoopRuntime.start``) that writes and
    reads through a direct ``IOStreamSocket``, awaited by a coroutine."""
    import asyncio
    import socket

    from tornado.ioloop import IOLoop

    from motor.network.iostream_socket import IOStreamSocket, _MotorIOStream
    from motor.runtime.greenlets import LoopRuntime

    message = ping_message()

    async def main():
        runtime = LoopRuntime.for_loop(asyncio.get_running_loop())
        sock = socket.socket()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        stream = _MotorIOStream(sock)
        await stream.connect((host, port))
        bridge = IOStreamSocket(stream, None, runtime.loop, runtime)
        header = bytearray(16)

        def ping():
            bridge.sendall(message)
            view, got = memoryview(header), 0
            while got < 16:
                got += bridge.recv_into(view[got:])
            body = memoryview(bytearray(int.from_bytes(header[:4], "little") - 16))
            got = 0
            while got < len(body):
                got += bridge.recv_into(body[got:])

        latencies = []
        start = perf_counter()
        for _ in range(n):
            t = perf_counter()
            await runtime.start(ping)
            latencies.append(perf_counter() - t)
        elapsed = perf_counter() - start
        stream.close()
        return elapsed, latencies

    return IOLoop().run_sync(main)


# -- the command loop ------------------------------------------------------------------

def versions(name):
    out = {"python": sys.version.split()[0], "executable": sys.executable}
    for module in ("pymongo", "motor", "tornado", "greenlet"):
        try:
            mod = __import__(module)
            out[module] = getattr(mod, "version", None) or getattr(mod, "__version__", "?")
            if module == "motor" and hasattr(mod, "__file__"):
                out["motor_path"] = os.path.dirname(mod.__file__)
        except ImportError:
            pass
    if isinstance(out.get("motor"), tuple):
        out["motor"] = ".".join(map(str, out["motor"]))
    return out


def main():
    name, data_dir, gridfs_bytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    proto = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # stray prints go to stderr, never into the protocol
    data = Data(data_dir, gridfs_bytes)
    driver = None
    plan = None
    if name == "pymongo_sync":
        driver = SyncDriver()
    elif name != "floor":
        driver = AsyncDriver(name)
    for line in sys.stdin:
        msg = json.loads(line)
        cmd = msg["cmd"]
        try:
            if cmd == "hello":
                reply = versions(name)
            elif cmd == "connect":
                driver.connect(msg["uri"], msg.get("max_pool", 100))
                reply = {}
            elif cmd == "seed":
                driver.seed(msg["n"], data.tweet)
                reply = {}
            elif cmd == "setup":
                plan = Plan(driver, msg["bench"], msg["conc"], msg["n"], data, name)
                driver.before(plan, first=True)
                if msg.get("warmup", True):
                    # Warm up: caches, and connection pools grown to the
                    # concurrency (pools add at most 2 connections at a time).
                    for i in range(1 if plan.lanes == 1 else 3):
                        if i:
                            driver.before(plan)  # fresh documents, empty collection
                        driver.timed(plan)
                reply = {}
            elif cmd == "iteration":
                driver.before(plan)
                gc.collect()
                server_pid = msg.get("server_pid")
                server_cpu = process_cpu(server_pid)
                watchdog = getattr(driver, "watchdog_counters", lambda: None)()
                cpu = time.process_time()
                elapsed, latencies = driver.timed(plan)
                cpu = time.process_time() - cpu
                if watchdog is not None:  # what the watchdog did during the iteration
                    after = driver.watchdog_counters()
                    watchdog = {k: after[k] - watchdog[k] for k in after}
                server_cpu = process_cpu(server_pid) - server_cpu
                reply = {"elapsed": elapsed, "cpu": cpu, "server_cpu": server_cpu,
                         "latencies": [round(x * 1e6, 1) for x in latencies]}
                if watchdog is not None:
                    reply["watchdog"] = watchdog
            elif cmd == "memory":
                reply = driver.memory(msg["n"])
            elif cmd == "floor":
                fn = {"socket": raw_socket_ping, "iostream": iostream_ping,
                      "motor_bridge": motor_bridge_ping}[msg["kind"]]
                elapsed, latencies = fn(msg["host"], msg["port"], msg["n"])
                reply = {"elapsed": elapsed, "cpu": 0,
                         "latencies": [round(x * 1e6, 1) for x in latencies]}
            elif cmd == "encode_floor":
                # What inserting a large document costs before any I/O: BSON.
                import bson
                from bson import ObjectId

                docs = [dict(data.large, _id=ObjectId()) for _ in range(msg["n"])]
                latencies = []
                start = perf_counter()
                for doc in docs:
                    t = perf_counter()
                    bson.encode(doc)
                    latencies.append(perf_counter() - t)
                reply = {"elapsed": perf_counter() - start, "cpu": 0,
                         "latencies": [round(x * 1e6, 1) for x in latencies]}
            elif cmd == "rss":
                reply = {"maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
            elif cmd == "quit":
                if driver is not None and getattr(driver, "client", None) is not None:
                    driver.close()
                reply = {}
            else:
                reply = {"error": "unknown command %r" % cmd}
        except Exception as exc:  # reported to the harness, which stops
            import traceback

            reply = {"error": "%s: %s" % (type(exc).__name__, exc),
                     "traceback": traceback.format_exc()}
        proto.write(json.dumps(reply) + "\n")
        proto.flush()
        if cmd == "quit":
            break


if __name__ == "__main__":
    main()
