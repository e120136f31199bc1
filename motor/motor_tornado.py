"""Motor for Tornado: the ``Motor*`` classes.

A drop-in for Motor 3's ``motor.motor_tornado``::

    from motor.motor_tornado import MotorClient

    client = MotorClient()  # io_loop: the current tornado.ioloop.IOLoop

These are also :mod:`motor`'s classes (``motor.MotorClient is
motor.motor_tornado.MotorClient``, as in Motor 3), with the methods Motor's
documentation adds (:mod:`motor.spec`). Generated from the agnostic classes
in :mod:`motor.core`.

.. versionchanged:: 4.0
   The same classes as :mod:`motor`'s, so their objects mix.
"""

from motor import _bridge, core  # noqa: F401 - registers the agnostic classes
from motor import gridfs as _gridfs  # noqa: F401 - registers the GridFS classes
from motor import spec as _spec  # noqa: F401 - registers the mixins before the classes are made
from motor.errors import MotorPoolTimeout
from motor.frameworks import TORNADO as _FRAMEWORK

_bridge.install()

__all__ = [*_FRAMEWORK.export(globals()), "MotorPoolTimeout"]
