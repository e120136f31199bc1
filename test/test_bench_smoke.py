"""The benchmark harness works: bench/run.py --smoke (tiny N, one round, canned server).

Not a timed test: it only checks that every benchmark ran for every
competitor and that the outputs were written. The real runs are
``python3 bench/run.py --fast`` and ``python3 bench/run.py`` (doc/performance.rst).
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MOTOR3_PYTHON = os.path.join(ROOT, ".venv-motor3", "bin", "python")
DATA = os.path.join(os.path.dirname(ROOT), "shared", "bench-data",
                    "single_and_multi_document.tgz")


def _motor3_ready():
    if not os.path.exists(MOTOR3_PYTHON):
        return False
    return subprocess.run([MOTOR3_PYTHON, "-c", "import motor.motor_tornado"],
                          capture_output=True).returncode == 0


@pytest.mark.skipif(shutil.which("gcc") is None and shutil.which("cc") is None,
                    reason="no C compiler to build bench/canned_server.c")
@pytest.mark.skipif(not os.path.exists(DATA), reason="../shared/bench-data is not there")
def test_harness_smoke_run(tmp_path):
    competitors = ["motor", "pymongo_async", "pymongo_sync"]
    if _motor3_ready():
        # Motor 3's Tornado flavour needs Tornado in .venv-motor3, which the
        # harness installs on its first (non --no-install) run.
        competitors.insert(1, "motor3")
    out = tmp_path / "out"
    # The Motor under test is this interpreter's (.venv, or .venv-pyX.Y).
    command = [sys.executable, os.path.join(ROOT, "bench", "run.py"), "--smoke", "--no-install",
               "--motor-python", sys.executable, "--no-plot", "--competitors",
               ",".join(competitors), "--idle-poll-off", "--out", str(out)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    with open(out / "results.json") as f:
        results = json.load(f)
    records = results["records"]
    benches = {r["bench"] for r in records}
    assert {"run_command", "find_one", "small_insert", "large_insert", "find_many",
            "small_bulk", "large_bulk", "gridfs_upload", "gridfs_download",
            "ping_floor"} <= benches
    for competitor in competitors:
        mine = [r for r in records if r["competitor"] == competitor]
        assert len(mine) == 9 * 2, competitor  # nine benchmarks at two concurrencies
        assert all(r["us_best"] > 0 and r["p99"] >= r["p50"] > 0 for r in mine)
    # --idle-poll-off: the same Motor with MOTOR_IDLE_POLL_US=0, side by side.
    sleeping = [r for r in records if r["competitor"] == "motor_no_idle_poll"]
    assert len(sleeping) == 9 * 2
    text = (out / "results.md").read_text()
    assert "| Run command | 1 | Motor (this repo) |" in text
    assert "| Run command | 1 | Motor, idle polling off |" in text
    assert "## Idle polling (Motor with it on vs off, same run)" in text
    assert "## Targets" in text
    assert "(target <= 1.05x)" in text
    if "motor3" in competitors:
        # Issue 11's GridFS targets: Motor's median against Motor 3.7.1's.
        for line in ("c=1 GridFS upload: Motor median ops/s",
                     "GridFS download: Motor median ops/s"):
            assert line in text, line
