"""Virtualenvs shared by tools/run_tests.py and tools/demo.py (stdlib only).

* ``.venv``: Motor installed editable, plus requirements-test.txt.
* ``.venv-server``: SecantusDB, a GPL test server from PyPI, in a venv of its
  own so that it never mixes with Motor's dependencies.

Also, for the browser test of the example app, Debian's ``chromium`` and
``chromium-driver`` (:func:`ensure_browser`), installed with apt-get when
missing and the tools run as root.

Each venv keeps a stamp file; a venv whose stamp no longer matches (because
setup.py, requirements-test.txt or the set of packages under motor/ changed,
or the Python did) is updated.
"""

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEV_VENV = os.path.join(ROOT, ".venv")
SERVER_VENV = os.path.join(ROOT, ".venv-server")
# Motor 3.7.1, the API motor.motor_tornado / motor.motor_asyncio stand in for:
# the drop-in tests read its source, the benchmarks run it as a competitor.
MOTOR3_VENV = os.path.join(ROOT, ".venv-motor3")
MOTOR3_REQUIREMENT = "motor==3.7.1"
RUN_DIR = os.path.join(ROOT, ".test-run")  # logs; ignored by git
SECANTUSDB_REQUIREMENT = "SecantusDB==0.7.0b3"
STAMP_NAME = ".motor-stamp"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
BROWSER_PACKAGES = ("chromium", "chromium-driver")


def step(message):
    """Report one step of a tool's work on one line."""
    print("==> %s" % message, flush=True)


def fail(message, code=1):
    print("error: %s" % message, file=sys.stderr, flush=True)
    raise SystemExit(code)


def venv_python(venv):
    return os.path.join(venv, "bin", "python")


def secantusd_default():
    return os.path.join(SERVER_VENV, "bin", "secantusd-py")


