"""Idle polling: while a reply is due, the loop polls before it sleeps
(motor/runtime/idle_poll.py; what it gains and costs: bench/run.py --idle-poll-off)."""

from __future__ import annotations

import asyncio
import os
import selectors
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from motor.runtime.greenlets import LoopRuntime
from motor.runtime.idle_poll import MIN_WINDOW, PollingSelector

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class RecordingSelector(selectors.DefaultSelector):  # type: ignore[misc, valid-type]
    """A real selector that records the timeout of every select."""

    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list = []

    def select(self, timeout=None):
        self.timeouts.append(timeout)
        return super().select(timeout)


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def polling(pair, max_window=100e-6):
    inner = RecordingSelector()
    inner.register(pair[0], selectors.EVENT_READ)
    return inner, PollingSelector(inner, max_window)


def test_with_no_reply_due_the_loop_sleeps_as_asyncio_asked(pair):
    inner, poller = polling(pair)
    poller.window = 50e-6
    assert poller.select(0.01) == []
    assert inner.timeouts == [0.01]


def test_a_zero_timeout_is_never_turned_into_polling(pair):
    inner, poller = polling(pair)
    poller.replies_due, poller.window = 1, 50e-6
    poller.select(0)
    assert inner.timeouts == [0]


def test_a_reply_due_is_taken_by_a_poll_without_sleeping(pair):
    inner, poller = polling(pair)
    poller.replies_due, poller.window = 1, 50e-6
    pair[1].send(b"reply")
    events = poller.select(None)
    assert [key.fileobj for key, _ in events] == [pair[0]]
    assert inner.timeouts == [0]  # no sleeping select: timeout None never reached it


def test_a_reply_that_came_soon_after_a_sleep_widens_the_window(pair):
    inner, poller = polling(pair)
    poller.replies_due = 1
    assert poller.window == 0
    pair[1].send(b"reply")
    assert poller.select(1.0)
    assert inner.timeouts == [1.0]  # window 0: straight to sleep
    assert MIN_WINDOW <= poller.window <= poller.max_window


def test_a_sleep_longer_than_the_largest_window_halves_it_down_to_zero(pair):
    inner, poller = polling(pair)
    poller.replies_due, poller.window = 1, 80e-6
    assert poller.select(0.005) == []  # nothing came: a slow server
    assert poller.window == pytest.approx(40e-6)
    assert inner.timeouts[0] == 0 and 0 < inner.timeouts[-1] <= 0.005
    poller.window = 1.5 * MIN_WINDOW
    poller.select(0.005)
    assert poller.window == 0  # below MIN_WINDOW: no polling at all


def test_polling_never_outlasts_the_timeout_asyncio_gave(pair):
    # A timer due within the window: the loop must run it on time.
    inner, poller = polling(pair, max_window=0.5)
    poller.replies_due, poller.window = 1, 0.5
    start = time.perf_counter()
    assert poller.select(0.01) == []
    assert time.perf_counter() - start < 0.2
    assert all(t == 0 for t in inner.timeouts[:-1])


def test_everything_but_select_goes_to_the_loops_selector(pair):
    inner, poller = polling(pair)
    key = poller.get_key(pair[0])
    assert key.fileobj is pair[0]
    poller.unregister(pair[0])
    assert pair[0] not in inner.get_map()


async def test_a_call_waiting_for_its_reply_makes_the_loop_poll(make_client):
    client = make_client()
    await client.admin.command("ping")  # connected: the next call waits for its reply only
    loop = asyncio.get_running_loop()
    poller = LoopRuntime.for_loop(loop).idle_poll
    assert isinstance(poller, PollingSelector) and loop._selector is poller
    future = client.admin.command("ping")
    assert poller.replies_due == 1
    assert (await future)["ok"] == 1
    assert poller.replies_due == 0


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, **env))


def test_motor_idle_poll_us_zero_leaves_the_loops_selector_alone():
    result = run_python("""
        import asyncio
        from motor.runtime.greenlets import LoopRuntime
        from motor.runtime.idle_poll import PollingSelector
        loop = asyncio.new_event_loop()
        LoopRuntime.for_loop(loop)
        print(type(loop._selector).__name__)
        loop.close()
    """, MOTOR_IDLE_POLL_US="0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() != "PollingSelector"


def test_a_bad_motor_idle_poll_us_names_the_variable():
    result = run_python("import motor", MOTOR_IDLE_POLL_US="fast")
    assert result.returncode != 0
    assert "MOTOR_IDLE_POLL_US must be a number of microseconds" in result.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")
def test_a_forked_child_has_no_reply_due_on_an_inherited_loop():
    result = run_python("""
        import asyncio, os
        from motor.runtime.greenlets import LoopRuntime
        loop = asyncio.new_event_loop()
        poller = LoopRuntime.for_loop(loop).idle_poll
        poller.replies_due, poller.window = 2, 50e-6
        pid = os.fork()
        if pid == 0:
            os._exit(0 if (poller.replies_due, poller.window) == (0, 0.0) else 1)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), poller.replies_due)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "2"]
