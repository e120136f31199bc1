"""Motor and ``os.fork()``: both sides of the fork.

An application that forks (a worker pool, ``multiprocessing`` with the fork
start method, a pre-forking server) must not notice Motor:

- a child that makes a new loop and a new client works;
- the parent keeps working after a child that only ``os._exit()``\\s, and
  after a ``ProcessPoolExecutor`` (fork start method) has run tasks: the
  child shares the parent's epoll instance, and must never unregister the
  parent's connections from it;
- a client made before the fork and used in the child behaves as PyMongo's
  does: PyMongo warns "MongoClient opened before fork", and the operation
  works on fresh connections, on the child's loop.

Each scenario runs in a fresh interpreter (this file, run as a script), so
that forking never happens in the test process (which has threads; Python
3.12+ warns about forking those) and a regression fails within a deadline
rather than hanging the run.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# A scenario's own deadlines are far shorter; this one catches a hang of
# the scenario process itself.
SCENARIO_TIMEOUT = 60

# Each wait inside a scenario (an operation, a child's exit).
STEP_TIMEOUT = 10

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork()")


def _run(scenario: str) -> str:
    from test.motor_fixtures import test_uri

    proc = subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", __file__, test_uri(), scenario],
        capture_output=True,
        text=True,
        timeout=SCENARIO_TIMEOUT,
    )
    assert proc.returncode == 0, f"scenario {scenario} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.mark.timeout(SCENARIO_TIMEOUT + 30)
def test_child_makes_a_new_loop_and_client_and_works():
    assert "child ok" in _run("child-new-client")


@pytest.mark.timeout(SCENARIO_TIMEOUT + 30)
def test_parent_keeps_working_after_a_child_that_only_exits():
    assert "parent ok" in _run("child-exits")


@pytest.mark.timeout(SCENARIO_TIMEOUT + 30)
def test_parent_keeps_working_after_a_child_forked_from_the_running_loop():
    assert "parent ok" in _run("child-exits-from-loop")


@pytest.mark.timeout(SCENARIO_TIMEOUT + 30)
def test_parent_keeps_working_after_a_fork_process_pool():
    assert "parent ok" in _run("process-pool")


@pytest.mark.timeout(SCENARIO_TIMEOUT + 30)
def test_client_used_across_fork_warns_as_pymongo_and_works():
    assert "child ok" in _run("inherited-client")


# -- the scenarios (run as a script) ---------------------------------------------------


def _square(x: int) -> int:
    return x * x


def _scenarios(uri: str, scenario: str) -> None:
    import asyncio
    import concurrent.futures
    import multiprocessing
    import time
    import warnings

    from motor.motor_asyncio import AsyncIOMotorClient

    async def twenty_finds(client) -> None:
        coll = client.motor_test_fork.things
        await asyncio.wait_for(asyncio.gather(*[coll.find_one() for _ in range(20)]), STEP_TIMEOUT)

    def child_exit_code(pid: int) -> int | str:
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.02)
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        return "killed after a timeout"

    def in_child(body) -> None:
        # Never return into the parent's code from the child.
        try:
            body()
        except BaseException as exc:  # noqa: BLE001 - reported through the exit code
            print(f"child failed: {exc!r}", flush=True)
            os._exit(1)
        os._exit(0)

    def check_child(pid: int) -> None:
        code = child_exit_code(pid)
        if code != 0:
            raise SystemExit(f"child exit code: {code}")
        print("child ok", flush=True)

    def parent_still_works() -> None:
        started = time.monotonic()
        loop.run_until_complete(twenty_finds(client))
        print(f"parent ok in {time.monotonic() - started:.3f} s", flush=True)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    client = AsyncIOMotorClient(uri, io_loop=loop)
    # Pooled connections registered with the loop, and a helper thread used
    # (to open the client): both are what a child inherits.
    loop.run_until_complete(twenty_finds(client))

    if scenario == "child-new-client":

        def new_client_in_child() -> None:
            async def work() -> None:
                child_client = AsyncIOMotorClient(uri)
                await asyncio.wait_for(child_client.motor_test_fork.things.find_one(), STEP_TIMEOUT)
                child_client.close()

            asyncio.run(work())

        pid = os.fork()
        if pid == 0:
            in_child(new_client_in_child)
        check_child(pid)
        parent_still_works()

    elif scenario == "child-exits":
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        check_child(pid)
        parent_still_works()

    elif scenario == "child-exits-from-loop":

        async def fork_here() -> int:
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            return pid

        check_child(loop.run_until_complete(fork_here()))
        parent_still_works()

    elif scenario == "process-pool":

        async def use_pool() -> list:
            context = multiprocessing.get_context("fork")
            with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as pool:
                calls = [loop.run_in_executor(pool, _square, i) for i in range(6)]
                return await asyncio.wait_for(asyncio.gather(*calls), STEP_TIMEOUT)

        assert loop.run_until_complete(use_pool()) == [i * i for i in range(6)]
        parent_still_works()

    elif scenario == "inherited-client":

        def use_inherited_client() -> None:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")

                async def work() -> None:
                    # The parent's client, on the child's own loop.
                    await asyncio.wait_for(client.motor_test_fork.things.find_one(), STEP_TIMEOUT)

                asyncio.run(work())
            messages = [str(w.message) for w in caught]
            if not any("MongoClient opened before fork" in m for m in messages):
                raise AssertionError(f"no fork warning from PyMongo among {messages}")

        pid = os.fork()
        if pid == 0:
            in_child(use_inherited_client)
        check_child(pid)
        parent_still_works()

    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    client.close()
    loop.close()


if __name__ == "__main__":
    _scenarios(sys.argv[1], sys.argv[2])
