"""A tox plugin of this project: tox finds pyenv's Pythons too.

tox looks for python3.12 (for py312) on PATH; pyenv's shim there answers only
for the versions pyenv has selected. This names the newest installed 3.11.*,
3.12.* and 3.13.* in PYENV_VERSION (after any already there) so that the
shims answer, and tox.ini passes PYENV_VERSION and PYENV_ROOT on.
"""

import os
import re
import shutil
import subprocess

from tox.plugin import impl

SUPPORTED = ("3.11", "3.12", "3.13")  # pyproject.toml's classifiers


@impl
def tox_add_option(parser):
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return
    listed = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True)
    selected = os.environ.get("PYENV_VERSION") or subprocess.run(
        [pyenv, "version-name"], capture_output=True, text=True).stdout.strip()
    chosen = [v for v in selected.split(":") if v]
    for minor in SUPPORTED:
        found = [v for v in listed.stdout.split() if re.fullmatch(re.escape(minor) + r"\.\d+", v)]
        if found:
            chosen.append(max(found, key=lambda v: int(v.rsplit(".", 1)[1])))
    if chosen:
        os.environ["PYENV_VERSION"] = ":".join(dict.fromkeys(chosen))
