"""``motor.MotorReplicaSetClient``, and the connection classes the spec refuses.

::

    client = motor.MotorReplicaSetClient("mongodb://a:27017,b:27017/?replicaSet=rs0")
    await client.open()
    client.primary, client.secondaries, client.arbiters, client.hosts, client.seeds

In PyMongo 4 one MongoClient serves standalones, replica sets and mongoses;
MotorReplicaSetClient is the spec's MotorClient for a replica set: it
requires the set's name (``replicaSet=`` or ``?replicaSet=`` in the URI),
takes PyMongo 2's MongoReplicaSetClient arguments (``hosts_or_uri``,
``max_pool_size``, ``document_class``, ``tz_aware``), and adds ``hosts``,
``seeds`` and ``get_document_class`` / ``set_document_class``. PyMongo's
monitors follow the set (a new primary after a failover, members joining
and leaving) on their own threads; :meth:`close` stops them.

``MotorConnection`` and ``MotorReplicaSetConnection``, the deprecated
connection classes, raise ConfigurationError, as the spec says.
"""

from __future__ import annotations

from typing import Any, NoReturn

from pymongo.errors import ConfigurationError
from pymongo.server_type import SERVER_TYPE

from motor.core.client import AgnosticClient
from motor.frameworks import register_agnostic, spec_mixin
from motor.spec.client import ClientSpecMixin

__all__ = [
    "AgnosticReplicaSetClient",
    "MotorConnection",
    "MotorReplicaSetConnection",
    "ReplicaSetClientSpecMixin",
]


@register_agnostic
class AgnosticReplicaSetClient(AgnosticClient):
    """A client for a replica set (the spec's MotorReplicaSetClient)."""

    __motor_class_name__ = "MotorReplicaSetClient"


@spec_mixin("AgnosticReplicaSetClient")
class ReplicaSetClientSpecMixin(ClientSpecMixin):
    """What MotorReplicaSetClient adds to the spec's MotorClient."""

    _spec_replica_set = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.delegate._topology_settings.replica_set_name is None:
            raise ConfigurationError(
                "MotorReplicaSetClient needs the replica set's name: pass "
                "replicaSet='name', or put ?replicaSet=name in the URI"
            )

    def _spec_descriptions(self) -> list:
        if not self.delegate._opened or self.delegate._topology is None:
            return []
        return self.delegate._topology.description.known_servers

    @property
    def hosts(self) -> frozenset:
        """The set's active and passive (priority 0) members known to this client.

        ``(host, port)`` pairs; hidden and delayed members and arbiters are not
        included. Empty until the client has heard from a member.
        """
        members: set = set()
        arbiters: set = set()
        for description in self._spec_descriptions():
            if description.server_type in (SERVER_TYPE.RSPrimary, SERVER_TYPE.RSSecondary):
                members.add(description.address)
                members.update(description.all_hosts)
            elif description.server_type == SERVER_TYPE.RSArbiter:
                arbiters.add(description.address)
        return frozenset(members - arbiters - set(self.arbiters))

    @property
    def seeds(self) -> frozenset:
        """The ``(host, port)`` pairs this client was given to find the set."""
        return frozenset(self.delegate._topology_settings.seeds)

    @property
    def is_mongos(self) -> bool:
        """Always False: a replica set client talks to no mongos."""
        return False

    def get_document_class(self) -> type:
        """The class of the documents this client returns (``document_class``)."""
        return self.document_class

    def set_document_class(self, klass: type) -> None:
        """Set the class of the documents this client returns (``document_class``)."""
        self.document_class = klass


def _refuse(name: str, replacement: str) -> NoReturn:
    raise ConfigurationError(
        f"{name} was deprecated in PyMongo 2.4 and Motor does not support it: use {replacement}"
    )


class MotorConnection:
    """Refused: the spec's Motor supports no deprecated connection class. Use MotorClient."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _refuse("MotorConnection", "motor.MotorClient")


class MotorReplicaSetConnection:
    """Refused: the spec's Motor supports no deprecated connection class.
    Use MotorReplicaSetClient."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _refuse("MotorReplicaSetConnection", "motor.MotorReplicaSetClient")
