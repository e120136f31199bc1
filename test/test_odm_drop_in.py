"""doc/migrating-from-motor3.rst, followed literally; the ODMs it installs run on this Motor.

Each section of the page with ``.. code-block:: console`` blocks runs them
as written, all of a section's blocks in order in one bash (so that
``. activate`` and ``cd ~`` hold), in a home directory of its own, from a
copy of this working tree (tracked and untracked files, as they are now).
``python3`` is the base interpreter of the Python running this test. The
lines a block shows under a command are what that command must print. pip
reaches PyPI; its cache is the user's. The sections run at the same time
(they mostly wait on pip).

Then each ODM the page installs works through this Motor against the test
server (``MOTOR_TEST_URI``): Beanie 1.x (written for Motor 3 and requiring
``motor<4``) and ODMantic, each in the virtualenv the page made.

Speed: installing the ODM (or Motor 3.7.1) from PyPI takes most of a
section's time. Measured on this 2-core machine under other work: 190 to 210
s a section from PyPI (240 s for the module), 45 to 110 s with the saved
virtualenv below (70 to 165 s for the module). Each section's home is kept under
``.test-run/odm-drop-in/`` and the virtualenv is saved as it was just before
the page's first ``pip install .``, keyed on the Python and the commands
before it (and at most a week old). A later run puts the saved virtualenv
back and runs every command as written: the ODM's install then finds its
requirements satisfied without downloading, and this Motor's install, the
step under test, runs in full.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from .motor_fixtures import test_uri

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(ROOT, "doc", "migrating-from-motor3.rst")
CACHE = os.path.join(ROOT, ".test-run", "odm-drop-in")
CACHE_MAX_AGE = 7 * 24 * 3600
SECTION_TIMEOUT = 600
SMOKE_TIMEOUT = 120
PYPI = "https://pypi.org/simple/"

_HEADING = re.compile(r"^(?P<title>\S[^\n]*)\n(?P<underline>[-~=^]{3,})\n", re.M)
_CONSOLE = re.compile(r"^\.\. code-block:: console\n\n", re.M)
# The page's step that installs this Motor from the checkout.
_INSTALL_THIS_MOTOR = "python -m pip install ."


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def _console_block(body: str) -> list:
    """[(command, [expected output lines]), ...] of the console block ``body`` starts with."""
    lines = []
    for line in body.splitlines():
        if line.strip() and not line.startswith("   "):
            break
        lines.append(line)
    commands: list = []
    for line in textwrap.dedent("\n".join(lines)).strip().splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif line.strip():
            assert commands, f"output before any command in {body[:60]!r}"
            commands[-1][1].append(line)
    return commands


def console_sections() -> dict:
    """{section title: [(command, [expected lines]), ...]}: every console block, by heading."""
    text = _read(PAGE)
    heads = list(_HEADING.finditer(text))
    sections = {}
    for n, head in enumerate(heads):
        body = text[head.end(): heads[n + 1].start() if n + 1 < len(heads) else len(text)]
        commands = []
        for match in _CONSOLE.finditer(body):
            commands += _console_block(body[match.end():])
        if commands:
            sections[head.group("title")] = commands
    return sections


SECTIONS = console_sections()
SWITCHING = "Switching"
BEANIE = "Beanie 1.x"
ODMANTIC = "ODMantic and other libraries without an upper bound"


def _version() -> str:
    found = re.search(r'^version = "([^"]+)"', _read(os.path.join(ROOT, "motor", "_version.py")),
                      re.M)
    assert found, "motor/_version.py has no version line"
    return found.group(1)


def test_page_shows_how_to_switch_and_how_to_install_under_an_odm():
    assert list(SECTIONS) == [SWITCHING, BEANIE, ODMANTIC]
    for title, commands in SECTIONS.items():
        assert (_INSTALL_THIS_MOTOR, []) in commands, title
    # Switching ends by going back to Motor 3.7.1; the ODM sections show this Motor installed.
    assert SECTIONS[SWITCHING][-1][1] == ["3.7.1"]
    assert [expected for _, expected in SECTIONS[SWITCHING] if expected][0] == [_version()]
    assert SECTIONS[BEANIE][-1][1] == [_version()]
    assert SECTIONS[ODMANTIC][-1][1] == [_version()]


# --- running a section --------------------------------------------------------


def _base_python() -> str:
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


def copy_working_tree(destination: str) -> None:
    """Copy this checkout's files as they are now (tracked and untracked, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in listed:
        source = os.path.join(ROOT, name)
        if name and os.path.isfile(source):
            target = os.path.join(destination, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(source, target)


class Section:
    """One section, run as written in its own home under .test-run/odm-drop-in/.

    ``stderr`` holds what each command wrote on stderr, ``failure`` how the
    run failed (or None), ``cached`` whether the saved virtualenv was used,
    ``seconds`` how long the commands took.
    """

    def __init__(self, title: str, tmp_path) -> None:
        self.title = title
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        self.dir = os.path.join(CACHE, slug)
        self.home = os.path.join(self.dir, "home")
        self.venv = os.path.join(self.home, "venvs", "myapp")
        self.python = os.path.join(self.venv, "bin", "python")
        self.checkout = str(tmp_path / "motor")
        self.commands = SECTIONS[title]
        self.stderr = ""
        self.failure: str | None = None
        self.cached = False
        self.seconds = 0.0
        os.makedirs(self.dir, exist_ok=True)
        # Two test runs at once must not share a home.
        self._lock = open(os.path.join(self.dir, "lock"), "w")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        copy_working_tree(self.checkout)
        # Kept with the home: the virtualenv's python3 links to this python3.
        bin_dir = os.path.join(self.dir, "bin")
        os.makedirs(bin_dir, exist_ok=True)
        link = os.path.join(bin_dir, "python3")
        if not os.path.islink(link) or os.readlink(link) != _base_python():
            if os.path.lexists(link):
                os.remove(link)
            os.symlink(_base_python(), link)
        self.env = {
            key: value for key, value in os.environ.items()
            if key not in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH", "PYENV_VERSION")
        }
        self.env.update(
            HOME=self.home,
            PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            PIP_CACHE_DIR=os.path.join(os.path.expanduser("~"), ".cache", "pip"),
            PIP_DISABLE_PIP_VERSION_CHECK="1",
        )

    def release(self) -> None:
        self._lock.close()

    def _saved_venv(self) -> str | None:
        """Where the virtualenv before this Motor's install is kept, keyed on what made it.

        None if the section does not install this Motor from the checkout
        (test_page_shows_how_to_switch_and_how_to_install_under_an_odm fails then).
        """
        if (_INSTALL_THIS_MOTOR, []) not in self.commands:
            return None
        before = self.commands[: self.commands.index((_INSTALL_THIS_MOTOR, []))]
        key = hashlib.sha256(
            repr((_base_python(), sys.version, before)).encode()).hexdigest()[:16]
        return os.path.join(self.dir, f"venv-before-motor-{key}")

    def run(self) -> None:
        saved = self._saved_venv()
        ready = os.path.join(saved, ".complete") if saved else ""
        fresh = bool(saved) and os.path.exists(ready) and (
            time.time() - os.path.getmtime(ready) < CACHE_MAX_AGE)
        # Each run starts from a new home; only a fresh saved virtualenv is kept.
        for name in os.listdir(self.dir):
            path = os.path.join(self.dir, name)
            if name in ("home", "outputs") or (
                    name.startswith("venv-before-motor-") and not (fresh and path == saved)):
                shutil.rmtree(path)
        os.makedirs(self.home)
        if fresh and saved:
            shutil.copytree(saved, self.venv, symlinks=True,
                            ignore=shutil.ignore_patterns(".complete"))
            self.cached = True
        out_dir = os.path.join(self.dir, "outputs")
        os.makedirs(out_dir)
        lines = ["set -e"]
        for n, (command, _) in enumerate(self.commands):
            if command == _INSTALL_THIS_MOTOR and saved and not fresh:
                # Save the virtualenv as the ODM left it (not a step of the page).
                lines.append(
                    f"cp -a {self.venv} {saved} && touch {ready}")
            lines.append(f"echo {n} > {out_dir}/last")
            lines.append(f"{command} > {out_dir}/{n}.out 2> {out_dir}/{n}.err")
        start = time.monotonic()
        try:
            result = subprocess.run(
                ["bash", "-c", "\n".join(lines)], cwd=self.checkout, env=self.env,
                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=SECTION_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            self.failure = f"{self.title!r}: not done after {SECTION_TIMEOUT} s"
            return
        finally:
            self.seconds = time.monotonic() - start
        if result.returncode != 0:
            n = int(_read(os.path.join(out_dir, "last")))
            self.failure = (
                f"{self.title!r}: `{self.commands[n][0]}` failed (exit {result.returncode}):\n"
                f"{_read(os.path.join(out_dir, f'{n}.out'))[-3000:]}\n"
                f"{_read(os.path.join(out_dir, f'{n}.err'))[-3000:]}\n{result.stderr}"
            )
            return
        errs = []
        for n, (command, expected) in enumerate(self.commands):
            errs.append(_read(os.path.join(out_dir, f"{n}.err")))
            if expected:
                printed = _read(os.path.join(out_dir, f"{n}.out")).strip().splitlines()
                if printed != expected:
                    self.failure = (
                        f"{self.title!r}: `{command}` printed {printed}, the page {expected}")
                    return
        self.stderr = "\n".join(errs)

    def check(self) -> None:
        if self.failure:
            pytest.fail(self.failure, pytrace=False)

    def python_run(self, *args: str, timeout: float = SMOKE_TIMEOUT) -> subprocess.CompletedProcess:
        """Run the section's virtualenv's Python, from the home directory (not the checkout)."""
        return subprocess.run(
            [self.python, *args], cwd=self.home, env=self.env, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=timeout,
        )


def _pypi_unreachable():
    """Why PyPI cannot be reached, or None when it answers."""
    try:
        with urllib.request.urlopen(PYPI + "beanie/", timeout=20) as response:
            response.read(1)
    except (urllib.error.URLError, OSError) as exc:
        return f"{exc}"
    return None


@pytest.fixture(scope="module")
def sections(tmp_path_factory):
    """Every section, run at once (each mostly waits on pip and PyPI)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the page's checkout is a copy made with git ls-files")
    why = _pypi_unreachable()
    if why:
        pytest.skip(f"PyPI ({PYPI}) cannot be reached ({why}): the page's commands install from it")
    runs = {title: Section(title, tmp_path_factory.mktemp("odm")) for title in SECTIONS}
    try:
        with ThreadPoolExecutor(len(runs)) as pool:
            list(pool.map(Section.run, runs.values()))
        for run in runs.values():
            print(f"{run.title!r}: {run.seconds:.1f} s"
                  f" ({'saved virtualenv' if run.cached else 'from PyPI'})")
        yield runs
    finally:
        for run in runs.values():
            run.release()


# --- the sections' claims -----------------------------------------------------


@pytest.mark.timeout(SECTION_TIMEOUT + 120)
def test_switching_replaces_motor_3_and_going_back_restores_it(sections):
    run = sections[SWITCHING]
    run.check()
    # The page: pip uninstalls Motor 3.7.1 for this Motor, and going back keeps PyMongo 4.20.
    n = run.commands.index((_INSTALL_THIS_MOTOR, []))
    assert "Successfully uninstalled motor-3.7.1" in _read(
        os.path.join(run.dir, "outputs", f"{n}.out"))
    pymongo_version = run.python_run("-c", "import pymongo; print(pymongo.version)")
    assert pymongo_version.stdout.startswith("4.20."), pymongo_version


BEANIE_SMOKE = """
import asyncio, sys
from typing import Optional

from beanie import Document, init_beanie
from beanie.operators import Inc, Set
import motor
from motor.motor_asyncio import AsyncIOMotorClient


class Note(Document):
    text: str
    votes: int = 0
    tag: Optional[str] = None

    class Settings:
        name = "notes"


async def main(uri):
    client = AsyncIOMotorClient(uri)
    try:
        await init_beanie(database=client.test_odm_drop_in, document_models=[Note])
        first = await Note(text="hello").insert()
        await Note.insert_many([Note(text="a", votes=1), Note(text="b", votes=2)])
        found = await Note.get(first.id)
        assert found.text == "hello", found
        # Update: a document's save(), and update operators on a query.
        found.tag = "greeting"
        await found.save()
        await Note.find(Note.votes >= 1).update(Inc({Note.votes: 10}))
        await Note.find_one(Note.text == "a").update(Set({Note.tag: "letter"}))
        notes = await Note.find_all().sort(+Note.votes).to_list()
        print([(n.text, n.votes, n.tag) for n in notes])
        total = await Note.find(Note.votes > 0).aggregate(
            [{"$group": {"_id": None, "votes": {"$sum": "$votes"}}}]).to_list()
        print(total[0]["votes"], await Note.count())
        await found.delete()
        await Note.find(Note.votes > 11).delete()
        print([n.text async for n in Note.find_all()])
        print(motor.version, type(client).__module__)
    finally:
        await client.drop_database("test_odm_drop_in")
        client.close()


asyncio.run(main(sys.argv[1]))
"""


@pytest.mark.timeout(SECTION_TIMEOUT + 120)
def test_beanie_1_runs_on_this_motor_after_the_page_installed_it(sections):
    run = sections[BEANIE]
    run.check()
    # pip says what the page says it says, and still exits with success.
    conflict = re.search(r"^beanie (1\.\S+) requires motor<4\.0\.0,>=2\.5\.0, but you have motor "
                         + re.escape(_version()) + " which is incompatible.$", run.stderr, re.M)
    assert conflict, run.stderr
    page = _read(PAGE)
    assert conflict.group(0) in page.replace("beanie 1.30.0", f"beanie {conflict.group(1)}"), (
        f"the page does not quote what pip printed: {conflict.group(0)!r}")
    # "python -m pip check keeps reporting it."
    check = run.python_run("-m", "pip", "check")
    assert check.returncode == 1, check
    assert re.search(r"^beanie 1\.\S+ has requirement motor<4\.0\.0,>=2\.5\.0, but you have "
                     r"motor " + re.escape(_version()), check.stdout, re.M), check.stdout
    # "installing both at once fails with ResolutionImpossible, and a
    # constraints file does not help".
    constraints = os.path.join(run.home, "constraints.txt")
    with open(constraints, "w", encoding="utf-8") as f:
        f.write(f"motor=={_version()}\n")
    dry_runs = {
        "both": ["beanie<2", run.checkout],
        "both, constrained": ["-c", constraints, "beanie<2", run.checkout],
        # The page's advice on upgrading the library: --upgrade alone would
        # bring Motor 3.7.1 back; with --no-deps this Motor stays.
        "upgrade": ["--upgrade", "beanie<2"],
        "upgrade, no deps": ["--upgrade", "--no-deps", "beanie<2"],
    }
    with ThreadPoolExecutor(len(dry_runs)) as pool:  # each mostly waits on PyPI
        futures = {
            name: pool.submit(run.python_run, "-m", "pip", "install", "--dry-run", *args,
                              timeout=SECTION_TIMEOUT)
            for name, args in dry_runs.items()
        }
        done = {name: future.result() for name, future in futures.items()}
    for name in ("both", "both, constrained"):
        assert done[name].returncode != 0 and "ResolutionImpossible" in done[name].stderr, (
            name, done[name])
    assert re.search(r"^Would install .*\bmotor-3\.7\.1\b", done["upgrade"].stdout, re.M), (
        done["upgrade"])
    keep = done["upgrade, no deps"]
    assert keep.returncode == 0 and "motor-" not in keep.stdout, keep
    smoke = run.python_run("-W", "error::ResourceWarning", "-c", BEANIE_SMOKE, test_uri())
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert smoke.stdout.splitlines() == [
        "[('hello', 0, 'greeting'), ('a', 11, 'letter'), ('b', 12, None)]",
        "23 3",
        "['a']",
        f"{_version()} motor.motor_asyncio",
    ], smoke.stdout + smoke.stderr


ODMANTIC_SMOKE = """
import asyncio, sys

from odmantic import AIOEngine, Model
import motor
from motor.motor_asyncio import AsyncIOMotorClient


class Tree(Model):
    name: str
    height: float


async def main(uri):
    client = AsyncIOMotorClient(uri)
    engine = AIOEngine(client=client, database="test_odm_drop_in_odmantic")
    try:
        oak = await engine.save(Tree(name="oak", height=12.5))
        await engine.save_all([Tree(name="elm", height=20), Tree(name="ash", height=8)])
        found = await engine.find_one(Tree, Tree.name == "oak")
        found.height = 13.0
        await engine.save(found)
        print((await engine.find_one(Tree, Tree.id == oak.id)).height)
        await engine.save(Tree(name="fir", height=30))
        print([t.name for t in await engine.find(Tree, Tree.height > 10, sort=Tree.height)])
        await engine.delete(found)
        await engine.remove(Tree, Tree.height < 10)
        print(sorted(t.name for t in await engine.find(Tree)), await engine.count(Tree))
        print(motor.version)
    finally:
        await client.drop_database("test_odm_drop_in_odmantic")
        client.close()


asyncio.run(main(sys.argv[1]))
"""


@pytest.mark.timeout(SECTION_TIMEOUT + 120)
def test_odmantic_runs_on_this_motor_without_a_conflict(sections):
    run = sections[ODMANTIC]
    run.check()
    assert "incompatible" not in run.stderr, run.stderr
    smoke = run.python_run("-W", "error::ResourceWarning", "-c", ODMANTIC_SMOKE, test_uri())
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert smoke.stdout.splitlines() == [
        "13.0",
        "['oak', 'elm', 'fir']",
        "['elm', 'fir'] 2",
        _version(),
    ], smoke.stdout + smoke.stderr
