"""Motor: a non-blocking MongoDB driver for Tornado and asyncio.

Every PyMongo operation, without blocking the loop::

    import motor
    from tornado.ioloop import IOLoop

    client = motor.MotorClient("mongodb://localhost:27017")

    async def main():
        await client.test.things.insert_one({"x": 1})
        print(await client.test.things.find_one({"x": 1}))

    IOLoop.current().run_sync(main)

Pass ``callback=`` (keyword only, called as ``callback(result, error)``)
instead of awaiting, if you prefer callbacks. ``AsyncIOMotor*`` classes for
plain asyncio are in :mod:`motor.motor_asyncio`.

The classes here follow Motor's documentation (``to_list`` needs its
``length``, for one); :mod:`motor.motor_tornado` and :mod:`motor.motor_asyncio`
are drop-ins for Motor 3.7's. All are generated from the same classes in
:mod:`motor.core`.
"""

import os as _os

from motor import _bridge, core, gridfs  # noqa: F401 - registers the agnostic classes
from motor import spec  # noqa: F401 - registers the spec's mixins before the classes are made
from motor._version import version, version_tuple
from motor.errors import MotorPoolTimeout
from motor.frameworks import PUBLIC_CLASSES
from motor.frameworks import SPEC as _SPEC

_bridge.install()

if _os.environ.get("MOTOR_LOOP_WATCHDOG"):  # off unless asked for (motor.diagnostics)
    from motor.diagnostics import enable_from_environment as _enable_loop_watchdog

    _enable_loop_watchdog()

_CLASSES = _SPEC.export(globals(), (*PUBLIC_CLASSES, "AgnosticReplicaSetClient"))

# The spec's deprecated helper and its refused connection classes.
Op = spec.Op
MotorConnection = spec.MotorConnection
MotorReplicaSetConnection = spec.MotorReplicaSetConnection

__all__ = [
    *_CLASSES,
    "MotorConnection",
    "MotorPoolTimeout",
    "MotorReplicaSetConnection",
    "Op",
    "version",
    "version_tuple",
]
