"""doc/install.rst works when followed literally.

Each section's ``.. code-block:: console`` runs as written, its ``$``
commands one after the other in one bash (so that ``. activate`` holds), in
a fresh home directory whose ``~/src/motor`` is a git clone of this working
tree (tracked and untracked files, as they are now), which is also the
checkout the commands run in. ``python3`` is the Python running this test
(so ``tools/run_tests.py --python X.Y`` checks the page on each version).
The lines a block shows under a command are what that command must print.
pip reaches PyPI for Motor's dependencies (and the page's ODM); its cache is
the user's, so repeated runs download little. The sections run at the same
time, each in its own home (they mostly wait on pip).

After the ``motor<4`` section, the ODM it installs (Beanie 1.x, written for
Motor 3) stores and finds a document through this Motor, against the test
server.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

from .motor_fixtures import test_uri

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INSTALL_RST = os.path.join(ROOT, "doc", "install.rst")
SECTION_TIMEOUT = 600

_SECTION = re.compile(r"^(?P<title>[^\n]+)\n-{3,}\n", re.M)
_CONSOLE = re.compile(r"^\.\. code-block:: console\n\n", re.M)


def console_blocks() -> dict:
    """{section title: [(command, [expected output lines]), ...]} of doc/install.rst."""
    with open(INSTALL_RST, encoding="utf-8") as f:
        text = f.read()
    sections = {}
    heads = list(_SECTION.finditer(text))
    for n, head in enumerate(heads):
        body = text[head.end(): heads[n + 1].start() if n + 1 < len(heads) else len(text)]
        match = _CONSOLE.search(body)
        if not match:
            continue
        lines = []
        for line in body[match.end():].splitlines():
            if line.strip() and not line.startswith("   "):
                break
            lines.append(line)
        commands = []
        for line in textwrap.dedent("\n".join(lines)).strip().splitlines():
            if line.startswith("$ "):
                commands.append((line[2:], []))
            elif line.strip():
                assert commands, f"output before any command in {head.group('title')!r}"
                commands[-1][1].append(line)
        sections[head.group("title")] = commands
    return sections


SECTIONS = console_blocks()


def test_install_page_has_the_documented_ways():
    assert list(SECTIONS) == [
        "From a checkout",
        "As a wheel",
        "From a git URL",
        "Next to a library that requires ``motor<4``",
    ]
    for title, commands in SECTIONS.items():
        assert any("pip install" in command for command, _ in commands), title
        # Each way ends by showing which Motor is installed.
        assert commands[-1][1] == [_version()], title


def _version() -> str:
    with open(os.path.join(ROOT, "motor", "_version.py"), encoding="utf-8") as f:
        return re.search(r'^version = "([^"]+)"', f.read(), re.M).group(1)


def copy_working_tree(destination) -> None:
    """Copy this checkout's files as they are now (tracked and untracked, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in listed:
        if name and os.path.isfile(os.path.join(ROOT, name)):
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(os.path.join(ROOT, name), target)


