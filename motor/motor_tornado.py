"""Motor for Tornado: the ``Motor*`` classes.

A drop-in for Motor 3's ``motor.motor_tornado``::

    from motor.motor_tornado import MotorClient

    client = MotorClient()  # io_loop: the current tornado.ioloop.IOLoop

Generated from the agnostic classes in :mod:`motor.core`.
"""

from motor import _bridge, core  # noqa: F401 - registers the agnostic classes
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
MotorClientSession = _FRAMEWORK.motor_class("AgnosticClientSession")

__all__ = [
    "MotorChangeStream",
    "MotorClient",
    "MotorClientSession",
    "MotorCollection",
    "MotorCommandCursor",
    "MotorCursor",
    "MotorDatabase",
    "MotorLatentCommandCursor",
    "MotorPoolTimeout",
    "MotorRawBatchCommandCursor",
    "MotorRawBatchCursor",
]
