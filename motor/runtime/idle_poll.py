"""Poll, briefly, instead of sleeping while a reply is due.

When a worker has sent a request and the loop has nothing else to do, the
loop sleeps in ``epoll_wait`` until the reply arrives. On a virtual machine
an idle vCPU is expensive to wake: the hypervisor has to schedule it again,
and that can cost more than the round trip to a nearby server. On the
2-vCPU machine the benchmarks run on, a ping round trip to a local server
took 117 µs when the client slept for its reply and 74 µs when it stayed
busy for 30 µs after the send (doc/performance.rst, "Idle polling", has
the figures; ``bench/run.py --idle-poll-off`` measures Motor with and
without it, side by side).

So, while some Motor worker waits for a reply, :class:`PollingSelector`
makes the loop poll its selector (``select(0)``) for a short window before
it falls back to the sleeping ``select``. It does not delay anything: every
poll returns whatever is ready, on any descriptor, at once, and a loop with
callbacks ready or a timer due never sleeps anyway (asyncio passes a zero
or shorter timeout, and the window never outlasts it). What it costs is CPU
time while polling, at most :data:`MAX_WINDOW` per sleep.

The window adapts, as a hypervisor's halt polling does: a sleep that ended
within the largest window, after the polling gave up, widens the window to
cover that wait (with room to spare); a sleep that ended after the largest
window (a slow server, a long query) halves it, down to zero. A busy loop
rarely sleeps, and a server whose replies take longer than the largest
window costs a halving or two, then no polling at all.

``MOTOR_IDLE_POLL_US`` (environment, read when ``motor`` is imported) sets
:data:`MAX_WINDOW` in microseconds; ``0`` turns polling off.

It wraps the loop's selector, so it needs a selector loop (asyncio's default
on Unix, which Tornado 6 uses); other loops (uvloop, Windows' proactor) keep
sleeping as they do.

.. versionadded:: 4.0
"""

from __future__ import annotations

import os
import selectors
import weakref
from time import perf_counter
from typing import Any

__all__ = ["MAX_WINDOW", "PollingSelector", "for_loop"]


def _max_window_from_environment() -> float:
    value = os.environ.get("MOTOR_IDLE_POLL_US", "").strip()
    if not value:
        return 100e-6
    try:
        micros = float(value)
    except ValueError:
        raise ValueError(
            f"MOTOR_IDLE_POLL_US must be a number of microseconds (0 turns idle polling "
            f"off), not {value!r}"
        ) from None
    if micros < 0:
        raise ValueError(f"MOTOR_IDLE_POLL_US must be 0 or more, not {value!r}")
    return micros * 1e-6


# The longest the loop polls before it sleeps, in seconds.
MAX_WINDOW = _max_window_from_environment()

# The smallest window worth polling for: below it, poll not at all.
MIN_WINDOW = 5e-6


class _NoPolling:
    """What a runtime counts its waits on when its loop cannot poll."""

    __slots__ = ("replies_due",)

    def __init__(self) -> None:
        self.replies_due = 0


class PollingSelector:
    """A loop's selector that polls before it sleeps while ``replies_due``.

    Motor's sockets count the workers waiting for a reply in
    ``replies_due``; everything but :meth:`select` goes to the wrapped
    selector unchanged.
    """

    def __init__(self, selector: selectors.BaseSelector, max_window: float) -> None:
        self._selector = selector
        self.max_window = max_window
        self.window = 0.0
        self.replies_due = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._selector, name)

    def select(self, timeout: float | None = None) -> list:
        selector = self._selector
        if not self.replies_due or timeout == 0 or not self.max_window:
            return selector.select(timeout)
        start = perf_counter()
        window = self.window
        if window:
            limit = window if timeout is None else min(window, timeout)
            while True:
                events = selector.select(0)
                if events:
                    return events
                if perf_counter() - start >= limit:
                    break
            if timeout is not None:
                timeout = max(0.0, timeout - (perf_counter() - start))
        events = selector.select(timeout)
        waited = perf_counter() - start
        if events and waited <= self.max_window:
            # It came soon after all: next time, poll long enough to see it.
            self.window = min(self.max_window, max(2 * window, 1.5 * waited, MIN_WINDOW))
        elif window:
            window /= 2
            self.window = window if window >= MIN_WINDOW else 0.0
        return events


def for_loop(loop: Any) -> PollingSelector | _NoPolling:
    """The loop's :class:`PollingSelector`, installed on first use.

    Returns a stand-in that only counts when the loop has no selector to
    wrap or polling is off.
    """
    selector = getattr(loop, "_selector", None)
    if isinstance(selector, PollingSelector):
        return selector
    if not MAX_WINDOW or not isinstance(selector, selectors.BaseSelector):
        return _NoPolling()
    poller = PollingSelector(selector, MAX_WINDOW)
    loop._selector = poller
    _pollers.add(poller)
    return poller


# Every PollingSelector made in this process, to reset after a fork.
_pollers: weakref.WeakSet[PollingSelector] = weakref.WeakSet()


def _forget_waits_after_fork() -> None:
    # The parent's waiting workers never resume in a child: a loop the child
    # inherited has no reply due.
    for poller in list(_pollers):
        poller.replies_due = 0
        poller.window = 0.0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_waits_after_fork)
