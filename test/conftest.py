"""Test-suite plumbing: one session-wide IOLoop, an async test runner, and the
loop watchdog that fails the run whenever the IOLoop thread blocks.

No pytest-asyncio: ``async def`` tests and ``tornado.gen.coroutine`` tests
(and plain test functions that return an awaitable) run on the session loop
through `pytest_pyfunc_call`, each under a timeout (default
``DEFAULT_TEST_TIMEOUT`` s; ``@pytest.mark.timeout_seconds(N)`` changes it).
Plain test functions and fixtures run while the loop is stopped, so they may
drive it with ``io_loop.run_sync(...)`` or ``event_loop.run_until_complete(...)``.

Fixtures: ``io_loop`` (the Tornado IOLoop), ``event_loop`` (the asyncio loop
under it), ``loop_watchdog`` (the `SuiteWatchdog`, for
``expect_violation()`` / ``capture()``).

The watchdog is Motor's own `motor.diagnostics` watchdog (test/loop_watchdog.py
adapts it); it covers every run of the session loop (tests, fixtures' run_sync,
session shutdown).  A violation fails the test phase during which it happened
(the report names the loop watchdog and shows the loop thread's stack), is
listed again in a "LOOP WATCHDOG" section of the terminal summary, and makes
the run exit non-zero even if every test passed.
"""

from __future__ import annotations

import asyncio
import inspect
import warnings
from typing import Any, Awaitable, Callable, Optional

import pytest
from tornado import gen
from tornado.ioloop import IOLoop

from .loop_watchdog import SuiteWatchdog, install

DEFAULT_TEST_TIMEOUT = 60.0
# After a timeout, how long the cancelled test gets to unwind.
_CANCEL_GRACE = 5.0


# --- session loop -----------------------------------------------------------


class _SessionLoop:
    def __init__(self) -> None:
        self.asyncio_loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.asyncio_loop)
        # With the asyncio loop current, IOLoop.current() wraps it (an
        # AsyncIOMainLoop) and keeps returning that wrapper, inside and
        # outside the running loop.
        self.io_loop = IOLoop.current()
        assert self.io_loop.asyncio_loop is self.asyncio_loop  # type: ignore[attr-defined]
        self.watchdog: SuiteWatchdog = install(self.asyncio_loop)
        self.closed = False

    def shutdown(self) -> None:
        """Cancel leftover tasks and finalize async generators (watched), then
        stop the watchdog and the default executor."""
        if self.closed:
            return
        self.closed = True
        loop = self.asyncio_loop
        usable = not loop.is_closed() and not loop.is_running()
        try:
            if usable:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.wait(pending, timeout=_CANCEL_GRACE))
                loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            self.watchdog.stop()
        if usable:
            # Unwatched: it starts a thread from the loop (Thread.start() waits
            # for the thread), which is test plumbing, not Motor.
            loop.run_until_complete(loop.shutdown_default_executor())

    def close(self) -> None:
        self.shutdown()
        if not self.asyncio_loop.is_closed():
            self.io_loop.close()
            self.asyncio_loop.close()
        asyncio.set_event_loop(None)


_session: Optional[_SessionLoop] = None


def _session_loop() -> _SessionLoop:
    global _session
    if _session is None:
        _session = _SessionLoop()
    return _session


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "timeout_seconds(n): fail this async test if it has not finished after n seconds "
        f"(default {DEFAULT_TEST_TIMEOUT:g}).",
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    _session_loop()


# --- async test runner --------------------------------------------------------


def _is_async_test(func: Any) -> bool:
    return inspect.iscoroutinefunction(func) or gen.is_coroutine_function(func)


def _timeout_for(item: pytest.Function) -> float:
    marker = item.get_closest_marker("timeout_seconds")
    if marker is None:
        return DEFAULT_TEST_TIMEOUT
    if len(marker.args) != 1 or marker.kwargs:
        raise pytest.UsageError(f"{item.nodeid}: use @pytest.mark.timeout_seconds(N)")
    timeout = float(marker.args[0])
    if timeout <= 0:
        raise pytest.UsageError(f"{item.nodeid}: timeout_seconds must be positive")
    return timeout


def _awaiting_stack(task: asyncio.Task) -> str:
    """Where a suspended task is waiting, following its chain of awaits."""
    lines = []
    obj: Any = task.get_coro()
    depth = 0
    while obj is not None and depth < 50:
        frame = getattr(obj, "cr_frame", None) or getattr(obj, "gi_frame", None)
        if frame is not None:
            code = frame.f_code
            lines.append(f'  File "{code.co_filename}", line {frame.f_lineno}, in {code.co_name}')
        nxt = getattr(obj, "cr_await", None) or getattr(obj, "gi_yieldfrom", None)
        if nxt is None:
            if frame is None:
                lines.append(f"  awaiting {obj!r}")
            break
        if not (hasattr(nxt, "cr_frame") or hasattr(nxt, "gi_frame")):
            lines.append(f"  awaiting {type(nxt).__qualname__}")
            break
        obj = nxt
        depth += 1
    return "\n".join(lines) or "  <unknown>"


