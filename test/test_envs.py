"""The test runner's venv bookkeeping (tools/_envs.py): what it does to a venv
it finds, so that an interrupted run never leaves one it then trusts."""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import _envs  # noqa: E402


def _fake_venv(tmp_path, with_pip):
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    if with_pip:
        (bin_dir / "pip").write_text("")
    return str(tmp_path / "venv")


def test_a_venv_interrupted_before_pip_is_created_again(tmp_path):
    # `python -m venv` killed after linking the interpreter, before pip.
    venv = _fake_venv(tmp_path, with_pip=False)
    assert _envs._venv_state(venv, "stamp") == "create"


def test_a_venv_with_pip_and_its_stamp_is_up_to_date(tmp_path):
    venv = _fake_venv(tmp_path, with_pip=True)
    assert _envs._venv_state(venv, "stamp") == "update"  # no stamp yet
    with open(os.path.join(venv, _envs.STAMP_NAME), "w") as f:
        f.write("stamp")
    assert _envs._venv_state(venv, "stamp") is None
    assert _envs._venv_state(venv, "another stamp") == "update"
