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

from motor import _bridge, core, gridfs  # noqa: F401 - registers the agnostic classes
from motor import spec  # noqa: F401 - registers the spec's mixins before the classes are made
from motor._version import version, version_tuple
from motor.errors import MotorPoolTimeout
from motor.frameworks import SPEC as _SPEC

_bridge.install()

MotorChangeStream = _SPEC.motor_class("AgnosticChangeStream")
MotorClient = _SPEC.motor_class("AgnosticClient")
MotorClientEncryption = _SPEC.motor_class("AgnosticClientEncryption")
MotorClientSession = _SPEC.motor_class("AgnosticClientSession")
MotorCollection = _SPEC.motor_class("AgnosticCollection")
MotorCommandCursor = _SPEC.motor_class("AgnosticCommandCursor")
MotorCursor = _SPEC.motor_class("AgnosticCursor")
MotorDatabase = _SPEC.motor_class("AgnosticDatabase")
MotorGridFS = _SPEC.motor_class("AgnosticGridFS")
MotorGridFSBucket = _SPEC.motor_class("AgnosticGridFSBucket")
MotorGridIn = _SPEC.motor_class("AgnosticGridIn")
MotorGridOut = _SPEC.motor_class("AgnosticGridOut")
MotorGridOutCursor = _SPEC.motor_class("AgnosticGridOutCursor")
MotorLatentCommandCursor = _SPEC.motor_class("AgnosticLatentCommandCursor")
MotorRawBatchCommandCursor = _SPEC.motor_class("AgnosticRawBatchCommandCursor")
MotorRawBatchCursor = _SPEC.motor_class("AgnosticRawBatchCursor")
MotorReplicaSetClient = _SPEC.motor_class("AgnosticReplicaSetClient")

# The spec's deprecated helper and its refused connection classes.
Op = spec.Op
MotorConnection = spec.MotorConnection
MotorReplicaSetConnection = spec.MotorReplicaSetConnection

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
    "MotorReplicaSetClient",
    "Op",
    "version",
    "version_tuple",
]