def load_servers():
    """Import test/servers.py by path (the name ``test`` is also stdlib's)."""
    path = os.path.join(ROOT, "test", "servers.py")
    spec = importlib.util.spec_from_file_location("motor_test_servers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _stamp(*parts):
    digest = hashlib.sha256()
    digest.update(sys.version.encode())
    for part in parts:
        digest.update(b"\0" + part)
    return digest.hexdigest()


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _python_works(venv):
    python = venv_python(venv)
    if not os.path.exists(python):
        return False
    return subprocess.call([python, "-c", "pass"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL) == 0


def _ensure_venv(venv, stamp, pip_args, label):
    stamp_file = os.path.join(venv, STAMP_NAME)
    name = os.path.basename(venv)
    works = _python_works(venv)
    if works and os.path.exists(stamp_file) and _read(stamp_file).decode() == stamp:
        step("%s is up to date" % name)
        return
    if not works:
        step("creating %s with %s" % (name, sys.executable))
        subprocess.check_call([sys.executable, "-m", "venv", "--clear", venv])
    elif os.path.exists(stamp_file):
        os.remove(stamp_file)
    os.makedirs(RUN_DIR, exist_ok=True)
    log_path = os.path.join(RUN_DIR, "pip-%s.log" % name.lstrip("."))
    step("installing %s into %s (log: %s)" % (label, name, os.path.relpath(log_path, ROOT)))
    command = [venv_python(venv), "-m", "pip", "install", "--quiet",
               "--disable-pip-version-check", *pip_args]
    with open(log_path, "wb") as log:
        code = subprocess.call(command, cwd=ROOT, stdin=subprocess.DEVNULL,
                               stdout=log, stderr=subprocess.STDOUT)
    if code != 0:
        with open(log_path, "rb") as log:
            tail = log.read().decode("utf-8", "replace").splitlines()[-30:]
        print("\n".join(tail), file=sys.stderr)
        fail("pip install into %s failed (exit %d); full log: %s" % (name, code, log_path))
    with open(stamp_file, "w") as f:
        f.write(stamp)


def _package_layout():
    """The packages under motor/, as setup.py's find_packages() sees them.

    An editable install records the package list it found, so adding a
    package (or motor/__init__.py itself) needs a reinstall.
    """
    found = []
    for directory, subdirs, files in os.walk(os.path.join(ROOT, "motor")):
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
        if "__init__.py" in files:
            found.append(os.path.relpath(directory, ROOT))
    return "\n".join(found).encode()


def ensure_dev_venv():
    """.venv with ``pip install -e .`` and requirements-test.txt."""
    setup_py = os.path.join(ROOT, "setup.py")
    requirements = os.path.join(ROOT, "requirements-test.txt")
    stamp = _stamp(_read(setup_py), _read(requirements), _package_layout())
    _ensure_venv(DEV_VENV, stamp, ["-e", ".", "-r", requirements],
                 "Motor (editable) and the test requirements")


def ensure_server_venv():
    """.venv-server with the pinned SecantusDB."""
    stamp = _stamp(SECANTUSDB_REQUIREMENT.encode())
    _ensure_venv(SERVER_VENV, stamp, [SECANTUSDB_REQUIREMENT],
                 SECANTUSDB_REQUIREMENT + " (takes a minute the first time)")


def ensure_motor3_venv():
    """.venv-motor3 with Motor 3.7.1 (and its PyMongo), for comparison only."""
    _ensure_venv(MOTOR3_VENV, _stamp(MOTOR3_REQUIREMENT.encode()), [MOTOR3_REQUIREMENT],
                 MOTOR3_REQUIREMENT)


def motor3_source_dir():
    """Where .venv-motor3 keeps Motor 3's package (None if not installed)."""
    pattern = os.path.join(MOTOR3_VENV, "lib", "python3*", "site-packages", "motor")
    import glob

    found = sorted(glob.glob(pattern))
    return found[-1] if found else None


def ensure_envs(install=True, motor3=True):
    """Make sure .venv and the SecantusDB launcher exist; returns the launcher.

    With install=False only check. $MOTOR_TEST_SECANTUSD names a launcher of
    the user's own, in which case .venv-server is left alone.
    """
    if sys.version_info < (3, 9):
        fail("Python 3.9 or newer is needed, this is %s" % sys.version.split()[0])
    secantusd = os.environ.get("MOTOR_TEST_SECANTUSD")
    if install:
        ensure_dev_venv()
        if motor3:
            ensure_motor3_venv()
        if not secantusd:
            ensure_server_venv()
    else:
        if not _python_works(DEV_VENV):
            fail("%s is missing: run once without --no-install" % DEV_VENV)
        step("--no-install: using the virtualenvs as they are")
    return secantusd or secantusd_default()


def _browser_installed():
    return all(os.access(path, os.X_OK) for path in (CHROMIUM, CHROMEDRIVER))


def ensure_browser():
    """Debian's chromium and chromium-driver, for the example app's browser test.

    Nothing to do (and nothing run) when both are installed. Otherwise, as
    root on a machine with apt-get: ``apt-get update`` once, then install
    both packages; a failure stops the run, since it would silently skip the
    test. Anywhere else the browser test is skipped and this says why.
    Returns True if the browser is there.
    """
    if _browser_installed():
        step("chromium and chromedriver are installed")
        return True
    apt_get = shutil.which("apt-get")
    if apt_get is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        step("chromium/chromedriver missing and apt-get needs root here: the browser test "
             "will be skipped (install Debian's %s to run it)" % " and ".join(BROWSER_PACKAGES))
        return False
    os.makedirs(RUN_DIR, exist_ok=True)
    log_path = os.path.join(RUN_DIR, "apt-browser.log")
    step("installing Debian's %s with apt-get (log: %s)" % (
        " and ".join(BROWSER_PACKAGES), os.path.relpath(log_path, ROOT)))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    commands = [
        [apt_get, "update"],
        [apt_get, "install", "-y", "--no-install-recommends", *BROWSER_PACKAGES],
    ]
    with open(log_path, "wb") as log:
        for command in commands:
            code = subprocess.call(command, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, env=env)
            if code != 0:
                break
    if code != 0 or not _browser_installed():
        with open(log_path, "rb") as log:
            tail = log.read().decode("utf-8", "replace").splitlines()[-20:]
        print("\n".join(tail), file=sys.stderr)
        fail("installing %s failed; full log: %s" % (" and ".join(BROWSER_PACKAGES), log_path))
    return True
