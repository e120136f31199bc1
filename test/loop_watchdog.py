"""The test suite's loop watchdog: Motor's shipped `motor.diagnostics` watchdog,
plus what only a test run needs.

Product rule: the IOLoop thread never blocks -- not on a socket, a lock, a
condition, DNS, a sleep or a TLS handshake.  The detection engine is the one
users get (``motor/diagnostics/_watchdog.py`` says how it works); this module
adapts it to pytest:

* `SuiteWatchdog` watches the session's loop only, logs nothing, and keeps
  its records in lists: ``violations`` (blocking calls, which fail the test
  phase they happened in and the run; conftest.py does that) and ``notes``
  (stalls that are not failures: slow callbacks, and a late heartbeat while
  the loop sat idle or ran the watchdog's own bookkeeping);
* records are labelled with the test and phase running (`set_context`);
* `SuiteWatchdog.capture` and `SuiteWatchdog.expect_violation` divert the
  records of a block, for tests that block the loop on purpose.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from motor.diagnostics._classify import (
    BLOCKING_CATEGORIES,
    BUSY,
    DNS,
    IDLE,
    LOCK,
    SLEEP,
    SOCKET,
    TLS_HANDSHAKE,
    WATCHDOG,
    Classification,
    classify_frame,
)
from motor.diagnostics._watchdog import (
    BLOCKING_CALL,
    CONFIRM_SPAN,
    HEARTBEAT_INTERVAL,
    SAMPLE_INTERVAL,
    STALL_THRESHOLD,
    LoopStall,
    LoopWatchdog,
)

__all__ = [
    "SOCKET",
    "LOCK",
    "SLEEP",
    "DNS",
    "TLS_HANDSHAKE",
    "BLOCKING_CATEGORIES",
    "IDLE",
    "BUSY",
    "WATCHDOG",
    "HEARTBEAT_INTERVAL",
    "STALL_THRESHOLD",
    "SAMPLE_INTERVAL",
    "CONFIRM_SPAN",
    "Classification",
    "Violation",
    "Note",
    "Capture",
    "SuiteWatchdog",
    "classify_frame",
    "install",
    "current",
]


@dataclass(eq=False)
class _Label:
    """What was running when a stall began, and the captures open during it."""

    test: Optional[str]
    phase: Optional[str]
    captures: list = field(default_factory=list)


def _where(label: Optional[_Label]) -> str:
    test = label.test if label is not None else None
    phase = label.phase if label is not None else None
    where = test or "<no test>"
    if phase:
        where += f" [{phase}]"
    return where


@dataclass(eq=False)
class Violation(LoopStall):
    """The loop thread was found blocked in a forbidden call during one stall."""

    reported: bool = False  # already attached to a test report

    @property
    def test(self) -> Optional[str]:
        """pytest nodeid (or another context label)."""
        return self.context.test if self.context is not None else None

    @property
    def phase(self) -> Optional[str]:
        """"setup" / "call" / "teardown" / ..."""
        return self.context.phase if self.context is not None else None

    def summary(self) -> str:
        late = self.gap_ms - HEARTBEAT_INTERVAL * 1000
        return (
            f"{self.category}: {self.detail} -- IOLoop heartbeat late by {late:.0f} ms "
            f"during {_where(self.context)}"
        )

    def format(self) -> str:
        return f"{self.summary()}\nLoop thread stack (innermost last):\n{self.stack.rstrip()}"


@dataclass(eq=False)
class Note(LoopStall):
    """A stall that was not a violation: ``kind`` is "slow-callback",
    "idle-late" or "watchdog"."""

    @property
    def test(self) -> Optional[str]:
        return self.context.test if self.context is not None else None

    @property
    def phase(self) -> Optional[str]:
        return self.context.phase if self.context is not None else None

    def summary(self) -> str:
        return (
            f"{self.kind}: no heartbeat for {self.gap_ms:.0f} ms during "
            f"{_where(self.context)}: {self.detail} ({self.location})"
        )


@dataclass(eq=False)
class Capture:
    """Violations and notes seen while a `SuiteWatchdog.capture` block was active."""

    violations: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    closed: bool = False
    stalls: list = field(default_factory=list)  # diagnostics: the stalls seen

    def describe_stalls(self) -> str:
        if not self.stalls:
            return "the heartbeat was never late"
        return "; ".join(
            f"stall of {stall.gap * 1000:.0f} ms: {stall.status or 'not sampled'}"
            for stall in self.stalls
        )


class SuiteWatchdog(LoopWatchdog):
    """The shipped watchdog on one loop, recording for pytest instead of logging."""

    bookkeeping_modules = frozenset({__name__})

    def __init__(self, loop: Any, **kwargs: Any) -> None:
        super().__init__([loop], log=False, **kwargs)
        self.loop = loop
        self.violations: list[Violation] = []  # not captured by expect_violation()
        self.notes: list[Note] = []
        self._test: Optional[str] = None
        self._phase: Optional[str] = None
        self._captures: list[Capture] = []
        # Tiny critical sections shared with the loop thread (capture
        # registration vs. recording).  Never held across I/O.
        self._records_lock = threading.Lock()

    @property
    def last_heartbeat(self) -> float:
        """``time.monotonic()`` of the latest heartbeat (or of the latest loop start)."""
        watch = self._watch_of(self.loop)
        return watch.last_beat if watch is not None else 0.0

    def set_context(self, test: Optional[str], phase: Optional[str] = None) -> None:
        """Label records with the test (nodeid) and phase currently running."""
        self._test, self._phase = test, phase

    # -- the engine's hooks --

    def _stall_context(self) -> _Label:
        return _Label(self._test, self._phase)

    def _make_record(self, **fields: Any) -> LoopStall:
        if fields["kind"] == BLOCKING_CALL:
            return Violation(**fields)
        return Note(**fields)

    def _stall_seen(self, stall: Any) -> None:
        with self._records_lock:
            for capture in self._captures:
                if capture not in stall.context.captures:
                    stall.context.captures.append(capture)
                    capture.stalls.append(stall)

    def _record(self, record: LoopStall) -> None:
        with self._records_lock:
            if isinstance(record, Violation):
                open_captures = [c for c in self._captures if not c.closed]
                if open_captures:
                    for capture in open_captures:
                        capture.violations.append(record)
                else:
                    self.violations.append(record)
            elif isinstance(record, Note):
                self.notes.append(record)
                for capture in record.context.captures:
                    capture.notes.append(record)

    # -- test API --

    @contextlib.contextmanager
    def capture(self) -> Iterator[Capture]:
        """Divert violations detected inside the block into the returned `Capture`.

        Captured violations do not fail the test or the run.  Notes are
        attached when their stall ends, i.e. after the loop has had a chance
        to run the heartbeat again (``await asyncio.sleep(0.05)``).
        """
        cap = Capture()
        with self._records_lock:
            self._captures = self._captures + [cap]
        try:
            yield cap
        finally:
            with self._records_lock:
                cap.closed = True
                self._captures = [c for c in self._captures if c is not cap]

    @contextlib.contextmanager
    def expect_violation(self, category: Optional[str] = None) -> Iterator[list[Violation]]:
        """Expect the block to block the loop thread.

        Yields the list that receives the violations detected inside the
        block; they do not fail the test or the run.  On a normal exit,
        asserts that at least one violation (of ``category``, if given) was
        detected.  The block must block for well over
        ``heartbeat_interval + stall_threshold`` (60 ms); use 0.2 s.
        """
        if category is not None and category not in BLOCKING_CATEGORIES:
            raise ValueError(f"unknown category {category!r}")
        with self.capture() as cap:
            yield cap.violations
        matching = [v for v in cap.violations if category is None or v.category == category]
        if not matching:
            seen = ", ".join(v.summary() for v in cap.violations) or "no violation"
            raise AssertionError(
                f"loop watchdog: expected the IOLoop thread to be caught blocking"
                f"{' in ' + category if category else ''}, but saw {seen} "
                f"({cap.describe_stalls()})"
            )

    def take_unreported(self, test: Optional[str], phase: Optional[str] = None) -> list[Violation]:
        """Violations recorded for ``test`` (and ``phase``) not yet taken; marks them taken."""
        with self._records_lock:
            found = [
                v
                for v in self.violations
                if not v.reported and v.test == test and (phase is None or v.phase == phase)
            ]
            for v in found:
                v.reported = True
        return found

    def format_report(self) -> str:
        return "\n\n".join(v.format() for v in self.violations)


# --- module-level registry ------------------------------------------------------

_current: Optional[SuiteWatchdog] = None


def install(loop: Any, **kwargs: Any) -> SuiteWatchdog:
    """Create, start and register the watchdog for ``loop``."""
    global _current
    if _current is not None and _current.loop is loop:
        return _current
    if _current is not None:
        _current.stop()
    _current = SuiteWatchdog(loop, **kwargs).start()
    return _current


def current() -> Optional[SuiteWatchdog]:
    """The watchdog registered by `install`, if any."""
    return _current
