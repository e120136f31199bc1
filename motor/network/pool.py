"""Motor's connection pool: PyMongo's pool, waiting on the loop.

:class:`MotorPool` is what Motor hands PyMongo through its ``_pool_class``
hook. Application pools (``is_sdam=False``) get:

* IOStream connections (:func:`~motor.network.iostream_socket.open_socket_interface`),
* wait queues (maxPoolSize, maxConnecting) that park the waiting worker
  instead of the loop thread (:class:`~motor.runtime.conditions.GreenletCondition`),
* :class:`~motor.errors.MotorPoolTimeout` when ``max_wait_time`` (PyMongo's
  ``waitQueueTimeoutMS``) passes without a free connection.

Monitoring pools (``is_sdam=True``) belong to PyMongo's monitor threads and
stay exactly PyMongo's: blocking sockets in their own threads.

.. versionadded:: 4.0
"""

from __future__ import annotations

import contextvars
from typing import Any, NoReturn

import pymongo.synchronous.pool as _pymongo_pool
from pymongo.errors import WaitQueueTimeoutError
from pymongo.synchronous.pool import Pool

from motor.errors import MotorPoolTimeout
from motor.network.iostream_socket import open_socket_interface
from motor.runtime.conditions import GreenletCondition

__all__ = ["MotorPool", "install"]

# Set while a MotorPool opens a connection, so the socket factory PyMongo
# calls by module-global name knows the connection is Motor's. A ContextVar is
# greenlet-local: other clients' connects, in any thread, never see it.
_opening_for_motor: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "motor_opening_connection", default=False
)

_pymongo_socket_interface = _pymongo_pool._configured_socket_interface


def _socket_interface(address: Any, options: Any, ssl_session_cache: Any = None) -> Any:
    if _opening_for_motor.get():
        return open_socket_interface(address, options, ssl_session_cache)
    return _pymongo_socket_interface(address, options, ssl_session_cache)


def install() -> None:
    """Route PyMongo's socket factory through Motor for Motor's pools. Idempotent."""
    _pymongo_pool._configured_socket_interface = _socket_interface


class MotorPool(Pool):
    """PyMongo's ``Pool`` whose application connections live on the loop."""

    def __init__(self, address: Any, options: Any, is_sdam: bool = False, client_id: Any = None):
        super().__init__(address, options, is_sdam=is_sdam, client_id=client_id)
        if not is_sdam:
            self.size_cond = GreenletCondition(self.lock, notified_on_loop=True)
            self._max_connecting_cond = GreenletCondition(self.lock, notified_on_loop=True)

    def connect(self, handler: Any = None) -> Any:
        if self.is_sdam:
            return super().connect(handler)
        token = _opening_for_motor.set(True)
        try:
            return super().connect(handler)
        finally:
            _opening_for_motor.reset(token)

    def _raise_wait_queue_timeout(self, checkout_started_time: float) -> NoReturn:
        try:
            super()._raise_wait_queue_timeout(checkout_started_time)
        except WaitQueueTimeoutError as exc:
            raise MotorPoolTimeout(
                f"{exc} (Motor: no connection to {self.address[0]}:{self.address[1]} "
                f"became free within max_wait_time; max_concurrent="
                f"{self.opts.max_pool_size})"
            ) from None
        raise AssertionError("PyMongo's _raise_wait_queue_timeout returned")
