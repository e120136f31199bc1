"""The standalone examples run, warning-free, on this Python.

Each complete program shown in README.rst, doc/index.rst and motor's module
docstring (a Python block that starts with an import) runs in a fresh
interpreter under ``python -X dev -W error``: any warning (a deprecation, an
unclosed client, a never-awaited coroutine) is an error. It must exit 0,
print nothing on stderr, and print what the page says. The examples name
``localhost:27017`` or nothing; here both mean the test server.

``tools/run_tests.py --python X.Y`` (tox, CI) runs this on each supported
Python, so a pattern that warns only on newer ones (``IOLoop.current()``
with no loop running: "There is no current event loop" on 3.12 and later)
fails there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

import motor

from .motor_fixtures import sync_client, test_uri
from .test_docs import _code_blocks_in

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_URI = "mongodb://localhost:27017"

# Runs one example as __main__, its MotorClient() defaulting to the test server.
PRELUDE = """
import sys
import pymongo
pymongo.MongoClient.HOST = sys.argv[1]
code, name = sys.argv[2], sys.argv[3]
exec(compile(code, name, "exec"), {"__name__": "__main__"})
"""


def _standalone_blocks(path: str) -> list:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return [
        (f"{os.path.relpath(path, ROOT)}:{line}", code)
        for line, language, code in _code_blocks_in(text)
        if language == "python" and code.startswith(("import ", "from "))
    ]


def _docstring_example() -> tuple:
    doc = motor.__doc__
    start = doc.index("::\n\n") + 4
    lines = []
    for line in doc[start:].splitlines():
        if line.strip() and not line.startswith("    "):
            break
        lines.append(line[4:])
    return ("motor/__init__.py docstring", "\n".join(lines).strip() + "\n")


def examples() -> list:
    found = _standalone_blocks(os.path.join(ROOT, "README.rst"))
    found += _standalone_blocks(os.path.join(ROOT, "doc", "index.rst"))
    found.append(_docstring_example())
    return found


EXAMPLES = examples()


def test_every_standalone_example_is_collected():
    # README: the "Use" example and both sides of the spec-era/modern table.
    names = [name for name, _ in EXAMPLES]
    assert sum(name.startswith("README.rst") for name in names) == 3, names
    assert sum(name.startswith("doc/index.rst") for name in names) == 1, names
    assert names[-1] == "motor/__init__.py docstring"


def _expected_output(name: str) -> str:
    if name == "motor/__init__.py docstring":
        return r"\{'_id': ObjectId\('[0-9a-f]{24}'\), 'x': 1\}\n"
    return "hello\n"


@pytest.fixture
def clean_test_database():
    with sync_client() as client:
        client.drop_database("test")
    yield
    with sync_client() as client:
        client.drop_database("test")


@pytest.mark.parametrize("name,code", EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_example_runs_warning_free(name, code, clean_test_database):
    assert DEFAULT_URI in code or "MotorClient()" in code, name
    code = code.replace(f'"{DEFAULT_URI}"', repr(test_uri()))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    result = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", PRELUDE, test_uri(), code, name],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )
    report = (f"{name}: exit {result.returncode}\n--- stdout ---\n{result.stdout}\n"
              f"--- stderr ---\n{result.stderr}")
    assert result.returncode == 0, report
    assert result.stderr == "", report
    assert re.fullmatch(_expected_output(name), result.stdout), report
