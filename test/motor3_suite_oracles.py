"""The oracles Motor 3.7.1's test suite imports from Motor 3.7.1's private names.

Three modules of Motor 3.7.1's suite import, at module level, a private name
of Motor 3.7.1 that they use only to compute what they expect:

* ``test/tornado_tests/test_motor_web.py`` and
  ``test/asyncio_tests/test_aiohttp_gridfs.py``:
  ``from motor.motor_gridfs import _hash_gridout``, the ETag Motor 3.7.1's
  GridFS handlers give a file;
* ``test/asyncio_tests/test_asyncio_change_stream.py``:
  ``from motor.frameworks.asyncio import max_workers``, the size of Motor
  3.7.1's thread pool, as the number of change streams to open at once.

tools/motor3_suite.py loads this plugin (``-p motor3_suite_oracles``) into
the run of that suite against this project only, so these imports get an
independent oracle, written here from what Motor 3.7.1 documents and does,
instead of whatever this project has under those names (if anything): a
test that compares this project's ETag with this project's ETag would prove
nothing. test/test_motor3_suite.py checks each oracle against Motor 3.7.1's
own in .venv-motor3.

How, without patching the driver: while pytest imports one of those three
test modules (and only then), ``sys.modules`` maps the module name to a
stand-in module that holds the oracle and forwards every other attribute to
the real module, if there is one. ``from X import name`` looks ``X`` up in
``sys.modules`` first and never imports or touches its parent package, so:

* no attribute of any real ``motor`` module is set, replaced or deleted
  (not even the parent's attribute for the submodule);
* ``motor.frameworks.asyncio`` works although this project's
  ``motor.frameworks`` is a module, not a package: the stand-in is found in
  ``sys.modules`` before Python would ask ``motor.frameworks`` for a
  submodule;
* once the test module is imported, ``sys.modules`` is put back as it was
  (the real module, or no entry), so the driver and the tests never meet
  the stand-in afterwards.

.. versionadded:: 4.0
"""

import contextlib
import hashlib
import importlib
import multiprocessing
import os
import sys
import types

import pytest


def hash_gridout(gridout):
    """The ETag Motor 3.7.1's GridFS handlers send for ``gridout``.

    Motor 3.7.1 does not hash the content: it takes SHA-256 over the text of
    the file's ``_id``, then of its ``length``, then of its ``upload_date``
    (each ``str()``, UTF-8), and sends the hex digest.
    """
    digest = hashlib.sha256()
    for part in (gridout._id, gridout.length, gridout.upload_date):
        digest.update(str(part).encode("utf-8"))
    return digest.hexdigest()


def asyncio_max_workers():
    """The size of Motor 3.7.1's thread pool: ``$MOTOR_MAX_WORKERS``, else 5 per CPU."""
    configured = os.environ.get("MOTOR_MAX_WORKERS")
    if configured:
        return int(configured)
    return multiprocessing.cpu_count() * 5


# Module name -> the oracle names the suite imports from it.
ORACLES = {
    "motor.motor_gridfs": {"_hash_gridout": hash_gridout},
    "motor.frameworks.asyncio": {"max_workers": asyncio_max_workers()},
}

# The suite's test modules that import an oracle, and from which modules.
IMPORTERS = {
    "test/tornado_tests/test_motor_web.py": ("motor.motor_gridfs",),
    "test/asyncio_tests/test_aiohttp_gridfs.py": ("motor.motor_gridfs",),
    "test/asyncio_tests/test_asyncio_change_stream.py": ("motor.frameworks.asyncio",),
}


class OracleModule(types.ModuleType):
    """A stand-in for a module: the oracles, then the real module's attributes."""

    def __init__(self, name, oracles, real):
        super().__init__(name, "Motor 3.7.1 suite oracles for %s (test harness)" % name)
        self.__dict__.update(oracles)
        self.__dict__["_oracle_real_module"] = real

    def __getattr__(self, attribute):
        real = self.__dict__["_oracle_real_module"]
        if real is None:
            raise AttributeError("%s (oracle stand-in) has no attribute %r" % (
                self.__name__, attribute))
        return getattr(real, attribute)


def _real_module(name):
    """This project's module of that name, imported normally, or None."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


@contextlib.contextmanager
def oracles_installed(module_names):
    """Map each module name to its stand-in in ``sys.modules``, then restore."""
    saved = {}
    for name in module_names:
        # Import the real module first, so that it (and everything it
        # imports) is loaded as usual and never sees the stand-in.
        real = _real_module(name)
        saved[name] = sys.modules.get(name)
        sys.modules[name] = OracleModule(name, ORACLES[name], real)
    try:
        yield
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    # A Module's collect() is where pytest imports the test module.
    names = IMPORTERS.get(collector.nodeid) if isinstance(collector, pytest.Module) else None
    if not names:
        return (yield)
    with oracles_installed(names):
        return (yield)
