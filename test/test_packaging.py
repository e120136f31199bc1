"""Packaging metadata lives in pyproject.toml, and every claim about Python
versions agrees with it.

- pyproject.toml declares its build backend and PEP 621 metadata; setup.py
  adds none of its own.
- The supported versions are requires-python's minimum up to the newest
  per-version classifier, and the same range is what tox runs, what CI runs
  (its oldest and newest), what tools/_envs.py refuses below, and what
  README.rst, doc/index.rst and doc/install.rst say.
- A wheel built from the checkout carries that metadata and the package data.
"""

from __future__ import annotations

import ast
import configparser
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile

import pytest

from .test_install_docs import copy_working_tree

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _read(*parts: str) -> str:
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return f.read()


PYPROJECT = tomllib.loads(_read("pyproject.toml"))
PROJECT = PYPROJECT["project"]


def supported() -> list:
    """["3.11", "3.12", "3.13"]: the per-version classifiers."""
    prefix = "Programming Language :: Python :: "
    versions = [c[len(prefix):] for c in PROJECT["classifiers"]
                if re.fullmatch(re.escape(prefix) + r"3\.\d+", c)]
    return sorted(versions, key=lambda v: int(v.split(".")[1]))


def test_pyproject_declares_the_build_backend_and_the_metadata():
    assert PYPROJECT["build-system"]["build-backend"] == "setuptools.build_meta"
    assert any(r.startswith("setuptools") for r in PYPROJECT["build-system"]["requires"])
    assert PROJECT["name"] == "motor"
    assert PROJECT["dynamic"] == ["version"]
    setuptools = PYPROJECT["tool"]["setuptools"]
    assert setuptools["dynamic"]["version"] == {"attr": "motor._version.version"}
    assert set(PROJECT["dependencies"]) == {
        "pymongo>=4.20,<4.21", "greenlet>=3.0", "tornado>=6.0,<7"}
    assert set(PROJECT["optional-dependencies"]) == {"encryption", "aiohttp"}
    assert PROJECT["urls"]
    assert "Typing :: Typed" in PROJECT["classifiers"]  # motor/py.typed ships
    assert setuptools["package-data"]["motor"] == ["py.typed", "*.pyi", "**/*.pyi"]


def test_setup_py_only_calls_setup():
    tree = ast.parse(_read("setup.py"))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    assert [ast.unparse(call) for call in calls] == ["setup()"]


def test_every_claim_of_the_python_versions_agrees():
    versions = supported()
    oldest, newest = versions[0], versions[-1]
    assert versions == [f"3.{n}" for n in range(int(oldest[2:]), int(newest[2:]) + 1)]
    assert PROJECT["requires-python"] == f">={oldest}"

    tox = configparser.ConfigParser()
    tox.read_string(_read("tox.ini"))
    envs = [env.strip() for env in tox["tox"]["envlist"].split(",")]
    assert envs == ["py" + v.replace(".", "") for v in versions]

    ci = _read(".ci", "run")
    assert re.findall(r"--python (\S+)", ci) == [oldest, newest]

    envs_source = _read("tools", "_envs.py")
    assert f"MIN_PYTHON = ({oldest.replace('.', ', ')})" in envs_source

    listed = ", ".join(versions[:-1]) + " or " + newest
    for page in (("README.rst",), ("doc", "index.rst"), ("doc", "install.rst")):
        text = " ".join(_read(*page).split())
        assert f"CPython {listed}" in text, f"{os.path.join(*page)} does not say 'CPython {listed}'"
        stale = re.findall(r"\b3\.(?:[0-9]|10)\+|Python 3\.(?:[0-9]|10)\b(?! or)", text)
        assert not stale, f"{os.path.join(*page)}: {stale}"


def test_running_python_is_supported():
    assert "%d.%d" % sys.version_info[:2] in supported()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    # Build from a copy: pip builds in the source tree (build/, *.egg-info).
    if shutil.which("git") is None:
        pytest.skip("git is not installed: it lists the checkout's files to build from")
    source = out / "src"
    copy_working_tree(source)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (path,) = out.glob("motor-*.whl")
    return path


def test_wheel_carries_the_metadata(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = archive.read(metadata_name).decode()
    assert f"Requires-Python: {PROJECT['requires-python']}" in metadata
    for version in supported():
        assert f"Classifier: Programming Language :: Python :: {version}" in metadata
    assert "Requires-Dist: pymongo<4.21,>=4.20" in metadata
    assert 'Provides-Extra: encryption' in metadata and 'Provides-Extra: aiohttp' in metadata
    assert "Project-URL: " in metadata
    assert "motor/__init__.py" in names
    stubs = [n for n in names if n.endswith(".pyi")]
    on_disk = []
    for directory, _, files in os.walk(os.path.join(ROOT, "motor")):
        on_disk += [os.path.relpath(os.path.join(directory, f), ROOT)
                    for f in files if f.endswith(".pyi")]
    assert sorted(stubs) == sorted(on_disk)
    assert "motor/py.typed" in names
