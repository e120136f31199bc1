#!/usr/bin/env python3
"""Measure how much resident memory Motor's GridFS needs for a large file.

    python tools/gridfs_memory.py --uri mongodb://127.0.0.1:27017/?directConnection=true \\
        --file /tmp/gridfs_large.bin [--limit-mb 20]

In this process, on one IOLoop: a MotorClient, and motor.web.GridFSHandler
serving on a free port of 127.0.0.1. After a warm-up with a small file, it
records the resident set size (the baseline), then

1. uploads the file with MotorGridFSBucket.upload_from_stream (read from disk
   chunk by chunk),
2. serves it with GridFSHandler: a whole-file GET and a GET of the last 20 MB,
   read by an HTTP client in a thread (64 KiB at a time, hashed, discarded),
3. downloads it with download_to_stream into a hashing sink,

checking every byte against the file's SHA-256. The peak resident set size of
each phase comes from the kernel's high-water mark (VmHWM, reset with
/proc/self/clear_refs before each phase) and from a thread sampling VmRSS
every 2 ms. It prints one JSON object, and exits 1 if the growth over the
baseline reaches --limit-mb. Linux only (it reads /proc/self).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import http.client
import json
import os
import socket
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import tornado.web  # noqa: E402
from tornado.httpserver import HTTPServer  # noqa: E402
from tornado.ioloop import IOLoop  # noqa: E402

import motor  # noqa: E402
import motor.web  # noqa: E402

MB = 1024 * 1024


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def rss_bytes() -> int:
    return _status_kb("VmRSS") * 1024


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS, if allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_bytes() -> int:
    return _status_kb("VmHWM") * 1024


class Sampler(threading.Thread):
    """Samples VmRSS every 2 ms and keeps the maximum."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.maximum = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.maximum = max(self.maximum, rss_bytes())
            self._stop_event.wait(0.002)

    def reset(self) -> None:
        self.maximum = rss_bytes()

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MB), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(port: int, path: str, headers: dict) -> tuple[int, int, str]:
    """GET in a thread, streaming: (status, bytes received, SHA-256 of the body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        digest = hashlib.sha256()
        received = 0
        while True:
            block = response.read(64 * 1024)
            if not block:
                break
            received += len(block)
            digest.update(block)
        return response.status, received, digest.hexdigest()
    finally:
        connection.close()


class HashingSink:
    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.size += len(data)
        self.digest.update(data)


def tail_sha256(path: str, count: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        f.seek(-count, os.SEEK_END)
        for block in iter(lambda: f.read(MB), b""):
            digest.update(block)
    return digest.hexdigest()


async def measure(uri: str, path: str) -> dict:
    loop = IOLoop.current().asyncio_loop  # type: ignore[attr-defined]
    size = os.path.getsize(path)
    expected = file_sha256(path)
    tail = min(20 * MB, size)
    expected_tail = tail_sha256(path, tail)

    client = motor.MotorClient(uri)
    db_name = f"motor_gridfs_memory_{uuid.uuid4().hex[:8]}"
    db = client[db_name]
    bucket = motor.MotorGridFSBucket(db)
    app = tornado.web.Application([(r"/fs/(.*)", motor.web.GridFSHandler, {"database": db})])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    port = sock.getsockname()[1]
    server = HTTPServer(app)
    server.add_sockets([sock])
    sampler = Sampler()
    sampler.start()
    phases: dict = {}
    try:
        # Warm-up: connections, handler, caches, code paths.
        warm = os.urandom(MB)
        warm_id = await bucket.upload_from_stream("warm-up", warm)
        status, received, _ = await loop.run_in_executor(None, fetch, port, "/fs/warm-up", {})
        assert status == 200 and received == len(warm)
        await bucket.download_to_stream(warm_id, HashingSink())
        await bucket.delete(warm_id)
        del warm
        gc.collect()

        baseline = rss_bytes()
        kernel_peak = True

        async def phase(name: str, work) -> None:
            nonlocal kernel_peak
            gc.collect()
            kernel_peak = reset_peak() and kernel_peak
            sampler.reset()
            started = time.monotonic()
            await work()
            elapsed = time.monotonic() - started
            peak = max(sampler.maximum, peak_bytes() if kernel_peak else 0)
            phases[name] = {
                "seconds": round(elapsed, 2),
                "peak_rss_mb": round(peak / MB, 1),
                "growth_mb": round((peak - baseline) / MB, 1),
            }

        async def upload() -> None:
            with open(path, "rb") as f:
                phases["file_id"] = await bucket.upload_from_stream(os.path.basename(path), f)

        async def serve() -> None:
            name = "/fs/" + os.path.basename(path)
            status, received, digest = await loop.run_in_executor(None, fetch, port, name, {})
            assert (status, received, digest) == (200, size, expected), (status, received)
            status, received, digest = await loop.run_in_executor(
                None, fetch, port, name, {"Range": f"bytes=-{tail}"}
            )
            assert (status, received, digest) == (206, tail, expected_tail), (status, received)

        async def download() -> None:
            sink = HashingSink()
            await bucket.download_to_stream(phases["file_id"], sink)
            assert (sink.size, sink.digest.hexdigest()) == (size, expected)

        await phase("upload", upload)
        await phase("serve", serve)
        await phase("download", download)
        phases.pop("file_id")
        return {
            "file_mb": round(size / MB, 1),
            "baseline_rss_mb": round(baseline / MB, 1),
            "phases": phases,
            "max_growth_mb": max(p["growth_mb"] for p in phases.values()),
            "peak_source": "VmHWM and 2 ms VmRSS samples" if kernel_peak else "2 ms VmRSS samples",
        }
    finally:
        sampler.stop()
        server.stop()
        await client.drop_database(db_name)
        await client.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uri", default=os.environ.get("MOTOR_TEST_URI", "mongodb://127.0.0.1:27017"))
    parser.add_argument("--file", required=True, help="the file to store and serve")
    parser.add_argument("--limit-mb", type=float, default=20.0)
    args = parser.parse_args(argv)
    result = IOLoop.current().run_sync(lambda: measure(args.uri, args.file), timeout=600)
    result["limit_mb"] = args.limit_mb
    result["ok"] = result["max_growth_mb"] < args.limit_mb
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
