"""Authenticating an open client, as the spec's ``db.authenticate()`` does.

PyMongo 4 takes credentials only in the constructor (or URI). The spec lets a
running application log in later::

    await client.my_database.authenticate("user", "pass")
    ...
    await client.my_database.logout()

Motor does it with the client's own connection pools: the credentials are
first checked on a fresh connection of their own (a wrong password raises
OperationFailure and changes nothing); then they become the pools'
credentials and the pools are cleared, so every connection made from then on
authenticates, and connections made before are closed when they come back.
``logout()`` clears them the same way.

One user at a time: PyMongo 4 authenticates a client as a single user, so
authenticating as another user (on any database) needs ``logout()`` first.

Passwords go only into PyMongo's credential object; Motor never formats them
into a message, a log record or a repr.

Runs in a worker (the pools' connections live on the loop).
"""

from __future__ import annotations

import copy
from typing import Any

from pymongo.auth_shared import MECHANISMS, _build_credentials_tuple
from pymongo.errors import ConfigurationError, InvalidOperation, OperationFailure
from pymongo.read_preferences import ReadPreference

from motor.network.pool import MotorPool
from motor.spec.options import legacy_mechanism

__all__ = [
    "CONVERSATION_MECHANISMS",
    "authenticate",
    "credentials_for",
    "logout",
    "verify_credentials",
]

# Mechanisms that are a conversation over the connection alone, checked at
# open(): the others may call out to cloud metadata services or Kerberos
# libraries, and are left to the first operation, as PyMongo does.
CONVERSATION_MECHANISMS = frozenset(
    ["DEFAULT", "SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN", "MONGODB-X509"]
)


def credentials_for(database: str, name: Any, password: Any, source: Any, mechanism: Any) -> Any:
    """PyMongo's credential object for the spec's authenticate() arguments."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, not {type(name).__name__}")
    if password is not None and not isinstance(password, str):
        # Never show the value: it may be a password.
        raise TypeError(f"password must be a str, not {type(password).__name__}")
    if source is not None and not isinstance(source, str):
        raise TypeError(f"source must be a str, not {type(source).__name__}")
    mechanism = legacy_mechanism(mechanism)
    if mechanism not in MECHANISMS:
        raise ConfigurationError(
            f"unknown authentication mechanism {mechanism!r}; MONGODB-CR was removed "
            f"in MongoDB 4.0, use SCRAM-SHA-256 (or one of {', '.join(sorted(MECHANISMS))})"
        )
    return _build_credentials_tuple(mechanism, source, name, password, {}, database)


def _pool_options(client: Any) -> Any:
    return client.delegate._topology_settings.pool_options


def _data_bearing_server(client: Any) -> Any:
    topology = client.delegate._get_topology()
    return topology.select_server(ReadPreference.PRIMARY_PREFERRED, "authenticate")


def verify_credentials(client: Any, credentials: Any) -> None:
    """Authenticate one new connection with ``credentials``; raise if refused.

    The connection belongs to a pool of its own, so a failure neither
    changes the client's pools nor its view of the servers.
    """
    server = _data_bearing_server(client)
    options = copy.copy(_pool_options(client))
    options._PoolOptions__credentials = credentials
    pool = MotorPool(server.description.address, options)
    try:
        connection = pool.connect()
        connection.close_conn(None)
    finally:
        pool.close()


def _use_credentials(client: Any, credentials: Any) -> None:
    _pool_options(client)._PoolOptions__credentials = credentials
    topology = client.delegate._topology
    for server in list(topology._servers.values()):
        # Connections made with the old credentials close as they come back.
        server.pool.reset_without_pause()


_AUTHENTICATION_FAILED = 18


def authenticate(client: Any, credentials: Any, legacy_mechanism: bool = False) -> bool:
    """Check ``credentials``, then make them the client's. True, as in the spec.

    ``legacy_mechanism``: the caller asked for MONGODB-CR, which was negotiated
    as SCRAM; a refusal then says so.
    """
    current = _pool_options(client)._credentials
    if current is not None and current != credentials:
        raise InvalidOperation(
            f"this client is already authenticated as {current.username!r} on "
            f"{current.source!r}; call logout() on that database first, or use a "
            "separate client for the other user (PyMongo 4 authenticates a client as "
            "one user)"
        )
    try:
        verify_credentials(client, credentials)
    except OperationFailure as exc:
        if not legacy_mechanism or exc.code != _AUTHENTICATION_FAILED:
            raise
        raise OperationFailure(
            f"{exc} (MongoDB 4.0 removed MONGODB-CR, so Motor negotiated SCRAM-SHA-256 "
            "or SCRAM-SHA-1 instead: check the user name and password, and that the "
            "user has SCRAM credentials)",
            exc.code,
            exc.details,
        ) from exc
    if current != credentials:
        _use_credentials(client, credentials)
    return True


def logout(client: Any, database: str) -> None:
    """Forget the credentials authenticated on ``database``, if those are the client's."""
    current = _pool_options(client)._credentials
    if current is not None and current.source == database:
        _use_credentials(client, None)
