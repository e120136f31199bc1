#!/usr/bin/env python3
"""Run Motor's test suite: ``python3 tools/run_tests.py [options] [pytest args...]``.

Creates or updates .venv (Motor editable + test requirements), .venv-server
(SecantusDB) and .venv-motor3 (Motor 3.7.1, for the drop-in tests), installs
Debian's chromium and chromium-driver for the browser test when missing (as
root, with apt-get), saying what it installs and why before it does; starts
an in-memory SecantusDB on a free port, runs pytest in .venv with the extra
arguments, stops the server and exits with pytest's code (except "no tests
collected", which is a failure here). Its last line repeats pytest's summary
line.

With ``--python X.Y`` (repeatable: ``--python 3.11 --python 3.13``) it does
all that once per Python version, each in its own venv ``.venv-pyX.Y``, one
after the other, and ends with one line per version and a last line adding
them up; it fails if any run failed. The interpreter is pyenv's newest
X.Y.* (``pyenv versions --bare``), else ``pythonX.Y`` on PATH; a path to an
interpreter works too.

Environment:
  MOTOR_TEST_URI        test against this server instead (e.g. a real mongod
                        or replica set); no SecantusDB is started then.
  MOTOR_TEST_SECANTUSD  the secantusd-py launcher to use instead of
                        .venv-server's; tests start TLS/auth servers with it.
Runner options (taken out of the pytest arguments):
  --python X.Y          run on Python X.Y, in .venv-pyX.Y (repeat for several).
  --no-install          skip the virtualenv and browser checks for a quick re-run.
  --no-browser          don't install chromium (without it the browser test is skipped).
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _envs  # noqa: E402
from _envs import ROOT, step  # noqa: E402

PYTEST_NO_TESTS_COLLECTED = 5
# pytest's closing line, with or without -q: "=== 3 passed, 1 skipped in 2.01s ===".
# A count may be several words: "2 loop watchdog violations" (test/conftest.py).
SUMMARY_LINE = re.compile(
    r"^=*\s*(?P<counts>\d+ [a-z][a-z ]*(?:, \d+ [a-z][a-z ]*)*|no tests ran)"
    r" in (?P<seconds>[\d.]+)s\b.*?=*$")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# pytest's order of the counts in its closing line.
COUNT_ORDER = ("failed", "passed", "skipped", "deselected", "xfailed", "xpassed", "warnings",
               "error", "errors")
# Options of this runner that take a value; internal ones are for --python's children.
VALUE_OPTIONS = ("--python", "--venv", "--summary-file")


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


def _split_options(argv):
    """(runner options, pytest arguments): {"--python": [...], "--no-install": True, ...}."""
    options = {"--python": []}
    rest = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        name, equals, value = arg.partition("=")
        if name in VALUE_OPTIONS:
            if not equals:
                index += 1
                if index == len(argv):
                    _envs.fail("%s needs a value" % name)
                value = argv[index]
            if name == "--python":
                options[name] += [v for v in value.split(",") if v]
            else:
                options[name] = value
        elif arg in ("--no-install", "--no-browser"):
            options[arg] = True
        else:
            rest.append(arg)
        index += 1
    return options, rest


def _plain(line):
    return ANSI_ESCAPE.sub("", line).strip()


def _run_pytest(args, env):
    """Run pytest in the dev venv, passing its output through; (exit code, summary line)."""
    if sys.stdout.isatty():
        # pytest writes into a pipe here: keep its colours and width.
        if not any(arg.startswith("--color") for arg in args):
            args = ["--color=yes", *args]
        env.setdefault("COLUMNS", str(shutil.get_terminal_size().columns))
    env["PYTHONUNBUFFERED"] = "1"
    command = [_envs.venv_python(_envs.DEV_VENV), "-m", "pytest", *args]
    step("running: %s" % " ".join(["pytest", *args]))
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE)
    summary = None
    out = sys.stdout.buffer
    partial = b""
    try:
        while True:
            try:
                # Whatever pytest wrote, at once: its progress dots come
                # without a newline until the line is full.
                chunk = os.read(process.stdout.fileno(), 65536)
            except KeyboardInterrupt:
                continue  # pytest got the same Ctrl-C: let it report and finish.
            if chunk:
                out.write(chunk)
                out.flush()
                *lines, partial = (partial + chunk).split(b"\n")
            else:  # the end: the last line may have no newline
                lines, partial = [partial], b""
            for line in lines:
                text = _plain(line.decode("utf-8", "replace"))
                if SUMMARY_LINE.match(text):
                    summary = text
            if not chunk:
                break
        while True:
            try:
                return process.wait(), summary
            except KeyboardInterrupt:
                continue
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def find_python(version):
    """The interpreter for "X.Y" (pyenv's newest X.Y.*, else pythonX.Y on PATH), or a path."""
    if os.sep in version:
        return version if _python_version(version) else None
    if not re.fullmatch(r"\d+\.\d+", version):
        _envs.fail("--python takes a version like 3.12 or a path to an interpreter, not %r"
                   % version)
    candidates = []
    if "%d.%d" % sys.version_info[:2] == version:
        candidates.append(sys.executable)
    pyenv = shutil.which("pyenv")
    if pyenv:
        listed = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True)
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()
        found = [v for v in listed.stdout.split() if re.fullmatch(re.escape(version) + r"\.\d+", v)]
        found.sort(key=lambda v: int(v.rsplit(".", 1)[1]), reverse=True)
        candidates += [os.path.join(root, "versions", v, "bin", "python" + version) for v in found]
    on_path = shutil.which("python" + version)
    if on_path:
        candidates.append(on_path)  # a pyenv shim of a version not selected fails below
    for candidate in candidates:
        if _python_version(candidate) == version:
            return candidate
    return None


