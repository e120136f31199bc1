#!/usr/bin/env python3
"""Run Motor's demo: ``python3 tools/demo.py [--no-install]``.

Creates or updates .venv-demo (Motor, editable, with PyMongo, greenlet and
Tornado: nothing the tests need) and .venv-server (SecantusDB, shared with
tools/run_tests.py), saying what it installs before it does; starts
SecantusDB with its data kept in .demo-data/, runs examples/demo_program.py
in .venv-demo against it, stops the server and exits with the program's
exit code. Any other arguments are passed on to the program.
"""

import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _envs  # noqa: E402
from _envs import ROOT, step  # noqa: E402

DEMO_DATA = os.path.join(ROOT, ".demo-data")
PROGRAM = os.path.join(ROOT, "examples", "demo_program.py")


def _terminated(signum, frame):
    raise SystemExit(128 + signum)


def main(argv):
    signal.signal(signal.SIGTERM, _terminated)
    install = "--no-install" not in argv
    args = [arg for arg in argv if arg != "--no-install"]
    secantusd = _envs.ensure_envs(install=install, motor3=False, demo=True)

    servers = _envs.load_servers()
    storage = os.path.join(DEMO_DATA, "db")
    os.makedirs(storage, exist_ok=True)
    server = servers.SecantusServer(
        executable=secantusd, storage_path=storage,
        log_path=os.path.join(DEMO_DATA, "secantusd.log"))
    step("starting SecantusDB with data in %s" % os.path.relpath(storage, ROOT))
    try:
        try:
            server.start()
        except servers.ServerStartError as exc:
            _envs.fail(str(exc))
        step("SecantusDB is up at %s" % server.uri)
        command = [_envs.venv_python(_envs.DEMO_VENV), PROGRAM, "--uri", server.uri, *args]
        step("running examples/demo_program.py")
        code = subprocess.call(command, cwd=ROOT)
    finally:
        step("stopping SecantusDB")
        server.stop()
    step("demo program exited with %d" % code)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
