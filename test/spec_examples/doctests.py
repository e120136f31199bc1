"""Run a ``>>>`` session from the spec with the standard library's doctest.

The sessions are the spec's, in Python 3 (``print()``, no ``u''`` prefixes in
the expected output). They run while the IOLoop is stopped, as the spec's do:
they call ``IOLoop.instance().start()`` and ``IOLoop.current().run_sync()``
themselves.
"""

from __future__ import annotations

import doctest
from typing import Any

import pytest

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.FAIL_FAST


class _AnyOrderChecker(doctest.OutputChecker):
    """Also accepts the expected lines in another order (each with ELLIPSIS)."""

    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        if super().check_output(want, got, optionflags):
            return True
        wanted, got_lines = want.splitlines(), got.splitlines()
        if len(wanted) != len(got_lines):
            return False
        remaining = list(got_lines)
        for line in wanted:
            for candidate in remaining:
                if super().check_output(line + "\n", candidate + "\n", optionflags):
                    remaining.remove(candidate)
                    break
            else:
                return False
        return True


def run_doctest(
    source: str,
    globs: dict,
    *,
    name: str,
    lineno: int,
    io_loop: Any = None,
    timeout: float = 60.0,
    any_order: bool = False,
) -> None:
    """Run ``source`` in ``globs`` (updated with what it defines); fail the test on a mismatch.

    ``lineno`` is the spec line of the session's first line, so that a report
    names the spec's line. With ``io_loop``, the loop is stopped after
    ``timeout`` seconds in case an example that starts it never stops it.
    With ``any_order``, an example's output lines may come in any order
    (for callbacks of operations that run at once).
    """
    parser = doctest.DocTestParser()
    test = parser.get_doctest(source, globs, name, f"motor-docs.txt:{lineno}", lineno - 1)
    checker = _AnyOrderChecker() if any_order else None
    runner = doctest.DocTestRunner(checker=checker, optionflags=OPTIONS)
    report: list[str] = []
    timer = None
    if io_loop is not None:
        timer = io_loop.call_later(timeout, io_loop.stop)
    try:
        runner.run(test, out=report.append, clear_globs=False)
    finally:
        globs.update(test.globs)  # the DocTest ran in a copy
        if timer is not None:
            io_loop.remove_timeout(timer)
    if runner.failures:
        pytest.fail(
            f"spec example {name} (motor-docs.txt line {lineno}) did not run as documented:\n"
            + "".join(report),
            pytrace=False,
        )
