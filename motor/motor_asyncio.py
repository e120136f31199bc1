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

AsyncIOMotorClient = _FRAMEWORK.motor_class("AgnosticClient")
AsyncIOMotorDatabase = _FRAMEWORK.motor_class("AgnosticDatabase")
AsyncIOMotorCollection = _FRAMEWORK.motor_class("AgnosticCollection")
AsyncIOMotorCursor = _FRAMEWORK.motor_class("AgnosticCursor")
AsyncIOMotorCommandCursor = _FRAMEWORK.motor_class("AgnosticCommandCursor")
AsyncIOMotorLatentCommandCursor = _FRAMEWORK.motor_class("AgnosticLatentCommandCursor")
AsyncIOMotorRawBatchCursor = _FRAMEWORK.motor_class("AgnosticRawBatchCursor")
AsyncIOMotorRawBatchCommandCursor = _FRAMEWORK.motor_class("AgnosticRawBatchCommandCursor")
AsyncIOMotorChangeStream = _FRAMEWORK.motor_class("AgnosticChangeStream")
AsyncIOMotorClientEncryption = _FRAMEWORK.motor_class("AgnosticClientEncryption")
AsyncIOMotorClientSession = _FRAMEWORK.motor_class("AgnosticClientSession")
AsyncIOMotorGridFS = _FRAMEWORK.motor_class("AgnosticGridFS")
AsyncIOMotorGridFSBucket = _FRAMEWORK.motor_class("AgnosticGridFSBucket")
AsyncIOMotorGridIn = _FRAMEWORK.motor_class("AgnosticGridIn")
AsyncIOMotorGridOut = _FRAMEWORK.motor_class("AgnosticGridOut")
AsyncIOMotorGridOutCursor = _FRAMEWORK.motor_class("AgnosticGridOutCursor")

__all__ = [
    "AsyncIOMotorChangeStream",
    "AsyncIOMotorClient",
    "AsyncIOMotorClientEncryption",
    "AsyncIOMotorClientSession",
    "AsyncIOMotorCollection",
    "AsyncIOMotorCommandCursor",
    "AsyncIOMotorCursor",
    "AsyncIOMotorDatabase",
    "AsyncIOMotorGridFS",
    "AsyncIOMotorGridFSBucket",
    "AsyncIOMotorGridIn",
    "AsyncIOMotorGridOut",
    "AsyncIOMotorGridOutCursor",
    "AsyncIOMotorLatentCommandCursor",
    "AsyncIOMotorRawBatchCommandCursor",
    "AsyncIOMotorRawBatchCursor",
    "MotorPoolTimeout",
]
