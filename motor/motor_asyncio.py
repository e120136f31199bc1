"""Motor for asyncio: the ``AsyncIOMotor*`` classes.

A drop-in for Motor 3's ``motor.motor_asyncio``::

    from motor.motor_asyncio import AsyncIOMotorClient

    client = AsyncIOMotorClient()  # io_loop: the running asyncio loop

Generated from the agnostic classes in :mod:`motor.core`.
"""

from motor import _bridge, core  # noqa: F401 - registers the agnostic classes
from motor import gridfs as _gridfs  # noqa: F401 - registers the GridFS classes
from motor.errors import MotorPoolTimeout
from motor.frameworks import ASYNCIO as _FRAMEWORK

_bridge.install()

__all__ = [*_FRAMEWORK.export(globals()), "MotorPoolTimeout"]
