"""The documentation: it builds without warnings, and its examples run.

- ``sphinx-build -W -b html doc <tmp>`` must succeed: any warning fails it.
- The API reference shows, for every asynchronous method, its ``callback``
  parameter and that it returns a Future without one.
- ``sphinx-build -W -b doctest doc <tmp>`` runs every ``.. doctest::`` and
  ``.. testcode::`` example against the test server (``doc/docs_harness.py``
  sets them up), and the authentication examples against a SecantusDB with
  ``--auth`` started here.
- The examples the docs show without running them (``.. code-block::``)
  must at least be valid Python 3, and the methods named in the table of
  spec-era methods and their modern equivalents must exist.
- README.rst's examples run: test_examples_warning_free.py, warning-free.

Sphinx runs in a subprocess (it keeps global state); the loop is not running
meanwhile.
"""

from __future__ import annotations

import html
import inspect
import os
import re
import subprocess
import sys
import textwrap

import pytest

import motor
import motor.motor_asyncio
import motor.web

from .motor_fixtures import test_uri
from .servers import ServerStartError
from .spec_examples.auth_server import available as auth_server_available
from .spec_examples.auth_server import start_auth_server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "doc")
SPHINX_TIMEOUT = 900


def sphinx_build(builder: str, out_dir: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", builder, DOC, out_dir],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SPHINX_TIMEOUT,
    )


def report(result: subprocess.CompletedProcess) -> str:
    return f"exit code {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"


# -- the HTML build ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def html_dir(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("docs-html"))
    result = sphinx_build("html", out)
    return out, result


def test_html_builds_without_warnings(html_dir):
    out, result = html_dir
    assert result.returncode == 0, report(result)
    assert "warning" not in result.stderr.lower(), report(result)
    for page in ("index", "tutorial", "differences", "migration", "api/motor_collection"):
        assert os.path.exists(os.path.join(out, page + ".html")), page


def _documented_classes() -> list:
    names = sorted(set(motor.__all__) | {"MotorReplicaSetClient"})
    classes = [getattr(motor, name, None) for name in names]
    return [cls for cls in classes if inspect.isclass(cls) and not issubclass(cls, BaseException)]


# Methods that take a callback but return no Future, as the spec says of each().
NO_FUTURE = {"each"}


def _takes_callback(function) -> bool:
    try:
        return "callback" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def _html_entries(out: str) -> dict:
    """``{"motor.MotorCollection.insert": (signature text, whole entry text)}``."""
    entries = {}
    api_dir = os.path.join(out, "api")
    for name in os.listdir(api_dir):
        if not name.endswith(".html"):
            continue
        with open(os.path.join(api_dir, name), encoding="utf-8") as f:
            page = f.read()
        pieces = re.split(r'<dt class="sig sig-object py" id="', page)
        for piece in pieces[1:]:
            object_id, _, rest = piece.partition('"')
            signature, _, body = rest.partition("</dt>")
            entries[object_id] = (_text(signature), _text(signature + body))
    return entries


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def test_api_reference_shows_callback_and_future_for_every_async_method(html_dir):
    out, result = html_dir
    assert result.returncode == 0, report(result)
    entries = _html_entries(out)
    missing, without_callback, without_future = [], [], []
    checked = 0
    for cls in _documented_classes():
        for name in dir(cls):
            if name.startswith("_"):
                continue
            attribute = inspect.getattr_static(cls, name, None)
            function = getattr(cls, name, None)
            if isinstance(attribute, property) or not callable(function) or inspect.isclass(function):
                continue
            if not _takes_callback(function):
                continue
            checked += 1
            object_id = f"motor.{cls.__name__}.{name}"
            if object_id not in entries:
                missing.append(object_id)
                continue
            signature, entry = entries[object_id]
            if "callback" not in signature:
                without_callback.append(object_id)
            if "Future" not in entry and name not in NO_FUTURE:
                without_future.append(object_id)
    assert checked > 100
    assert not missing, f"asynchronous methods missing from the API reference: {missing}"
    assert not without_callback, f"signatures without callback: {without_callback}"
    assert not without_future, f"entries not saying they return a Future: {without_future}"


# -- the examples ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def auth_port(tmp_path_factory):
    """The port of a SecantusDB with --auth for the docs' authentication examples, or None."""
    if not auth_server_available():
        yield None
        return
    try:
        server = start_auth_server(str(tmp_path_factory.mktemp("docs-auth-data")))
    except ServerStartError as exc:
        pytest.fail(f"could not start SecantusDB with --auth: {exc}")
    yield server.port
    server.stop()


