"""Motor: a non-blocking MongoDB driver for Tornado and asyncio.

Every PyMongo operation, without blocking the loop::

    import asyncio

    import motor

    async def main():
        client = motor.MotorClient("mongodb://localhost:27017")
        await client.test.things.insert_one({"x": 1})
        print(await client.test.things.find_one({"x": 1}))
        client.close()

    asyncio.run(main())

Pass ``callback=`` (keyword only, called as ``callback(result, error)``)
instead of awaiting, if you prefer callbacks. ``AsyncIOMotor*`` classes for
plain asyncio are in :mod:`motor.motor_asyncio`.

The classes here are :mod:`motor.motor_tornado`'s (``motor.MotorClient is
motor.motor_tornado.MotorClient``, as in Motor 3): Motor 3.7's API plus every
method and property Motor's documentation describes (``insert``, ``update``,
``aggregate`` resolving to a result document, ``write_concern`` as a dict...).
Code written for either runs here, and their objects mix.
:mod:`motor.motor_asyncio` is a drop-in for Motor 3.7's asyncio classes. All
are generated from the same classes in :mod:`motor.core`;
doc/differences.rst lists the few names the two APIs define differently, and
what Motor does with them.

.. versionchanged:: 4.0
   ``motor.*`` and ``motor.motor_tornado`` are one set of classes.
"""

import os as _os

from motor import _bridge, core, gridfs  # noqa: F401 - registers the agnostic classes
from motor import spec  # noqa: F401 - registers the spec's mixins before the classes are made
from motor._version import version, version_tuple
from motor.errors import MotorPoolTimeout  # noqa: F401 - exported through motor_tornado's names
from motor.frameworks import TORNADO as _TORNADO

_bridge.install()

if _os.environ.get("MOTOR_LOOP_WATCHDOG"):  # off unless asked for (motor.diagnostics)
    from motor.diagnostics import enable_from_environment as _enable_loop_watchdog

    _enable_loop_watchdog()

from motor import motor_tornado  # noqa: E402 - after the mixins and hooks
from motor.motor_tornado import *  # noqa: E402, F403 - Motor 3 exports them here too

_CLASSES = [*motor_tornado.__all__, *_TORNADO.export(globals(), ("AgnosticReplicaSetClient",))]

# The spec's deprecated helper and its refused connection classes.
Op = spec.Op
MotorConnection = spec.MotorConnection
MotorReplicaSetConnection = spec.MotorReplicaSetConnection

__all__ = [
    *_CLASSES,  # motor_tornado's names, MotorPoolTimeout among them
    "MotorConnection",
    "MotorReplicaSetConnection",
    "Op",
    "version",
    "version_tuple",
]