def _python_version(python):
    """"X.Y" of an interpreter, or None if it does not run."""
    try:
        result = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _parse_counts(summary):
    counts = {}
    counts_text = SUMMARY_LINE.match(summary).group("counts")
    for number, word in re.findall(r"(\d+) ([a-z][a-z ]*[a-z])", counts_text):
        word = {"warning": "warnings", "errors": "error"}.get(word, word)
        counts[word] = counts.get(word, 0) + int(number)
    return counts


def _format_counts(counts, seconds):
    order = [word for word in COUNT_ORDER if word in counts]
    order += sorted(word for word in counts if word not in COUNT_ORDER)
    words = []
    for word in order:
        n = counts[word]
        if word == "error" and n != 1:
            word = "errors"
        elif word == "warnings" and n == 1:
            word = "warning"
        words.append("%d %s" % (n, word))
    return "%s in %.2fs" % (", ".join(words) or "no tests ran", seconds)


def run_versions(versions, options, args):
    """Run this runner once per Python version, each in .venv-pyX.Y; one closing line."""
    pythons = []
    for version in versions:
        python = find_python(version)
        if python is None:
            _envs.fail("no Python %s found: looked for pyenv's %s.* (pyenv versions --bare) and "
                       "python%s on PATH" % (version, version, version))
        pythons.append((_python_version(python), python))
    step("running the suite on Python %s, one after the other"
         % ", ".join(version for version, _ in pythons))
    os.makedirs(_envs.RUN_DIR, exist_ok=True)
    results = []
    for version, python in pythons:
        summary_file = os.path.join(_envs.RUN_DIR, "summary-py%s.txt" % version)
        if os.path.exists(summary_file):
            os.remove(summary_file)
        command = [python, os.path.abspath(__file__), "--venv", ".venv-py" + version,
                   "--summary-file", summary_file]
        command += [flag for flag in ("--no-install", "--no-browser") if options.get(flag)]
        step("Python %s (%s) in .venv-py%s" % (version, python, version))
        started = time.monotonic()
        code = subprocess.call([*command, *args])
        elapsed = time.monotonic() - started
        summary = None
        if os.path.exists(summary_file):
            with open(summary_file, encoding="utf-8") as f:
                summary = f.read().strip() or None
        results.append((version, code, summary, elapsed))
    print(flush=True)
    counts, seconds, failed = {}, 0.0, 0
    for version, code, summary, elapsed in results:
        step("Python %s: %s (exit %d; %dm%02ds with setup)" % (
            version, summary or "no pytest summary", code, elapsed // 60, elapsed % 60))
        if code != 0:
            failed += 1
        if summary:
            for word, n in _parse_counts(summary).items():
                counts[word] = counts.get(word, 0) + n
            match = SUMMARY_LINE.match(summary)
            seconds += float(match.group("seconds"))
        else:
            # A run that ended before pytest's summary (a failed install, say)
            # counts as an error, so that the closing line cannot read as a pass.
            counts["error"] = counts.get("error", 0) + 1
    if failed:
        step("FAILED on Python %s" % ", ".join(v for v, code, *_ in results if code != 0))
    else:
        step("passed on Python %s" % ", ".join(v for v, *_ in results))
    # The closing line, in pytest's form, adding up every version's.
    print("=" * 20 + " " + _format_counts(counts, seconds) + " " + "=" * 20, flush=True)
    return 1 if failed else 0


def main(argv):
    signal.signal(signal.SIGTERM, _terminated)
    options, rest = _split_options(argv)
    if options["--python"]:
        if options.get("--venv"):
            _envs.fail("--python makes its own venv (.venv-pyX.Y): leave out --venv")
        return run_versions(options["--python"], options, rest)
    install = not options.get("--no-install")
    args = _pytest_args(rest)
    if options.get("--venv"):
        _envs.DEV_VENV = os.path.join(ROOT, options["--venv"])
    step("Python %s (%s), virtualenv %s" % (
        sys.version.split()[0], sys.executable, os.path.relpath(_envs.DEV_VENV, ROOT)))

    secantusd = _envs.ensure_envs(install=install,
                                  browser=install and not options.get("--no-browser"))
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
        code, summary = _run_pytest(args, env)
    finally:
        if server is not None:
            step("stopping SecantusDB")
            server.stop()

    if options.get("--summary-file") and summary:
        with open(options["--summary-file"], "w", encoding="utf-8") as f:
            f.write(summary + "\n")
    if code == PYTEST_NO_TESTS_COLLECTED:
        step("pytest collected no tests: counting that as a failure (exit 1)")
        code = 1
    else:
        step("pytest exited with %d" % code)
    if summary:
        print(summary, flush=True)  # pytest's closing line, last
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
