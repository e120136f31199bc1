"""Row 5 of the fault matrix: a soak, side by side with Motor 3.7.1.

``soak_scenario.py`` runs mixed operations at c=50, then client open/close
cycles with real work in each, and samples open file descriptors, RSS,
threads, greenlets and the server's connections at fixed intervals. This
test runs it for this Motor and, when ``.venv-motor3`` exists, for Motor
3.7.1, each in a fresh subprocess against the test server, one after the
other, and holds this Motor to the drift allowed below.

Every test run does a short soak (``SHORT``). The full one (100,000
operations, 500 cycles, sampled every 10,000 operations / 50 cycles) is::

    MOTOR_TEST_FULL_SOAK=1 python3 tools/run_tests.py test/faults/test_soak.py -s

Drift is the last sample minus the first one after warm-up (the first
interval fills the pool and the worker set, which then must stay flat).
"""

from __future__ import annotations

import json
import os

import pytest

from test.faults.support import MOTOR3_PYTHON, motor3_available, off_loop, ours_python, run_script
from test.motor_fixtures import test_uri

FULL = os.environ.get("MOTOR_TEST_FULL_SOAK") == "1"
SHORT = dict(ops=3000, every_ops=1000, cycles=40, every_cycles=10)
FULL_SIZE = dict(ops=100_000, every_ops=10_000, cycles=500, every_cycles=50)
SIZE = FULL_SIZE if FULL else SHORT

# Allowed drift after warm-up, for both phases. Closed clients' monitor
# threads stop (and their sockets close) a moment after close() returns, so
# a sample can catch one or two of them: that is the slack in threads, fds
# and server connections. A leak per operation or per cycle is far beyond it.
ALLOWED = {"fds": 4, "threads": 4, "greenlets": 4, "server_connections": 4, "rss_mb": 8.0}
FIELDS = list(ALLOWED)

pytestmark = [pytest.mark.timeout(3600 if FULL else 240)]


def soak(python: str, db: str) -> dict:
    args = [test_uri(), "--ops", str(SIZE["ops"]), "--sample-every-ops", str(SIZE["every_ops"]),
            "--cycles", str(SIZE["cycles"]), "--sample-every-cycles", str(SIZE["every_cycles"]),
            "--db", db]
    done = run_script(python, "soak_scenario.py", *args, timeout=3000 if FULL else 150)
    assert done.returncode == 0, f"the soak under {python} failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout)


def drift(samples: list[dict]) -> dict:
    warm, last = samples[1], samples[-1]
    return {field: round(last[field] - warm[field], 1) for field in FIELDS}


def describe(report: dict) -> str:
    ops, cycles = report["op_samples"], report["cycle_samples"]
    return (f"{report['driver']}: {report['ops']} ops at c={report['concurrency']} "
            f"({report['ops_per_s']}/s, {report['errors']} errors), {report['cycles']} cycles "
            f"({report['cycles_per_s']}/s)\n"
            f"    ops    warm {ops[1]}\n           last {ops[-1]}\n           drift {drift(ops)}\n"
            f"    cycles warm {cycles[1]}\n           last {cycles[-1]}\n"
            f"           drift {drift(cycles)}")


@pytest.mark.timeout_seconds(3600 if FULL else 240)
async def test_soak_stays_flat_side_by_side_with_motor3():
    ours = await off_loop(soak, ours_python(), "motor_soak_this")
    theirs = None
    if motor3_available():
        theirs = await off_loop(soak, MOTOR3_PYTHON, "motor_soak_motor3")
    print(f"\nrow 5 ({'full' if FULL else 'short'} soak):\n  {describe(ours)}")
    if theirs:
        print(f"  {describe(theirs)}")

    assert ours["errors"] == 0, f"{ours['errors']} operations failed during the soak"
    for phase in ("op_samples", "cycle_samples"):
        samples = ours[phase]
        assert len(samples) >= 3, samples
        for field, change in drift(samples).items():
            assert change <= ALLOWED[field], (
                f"{phase}: {field} grew by {change} after warm-up (allowed {ALLOWED[field]}):\n"
                f"{describe(ours)}")
