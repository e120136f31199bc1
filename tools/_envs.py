"""Virtualenvs shared by tools/run_tests.py and tools/demo.py (stdlib only).

* ``.venv``: Motor installed editable, plus requirements-test.txt (with
  ``run_tests.py --python X.Y``, one such venv per version: ``.venv-pyX.Y``).
* ``.venv-demo``: Motor installed editable and its own dependencies only,
  for tools/demo.py.
* ``.venv-server``: SecantusDB, a GPL test server from PyPI, in a venv of its
  own so that it never mixes with Motor's dependencies.

Also, for the browser test of the example app, Debian's ``chromium`` and
``chromium-driver`` (:func:`ensure_browser`), installed with apt-get when
missing and the tools run as root.

Each venv keeps a stamp file; a venv whose stamp no longer matches (because
pyproject.toml, setup.py, requirements-test.txt or the set of packages under
motor/ changed) is updated. Motor's own venvs (.venv, .venv-pyX.Y,
.venv-demo) are remade when their Python is not the one running the tool;
the helper venvs (.venv-server, .venv-motor3) keep the Python that made them,
whichever Python runs the tests.

:func:`ensure_envs` says what it is going to install, and why, before it
installs anything.
"""

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEV_VENV = os.path.join(ROOT, ".venv")  # tools/run_tests.py --python X.Y: .venv-pyX.Y
DEMO_VENV = os.path.join(ROOT, ".venv-demo")
# PyMongo 4.20's own minimum; pyproject.toml's requires-python says the same.
MIN_PYTHON = (3, 11)
SERVER_VENV = os.path.join(ROOT, ".venv-server")
# Motor 3.7.1, the API motor.motor_tornado / motor.motor_asyncio stand in for:
# the drop-in tests read its source, the benchmarks run it as a competitor,
# and test/test_motor3_suite.py runs Motor 3.7.1's own test suite with it (the
# reference run), so the venv also holds what that suite imports. Pinned, so
# the reference results change only when these lines do; the versions are
# the ones .venv resolved when the suite was added.
MOTOR3_VENV = os.path.join(ROOT, ".venv-motor3")
MOTOR3_REQUIREMENT = "motor==3.7.1"
MOTOR3_SUITE_REQUIREMENTS = (
    "pytest==9.2.0",
    "pytest-timeout==2.4.0",
    "tornado==6.6.1",
    "aiohttp==3.14.5",
    "mockupdb==1.8.1",
    "pymongocrypt==1.21.2",
)
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


