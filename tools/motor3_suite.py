#!/usr/bin/env python3
"""Motor 3.7.1's own test suite, run against Motor 3.7.1 and against this project.

This project's ``motor.motor_tornado`` and ``motor.motor_asyncio`` promise to
be drop-ins for Motor 3.7.1. The proof is Motor 3.7.1's own suite (all of
``test/tornado_tests`` and ``test/asyncio_tests`` from its PyPI sdist), run
twice on the same server in one go: once in .venv-motor3 with Motor 3.7.1
(the reference), once with this project in the venv under test (.venv, or
``run_tests.py --python``'s). Every test Motor 3.7.1
passes must pass here too, except the few listed, each with its reason, in
test/motor3_suite_exceptions.txt. test/test_motor3_suite.py runs it as part of
the test command; by hand, against a server of your own::

    MOTOR_TEST_URI=mongodb://localhost:27017 .venv/bin/python tools/motor3_suite.py

The suite is not in this repository: :func:`fetch_suite` downloads the sdist
with ``pip download`` the first time, checks its SHA-256, and unpacks only
its ``test/`` folder and ``pyproject.toml`` (not its ``motor/`` package,
which would otherwise be imported instead of the driver under test) into
``.test-run/motor3-suite/``, where later runs find them.

Each run is a pytest process started in that folder, so the suite's own
pytest options apply (``filterwarnings = error`` with its ignores: part of
what "passes" means), except ``--maxfail`` (every test runs) and the junit
file's place; ``pytest-timeout`` ends a test that hangs. The suite finds its
server through ``DB_IP``/``DB_PORT`` (and ``DB_USER``/``DB_PASSWORD``), taken
from ``MOTOR_TEST_URI``. Outcomes are written per test by
tools/motor3_suite_outcomes.py; the run against this project also loads
test/motor3_suite_oracles.py, which supplies the two private Motor 3.7.1
names the suite imports as its own oracles.

.. versionadded:: 4.0
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _envs  # noqa: E402

VERSION = "3.7.1"
REQUIREMENT = "motor==%s" % VERSION
SDIST = "motor-%s.tar.gz" % VERSION
# The sdist PyPI serves for motor 3.7.1; any other file is refused.
SDIST_SHA256 = "27b4d46625c87928f331a6ca9d7c51c2f518ba0e270939d395bc1ddc89d64526"
SDIST_TOP = "motor-%s" % VERSION
# What is taken out of the sdist: the suite and its pytest options, nothing else.
SUITE_MEMBERS = ("test/", "pyproject.toml")
SUITE_PATHS = ("test/tornado_tests", "test/asyncio_tests")

CACHE_DIR = os.path.join(_envs.RUN_DIR, "motor3-suite")
# Each comparison's logs and outcomes, in a folder of its own (runs may overlap).
RUNS_DIR = os.path.join(CACHE_DIR, "runs")
RUNS_KEPT = 6
DOWNLOAD_DIR = os.path.join(CACHE_DIR, "download")
SUITE_DIR = os.path.join(CACHE_DIR, SDIST_TOP)
OUTCOMES_PLUGIN = os.path.join(_envs.ROOT, "tools", "motor3_suite_outcomes.py")
ORACLES_PLUGIN = os.path.join(_envs.ROOT, "test", "motor3_suite_oracles.py")
EXCEPTIONS_FILE = os.path.join(_envs.ROOT, "test", "motor3_suite_exceptions.txt")
# The only kinds of test that may fail here although Motor 3.7.1 passes them:
# tests that pin Motor 3.7.1's internals rather than its behaviour.
EXCEPTION_KINDS = {
    "private-name": "reads or patches a private name of Motor 3.7.1",
    "exact-attribute-set": "expects exactly Motor 3.7.1's set of attribute names "
                           "(this project may have more)",
    "blocking-sleep": "blocks the loop with time.sleep while expecting background "
                      "threads to work",
}

# Per test (the suite's slowest passing test takes ~30 s here), and per run.
TEST_TIMEOUT = 60
RUN_TIMEOUT = 1200


class SuiteError(Exception):
    """The suite could not be fetched or run (not a test failure of the suite)."""


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(python):
    """``pip download`` the sdist into DOWNLOAD_DIR; returns its path."""
    os.makedirs(DOWNLOAD_DIR, exist_ok=True)
    path = os.path.join(DOWNLOAD_DIR, SDIST)
    if os.path.exists(path) and _sha256(path) == SDIST_SHA256:
        return path
    if os.path.exists(path):
        os.remove(path)
    log_path = os.path.join(CACHE_DIR, "pip-download.log")
    _envs.step("downloading Motor %s's sdist from PyPI for its test suite (log: %s)" % (
        VERSION, os.path.relpath(log_path, _envs.ROOT)))
    command = [python, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               "--disable-pip-version-check", "--dest", DOWNLOAD_DIR, REQUIREMENT]
    with open(log_path, "wb") as log:
        code = subprocess.call(command, stdin=subprocess.DEVNULL, stdout=log,
                               stderr=subprocess.STDOUT)
    if code != 0 or not os.path.exists(path):
        with open(log_path, "rb") as log:
            tail = log.read().decode("utf-8", "replace").strip().splitlines()[-5:]
        raise SuiteError("pip download %s failed (exit %d): %s (log: %s)" % (
            REQUIREMENT, code, " / ".join(tail), log_path))
    found = _sha256(path)
    if found != SDIST_SHA256:
        os.remove(path)
        raise SuiteError("%s from PyPI has SHA-256 %s, expected %s: refusing it" % (
            SDIST, found, SDIST_SHA256))
    return path


def _suite_member(member):
    """The member's path below the sdist's top folder if it is part of the suite."""
    top, _, rest = member.name.partition("/")
    if top != SDIST_TOP or not rest:
        return None
    if not any(rest == m or (m.endswith("/") and rest.startswith(m)) for m in SUITE_MEMBERS):
        return None
    parts = rest.split("/")
    if rest.startswith("/") or ".." in parts or not (member.isfile() or member.isdir()):
        raise SuiteError("unexpected member in %s: %r" % (SDIST, member.name))
    return rest


def _unpack(sdist):
    """Unpack the suite's members into SUITE_DIR (atomically: a temp dir renamed)."""
    os.makedirs(CACHE_DIR, exist_ok=True)
    staging = tempfile.mkdtemp(prefix="unpack-", dir=CACHE_DIR)
    try:
        with tarfile.open(sdist, "r:gz") as archive:
            for member in archive.getmembers():
                rest = _suite_member(member)
                if rest is None or member.isdir():
                    continue
                target = os.path.join(staging, *rest.split("/"))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with archive.extractfile(member) as source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out)
        for path in SUITE_PATHS + ("pyproject.toml",):
            if not os.path.exists(os.path.join(staging, path)):
                raise SuiteError("%s has no %s" % (SDIST, path))
        with open(os.path.join(staging, ".sdist-sha256"), "w") as f:
            f.write(SDIST_SHA256)
        if os.path.exists(SUITE_DIR):
            shutil.rmtree(SUITE_DIR)
        os.rename(staging, SUITE_DIR)
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging)


