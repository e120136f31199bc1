"""A pytest plugin that writes each test's outcome to a JSON-lines file.

tools/motor3_suite.py loads it (``-p motor3_suite_outcomes``) into the two
runs of Motor 3.7.1's test suite, one against Motor 3.7.1 and one against
this project, and compares the files test by test. The file is named by
``$MOTOR3_SUITE_OUTCOMES``; each line is one JSON object::

    {"started": "test/x.py::T::test_a"}
    {"test": "test/x.py::T::test_a", "outcome": "failed", "message": "AssertionError: 1 != 2"}
    {"collect_error": "test/y.py", "message": "ImportError: cannot import name 'z'"}
    {"finished": 1}

Outcomes are ``passed``, ``failed``, ``error`` (setup or teardown failed),
``skipped``, ``xfailed``. Lines are flushed as they are written: if the test
process dies (a hang that pytest-timeout ends with ``os._exit``), the lines
so far are still there, and the last ``started`` without a result names the
test it died in.

Standard library and pytest only: it runs in .venv-motor3 too.

.. versionadded:: 4.0
"""

import json
import os
import re

_ORDER = {"passed": 0, "skipped": 1, "xfailed": 1, "failed": 2, "error": 2}


class _OutcomeWriter:
    def __init__(self, path):
        self._file = open(path, "w", encoding="utf-8")
        # Per test id: the outcome so far, and its message.
        self._pending = {}

    def write(self, record):
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def close(self):
        self._file.close()

    def started(self, nodeid):
        self.write({"started": nodeid})

    def phase(self, report):
        outcome, message = _phase_outcome(report)
        current = self._pending.get(report.nodeid)
        # The worst phase decides: a test whose teardown fails did not pass.
        if current is None or _ORDER[outcome] > _ORDER[current[0]]:
            self._pending[report.nodeid] = (outcome, message)

    def finished(self, nodeid):
        outcome, message = self._pending.pop(nodeid, ("error", "no result was reported"))
        self.write({"test": nodeid, "outcome": outcome, "message": message})


# An exception or warning line in a traceback, maybe behind pytest's "E" or
# an exception group's "|".
_RAISED = re.compile(r"^[\sE|>]*([A-Za-z_][\w.]*(?:Warning|Error|Exception)): (.+)$")


def _underlying(text):
    """What pytest's wrapper in ``text`` wraps: its first warning, else its first error.

    A warning first, because the traceback can also show errors that the
    code it passed through handled on the way (chained exceptions).
    """
    found = []
    for line in text.splitlines():
        match = _RAISED.match(line)
        if match and not match.group(1).split(".")[-1].startswith(("Pytest", "ExceptionGroup")):
            found.append((not match.group(1).endswith("Warning"),
                          "%s: %s" % (match.group(1), match.group(2).strip())))
    return min(found, key=lambda item: item[0])[1] if found else None


def _short_message(report):
    """One line saying why a phase failed or skipped."""
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple):  # a skip: (path, line, "Skipped: reason")
        reason = str(longrepr[2])
        return reason[len("Skipped: "):] if reason.startswith("Skipped: ") else reason
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and crash.message:
        text = crash.message
    else:
        lines = [line for line in str(longrepr).splitlines() if line.strip()]
        text = lines[-1] if lines else ""
    first = text.strip().splitlines()[0] if text.strip() else ""
    if first.startswith("E "):  # a collection error's text comes as pytest shows it
        first = first[1:].strip()
    if "unraisable" in first or "Exception ignored in" in first:
        # Say what was raised where nobody could catch it (in __del__, say).
        cause = _underlying(str(longrepr))
        if cause:
            first = "%s [%s]" % (first, cause)
    return first[:300]


def _phase_outcome(report):
    if hasattr(report, "wasxfail"):
        return ("xfailed" if report.skipped else "failed"), report.wasxfail or "xfail"
    if report.passed:
        return "passed", ""
    if report.skipped:
        return "skipped", _short_message(report)
    if report.when == "call":
        return "failed", _short_message(report)
    return "error", "%s: %s" % (report.when, _short_message(report))


_writer = None


def pytest_configure(config):
    global _writer
    path = os.environ.get("MOTOR3_SUITE_OUTCOMES")
    if path and _writer is None:
        _writer = _OutcomeWriter(path)


def pytest_collectreport(report):
    if _writer is not None and report.failed:
        _writer.write({"collect_error": report.nodeid or ".",
                       "message": _short_message(report)})


def pytest_runtest_logstart(nodeid, location):
    if _writer is not None:
        _writer.started(nodeid)


def pytest_runtest_logreport(report):
    if _writer is not None:
        _writer.phase(report)


def pytest_runtest_logfinish(nodeid, location):
    if _writer is not None:
        _writer.finished(nodeid)


def pytest_sessionfinish(session, exitstatus):
    if _writer is not None:
        _writer.write({"finished": int(exitstatus)})


def pytest_unconfigure(config):
    global _writer
    if _writer is not None:
        _writer.close()
        _writer = None