def fresh_home(tmp_path):
    """A home directory with ``~/src/motor``: a clone of this working tree, and ``python3``."""
    home = tmp_path / "home"
    checkout = home / "src" / "motor"
    copy_working_tree(checkout)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@localhost"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "working tree"]):
        subprocess.run(git + command, cwd=checkout, check=True, capture_output=True)
    # "python3" on PATH is the Python under test (its base interpreter, not .venv's).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    base = getattr(sys, "_base_executable", sys.executable)
    os.symlink(os.path.realpath(base), bin_dir / "python3")
    env = {
        key: value for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH", "PYENV_VERSION")
    }
    env.update(
        HOME=str(home),
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        PIP_CACHE_DIR=os.path.join(os.path.expanduser("~"), ".cache", "pip"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_COMPILE="1",  # no .pyc files: faster, and nothing on the page depends on them
    )
    return home, checkout, env


class Run:
    """One section run in its own fresh home: what each command printed, or how it failed."""

    def __init__(self, title: str, tmp_path):
        self.title = title
        self.home, self.checkout, self.env = fresh_home(tmp_path)
        self.python = str(self.home / "venvs" / "myapp" / "bin" / "python")
        try:
            self.stderr = run_section(title, self.home, self.checkout, self.env)
            self.failure = None
        except (AssertionError, subprocess.TimeoutExpired) as exc:
            self.failure = str(exc)

    def check(self):
        if self.failure:
            pytest.fail(self.failure)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every section, run at once (each mostly waits on pip and PyPI)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the page's checkout and git URL need it")
    with ThreadPoolExecutor(len(SECTIONS)) as pool:
        futures = {
            title: pool.submit(Run, title, tmp_path_factory.mktemp("install"))
            for title in SECTIONS
        }
        return {title: future.result() for title, future in futures.items()}


def run_section(title: str, home, checkout, env) -> str:
    """Run a section's commands in one bash; each must print what the page shows.

    Returns what the commands wrote on stderr; raises AssertionError if one
    failed or printed something else.
    """
    out_dir = home / "outputs"
    out_dir.mkdir()
    lines = ["set -e"]
    for n, (command, _) in enumerate(SECTIONS[title]):
        lines.append(f"echo {n} > {out_dir}/last")
        lines.append(f"{command} > {out_dir}/{n}.out 2> {out_dir}/{n}.err")
    result = subprocess.run(
        ["bash", "-c", "\n".join(lines)], cwd=checkout, env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=SECTION_TIMEOUT,
    )
    if result.returncode != 0:
        n = int((out_dir / "last").read_text())
        command = SECTIONS[title][n][0]
        raise AssertionError(
            f"{title!r}: `{command}` failed (exit {result.returncode}):\n"
            f"{(out_dir / f'{n}.out').read_text()[-3000:]}\n"
            f"{(out_dir / f'{n}.err').read_text()[-3000:]}"
        )
    for n, (command, expected) in enumerate(SECTIONS[title]):
        if expected:
            printed = (out_dir / f"{n}.out").read_text().strip().splitlines()
            assert printed == expected, (
                f"{title!r}: `{command}` printed {printed}, the page {expected}")
    return "\n".join((out_dir / f"{n}.err").read_text() for n in range(len(SECTIONS[title])))


@pytest.mark.parametrize("title", ["From a checkout", "As a wheel", "From a git URL"])
def test_install_way_works_as_written(title, runs):
    run = runs[title]
    run.check()
    # Installed, not run from the checkout: the package lives in the venv.
    where = subprocess.run(
        [run.python, "-c", "import motor; print(motor.__file__)"],
        cwd=str(run.home), env=run.env, capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert where.startswith(str(run.home / "venvs" / "myapp")), where
    if title == "As a wheel":
        assert (run.checkout / "dist" / f"motor-{_version()}-py3-none-any.whl").exists()


BEANIE_SMOKE = """
import asyncio, sys
from beanie import Document, init_beanie
from motor.motor_asyncio import AsyncIOMotorClient

class Note(Document):
    text: str

async def main():
    client = AsyncIOMotorClient(sys.argv[1])
    try:
        await init_beanie(database=client.test_install_docs, document_models=[Note])
        await Note(text="hello").insert()
        found = await Note.find_one(Note.text == "hello")
        print(found.text)
    finally:
        await client.drop_database("test_install_docs")
        client.close()

asyncio.run(main())
"""


def test_motor_stays_installed_next_to_a_library_that_requires_motor_3(runs):
    run = runs["Next to a library that requires ``motor<4``"]
    run.check()
    # pip says what the page says it says.
    assert "requires motor<4.0.0,>=2.5.0, but you have motor 4.0.0.dev0" in run.stderr, run.stderr
    python, env = run.python, run.env
    smoke = subprocess.run(
        [python, "-c", BEANIE_SMOKE, test_uri()], cwd=str(run.home), env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert smoke.returncode == 0 and smoke.stdout == "hello\n", smoke.stdout + smoke.stderr
    # The page's upgrade advice keeps this Motor.
    upgrade = subprocess.run(
        [python, "-m", "pip", "install", "--upgrade", "--no-deps", "beanie<2"],
        env=env, capture_output=True, text=True, timeout=SECTION_TIMEOUT,
    )
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    version = subprocess.run(
        [python, "-c", "import motor; print(motor.version)"], cwd=str(run.home), env=env,
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert version == _version()
