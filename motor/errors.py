"""Motor's own exceptions. Everything else raised is PyMongo's.

.. versionadded:: 4.0
"""

from __future__ import annotations

from pymongo.errors import WaitQueueTimeoutError

__all__ = ["MotorPoolTimeout"]


class MotorPoolTimeout(WaitQueueTimeoutError):
    """No connection became free within the client's ``max_wait_time``.

    A :class:`~pymongo.errors.ConnectionFailure` (through PyMongo's
    :class:`~pymongo.errors.WaitQueueTimeoutError`), so code catching either
    keeps working::

        client = MotorClient(max_concurrent=10, max_wait_time=0.5)
        try:
            await client.db.things.find_one()
        except MotorPoolTimeout:
            ...
    """
