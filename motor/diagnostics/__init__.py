"""Find the code that blocks your event loop: Motor's loop watchdog, for your whole app.

Motor never blocks the event loop, and its test suite proves it with this
watchdog.  Turn it on in your own Tornado or asyncio application to learn
which call in *your* code stalls the loop, with the file and line::

    from motor import diagnostics

    diagnostics.enable_loop_watchdog()      # or run with MOTOR_LOOP_WATCHDOG=1

Every time a loop does not run for longer than the stall threshold (50 ms by
default), one report goes to the ``motor.diagnostics`` logger at WARNING
level: a *blocking call* (a socket call, a lock or condition, a sleep, DNS
resolution, a TLS handshake) or a *slow callback* (CPU work), with the line
of your code and the loop thread's stack::

    WARNING:motor.diagnostics:event loop blocked by a blocking call (sleep) at
    app.py:14 in ReportHandler.get: time.sleep() in __main__.ReportHandler.get; ...

It is off by default: until it is enabled nothing is installed and nothing
runs.  Enabled, it costs a 10 ms heartbeat callback per loop and a sampler
thread that wakes ~40 times a second (see doc/diagnostics.rst for the
measured overhead).  `disable_loop_watchdog` removes everything it installed.

The environment variable ``MOTOR_LOOP_WATCHDOG`` (read once, when ``motor``
is first imported) enables it with the defaults when set to ``1``, ``true``,
``yes`` or ``on``; ``MOTOR_LOOP_WATCHDOG_THRESHOLD_MS`` sets the stall
threshold in milliseconds.

.. versionadded:: 4.0
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional

from motor.diagnostics._classify import (
    BLOCKING_CATEGORIES,
    DNS,
    LOCK,
    SLEEP,
    SOCKET,
    TLS_HANDSHAKE,
)
from motor.diagnostics._watchdog import (
    BLOCKING_CALL,
    LOGGER_NAME,
    SLOW_CALLBACK,
    STALL_THRESHOLD,
    LoopStall,
    LoopWatchdog,
)

__all__ = [
    "BLOCKING_CALL",
    "BLOCKING_CATEGORIES",
    "DNS",
    "ENVIRONMENT_VARIABLE",
    "LOCK",
    "LOGGER_NAME",
    "SLEEP",
    "SLOW_CALLBACK",
    "SOCKET",
    "TLS_HANDSHAKE",
    "LoopStall",
    "LoopWatchdog",
    "current_loop_watchdog",
    "disable_loop_watchdog",
    "enable_loop_watchdog",
    "loop_watchdog",
]

#: Set to ``1`` (or ``true``, ``yes``, ``on``) to enable the watchdog when
#: ``motor`` is imported.
ENVIRONMENT_VARIABLE = "MOTOR_LOOP_WATCHDOG"
#: The stall threshold, in milliseconds, for the watchdog the environment enables.
THRESHOLD_VARIABLE = "MOTOR_LOOP_WATCHDOG_THRESHOLD_MS"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})

_enabled: Optional[LoopWatchdog] = None
_enabled_lock = threading.Lock()


def enable_loop_watchdog(
    *,
    stall_threshold: float = STALL_THRESHOLD,
    callback: Optional[Callable[[LoopStall], Any]] = None,
    log: bool = True,
    slow_callbacks: bool = True,
    loops: Optional[Iterable[Any]] = None,
) -> LoopWatchdog:
    """Report every stall of an asyncio event loop longer than ``stall_threshold`` seconds.

    Watches every asyncio event loop (so every Tornado IOLoop, which runs on
    one) that starts running from now on, in any thread, and the loop running
    in the calling thread, if any; ``loops`` restricts it to those loops.
    Each stall is reported once, as a :class:`LoopStall`, to the
    ``motor.diagnostics`` logger at WARNING level (``log=False`` turns that
    off) and to ``callback(stall)``, both from the watchdog's own thread.
    ``slow_callbacks=False`` reports blocking calls only.

    Calling it again replaces the watchdog it started with one with the new
    settings.  Returns the running :class:`LoopWatchdog`::

        import logging
        from motor import diagnostics

        logging.basicConfig()
        diagnostics.enable_loop_watchdog(stall_threshold=0.1)

    .. versionadded:: 4.0
    """
    global _enabled
    watchdog = LoopWatchdog(
        loops,
        stall_threshold=stall_threshold,
        callback=callback,
        log=log,
        slow_callbacks=slow_callbacks,
    )
    with _enabled_lock:
        previous, _enabled = _enabled, watchdog
        if previous is not None:
            previous.stop()
        watchdog.start()
    return watchdog


def disable_loop_watchdog() -> None:
    """Stop the watchdog :func:`enable_loop_watchdog` started, and remove
    everything it installed (its thread, its heartbeats, and the
    ``run_forever`` wrapper unless another :class:`LoopWatchdog` still runs).
    Does nothing if it is not enabled.

    .. versionadded:: 4.0
    """
    global _enabled
    with _enabled_lock:
        watchdog, _enabled = _enabled, None
        if watchdog is not None:
            watchdog.stop()


def current_loop_watchdog() -> Optional[LoopWatchdog]:
    """The watchdog :func:`enable_loop_watchdog` started, or None.

    .. versionadded:: 4.0
    """
    return _enabled


@contextlib.contextmanager
def loop_watchdog(**options: Any) -> Iterator[LoopWatchdog]:
    """Watch the loops only inside a ``with`` block (a watchdog of its own,
    independent of :func:`enable_loop_watchdog`'s); takes the same options::

        with diagnostics.loop_watchdog(callback=stalls.append):
            asyncio.run(main())

    .. versionadded:: 4.0
    """
    watchdog = LoopWatchdog(**options).start()
    try:
        yield watchdog
    finally:
        watchdog.stop()


def enable_from_environment(environ: Mapping[str, str] = os.environ) -> Optional[LoopWatchdog]:
    """Enable the watchdog if ``MOTOR_LOOP_WATCHDOG`` says so (``motor`` calls
    this when it is imported); a value it does not understand raises ValueError.

    .. versionadded:: 4.0
    """
    value = environ.get(ENVIRONMENT_VARIABLE, "").strip().lower()
    if value in _FALSE:
        return None
    if value not in _TRUE:
        raise ValueError(
            f"{ENVIRONMENT_VARIABLE}={environ[ENVIRONMENT_VARIABLE]!r}: "
            f"use 1 to enable Motor's loop watchdog, 0 (or leave it unset) to leave it off"
        )
    options: dict = {}
    threshold = environ.get(THRESHOLD_VARIABLE, "").strip()
    if threshold:
        try:
            milliseconds = float(threshold)
        except ValueError:
            milliseconds = float("nan")
        if not 0 < milliseconds < float("inf"):
            raise ValueError(
                f"{THRESHOLD_VARIABLE}={threshold!r}: the stall threshold must be a "
                f"positive number of milliseconds"
            )
        options["stall_threshold"] = milliseconds / 1000
    return enable_loop_watchdog(**options)
