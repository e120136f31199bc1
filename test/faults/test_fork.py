"""Row 8 of the fault matrix: fork.

* A child process that makes its own loop and its own client works.
* A client made in the parent and used in the child behaves as PyMongo
  documents for its own clients: a warning that the client was opened
  before the fork, then it works or fails with an error, never hangs.

Each child reports through a pipe and is killed (and the test fails) if it
has not finished within ``CHILD_BOUND`` seconds. The tests are plain
functions: the session loop is stopped while they fork.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import traceback
import warnings

import pytest

from motor.motor_asyncio import AsyncIOMotorClient
from test.motor_fixtures import off_loop, test_uri

CHILD_BOUND = 30.0

pytestmark = [pytest.mark.timeout(90)]


def in_child(work) -> dict:
    """Fork; run ``work()`` in the child; return what it reported (a dict).

    The child reports ``{"ok": ..., "error": ...}`` as JSON on a pipe and
    leaves with ``os._exit`` (no pytest teardown in the child).
    """
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        # Python warns that forking a process with threads may deadlock the
        # child: exactly what this row checks.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            report = {"ok": True, **work()}
        except BaseException as exc:
            report = {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                      "traceback": traceback.format_exc()[-3000:]}
        with os.fdopen(write_end, "w") as out:
            out.write(json.dumps(report, default=repr))
        os._exit(0)
    os.close(write_end)
    deadline = time.monotonic() + CHILD_BOUND
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_end)
            pytest.fail(f"the child process hung for {CHILD_BOUND:g} s")
        time.sleep(0.05)
    with os.fdopen(read_end) as reader:
        text = reader.read()
    assert text, f"the child died without a report (status {status})"
    return json.loads(text)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_child_with_its_own_loop_and_client_works(io_loop, db_name, host):
    # The parent has used Motor's helper threads (host names are resolved
    # there): the child must not wait on threads that were not forked.
    io_loop.run_sync(lambda: off_loop(lambda: None))
    uri = test_uri().replace("127.0.0.1", host)

    def work():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            client = AsyncIOMotorClient(uri, io_loop=loop, serverSelectionTimeoutMS=5000)
            coll = client[db_name].forked

            async def use():
                await coll.insert_one({"_id": os.getpid()})
                found = await coll.find_one({"_id": os.getpid()})
                client.close()
                return found

            found = loop.run_until_complete(asyncio.wait_for(use(), 20))
            return {"found": found, "pid": os.getpid()}
        finally:
            loop.close()

    report = in_child(work)
    assert report["ok"], report
    assert report["found"] == {"_id": report["pid"]}


def test_parent_client_used_in_child_warns_and_does_not_hang(io_loop, db_name):
    client = AsyncIOMotorClient(test_uri(), io_loop=io_loop.asyncio_loop,
                                serverSelectionTimeoutMS=5000)
    coll = client[db_name].forked
    io_loop.run_sync(lambda: coll.insert_one({"_id": "parent"}))
    try:
        def work():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                outcome = {}

                async def use():
                    try:
                        outcome["found"] = await asyncio.wait_for(
                            coll.find_one({"_id": "parent"}), 20)
                    except asyncio.TimeoutError:
                        outcome["error"] = "hang: no answer in 20 s"
                    except Exception as exc:
                        outcome["error"] = f"{type(exc).__name__}: {exc}"

                io_loop.asyncio_loop.run_until_complete(use())
            outcome["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]
            return outcome

        report = in_child(work)
        print(f"\nrow 8 (parent's client in the child): {report}")
        assert report["ok"], report
        assert "hang" not in report.get("error", ""), report
        assert any("fork" in w for w in report["warnings"]), (
            f"no warning that the client was opened before fork: {report}")
        if "error" not in report:
            assert report["found"] == {"_id": "parent"}, report
        # The parent's client is unaffected.
        assert io_loop.run_sync(lambda: coll.find_one({"_id": "parent"})) == {"_id": "parent"}
    finally:
        io_loop.run_sync(client.close)
