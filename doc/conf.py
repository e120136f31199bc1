"""Sphinx configuration for Motor's documentation.

Two builders matter:

- ``sphinx-build -W -b html doc <out>``: the documentation; warnings are
  errors (``test/test_docs.py`` checks it builds).
- ``sphinx-build -W -b doctest doc <out>``: runs the examples written as
  ``.. doctest::`` and ``.. testcode::`` blocks against the MongoDB server
  named by ``MOTOR_TEST_URI`` (default ``localhost:27017``), through
  ``docs_harness.py``. Plain ``.. code-block::`` examples are not run (those
  that fork, listen on fixed ports and the like); ``test_docs.py`` lists them.
"""

import inspect
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from motor._version import version as release  # noqa: E402

project = "Motor"
author = "Motor's developers"
copyright = "Motor's developers"  # noqa: A001 - Sphinx's name
version = release
extensions = ["sphinx.ext.autodoc", "sphinx.ext.doctest", "sphinx.ext.intersphinx"]
master_doc = "index"
exclude_patterns = ["_build"]
templates_path: list = []
html_static_path: list = []

# -- autodoc -------------------------------------------------------------------------

autodoc_member_order = "alphabetical"
autodoc_typehints = "none"
autodoc_inherit_docstrings = True

# -- doctest -------------------------------------------------------------------------

# Only the .. doctest:: / .. testcode:: blocks run: the ">>>" examples in
# PyMongo's docstrings, which autodoc shows, are PyMongo's.
doctest_test_doctest_blocks = ""
doctest_global_setup = """
from docs_harness import harness
"""

# -- the API reference -----------------------------------------------------------------


def _delegate_signature(name, obj):
    """For a generated Motor method ``(*args, callback=None, **kwargs)``, the
    parameters of the PyMongo method it runs, followed by ``callback``."""
    if not getattr(obj, "motor_async", False):
        return None
    try:
        own = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    kinds = [p.kind for p in own.parameters.values()]
    if kinds != [
        inspect.Parameter.POSITIONAL_OR_KEYWORD,  # self
        inspect.Parameter.VAR_POSITIONAL,
        inspect.Parameter.KEYWORD_ONLY,
        inspect.Parameter.VAR_KEYWORD,
    ] and kinds != [
        inspect.Parameter.VAR_POSITIONAL,
        inspect.Parameter.KEYWORD_ONLY,
        inspect.Parameter.VAR_KEYWORD,
    ]:
        return None
    module_name, class_name, method_name = name.rsplit(".", 2)
    module = sys.modules.get(module_name)
    cls = getattr(module, class_name, None)
    delegate_class = getattr(cls, "__delegate_class__", None)
    target = getattr(delegate_class, method_name, None)
    if target is None:
        return None
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return None
    parameters = list(signature.parameters.values())[1:]  # self
    callback = inspect.Parameter("callback", inspect.Parameter.KEYWORD_ONLY, default=None)
    position = len(parameters)
    for i, parameter in enumerate(parameters):
        if parameter.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_KEYWORD):
            position = i
            break
    has_var_positional = any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in parameters)
    if not has_var_positional and position == len(parameters):
        parameters.append(callback)
    else:
        parameters.insert(position, callback)
    parameters = [p.replace(annotation=inspect.Parameter.empty) for p in parameters]
    return str(signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty))


def process_signature(app, what, name, obj, options, signature, return_annotation):
    if what == "method":
        better = _delegate_signature(name, obj)
        if better is not None:
            return better, None
    return None


def setup(app):
    app.connect("autodoc-process-signature", process_signature)
