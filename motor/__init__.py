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
"""

from motor._version import version, version_tuple
from motor.errors import MotorPoolTimeout
from motor.motor_tornado import (
    MotorChangeStream,
    MotorClient,
    MotorClientSession,
    MotorCollection,
    MotorCommandCursor,
    MotorCursor,
    MotorDatabase,
    MotorGridFS,
    MotorGridFSBucket,
    MotorGridIn,
    MotorGridOut,
    MotorGridOutCursor,
    MotorLatentCommandCursor,
    MotorRawBatchCommandCursor,
    MotorRawBatchCursor,
)

__all__ = [
    "MotorChangeStream",
    "MotorClient",
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
    "version",
    "version_tuple",
]