def fetch_suite(python=None):
    """Motor 3.7.1's suite, unpacked in SUITE_DIR; downloaded only the first time.

    ``python`` runs pip (default: this interpreter). Returns SUITE_DIR.
    """
    stamp = os.path.join(SUITE_DIR, ".sdist-sha256")
    if os.path.exists(stamp):
        with open(stamp) as f:
            if f.read() == SDIST_SHA256:
                return SUITE_DIR
    _unpack(_download(python or sys.executable))
    return SUITE_DIR


def server_env(uri):
    """DB_IP, DB_PORT (and DB_USER, DB_PASSWORD) for the suite, from a MongoDB URI.

    The suite connects to one host with ``directConnection=True`` and finds
    the rest (a replica set's primary, its name) itself, so the URI's first
    host is enough. Its other options are not passed on: the suite sets its
    own, and tries TLS with its own test certificates (``$CERT_DIR`` names
    other ones).
    """
    from pymongo.uri_parser import parse_uri

    parsed = parse_uri(uri)
    host, port = parsed["nodelist"][0]
    env = {"DB_IP": host, "DB_PORT": str(port)}
    if parsed.get("username"):
        env["DB_USER"] = parsed["username"]
        env["DB_PASSWORD"] = parsed.get("password") or ""
    return env


