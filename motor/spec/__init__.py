"""The API of Motor's documentation (the spec), for the ``motor.*`` classes.

The spec documents Motor 0.2 over PyMongo 2.x: ``insert``, ``update``,
``remove``, ``save``, ``find_and_modify``, ``count``, ``ensure_index``,
``aggregate`` returning ``{'result': [...], 'ok': 1.0}``, ``db.command`` with
``value`` / ``check`` / ``allowable_errors``, ``authenticate`` and
``logout``, ``MotorReplicaSetClient``, ``motor.Op``... This package
implements them over PyMongo 4, as mixins that :mod:`motor.frameworks` adds
to the Tornado classes (``motor.MotorClient``, which is
``motor.motor_tornado.MotorClient``), next to Motor 3's API; where the two
name one thing differently, both forms work (doc/differences.rst). The
asyncio drop-in (:mod:`motor.motor_asyncio`) keeps Motor 3's API exactly.

- :mod:`motor.spec.client`: MotorClient's methods and properties.
- :mod:`motor.spec.replica_set`: MotorReplicaSetClient; the refused
  connection classes.
- :mod:`motor.spec.database`, :mod:`motor.spec.collection`,
  :mod:`motor.spec.cursor`: the rest of the API.
- :mod:`motor.spec.manipulators`: SON manipulators.
- :mod:`motor.spec.options`: the spec's options in PyMongo 4's terms.
- :mod:`motor.spec.auth`: authenticating an open client.
- :mod:`motor.spec.op`: the deprecated ``motor.Op``.

Where the server has removed the command behind a method (``eval``,
``group``, ``copydb``, the ``getLastError`` family), the method still sends
it and raises :class:`CommandRemoved`, whose message names the replacement,
if the server does not know it.

Every mixin must be registered before ``motor`` makes its classes, so
:mod:`motor` imports this package first.
"""

from motor.spec import cursor  # noqa: F401 - registers the mixins, in dependency order
from motor.spec import collection  # noqa: F401
from motor.spec import database  # noqa: F401
from motor.spec import client  # noqa: F401
from motor.spec import replica_set  # noqa: F401
from motor.spec._legacy import CommandRemoved
from motor.spec.database import ALL, OFF, SLOW_ONLY
from motor.spec.manipulators import SONManipulator
from motor.spec.op import Op
from motor.spec.replica_set import MotorConnection, MotorReplicaSetConnection

__all__ = [
    "ALL",
    "OFF",
    "SLOW_ONLY",
    "CommandRemoved",
    "MotorConnection",
    "MotorReplicaSetConnection",
    "Op",
    "SONManipulator",
]
