"""motor.diagnostics: the loop watchdog, as users get it.

- doc/diagnostics.rst's Tornado example, run as it is printed on a real port
  with real requests, is caught blocking, and the reports name its lines;
- an asyncio application is caught the same way, with its line;
- several loops in several threads: only the one that blocks is reported;
- off by default (nothing imported or installed), ``MOTOR_LOOP_WATCHDOG=1``
  turns it on, and ``disable_loop_watchdog()`` removes all it installed
  (those run in fresh interpreters, to see a clean process);
- bad settings are refused with errors naming them.
"""

from __future__ import annotations

import asyncio
import http.server
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from tornado.ioloop import IOLoop

from motor import diagnostics

from .loop_watchdog import SLEEP

ROOT = Path(__file__).resolve().parent.parent
BLOCK = 0.2  # seconds each example blocks its loop


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTOR_LOOP_WATCHDOG")}
    env.update(PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def _line_of(path: Path, text: str) -> int:
    lines = enumerate(path.read_text().splitlines(), 1)
    (number,) = [n for n, line in lines if line.strip().startswith(text)]
    return number


class _SlowUpstream:
    """An HTTP server in a thread that answers after ``BLOCK`` seconds."""

    def __init__(self) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                time.sleep(BLOCK)
                body = b'{"price": 42}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/prices"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _doc_example() -> str:
    """The Tornado example of doc/diagnostics.rst, as printed."""
    text = (ROOT / "doc" / "diagnostics.rst").read_text()
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text)
    (example,) = [b for b in blocks if "class SleepHandler" in b]
    return textwrap.dedent(example)