@dataclass
class RunResult:
    """One run of the suite: each test's (outcome, message), and how it went."""

    label: str
    outcomes: dict
    collect_errors: dict
    seconds: float
    returncode: int
    finished: bool
    died_in: str = None
    log_path: str = None
    log_tail: list = field(default_factory=list)

    def passed(self):
        return {test for test, (outcome, _) in self.outcomes.items() if outcome == "passed"}

    def count(self, outcome):
        return sum(1 for o, _ in self.outcomes.values() if o == outcome)

    def summary(self):
        counts = ", ".join("%d %s" % (self.count(o), o) for o in
                           ("passed", "failed", "error", "skipped", "xfailed") if self.count(o))
        text = "%s: %s in %.0f s" % (self.label, counts or "no tests", self.seconds)
        if self.collect_errors:
            text += ", %d modules failed to import" % len(self.collect_errors)
        if not self.finished:
            text += ", the test process ended early (exit %d%s)" % (
                self.returncode, ", in %s" % self.died_in if self.died_in else "")
        return text


def _read_outcomes(path):
    outcomes, collect_errors, started, finished = {}, {}, None, False
    if not os.path.exists(path):
        return outcomes, collect_errors, started, finished
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short by a dying process
            if "test" in record:
                outcomes[record["test"]] = (record["outcome"], record["message"])
                started = None
            elif "started" in record:
                started = record["started"]
            elif "collect_error" in record:
                collect_errors[record["collect_error"]] = record["message"]
            elif "finished" in record:
                finished = True
    return outcomes, collect_errors, started, finished


def _copy_plugins(out_dir):
    """The two plugins, alone in a folder the suite's process gets as PYTHONPATH."""
    plugin_dir = os.path.join(out_dir, "plugins")
    os.makedirs(plugin_dir, exist_ok=True)
    for path in (OUTCOMES_PLUGIN, ORACLES_PLUGIN):
        shutil.copyfile(path, os.path.join(plugin_dir, os.path.basename(path)))
    return plugin_dir