@pytest.mark.timeout_seconds(SPHINX_TIMEOUT)
def test_doc_examples_run(tmp_path, auth_port):
    env = dict(os.environ, MOTOR_TEST_URI=test_uri())
    if auth_port is not None:
        env["MOTOR_DOCS_AUTH_PORT"] = str(auth_port)
    result = sphinx_build("doctest", str(tmp_path), env)
    output_file = tmp_path / "output.txt"
    summary = output_file.read_text() if output_file.exists() else ""
    assert result.returncode == 0, report(result) + "\n--- output.txt ---\n" + summary
    totals = re.search(r"(\d+) tests?\s*\n\s*0 failures in tests", summary)
    assert "0 failures in tests" in summary and "0 failures in setup code" in summary, summary
    assert totals is None or int(totals.group(1)) > 0
    if auth_port is not None:
        assert "examples/authentication" in summary and "skipped" not in summary.split(
            "examples/authentication"
        )[1].split("Document:")[0], summary


# -- what the docs show without running -------------------------------------------------------


# At the start of a line, or in a table cell ("   * - .. code-block:: python").
_CODE_BLOCK = re.compile(
    r"^(?P<indent>[ ]*(?:\* )?(?:- )?)\.\. code-block:: (?P<lang>python|pycon)\s*\n", re.M
)


def _code_blocks(path: str) -> list:
    """(line, language, code) of each ``.. code-block:: python|pycon`` of an RST file."""
    with open(path, encoding="utf-8") as f:
        return _code_blocks_in(f.read())


def _code_blocks_in(text: str) -> list:
    blocks = []
    for match in _CODE_BLOCK.finditer(text):
        indent = len(match.group("indent"))
        lines = text[match.end():].splitlines()
        body = []
        for line in lines:
            if line.strip() and (len(line) - len(line.lstrip())) <= indent:
                break
            body.append(line)
        code = textwrap.dedent("\n".join(body)).strip("\n")
        line_number = text[: match.start()].count("\n") + 1
        blocks.append((line_number, match.group("lang"), code))
    return blocks


def _rst_files() -> list:
    found = [os.path.join(ROOT, "README.rst")]
    for directory, _, names in os.walk(DOC):
        found += [os.path.join(directory, n) for n in names if n.endswith(".rst")]
    return sorted(found)


def test_shown_code_is_valid_python_3():
    errors, count = [], 0
    for path in _rst_files():
        for line, language, code in _code_blocks(path):
            if language == "pycon":
                code = "\n".join(
                    source[4:] for source in code.splitlines() if source.startswith((">>> ", "... "))
                )
            count += 1
            try:
                compile(code, f"{os.path.relpath(path, ROOT)}:{line}", "exec")
            except SyntaxError as exc:
                errors.append(f"{os.path.relpath(path, ROOT)}:{line}: {exc}")
    assert count > 10
    assert not errors, "\n".join(errors)


# -- the table of spec-era methods and their modern equivalents --------------------------------


def _migration_rows() -> list:
    """(left cell, right cell) of each row of doc/migration.rst's list-tables."""
    with open(os.path.join(DOC, "migration.rst"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    rows, cells = [], None
    for line in lines:
        if line.startswith("   * - "):
            if cells:
                rows.append(cells)
            cells = [line[7:]]
        elif line.startswith("     - ") and cells is not None:
            cells.append(line[7:])
        elif line.startswith("       ") and cells:
            cells[-1] += " " + line.strip()
        elif line.strip() and not line.startswith(" ") and cells:
            rows.append(cells)
            cells = None
    if cells:
        rows.append(cells)
    return [tuple(row) for row in rows if not row[0].startswith("Spec-era")]


def test_migration_table_names_methods_that_exist():
    rows = _migration_rows()
    assert len(rows) > 40
    problems = []
    for left, right in rows:
        spec_names = re.findall(r"``(Motor\w+)\.(\w+)", left)
        for class_name, attribute in spec_names:
            cls = getattr(motor, class_name, None)
            if cls is None or not hasattr(cls, attribute):
                # Documented as gone (is_locked, tail): the table says so.
                if "gone since" not in left:
                    problems.append(f"motor.{class_name} has no {attribute!r} ({left})")
        if "``motor.Op(" in left and not hasattr(motor, "Op"):
            problems.append("motor has no Op")
        if not spec_names:
            continue
        if right.startswith("None"):
            continue  # no equivalent method: the cell says what to do instead
        modern_class = spec_names[0][0].replace("ReplicaSetClient", "Client")
        modern = getattr(motor.motor_asyncio, "AsyncIO" + modern_class)
        for method in re.findall(r"``(\w+)\(", right):
            if not hasattr(modern, method):
                problems.append(f"{modern.__name__} has no {method!r} ({right})")
    assert not problems, "\n".join(problems)


# README.rst's examples, and the documentation's other complete programs, run in
# test_examples_warning_free.py (python -X dev -W error, in a fresh interpreter).