def _stamp(*parts, python_version=None):
    """Digest of what a venv is made from: a Python (this one by default) and parts."""
    digest = hashlib.sha256()
    digest.update((python_version or sys.version).encode())
    for part in parts:
        digest.update(b"\0" + part)
    return digest.hexdigest()


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _venv_python_version(venv):
    """``sys.version`` of the venv's Python, or None if it has none that runs."""
    python = venv_python(venv)
    if not os.path.exists(python):
        return None
    result = subprocess.run([python, "-c", "import sys; print(sys.version)"],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else None


def _python_works(venv):
    return _venv_python_version(venv) is not None


def _venv_state(venv, stamp, own_python=False):
    """What :func:`_ensure_venv` has to do: None (up to date), or "create",
    "recreate" (own_python, and the venv's Python is another one) or "update"."""
    version = _venv_python_version(venv)
    if version is None or not os.path.exists(os.path.join(venv, "bin", "pip")):
        return "create"  # none, or one whose creation was interrupted before pip
    if own_python and version != sys.version:
        return "recreate"
    stamp_file = os.path.join(venv, STAMP_NAME)
    if os.path.exists(stamp_file) and _read(stamp_file).decode() == stamp:
        return None
    return "update"


def _ensure_venv(venv, stamp, pip_args, label, own_python=False):
    stamp_file = os.path.join(venv, STAMP_NAME)
    name = os.path.basename(venv)
    state = _venv_state(venv, stamp, own_python)
    if state is None:
        step("%s is up to date" % name)
        return
    if state != "update":
        step("creating %s with %s (Python %s)" % (name, sys.executable, sys.version.split()[0]))
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


def _packaging():
    return b"\0".join(_read(os.path.join(ROOT, name)) for name in ("pyproject.toml", "setup.py"))


def _dev_venv_spec():
    requirements = os.path.join(ROOT, "requirements-test.txt")
    stamp = _stamp(_packaging(), _read(requirements), _package_layout())
    return (DEV_VENV, stamp, ["-e", ".", "-r", requirements],
            "Motor (editable) and requirements-test.txt", True)


def _demo_venv_spec():
    return (DEMO_VENV, _stamp(_packaging(), _package_layout()), ["-e", "."],
            "Motor (editable) with PyMongo, greenlet and Tornado, nothing else", True)


def _helper_stamp(venv, *parts):
    # A helper venv keeps the Python that made it: stamp it with that one.
    return _stamp(*parts, python_version=_venv_python_version(venv))


def _server_venv_spec():
    return (SERVER_VENV, _helper_stamp(SERVER_VENV, SECANTUSDB_REQUIREMENT.encode()),
            [SECANTUSDB_REQUIREMENT], SECANTUSDB_REQUIREMENT + " (takes a minute the first time)",
            False)


def ensure_dev_venv():
    """.venv (or the runner's --python venv) with ``pip install -e .`` and requirements-test.txt."""
    _ensure_venv(*_dev_venv_spec())


def ensure_demo_venv():
    """.venv-demo with ``pip install -e .`` only: what examples/demo_program.py needs."""
    _ensure_venv(*_demo_venv_spec())


def ensure_server_venv():
    """.venv-server with the pinned SecantusDB."""
    _ensure_venv(*_server_venv_spec())


def ensure_motor3_venv():
    """.venv-motor3 with Motor 3.7.1 (and its PyMongo), for comparison only.

    Also the packages Motor 3.7.1's own test suite needs to run there
    (MOTOR3_SUITE_REQUIREMENTS).
    """
    _ensure_venv(*_motor3_venv_spec())


def _motor3_venv_spec():
    requirements = [MOTOR3_REQUIREMENT, *MOTOR3_SUITE_REQUIREMENTS]
    return (MOTOR3_VENV, _helper_stamp(MOTOR3_VENV, *(r.encode() for r in requirements)),
            requirements, "%s and its test suite's requirements" % MOTOR3_REQUIREMENT, False)


def motor3_source_dir():
    """Where .venv-motor3 keeps Motor 3's package (None if not installed)."""
    pattern = os.path.join(MOTOR3_VENV, "lib", "python3*", "site-packages", "motor")
    import glob

    found = sorted(glob.glob(pattern))
    return found[-1] if found else None


# Why each venv is there, for the announcement before anything is installed.
_PURPOSES = {
    "dev": "the tests run in it",
    "demo": "examples/demo_program.py runs in it",
    SERVER_VENV: "the test server, a GPL program kept apart from Motor's dependencies",
    MOTOR3_VENV: "the drop-in tests read Motor 3's source and run its own test suite",
}
BROWSER_PURPOSE = ("the browser test of examples/message_board drives them; with "
                   "tools/run_tests.py --no-browser nothing is installed and that test is skipped")


def _announce(pending, browser):
    """Say what is about to be installed, where, and why, before installing it."""
    if not pending and not browser:
        return
    step("installing before the run (nothing outside this checkout unless said so):")
    for (venv, _, _, label, _), state, why in pending:
        print("      %s %s/: %s -- %s" % (state, os.path.relpath(venv, ROOT), label, why),
              flush=True)
    if browser:
        print("      system-wide, with apt-get as root: Debian's %s -- %s"
              % (" and ".join(BROWSER_PACKAGES), BROWSER_PURPOSE), flush=True)


def ensure_envs(install=True, motor3=True, browser=False, demo=False):
    """Make sure Motor's venv and the SecantusDB launcher exist; returns the launcher.

    Motor's venv is DEV_VENV, or DEMO_VENV with demo=True. With browser=True
    also Debian's chromium (:func:`ensure_browser`). Before installing
    anything, says what it installs and why. With install=False only check.
    $MOTOR_TEST_SECANTUSD names a launcher of the user's own, in which case
    .venv-server is left alone.
    """
    if sys.version_info < MIN_PYTHON:
        fail("Python %d.%d or newer is needed (PyMongo 4.20's minimum), this is %s"
             % (*MIN_PYTHON, sys.version.split()[0]))
    secantusd = os.environ.get("MOTOR_TEST_SECANTUSD")
    own = DEMO_VENV if demo else DEV_VENV
    if install:
        specs = [(_demo_venv_spec() if demo else _dev_venv_spec(), "demo" if demo else "dev")]
        if motor3:
            specs.append((_motor3_venv_spec(), MOTOR3_VENV))
        if not secantusd:
            specs.append((_server_venv_spec(), SERVER_VENV))
        pending = []
        for spec, purpose in specs:
            venv, stamp, _, _, own_python = spec
            state = _venv_state(venv, stamp, own_python)
            if state:
                pending.append((spec, state, _PURPOSES[purpose]))
        _announce(pending, browser and _browser_will_be_installed())
        for spec, _ in specs:
            _ensure_venv(*spec)
        if browser:
            ensure_browser()
    else:
        if not _python_works(own):
            fail("%s is missing: run once without --no-install" % own)
        step("--no-install: using the virtualenvs as they are")
    return secantusd or secantusd_default()


def _browser_installed():
    return all(os.access(path, os.X_OK) for path in (CHROMIUM, CHROMEDRIVER))


def _can_apt_get():
    return shutil.which("apt-get") is not None and hasattr(os, "geteuid") and os.geteuid() == 0


def _browser_will_be_installed():
    return not _browser_installed() and _can_apt_get()


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
    if not _can_apt_get():
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
