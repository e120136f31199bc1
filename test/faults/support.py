"""Shared tools for the fault matrix: own servers, failpoints, pool and process counts.

Everything here is test plumbing; nothing of Motor's is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import subprocess
import sys
import threading
from typing import Optional

import greenlet
import pytest
from pymongo.errors import ConnectionFailure

from test.motor_fixtures import off_loop
from test.servers import REPO_ROOT, SecantusServer, ServerStartError, secantusd_path

#: Motor 3.7.1's interpreter, when the comparison virtualenv exists.
MOTOR3_PYTHON = os.environ.get(
    "MOTOR_TEST_MOTOR3_PYTHON", os.path.join(REPO_ROOT, ".venv-motor3", "bin", "python")
)
#: A clear error for a lost server: PyMongo's ConnectionFailure family
#: (AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError).
CLEAR_NETWORK_ERRORS = (ConnectionFailure,)


def motor3_available() -> bool:
    return os.path.exists(MOTOR3_PYTHON)


def start_own_server(storage_path, **kwargs) -> SecantusServer:
    """A SecantusDB of the test's own (it is killed and restarted), or a skip/fail.

    Skips only when there is no SecantusDB launcher at all (the suite was
    pointed at another server by ``MOTOR_TEST_URI`` and has no way to start,
    kill or restart one).
    """
    if not os.path.exists(secantusd_path()):
        pytest.skip(f"no SecantusDB launcher at {secantusd_path()}: cannot kill and restart a server")
    server = SecantusServer(storage_path=storage_path, **kwargs)
    try:
        return server.start()
    except ServerStartError as exc:
        pytest.fail(f"could not start SecantusDB: {exc}")


async def kill_and_restart(server: SecantusServer, down_for: float) -> None:
    """kill -9 the server, keep it down ``down_for`` s, start it again (off the loop)."""
    await off_loop(server.restart, down_for, True)


@contextlib.asynccontextmanager
async def fail_point(admin_client, mode, **data):
    """``failCommand`` on while the block runs; always switched off after."""
    await admin_client.admin.command(
        {"configureFailPoint": "failCommand", "mode": mode, "data": data}
    )
    try:
        yield
    finally:
        await admin_client.admin.command({"configureFailPoint": "failCommand", "mode": "off"})


# -- the client's pools --------------------------------------------------------


def app_pools(client) -> list:
    """Application connection pools of a Motor client (any flavour)."""
    delegate = client.delegate
    return [server.pool for server in delegate._topology._servers.values()]


def pool_state(client) -> dict:
    """Connections idle in, checked out of, and reserved in the client's pools."""
    pools = app_pools(client)
    return {
        "idle": sum(len(p.conns) for p in pools),
        "in_use": sum(p.active_sockets for p in pools),
        "requests": sum(p.requests for p in pools),
    }


async def pool_settles(client, timeout: float = 5.0) -> dict:
    """Wait until nothing is checked out or reserved; return the pool state.

    Fails the test (no hang) when a connection stays stuck in use.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    state = pool_state(client)
    while state["in_use"] or state["requests"]:
        if loop.time() > deadline:
            pytest.fail(f"connections stuck in use {timeout:g} s after the last operation: {state}")
        await asyncio.sleep(0.02)
        state = pool_state(client)
    return state


# -- process resources ---------------------------------------------------------


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def live_greenlets() -> int:
    gc.collect()
    # type(), not isinstance(): a dead weakref proxy raises on isinstance().
    return sum(1 for o in gc.get_objects() if issubclass(type(o), greenlet.greenlet))


def resources() -> dict:
    return {
        "fds": open_fds(),
        "rss_mb": round(rss_bytes() / 2**20, 1),
        "threads": threading.active_count(),
        "greenlets": live_greenlets(),
    }


# -- running a scenario script under another interpreter -----------------------


def run_script(python: str, script: str, *args: str, timeout: float, env: Optional[dict] = None
               ) -> subprocess.CompletedProcess:
    """Run ``test/faults/<script>`` under ``python``; fail (not hang) past ``timeout``.

    Blocking: from the loop, call it through :func:`off_loop`.
    """
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), script)
    full_env = dict(os.environ, PYTHONPATH="", **(env or {}))
    full_env.pop("PYTHONHOME", None)
    try:
        return subprocess.run([python, path, *args], capture_output=True, text=True,
                              timeout=timeout, env=full_env, cwd="/tmp")
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{script} under {python} did not finish within {timeout:g} s:\n"
                    f"{exc.stdout}\n{exc.stderr}")


def ours_python() -> str:
    """This project's interpreter (Motor installed editable)."""
    return sys.executable


__all__ = [
    "CLEAR_NETWORK_ERRORS", "MOTOR3_PYTHON", "app_pools", "fail_point", "kill_and_restart",
    "motor3_available", "off_loop", "ours_python", "pool_settles", "pool_state", "resources",
    "run_script", "start_own_server",
]