def new_run_dir():
    """A fresh folder under RUNS_DIR for one comparison; the oldest ones are removed."""
    os.makedirs(RUNS_DIR, exist_ok=True)
    existing = sorted(os.listdir(RUNS_DIR))
    for name in existing[:max(0, len(existing) - RUNS_KEPT + 1)]:
        shutil.rmtree(os.path.join(RUNS_DIR, name), ignore_errors=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return tempfile.mkdtemp(prefix="%s-" % stamp, dir=RUNS_DIR)


def _module_name(path):
    return os.path.splitext(os.path.basename(path))[0]


def run_suite(python, label, db_env, out_dir, oracles=False, motor_path=None,
              suite_dir=SUITE_DIR):
    """Run the suite with ``python``, writing its log and outcomes in ``out_dir``.

    ``oracles``: load test/motor3_suite_oracles.py (for the run against this
    project; Motor 3.7.1 has its own names). ``motor_path``: a folder to
    import ``motor`` from instead of the venv's (a ``git worktree`` of some
    commit, say). Returns a RunResult.
    """
    plugin_dir = _copy_plugins(out_dir)
    slug = label.replace(" ", "-").replace(".", "")
    outcomes_path = os.path.join(out_dir, "outcomes-%s.jsonl" % slug)
    log_path = os.path.join(out_dir, "pytest-%s.log" % slug)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "DB_")) and k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(db_env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [motor_path, plugin_dir]))
    env["MOTOR3_SUITE_OUTCOMES"] = outcomes_path
    # The same plugins in both venvs: only those named here.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    plugins = ["pytest_timeout", _module_name(OUTCOMES_PLUGIN)]
    if oracles:
        plugins.append(_module_name(ORACLES_PLUGIN))
    command = [python, "-m", "pytest", "-c", "pyproject.toml", "--rootdir", "."]
    for plugin in plugins:
        command += ["-p", plugin]
    command += [
        "-p", "no:cacheprovider",
        "--timeout=%d" % TEST_TIMEOUT,
        # The suite's addopts stop after 10 failures: run every test.
        "--maxfail=%d" % 1_000_000,
        "--continue-on-collection-errors",
        "--junitxml=%s" % os.path.join(out_dir, "junit-%s.xml" % slug),
        "-q", *SUITE_PATHS,
    ]
    if os.path.exists(outcomes_path):
        os.remove(outcomes_path)
    _envs.step("running Motor %s's test suite against %s (log: %s)" % (
        VERSION, label, os.path.relpath(log_path, _envs.ROOT)))
    start = time.monotonic()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=suite_dir, env=env, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        returncode = None
        try:
            returncode = process.wait(RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        finally:
            # The whole process group: pytest, and any process a test forked
            # and left behind (a fork test's child that hangs outlives pytest).
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if returncode is None:
                returncode = process.wait()
    seconds = time.monotonic() - start
    outcomes, collect_errors, died_in, finished = _read_outcomes(outcomes_path)
    with open(log_path, "rb") as f:
        tail = f.read()[-4000:].decode("utf-8", "replace").splitlines()[-15:]
    return RunResult(label, outcomes, collect_errors, seconds, returncode, finished,
                     died_in if not finished else None, log_path, tail)


@dataclass
class ListedException:
    """One line of test/motor3_suite_exceptions.txt."""

    test: str
    kind: str
    # Text the first line of the test's failure here contains: the exception
    # covers that failure only, not any other way the test could fail.
    failure: str
    reason: str
    line: int


EXCEPTION_FORMAT = "<test id> | <kind> | <text of its failure> | <reason>"


def read_exceptions(path=EXCEPTIONS_FILE):
    """The listed exceptions: ``<test id> | <kind> | <text of its failure> | <reason>``.

    Raises SuiteError for a malformed line or an unknown kind.
    """
    found = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            parts = [part.strip() for part in text.split("|", 3)]
            if len(parts) != 4 or not all(parts):
                raise SuiteError("%s:%d: expected '%s', got %r" % (
                    path, number, EXCEPTION_FORMAT, text))
            test, kind, failure, reason = parts
            if kind not in EXCEPTION_KINDS:
                raise SuiteError("%s:%d: kind %r is not one of %s" % (
                    path, number, kind, ", ".join(sorted(EXCEPTION_KINDS))))
            if test in found:
                raise SuiteError("%s:%d: %s is listed twice" % (path, number, test))
            found[test] = ListedException(test, kind, failure, reason, number)
    return found


@dataclass
class Comparison:
    """Motor 3.7.1's run and this project's, test by test."""

    theirs: RunResult
    ours: RunResult
    exceptions: dict
    # Test id -> one line: tests Motor 3.7.1 passes that fail here (not excepted).
    regressions: dict
    # Test id -> why its line in the exceptions file is no longer true.
    stale_exceptions: dict
    # Tests Motor 3.7.1 passes that fail here as the exceptions file says.
    excepted: list


def _why_not_passed(ours, test):
    if test in ours.outcomes:
        outcome, message = ours.outcomes[test]
        return "%s: %s" % (outcome, message) if message else outcome
    module = test.split("::", 1)[0]
    if module in ours.collect_errors:
        return "not collected, its module failed to import: %s" % ours.collect_errors[module]
    if ours.died_in == test:
        return "the test process died in this test (exit %d)" % ours.returncode
    if not ours.finished:
        return "not run: the test process ended early (exit %d%s)" % (
            ours.returncode, ", in %s" % ours.died_in if ours.died_in else "")
    return "not collected"


def compare(theirs, ours, exceptions):
    """Test by test: what Motor 3.7.1 passes and this project does not."""
    regressions, stale, excepted = {}, {}, []
    for test in sorted(theirs.passed()):
        if test in ours.passed():
            continue
        why = _why_not_passed(ours, test)
        listed = exceptions.get(test)
        if listed is not None and listed.failure in ours.outcomes.get(test, ("", ""))[1]:
            excepted.append(test)
        elif listed is not None:
            regressions[test] = "%s (line %d of %s excuses only a failure with %r)" % (
                why, listed.line, os.path.basename(EXCEPTIONS_FILE), listed.failure)
        else:
            regressions[test] = why
    for test, exception in sorted(exceptions.items()):
        if test not in theirs.outcomes:
            stale[test] = "line %d: no such test in Motor %s's suite" % (exception.line, VERSION)
        elif theirs.outcomes[test][0] != "passed":
            stale[test] = "line %d: Motor %s does not pass it either (%s)" % (
                exception.line, VERSION, theirs.outcomes[test][0])
        elif test in ours.passed():
            stale[test] = "line %d: passes with this project now: remove the line" % (
                exception.line)
    return Comparison(theirs, ours, exceptions, regressions, stale, excepted)


def reference_problems(theirs):
    """Why the run against Motor 3.7.1 cannot serve as the reference (empty if it can)."""
    problems = []
    if not theirs.finished:
        problems.append("it ended early (exit %d%s)" % (
            theirs.returncode, ", in %s" % theirs.died_in if theirs.died_in else ""))
    for module, message in sorted(theirs.collect_errors.items()):
        problems.append("%s failed to import: %s" % (module, message))
    if not theirs.passed():
        problems.append("no test passed")
    if problems:
        problems.append("last lines of %s:\n  %s" % (theirs.log_path, "\n  ".join(theirs.log_tail)))
    return problems


def run_both(uri, motor3_python=None, our_python=None, motor_path=None, reference=None):
    """Fetch the suite, run it against Motor 3.7.1 then this project; compare.

    ``reference``: a RunResult of Motor 3.7.1 to compare with instead of
    running it again (for quick re-runs by hand; the test always runs both).
    """
    motor3_python = motor3_python or _envs.venv_python(_envs.MOTOR3_VENV)
    # This interpreter: the venv under test (.venv, or run_tests.py --python's).
    our_python = our_python or sys.executable
    if not os.path.exists(motor3_python):
        raise SuiteError("%s is missing: run python3 tools/run_tests.py without "
                         "--no-install once" % _envs.MOTOR3_VENV)
    exceptions = read_exceptions()
    fetch_suite(our_python)
    db_env = server_env(uri)
    out_dir = new_run_dir()
    theirs = reference or run_suite(motor3_python, "Motor %s" % VERSION, db_env, out_dir)
    ours = run_suite(our_python, "this project", db_env, out_dir, oracles=True,
                     motor_path=motor_path)
    comparison = compare(theirs, ours, exceptions)
    _write_summary(comparison, out_dir)
    return comparison


def load_run(out_dir, label="Motor %s" % VERSION):
    """A run's RunResult again, from the outcomes file it left in ``out_dir``."""
    slug = label.replace(" ", "-").replace(".", "")
    outcomes, collect_errors, died_in, finished = _read_outcomes(
        os.path.join(out_dir, "outcomes-%s.jsonl" % slug))
    if not outcomes:
        raise SuiteError("no outcomes of %s in %s" % (label, out_dir))
    return RunResult(label, outcomes, collect_errors, 0.0, 0, finished, died_in,
                     os.path.join(out_dir, "pytest-%s.log" % slug))


def _write_summary(comparison, out_dir):
    summary = {
        "theirs": comparison.theirs.summary(),
        "ours": comparison.ours.summary(),
        "seconds": {"theirs": round(comparison.theirs.seconds, 1),
                    "ours": round(comparison.ours.seconds, 1)},
        "regressions": comparison.regressions,
        "stale_exceptions": comparison.stale_exceptions,
        "excepted": comparison.excepted,
    }
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    _envs.step("Motor %s's suite: logs, outcomes and summary.json in %s" % (
        VERSION, os.path.relpath(out_dir, _envs.ROOT)))


def report(comparison):
    """The comparison as text, one line per finding."""
    lines = [comparison.theirs.summary(), comparison.ours.summary()]
    theirs_passed = len(comparison.theirs.passed())
    lines.append("of the %d tests Motor %s passes: %d pass here, %d listed exceptions, "
                 "%d regressions" % (theirs_passed, VERSION,
                                     theirs_passed - len(comparison.regressions)
                                     - len(comparison.excepted),
                                     len(comparison.excepted), len(comparison.regressions)))
    for test, why in comparison.regressions.items():
        lines.append("REGRESSION %s: %s" % (test, why))
    for test, why in comparison.stale_exceptions.items():
        lines.append("STALE EXCEPTION %s: %s" % (test, why))
    return "\n".join(lines)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uri", default=os.environ.get("MOTOR_TEST_URI"),
                        help="the server (default: $MOTOR_TEST_URI)")
    parser.add_argument("--motor-path", help="import this project's motor from this folder "
                        "(e.g. a git worktree of a commit) instead of .venv's editable install")
    parser.add_argument("--reference", metavar="RUN_DIR",
                        help="reuse the Motor %s outcomes a previous comparison left in RUN_DIR "
                        "(under %s) instead of running Motor %s again" % (
                            VERSION, os.path.relpath(RUNS_DIR, _envs.ROOT), VERSION))
    args = parser.parse_args(argv)
    if not args.uri:
        parser.error("no server: give --uri or set MOTOR_TEST_URI")
    try:
        reference = load_run(args.reference) if args.reference else None
        comparison = run_both(args.uri, motor_path=args.motor_path and
                              os.path.abspath(args.motor_path), reference=reference)
    except SuiteError as exc:
        _envs.fail(str(exc))
    problems = reference_problems(comparison.theirs)
    print(report(comparison))
    if problems:
        print("the run against Motor %s is no reference: %s" % (VERSION, "; ".join(problems)))
        return 1
    return 1 if comparison.regressions or comparison.stale_exceptions else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
