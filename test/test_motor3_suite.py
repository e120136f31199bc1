"""Motor 3.7.1's own test suite passes here wherever it passes with Motor 3.7.1.

tools/motor3_suite.py downloads Motor 3.7.1's sdist from PyPI (once, cached
under ``.test-run/``), and runs its ``test/tornado_tests`` and
``test/asyncio_tests`` twice on the server this session tests against: in
.venv-motor3 with Motor 3.7.1, then in .venv with this project. The tests
here compare the two runs test by test. The only tests that may pass with
Motor 3.7.1 and fail here are those listed in
``test/motor3_suite_exceptions.txt`` (tests that pin Motor 3.7.1's
internals), and that list must stay true: a listed test that no longer
exists or now passes fails it too.

The two runs take a few minutes (each run's duration is in the failure
report and in ``.test-run/motor3-suite/summary.json``).
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import subprocess
import sys
import time
import types

import pytest
from bson import ObjectId

from . import motor3_suite_oracles as oracles
from .motor_fixtures import test_uri

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load_runner():
    path = os.path.join(REPO, "tools", "motor3_suite.py")
    spec = importlib.util.spec_from_file_location("motor3_suite", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runner = _load_runner()
MOTOR3_PYTHON = runner._envs.venv_python(runner._envs.MOTOR3_VENV)


@pytest.fixture(scope="module")
def comparison(request):
    try:
        result = runner.run_both(test_uri())
    except runner.SuiteError as exc:
        pytest.fail(str(exc), pytrace=False)
    # Both runs' counts and durations in the test command's output, pass or fail.
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.ensure_newline()
            for line in (result.theirs.summary(), result.ours.summary()):
                reporter.write_line("Motor 3.7.1's suite, run against %s" % line)
    return result


def _listing(title, findings):
    return "%s:\n%s" % (title, "\n".join("  %s: %s" % item for item in findings.items()))


# The fixture's two runs count against the first test that uses it.
SUITE_TIMEOUT = 2 * runner.RUN_TIMEOUT + 300


@pytest.mark.timeout(SUITE_TIMEOUT)
def test_motor3_run_is_a_complete_reference(comparison):
    problems = runner.reference_problems(comparison.theirs)
    if problems:
        pytest.fail("the run against Motor 3.7.1 is no reference:\n" + "\n".join(problems),
                    pytrace=False)


@pytest.mark.timeout(SUITE_TIMEOUT)
def test_every_test_motor3_passes_passes_here(comparison):
    if comparison.regressions:
        listing = _listing("%d tests pass with Motor 3.7.1 and fail here (not in %s)" % (
            len(comparison.regressions), os.path.basename(runner.EXCEPTIONS_FILE)),
            comparison.regressions)
        pytest.fail("%s\n%s\nlogs: %s\n%s" % (
            comparison.theirs.summary(), comparison.ours.summary(),
            os.path.dirname(comparison.ours.log_path), listing), pytrace=False)


@pytest.mark.timeout(SUITE_TIMEOUT)
def test_every_listed_exception_still_fails_here_and_passes_with_motor3(comparison):
    if comparison.stale_exceptions:
        pytest.fail(_listing(
            "lines of %s that are no longer true" % os.path.basename(runner.EXCEPTIONS_FILE),
            comparison.stale_exceptions), pytrace=False)


# The harness itself: no server needed.

def test_exceptions_file_lists_only_the_allowed_kinds_each_with_a_reason():
    for test, exception in runner.read_exceptions().items():
        assert test.startswith(runner.SUITE_PATHS), test
        assert exception.kind in runner.EXCEPTION_KINDS
        assert exception.failure
        assert len(exception.reason) > 20, "%s: say why" % test


def test_malformed_exception_lines_are_refused(tmp_path):
    bad = tmp_path / "exceptions.txt"
    bad.write_text("test/tornado_tests/test_x.py::T::test_a | flaky | Timeout | it fails sometimes\n")
    with pytest.raises(runner.SuiteError, match="kind 'flaky' is not one of"):
        runner.read_exceptions(str(bad))
    bad.write_text("test/tornado_tests/test_x.py::T::test_a | private-name | reads _x\n")
    with pytest.raises(runner.SuiteError, match="expected '<test id> | <kind> | <text of its"):
        runner.read_exceptions(str(bad))


def _run(label, outcomes, finished=True, collect_errors=None, died_in=None):
    return runner.RunResult(
        label, {test: (outcome, message) for test, (outcome, message) in outcomes.items()},
        collect_errors or {}, 1.0, 0 if finished else -9, finished, died_in)


def test_comparison_names_each_regression_and_each_untrue_exception():
    theirs = _run("Motor 3.7.1", {
        "t.py::A::test_same": ("passed", ""),
        "t.py::A::test_broken_here": ("passed", ""),
        "t.py::A::test_internal": ("passed", ""),
        "t.py::A::test_internal_broken_otherwise": ("passed", ""),
        "t.py::A::test_fixed_here": ("passed", ""),
        "t.py::A::test_fails_there_too": ("failed", "boom"),
        "u.py::B::test_in_broken_module": ("passed", ""),
    })
    ours = _run("this project", {
        "t.py::A::test_same": ("passed", ""),
        "t.py::A::test_broken_here": ("failed", "AssertionError: 1 != 2"),
        "t.py::A::test_internal": ("failed", "AttributeError: _buffer_size"),
        "t.py::A::test_internal_broken_otherwise": ("failed", "AssertionError: 3 != 4"),
        "t.py::A::test_fixed_here": ("passed", ""),
        "t.py::A::test_fails_there_too": ("failed", "boom"),
    }, collect_errors={"u.py": "ImportError: cannot import name 'x'"})
    listed = {
        test: runner.ListedException(test, "private-name", "_buffer_size", "reason", line)
        for line, test in enumerate(["t.py::A::test_internal", "t.py::A::test_fixed_here",
                                     "t.py::A::test_fails_there_too", "t.py::A::test_gone",
                                     "t.py::A::test_internal_broken_otherwise"], 1)
    }
    result = runner.compare(theirs, ours, listed)
    assert result.regressions == {
        "t.py::A::test_broken_here": "failed: AssertionError: 1 != 2",
        "t.py::A::test_internal_broken_otherwise": "failed: AssertionError: 3 != 4 (line 5 of "
                                                   "motor3_suite_exceptions.txt excuses only a "
                                                   "failure with '_buffer_size')",
        "u.py::B::test_in_broken_module":
            "not collected, its module failed to import: ImportError: cannot import name 'x'",
    }
    assert result.excepted == ["t.py::A::test_internal"]
    assert set(result.stale_exceptions) == {
        "t.py::A::test_fixed_here", "t.py::A::test_fails_there_too", "t.py::A::test_gone"}
    assert "passes with this project now" in result.stale_exceptions["t.py::A::test_fixed_here"]
    assert "does not pass it either" in result.stale_exceptions["t.py::A::test_fails_there_too"]
    assert "no such test" in result.stale_exceptions["t.py::A::test_gone"]


def test_a_test_process_that_died_is_reported_in_the_test_it_died_in():
    theirs = _run("Motor 3.7.1", {"t.py::A::test_1": ("passed", ""),
                                  "t.py::A::test_2": ("passed", ""),
                                  "t.py::A::test_3": ("passed", "")})
    ours = _run("this project", {"t.py::A::test_1": ("passed", "")},
                finished=False, died_in="t.py::A::test_2")
    result = runner.compare(theirs, ours, {})
    assert result.regressions == {
        "t.py::A::test_2": "the test process died in this test (exit -9)",
        "t.py::A::test_3": "not run: the test process ended early (exit -9, in t.py::A::test_2)",
    }
    assert runner.reference_problems(ours)[0].startswith("it ended early")


def test_server_env_takes_host_port_and_credentials_from_the_uri():
    assert runner.server_env("mongodb://127.0.0.1:27999/?directConnection=true") == {
        "DB_IP": "127.0.0.1", "DB_PORT": "27999"}
    assert runner.server_env("mongodb://ann:s%40cret@db1:1,db2:2/?replicaSet=rs") == {
        "DB_IP": "db1", "DB_PORT": "1", "DB_USER": "ann", "DB_PASSWORD": "s@cret"}


# The oracles test/motor3_suite_oracles.py supplies are Motor 3.7.1's own.

def test_oracles_give_what_motor3_gives(tmp_path):
    assert os.path.exists(MOTOR3_PYTHON), (
        ".venv-motor3 is missing: run python3 tools/run_tests.py without --no-install once")
    gridout = {"_id": str(ObjectId()), "length": 123457,
               "upload_date": "2026-12-04T14:39:02.123000"}
    script = (
        "import datetime, json, sys, types\n"
        "from bson import ObjectId\n"
        "from motor.motor_gridfs import _hash_gridout\n"
        "from motor.frameworks.asyncio import max_workers\n"
        "d = json.loads(sys.argv[1])\n"
        "g = types.SimpleNamespace(_id=ObjectId(d['_id']), length=d['length'],\n"
        "    upload_date=datetime.datetime.fromisoformat(d['upload_date']))\n"
        "print(json.dumps([_hash_gridout(g), max_workers]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    output = subprocess.check_output([MOTOR3_PYTHON, "-c", script, json.dumps(gridout)],
                                     cwd=str(tmp_path), env=env)
    motor3_etag, motor3_max_workers = json.loads(output)
    ours = types.SimpleNamespace(
        _id=ObjectId(gridout["_id"]), length=gridout["length"],
        upload_date=datetime.datetime.fromisoformat(gridout["upload_date"]))
    assert oracles.hash_gridout(ours) == motor3_etag
    assert oracles.asyncio_max_workers() == motor3_max_workers


def _module_state(name):
    module = sys.modules.get(name)
    return None if module is None else dict(vars(module))


def test_oracle_stand_ins_leave_every_real_module_as_it_was():
    import motor
    import motor.frameworks

    watched = ["motor", "motor.frameworks", "motor.motor_gridfs", "motor.frameworks.asyncio"]
    oracles._real_module("motor.motor_gridfs")  # load it now if this project has it
    before = {name: (sys.modules.get(name), _module_state(name)) for name in watched}

    with oracles.oracles_installed(["motor.motor_gridfs", "motor.frameworks.asyncio"]):
        from motor.frameworks.asyncio import max_workers
        from motor.motor_gridfs import _hash_gridout

        assert max_workers == oracles.asyncio_max_workers()
        assert _hash_gridout is oracles.hash_gridout
        real_gridfs = before["motor.motor_gridfs"][0]
        if real_gridfs is not None:
            # Everything else still comes from this project's module.
            stand_in = sys.modules["motor.motor_gridfs"]
            for name in vars(real_gridfs):
                if name not in oracles.ORACLES["motor.motor_gridfs"] and not name.startswith("__"):
                    assert getattr(stand_in, name) is getattr(real_gridfs, name)

    after = {name: (sys.modules.get(name), _module_state(name)) for name in watched}
    assert after == before


# The outcome recorder, in a pytest run of its own.

SAMPLE_TESTS = '''
import unittest
import warnings

import pytest


class Leaky:
    def __del__(self):
        warnings.warn("Leaky was never closed", ResourceWarning)


@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")


def test_passes():
    pass


def test_fails():
    assert 1 == 2, "one is not two"


def test_skips():
    pytest.skip("no such server feature")


def test_setup_fails(broken):
    pass


@pytest.mark.xfail(reason="known")
def test_xfails():
    raise ValueError


def test_leaks_into_del():
    Leaky()


class Case(unittest.TestCase):
    def tearDown(self):
        raise OSError("teardown broke")

    def test_passes_then_teardown_fails(self):
        pass
'''


def test_outcome_recorder_writes_each_tests_outcome_and_why(tmp_path):
    (tmp_path / "test_sample.py").write_text(SAMPLE_TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n")
    outcomes = tmp_path / "outcomes.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(PYTHONPATH=os.path.dirname(runner.OUTCOMES_PLUGIN),
               MOTOR3_SUITE_OUTCOMES=str(outcomes), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    subprocess.run([sys.executable, "-m", "pytest", "-p", "motor3_suite_outcomes",
                    "-p", "no:cacheprovider", "-q", "test_sample.py"],
                   cwd=str(tmp_path), env=env, capture_output=True, timeout=120)
    records = [json.loads(line) for line in outcomes.read_text().splitlines()]
    results = {r["test"].split("::", 1)[1]: (r["outcome"], r["message"])
               for r in records if "test" in r}
    assert results["test_passes"] == ("passed", "")
    assert results["test_fails"][0] == "failed"
    assert "one is not two" in results["test_fails"][1]
    assert results["test_skips"] == ("skipped", "no such server feature")
    assert results["test_setup_fails"] == ("error", "setup: RuntimeError: fixture broke")
    assert results["test_xfails"] == ("xfailed", "known")
    assert results["Case::test_passes_then_teardown_fails"][0] == "failed"
    assert "teardown broke" in results["Case::test_passes_then_teardown_fails"][1]
    # What was raised in __del__ is named, not only pytest's wrapper of it.
    outcome, message = results["test_leaks_into_del"]
    assert outcome == "failed"
    assert "ResourceWarning: Leaky was never closed" in message
    assert records[-1] == {"finished": 1}
    started = [r["started"] for r in records if "started" in r]
    assert len(started) == len(results) == 7


FORKING_TEST = '''
import os
import time


def test_forks_a_child_that_never_exits():
    pid = os.fork()
    if pid == 0:
        time.sleep(120)
        os._exit(0)
    with open(os.environ["CHILD_PID_FILE"], "w") as f:
        f.write(str(pid))
'''


def test_a_run_leaves_no_process_behind(tmp_path, monkeypatch):
    suite = tmp_path / "suite"
    (suite / "test" / "tornado_tests").mkdir(parents=True)
    (suite / "test" / "asyncio_tests").mkdir()
    (suite / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (suite / "test" / "tornado_tests" / "test_fork.py").write_text(FORKING_TEST)
    (suite / "test" / "asyncio_tests" / "test_nothing.py").write_text("def test_a():\n    pass\n")
    pid_file = tmp_path / "child.pid"
    monkeypatch.setenv("CHILD_PID_FILE", str(pid_file))
    out = tmp_path / "out"
    out.mkdir()

    result = runner.run_suite(sys.executable, "sample", {}, str(out), suite_dir=str(suite))

    assert result.finished and result.passed() == {
        "test/tornado_tests/test_fork.py::test_forks_a_child_that_never_exits",
        "test/asyncio_tests/test_nothing.py::test_a"}
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(child, 9)
        pytest.fail("the forked child %d outlived the suite's run" % child)
