"""Sphinx configuration for Motor's documentation."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

from motor._version import version as release  # noqa: E402

project = "Motor"
author = "Motor's developers"
version = release
extensions = ["sphinx.ext.autodoc", "sphinx.ext.intersphinx"]
master_doc = "index"
exclude_patterns = ["_build"]