def _run_async_test(item: pytest.Function, start: Callable[[], Awaitable[Any]]) -> None:
    loop = _session_loop().asyncio_loop
    timeout = _timeout_for(item)

    async def run_test() -> None:
        # start() is called inside the running loop, so even the synchronous
        # prefix of a gen.coroutine runs on the loop (and under the watchdog).
        await start()

    task = loop.create_task(run_test())
    try:
        loop.run_until_complete(asyncio.wait([task], timeout=timeout))
        if not task.done():
            where = _awaiting_stack(task)
            task.cancel()
            loop.run_until_complete(asyncio.wait([task], timeout=_CANCEL_GRACE))
            pytest.fail(
                f"{item.nodeid} timed out after {timeout:g} s "
                f"(raise the limit with @pytest.mark.timeout_seconds(N)).\n"
                f"The test was suspended at:\n{where}",
                pytrace=False,
            )
        task.result()
    finally:
        if not task.done():  # KeyboardInterrupt or the like
            task.cancel()
            try:
                loop.run_until_complete(asyncio.wait([task], timeout=_CANCEL_GRACE))
            except BaseException:
                pass


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Optional[bool]:
    funcargs = pyfuncitem.funcargs
    func = pyfuncitem.obj
    if "anyio_backend" in funcargs or inspect.isasyncgenfunction(func):
        return None  # anyio's plugin runs those; pytest rejects async generators
    kwargs = {name: funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    if _is_async_test(func):
        _run_async_test(pyfuncitem, lambda: func(**kwargs))
        return True
    # A plain function runs outside the loop (so it may call run_sync);
    # if it returns an awaitable, that is run on the loop.
    result = func(**kwargs)
    if inspect.isawaitable(result):
        _run_async_test(pyfuncitem, lambda: result)
    elif result is not None:
        warnings.warn(
            pytest.PytestReturnNotNoneWarning(
                f"Test functions should return None, but {pyfuncitem.nodeid} "
                f"returned {type(result)!r}."
            )
        )
    return True


# --- loop watchdog integration ------------------------------------------------


def _set_phase(item: pytest.Item, phase: Optional[str]) -> None:
    if _session is not None:
        _session.watchdog.set_context(item.nodeid if phase else None, phase)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item):
    _set_phase(item, "setup")
    try:
        return (yield)
    finally:
        _set_phase(item, None)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item):
    _set_phase(item, "call")
    try:
        return (yield)
    finally:
        _set_phase(item, None)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: Optional[pytest.Item]):
    _set_phase(item, "teardown")
    try:
        return (yield)
    finally:
        _set_phase(item, None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if _session is None:
        return report
    found = _session.watchdog.take_unreported(item.nodeid, call.when)
    if not found:
        return report
    text = (
        f"loop watchdog: the IOLoop thread blocked during {call.when} "
        f"({len(found)} stall{'s' if len(found) != 1 else ''}):\n\n"
        + "\n\n".join(v.format() for v in found)
    )
    if report.failed:
        report.sections.append(("loop watchdog", text))
    else:
        report.outcome = "failed"
        report.longrepr = text
        if hasattr(report, "wasxfail"):
            del report.wasxfail
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _session is None:
        return
    _session.watchdog.set_context("<session finish>", "sessionfinish")
    try:
        _session.shutdown()
    except Exception as exc:  # don't hide the watchdog verdict
        warnings.warn(f"session loop shutdown failed: {exc!r}")
    if _session.watchdog.violations and session.exitstatus in (
        pytest.ExitCode.OK,
        pytest.ExitCode.NO_TESTS_COLLECTED,
    ):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _session is None:
        return
    wd = _session.watchdog
    tr = terminalreporter
    if wd.notes:
        slow = [n for n in wd.notes if n.kind == "slow-callback"]
        if tr.verbosity > 0:
            tr.write_sep("-", f"loop watchdog notes ({len(wd.notes)}, not failures)")
            for note in wd.notes[:50]:
                tr.write_line(note.summary())
            if len(wd.notes) > 50:
                tr.write_line(f"... and {len(wd.notes) - 50} more")
        else:
            tr.write_line(
                f"loop watchdog: {len(slow)} slow callback(s) / {len(wd.notes)} stall note(s) "
                f"(not failures; -v lists them)"
            )
    if wd.violations:
        title = f"LOOP WATCHDOG: {len(wd.violations)} IOLoop blocking violation(s)"
        tr.write_sep("=", title, red=True, bold=True)
        for n, violation in enumerate(wd.violations, 1):
            tr.write_sep("-", f"violation {n}: {violation.category}", red=True)
            tr.write_line(violation.format())
        tr.write_line("")
        tr.write_line(
            "The IOLoop thread must never block (socket, lock/condition, sleep, DNS, "
            "TLS handshake); failing the run.",
            red=True,
            bold=True,
        )
        tr.stats.setdefault("loop watchdog violations", []).extend(wd.violations)


def pytest_unconfigure(config: pytest.Config) -> None:
    global _session
    if _session is not None:
        try:
            _session.close()
        finally:
            _session = None


# --- fixtures -----------------------------------------------------------------


@pytest.fixture(scope="session")
def event_loop() -> asyncio.AbstractEventLoop:
    """The session's asyncio event loop (the one under `io_loop`)."""
    return _session_loop().asyncio_loop


@pytest.fixture(scope="session")
def io_loop() -> IOLoop:
    """The session's Tornado IOLoop; ``IOLoop.current()`` inside tests."""
    return _session_loop().io_loop


@pytest.fixture(scope="session")
def loop_watchdog() -> SuiteWatchdog:
    """The watchdog; use ``loop_watchdog.expect_violation()`` to block on purpose."""
    return _session_loop().watchdog


# --- Motor fixtures ---
from test.motor_fixtures import *  # noqa: E402,F401,F403
