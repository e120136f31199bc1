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

__all__ = [*_FRAMEWORK.export(globals()), "MotorPoolTimeout"]