def _get(url: str, deadline: float) -> bytes:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.read()
        except (ConnectionError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_doc_tornado_example_reports_the_handlers_lines(tmp_path):
    upstream = _SlowUpstream()
    port = _free_port()
    source = _doc_example()
    # Only the addresses change: the example's lines stay where they are.
    for old, new in (
        ('"http://127.0.0.1:8000/prices"', repr(upstream.url)),
        ("asyncio.run(main())", f"asyncio.run(main({port}))"),
    ):
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    app = tmp_path / "app.py"
    app.write_text(source)
    proc = subprocess.Popen(
        [sys.executable, str(app)],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        assert _get(f"http://127.0.0.1:{port}/sleep", deadline) == b"slept\n"
        assert _get(f"http://127.0.0.1:{port}/prices", deadline) == b'{"price": 42}'
        time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, err = proc.communicate()
        upstream.close()
    reports = [line for line in err.splitlines() if line.startswith("WARNING motor.diagnostics:")]
    sleep_line = _line_of(app, "time.sleep(0.2)")
    fetch_line = _line_of(app, "with urllib.request.urlopen(UPSTREAM)")
    assert len(reports) == 2, err
    assert f"(sleep) at {app}:{sleep_line} in SleepHandler.get: time.sleep()" in reports[0], err
    assert f"(socket) at {app}:{fetch_line} in PricesHandler.get" in reports[1], err
    # The stack shows the handler's line and, below it, where urllib waited.
    assert f'File "{app}", line {fetch_line}, in get' in err
    assert "urlopen(UPSTREAM)" in err


async def _asyncio_app(release: threading.Event, ready: list) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        time.sleep(BLOCK)  # the blocking call in "user code"
        writer.write(b"done\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    ready.append(server.sockets[0].getsockname()[1])
    async with server:
        while not release.is_set():
            await asyncio.sleep(0.01)


def _serve_in_thread(name: str):
    release, ready = threading.Event(), list[int]()
    thread = threading.Thread(
        target=lambda: asyncio.run(_asyncio_app(release, ready)), name=name, daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not ready and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ready, "the asyncio app did not start"
    return thread, release, ready[0]


def _run_in_thread(main, name: str = "app-loop") -> None:
    """``asyncio.run(main())`` in a thread of its own (in this one, it would
    unset the test session's current event loop when it ends)."""
    errors: list = []

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # re-raised in the test
            errors.append(exc)

    thread = threading.Thread(target=run, name=name)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the app's loop did not finish"
    if errors:
        raise errors[0]


def _request(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"hello\n")
        return sock.makefile("rb").readline()


def test_asyncio_app_blocking_call_is_reported_with_its_line():
    stalls: list = []
    with diagnostics.loop_watchdog(callback=stalls.append, log=False):
        thread, release, port = _serve_in_thread("asyncio-app")
        try:
            assert _request(port) == b"done\n"
            time.sleep(0.1)
        finally:
            release.set()
            thread.join(10)
    (stall,) = stalls
    assert stall.blocking and stall.category == SLEEP
    assert stall.filename == __file__
    assert stall.lineno == _line_of(Path(__file__), "time.sleep(BLOCK)  # the blocking call")
    assert stall.function == "_asyncio_app.<locals>.handle"
    assert stall.thread_name == "asyncio-app"
    assert "time.sleep(BLOCK)" in stall.format()


def test_several_loops_in_several_threads_only_the_blocked_one_is_reported():
    stalls: list = []
    with diagnostics.loop_watchdog(callback=stalls.append, log=False) as watchdog:
        busy_thread, busy_release, busy_port = _serve_in_thread("blocks")
        calm_thread, calm_release, _calm_port = _serve_in_thread("stays-responsive")
        try:
            assert _request(busy_port) == b"done\n"  # blocks one loop for 0.2 s
            time.sleep(BLOCK)  # this thread runs no loop: never reported
            assert len(watchdog.watched_loops()) == 2
        finally:
            busy_release.set()
            calm_release.set()
            busy_thread.join(10)
            calm_thread.join(10)
    assert [(s.kind, s.thread_name) for s in stalls] == [("blocking-call", "blocks")]


def test_tornado_ioloop_in_a_thread_is_watched():
    stalls: list = []

    def run() -> None:
        async def main() -> None:
            await asyncio.sleep(0.02)
            time.sleep(BLOCK)
            await asyncio.sleep(0.05)

        io_loop = IOLoop(make_current=False)
        try:
            io_loop.run_sync(main)
        finally:
            io_loop.close()

    with diagnostics.loop_watchdog(callback=stalls.append, log=False):
        thread = threading.Thread(target=run, name="tornado-loop")
        thread.start()
        thread.join(10)
    assert [(s.category, s.thread_name, s.function) for s in stalls] == [
        (SLEEP, "tornado-loop", "test_tornado_ioloop_in_a_thread_is_watched.<locals>.run"
         ".<locals>.main")
    ]


def test_enabled_inside_a_running_loop_watches_it_at_once():
    stalls: list = []

    async def main() -> None:
        diagnostics.enable_loop_watchdog(callback=stalls.append, log=False)
        try:
            await asyncio.sleep(0.02)
            time.sleep(BLOCK)
            await asyncio.sleep(0.05)
        finally:
            diagnostics.disable_loop_watchdog()  # on the loop thread: returns at once

    _run_in_thread(main)
    assert diagnostics.current_loop_watchdog() is None
    assert [(s.category, s.function) for s in stalls if s.blocking] == [
        (SLEEP, "test_enabled_inside_a_running_loop_watches_it_at_once.<locals>.main")
    ]


def test_cpu_work_is_a_slow_callback_and_can_be_left_out():
    def burn() -> None:
        deadline = time.perf_counter() + BLOCK
        while time.perf_counter() < deadline:
            pass

    async def main() -> None:
        await asyncio.sleep(0.02)
        burn()
        await asyncio.sleep(0.05)

    stalls: list = []
    with diagnostics.loop_watchdog(callback=stalls.append, log=False):
        _run_in_thread(main)
    (stall,) = stalls
    assert stall.kind == diagnostics.SLOW_CALLBACK and not stall.blocking
    assert stall.gap_ms > BLOCK * 1000 * 0.9
    assert stall.function.endswith("burn")
    quiet: list = []
    with diagnostics.loop_watchdog(callback=quiet.append, log=False, slow_callbacks=False):
        _run_in_thread(main)
    assert quiet == []


def test_reports_go_to_the_motor_diagnostics_logger(caplog):
    async def main() -> None:
        await asyncio.sleep(0.02)
        time.sleep(BLOCK)
        await asyncio.sleep(0.05)

    with caplog.at_level("WARNING", logger="motor.diagnostics"):
        with diagnostics.loop_watchdog():
            _run_in_thread(main)
    (record,) = [r for r in caplog.records if r.name == "motor.diagnostics"]
    assert record.levelname == "WARNING"
    assert record.loop_stall.category == SLEEP
    assert f"{__file__}:{record.loop_stall.lineno}" in record.getMessage()


def test_a_failing_callback_is_logged_and_the_watchdog_goes_on(caplog):
    calls: list = []

    def broken(stall) -> None:
        calls.append(stall)
        raise RuntimeError("callback bug")

    async def main() -> None:
        for _ in range(2):
            await asyncio.sleep(0.02)
            time.sleep(BLOCK)
        await asyncio.sleep(0.05)

    with caplog.at_level("WARNING", logger="motor.diagnostics"):
        with diagnostics.loop_watchdog(callback=broken, log=False):
            _run_in_thread(main)
    assert len(calls) == 2
    failures = [r for r in caplog.records if "callback failed" in r.getMessage()]
    assert len(failures) == 2 and "callback bug" in failures[0].exc_text


def test_bad_settings_are_refused_by_name():
    with pytest.raises(ValueError, match="stall_threshold must be a positive number"):
        diagnostics.enable_loop_watchdog(stall_threshold=0)
    with pytest.raises(TypeError, match="stall_threshold must be a number of seconds"):
        diagnostics.enable_loop_watchdog(stall_threshold="50ms")
    with pytest.raises(TypeError, match="callback must be callable"):
        diagnostics.enable_loop_watchdog(callback="print")
    with pytest.raises(TypeError, match="pass its asyncio_loop"):
        diagnostics.enable_loop_watchdog(loops=[IOLoop.current()])
    assert diagnostics.current_loop_watchdog() is None
    for value, message in (
        ({"MOTOR_LOOP_WATCHDOG": "maybe"}, "MOTOR_LOOP_WATCHDOG='maybe': use 1"),
        (
            {"MOTOR_LOOP_WATCHDOG": "1", "MOTOR_LOOP_WATCHDOG_THRESHOLD_MS": "-5"},
            "MOTOR_LOOP_WATCHDOG_THRESHOLD_MS='-5'",
        ),
    ):
        with pytest.raises(ValueError, match=re.escape(message)):
            diagnostics.enable_from_environment(value)
    assert diagnostics.enable_from_environment({"MOTOR_LOOP_WATCHDOG": "0"}) is None


# --- in fresh interpreters: what is installed, and when ---------------------------------

_OFF_BY_DEFAULT = '''
import asyncio, sys, threading
original = asyncio.BaseEventLoop.__dict__["run_forever"]

def heartbeats(loop):
    return [h for h in loop._scheduled
            if not h.cancelled() and "motor.diagnostics" in type(getattr(h._callback, "__self__", None)).__module__]

import motor, motor.motor_asyncio, motor.motor_tornado
assert "motor.diagnostics" not in sys.modules, "imported without being asked for"
from motor import diagnostics
loop = asyncio.new_event_loop()
loop.run_until_complete(asyncio.sleep(0.05))
assert asyncio.BaseEventLoop.__dict__["run_forever"] is original
assert [t.name for t in threading.enumerate()] == ["MainThread"]
assert heartbeats(loop) == []

diagnostics.enable_loop_watchdog()
assert asyncio.BaseEventLoop.__dict__["run_forever"] is not original
assert "motor-loop-watchdog" in [t.name for t in threading.enumerate()]
loop.run_until_complete(asyncio.sleep(0.05))
assert len(heartbeats(loop)) == 1

diagnostics.disable_loop_watchdog()
assert asyncio.BaseEventLoop.__dict__["run_forever"] is original
assert [t.name for t in threading.enumerate()] == ["MainThread"]
assert heartbeats(loop) == []
loop.run_until_complete(asyncio.sleep(0.05))
assert heartbeats(loop) == []
loop.close()
print("clean")
'''


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_off_by_default_and_disable_removes_everything_it_installed():
    result = _python(_OFF_BY_DEFAULT)
    assert result.returncode == 0 and result.stdout == "clean\n", result.stderr


_BLOCKS = '''
import asyncio, time
import motor

async def main():
    await asyncio.sleep(0.02)
    time.sleep(0.2)  # line 7
    await asyncio.sleep(0.05)

asyncio.run(main())
'''


def test_environment_variable_turns_it_on_when_motor_is_imported():
    quiet = _python(_BLOCKS)
    assert quiet.returncode == 0 and "event loop" not in quiet.stderr, quiet.stderr
    loud = _python(_BLOCKS, MOTOR_LOOP_WATCHDOG="1", MOTOR_LOOP_WATCHDOG_THRESHOLD_MS="30")
    assert loud.returncode == 0, loud.stderr
    assert "event loop blocked by a blocking call (sleep) at <string>:7 in main" in loud.stderr
    refused = _python(_BLOCKS, MOTOR_LOOP_WATCHDOG="sometimes")
    assert refused.returncode == 1
    assert "ValueError: MOTOR_LOOP_WATCHDOG='sometimes'" in refused.stderr
