#!/usr/bin/env python3
"""Run Motor's test suite: ``python3 tools/run_tests.py [pytest args...]``.

Creates or updates .venv (Motor editable + test requirements) and
.venv-server (SecantusDB), installs Debian's chromium and chromium-driver for
the browser test when missing (as root, with apt-get), starts an in-memory
SecantusDB on a free port, runs pytest in .venv with the extra arguments,
stops the server and exits with pytest's code (except "no tests collected",
which is a failure here).

Environment:
  MOTOR_TEST_URI        test against this server instead (e.g. a real mongod
                        or replica set); no SecantusDB is started then.
  MOTOR_TEST_SECANTUSD  the secantusd-py launcher to use instead of
                        .venv-server's; tests start TLS/auth servers with it.
Runner option (taken out of the pytest arguments):
  --no-install          skip the virtualenv and browser checks for a quick re-run.
"""

import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _envs  # noqa: E402
from _envs import ROOT, step  # noqa: E402

PYTEST_NO_TESTS_COLLECTED = 5


def _terminated(signum, frame):
    raise SystemExit(128 + signum)


def _pytest_args(args):
    """Make path arguments given relative to the caller's cwd work from ROOT."""
    cwd = os.getcwd()
    if os.path.realpath(cwd) == os.path.realpath(ROOT):
        return list(args)
    converted = []
    for arg in args:
        path = arg.split("::", 1)[0]
        if not arg.startswith("-") and path and os.path.exists(os.path.join(cwd, path)):
            arg = os.path.abspath(os.path.join(cwd, path)) + arg[len(path):]
        converted.append(arg)
    return converted


def _run_pytest(args, env):
    command = [_envs.venv_python(_envs.DEV_VENV), "-m", "pytest", *args]
    step("running: %s" % " ".join(["pytest", *args]))
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        while True:
            try:
                return process.wait()
            except KeyboardInterrupt:
                # pytest got the same Ctrl-C: let it report and finish.
                continue
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main(argv):
    signal.signal(signal.SIGTERM, _terminated)
    install = "--no-install" not in argv
    args = _pytest_args([arg for arg in argv if arg != "--no-install"])

    secantusd = _envs.ensure_envs(install=install)
    if install:
        _envs.ensure_browser()
    env = dict(os.environ)
    env["MOTOR_TEST_SECANTUSD"] = secantusd
    motor3 = _envs.motor3_source_dir()
    if motor3 and "MOTOR_TEST_MOTOR3_DIR" not in env:
        env["MOTOR_TEST_MOTOR3_DIR"] = motor3
    env.pop("PYTHONHOME", None)

    server = None
    try:
        if env.get("MOTOR_TEST_URI"):
            step("using MOTOR_TEST_URI=%s (no SecantusDB started)" % env["MOTOR_TEST_URI"])
        else:
            servers = _envs.load_servers()
            server = servers.SecantusServer(
                executable=secantusd,
                log_path=os.path.join(_envs.RUN_DIR, "secantusd.log"))
            step("starting SecantusDB (in memory) on a free port")
            try:
                server.start()
            except servers.ServerStartError as exc:
                _envs.fail(str(exc))
            env["MOTOR_TEST_URI"] = server.uri
            step("SecantusDB pid %d is up: MOTOR_TEST_URI=%s (log: %s)" % (
                server.process.pid, server.uri, os.path.relpath(server.log_path, ROOT)))
        step("MOTOR_TEST_SECANTUSD=%s" % secantusd)
        code = _run_pytest(args, env)
    finally:
        if server is not None:
            step("stopping SecantusDB")
            server.stop()

    if code == PYTEST_NO_TESTS_COLLECTED:
        step("pytest collected no tests: counting that as a failure (exit 1)")
        return 1
    step("pytest exited with %d" % code)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
