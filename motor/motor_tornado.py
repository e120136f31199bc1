"""Motor for Tornado: the ``Motor*`` classes.

A drop-in for Motor 3's ``motor.motor_tornado``::

    from motor.motor_tornado import MotorClient

    client = MotorClient()  # io_loop: the current tornado.ioloop.IOLoop

Generated from the agnostic classes in :mod:`motor.core`.
"""

from motor import _bridge, core  # noqa: F401 - registers the agnostic classes
from motor import gridfs as _gridfs  # noqa: F401 - registers the GridFS classes
from motor.errors import MotorPoolTimeout
from motor.frameworks import TORNADO as _FRAMEWORK

_bridge.install()

MotorClient = _FRAMEWORK.motor_class("AgnosticClient")
MotorDatabase = _FRAMEWORK.motor_class("AgnosticDatabase")
MotorCollection = _FRAMEWORK.motor_class("AgnosticCollection")
MotorCursor = _FRAMEWORK.motor_class("AgnosticCursor")
MotorCommandCursor = _FRAMEWORK.motor_class("AgnosticCommandCursor")
MotorLatentCommandCursor = _FRAMEWORK.motor_class("AgnosticLatentCommandCursor")
MotorRawBatchCursor = _FRAMEWORK.motor_class("AgnosticRawBatchCursor")
MotorRawBatchCommandCursor = _FRAMEWORK.motor_class("AgnosticRawBatchCommandCursor")
MotorChangeStream = _FRAMEWORK.motor_class("AgnosticChangeStream")
MotorClientEncryption = _FRAMEWORK.motor_class("AgnosticClientEncryption")
MotorClientSession = _FRAMEWORK.motor_class("AgnosticClientSession")
MotorGridFS = _FRAMEWORK.motor_class("AgnosticGridFS")
MotorGridFSBucket = _FRAMEWORK.motor_class("AgnosticGridFSBucket")
MotorGridIn = _FRAMEWORK.motor_class("AgnosticGridIn")
MotorGridOut = _FRAMEWORK.motor_class("AgnosticGridOut")
MotorGridOutCursor = _FRAMEWORK.motor_class("AgnosticGridOutCursor")

__all__ = [
    "MotorChangeStream",
    "MotorClient",
    "MotorClientEncryption",
    "MotorClientSession",
    "MotorCollection",
    "MotorCommandCursor",
    "MotorCursor",
    "MotorDatabase",
    "MotorGridFS",
    "MotorGridFSBucket",
    "MotorGridIn",
    "MotorGridOut",
    "MotorGridOutCursor",
    "MotorLatentCommandCursor",
    "MotorPoolTimeout",
    "MotorRawBatchCommandCursor",
    "MotorRawBatchCursor",
]
