"""The spec's MotorClient: PyMongo 2's constructor, methods and properties.

Added to ``motor.MotorClient`` (which is ``motor.motor_tornado.MotorClient``;
the asyncio drop-in keeps Motor 3's API)::

    client = motor.MotorClient("localhost", 27017).open_sync()
    names = await client.database_names()
    info = await client.server_info()
    await client.fsync()
    client.write_concern = {"w": 1, "wtimeout": 1000}
    client.write_concern["j"] = True
    client.host, client.port, client.max_bson_size, client.is_primary

The constructor takes PyMongo 2's arguments (:func:`motor.spec.options.client_arguments`):
``slave_okay`` / ``slaveok`` and ``safe`` raise ConfigurationError,
``auto_start_request`` is ignored.

Decisions worth knowing:

- ``client[db_name]`` works before :meth:`open`, and the first operation
  opens the client, as in Motor 3; the spec's InvalidOperation before
  ``open()`` is not raised. Every spec example opens its client first, so
  they run either way, and code written for Motor 3 keeps working.
- :meth:`close` ends the client for good (PyMongo 4 cannot reopen a closed
  client; it stops monitoring and ends sessions). :meth:`disconnect` is the
  spec's reusable one: it closes the pooled connections, and the next
  operation makes new ones.
- With credentials (in the URI or from ``authenticate()``), :meth:`open`
  also authenticates one connection, so a wrong password fails at
  ``open()`` / ``open_sync()`` as it did in the spec, not at the first query.
"""

from __future__ import annotations

import time
from typing import Any

import pymongo
from bson.son import SON
from pymongo import common
from pymongo.database_shared import _check_name
from pymongo.errors import PyMongoError

from motor.core.metaprogramming import async_method, check_callback, unwrap, unwrap_args
from motor.frameworks import spec_mixin
from motor.runtime.timing import sleep
from motor.spec import auth
from motor.spec._legacy import run_legacy
from motor.spec.collection import index_cache
from motor.spec.options import SettingsMixin, client_arguments, name_positional

__all__ = ["ClientSpecMixin"]


@spec_mixin("AgnosticClient")
class ClientSpecMixin(SettingsMixin):
    """What the spec's MotorClient adds to Motor's."""

    _spec_replica_set = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        args, kwargs = client_arguments(args, kwargs, replica_set=self._spec_replica_set)
        super().__init__(*args, **kwargs)

    # -- opening -------------------------------------------------------------------

    def _open(self) -> Any:
        client = super()._open()
        credentials = self.delegate._topology_settings.pool_options._credentials
        if credentials is not None and credentials.mechanism in auth.CONVERSATION_MECHANISMS:
            auth.verify_credentials(self, credentials)
        return client

    def disconnect(self) -> None:
        """Close the pooled connections; the next operation opens new ones.

        Unlike :meth:`close`, the client stays usable (and keeps monitoring
        its servers). Connections in use close when they come back.
        """
        topology = self.delegate._topology
        if not self.delegate._opened or topology is None:
            return
        for server in list(topology._servers.values()):
            server.pool.reset_without_pause()
            server.request_check()

    @async_method
    def alive(self, *, callback: Any = None) -> Any:
        """Whether the server answers: True, or False after an error (never raises).

        False as soon as the client's monitors find no server reachable;
        otherwise runs ``ping``, allowing it the connect timeout (20 s by
        default).
        ``await client.admin.command('ping')`` says why, when it fails.
        """
        check_callback(callback)
        return self._runtime.start(self._spec_alive, callback=callback)

    def _spec_alive(self) -> bool:
        delegate = self.delegate
        seconds = delegate.options.pool_options.connect_timeout or 20.0
        try:
            topology = delegate._get_topology()
            # Wait (parked) for the monitors' verdict: a server known, or
            # every server unreachable.
            deadline = time.monotonic() + seconds
            while True:
                description = topology.description
                if description.known_servers:
                    break
                servers = description.server_descriptions().values()
                if servers and all(sd.error for sd in servers):
                    return False
                if time.monotonic() > deadline:
                    return False
                sleep(0.02)
            with pymongo.timeout(seconds):
                delegate.admin.command("ping")
        except PyMongoError:
            return False
        return True

    # -- databases -------------------------------------------------------------------

    @async_method
    def database_names(self, *, callback: Any = None) -> Any:
        """The names of the databases on the server."""
        check_callback(callback)
        return self._runtime.start(self.delegate.list_database_names, callback=callback)

    @async_method
    def drop_database(
        self, name_or_database: Any, *args: Any, callback: Any = None, **kwargs: Any
    ) -> Any:
        """Drop a database, given its name or the MotorDatabase itself.

        Takes PyMongo 4's ``session`` and ``comment`` (positionally too).
        """
        check_callback(callback)
        name_positional("drop_database", ("session", "comment"), args, kwargs)
        unwrap_args((), kwargs)
        name_or_database = unwrap(name_or_database)
        return self._runtime.start(
            self._spec_drop_database, (name_or_database, kwargs), callback=callback
        )

    def _spec_drop_database(self, name_or_database: Any, options: dict) -> None:
        name = getattr(name_or_database, "name", name_or_database)
        if isinstance(name, str):
            index_cache(self).forget(name)
        self.delegate.drop_database(name_or_database, **options)

    @async_method
    def copy_database(
        self,
        from_name: str,
        to_name: str,
        from_host: str | None = None,
        username: str | None = None,
        password: str | None = None,
        *,
        callback: Any = None,
    ) -> Any:
        """Copy database ``from_name`` to ``to_name`` (the ``copydb`` command).

        ``from_host`` copies from another server; ``username`` and
        ``password`` authenticate there. MongoDB 4.2 removed copydb: servers
        without it raise :class:`~motor.spec._legacy.CommandRemoved`, naming
        mongodump / mongorestore and ``$out`` as the replacements.
        """
        check_callback(callback)
        for what, value in (("from_name", from_name), ("to_name", to_name)):
            if not isinstance(value, str):
                raise TypeError(f"{what} must be a str, not {type(value).__name__}")
        _check_name(to_name)
        return self._runtime.start(
            self._spec_copy_database,
            (from_name, to_name, from_host, username, password),
            callback=callback,
        )

    def _spec_copy_database(
        self, from_name: str, to_name: str, from_host: Any, username: Any, password: Any
    ) -> Any:
        import hashlib

        admin = self.delegate.admin
        command = SON([("copydb", 1), ("fromdb", from_name), ("todb", to_name)])
        if from_host is not None:
            command["fromhost"] = from_host
        if username is not None:
            nonce_command = SON([("copydbgetnonce", 1)])
            if from_host is not None:
                nonce_command["fromhost"] = from_host
            nonce = run_legacy("copydbgetnonce", lambda: admin.command(nonce_command))["nonce"]
            # MONGODB-CR's key, which is what copydb with credentials used.
            digest = hashlib.md5(f"{username}:mongo:{password}".encode()).hexdigest()
            key = hashlib.md5(f"{nonce}{username}{digest}".encode()).hexdigest()
            command["username"] = username
            command["nonce"] = nonce
            command["key"] = key
        return run_legacy("copydb", lambda: admin.command(command))

    # -- server state ------------------------------------------------------------------

    @async_method
    def fsync(self, *, callback: Any = None, **kwargs: Any) -> Any:
        """Flush pending writes to disk (the ``fsync`` command); the reply.

        ``lock=True`` also locks the server against writes until
        :meth:`unlock`; ``async`` (pass it as ``**{'async': True}``) returns
        at once. They cannot be combined.
        """
        check_callback(callback)
        unwrap_args((), kwargs)
        command = SON([("fsync", 1)])
        command.update(kwargs)
        return self._runtime.start(self.delegate.admin.command, (command,), callback=callback)

    @async_method
    def unlock(self, *, callback: Any = None) -> Any:
        """Unlock a server locked by ``fsync(lock=True)`` (the ``fsyncUnlock`` command)."""
        check_callback(callback)
        return self._runtime.start(
            lambda: run_legacy("fsyncunlock", lambda: self.delegate.admin.command("fsyncUnlock")),
            callback=callback,
        )

    # -- cursors -------------------------------------------------------------------------

    @async_method
    def kill_cursors(self, cursor_ids: list, *, callback: Any = None) -> Any:
        """Kill server cursors by id (the ``killCursors`` command).

        Today's killCursors needs each cursor's namespace: Motor knows it for
        cursors this client opened; for others it asks ``$currentOp`` for idle
        cursors (where the server supports that). Ids found in neither place
        are ignored, as the spec's kill-cursors message ignored unknown ids.
        Raises TypeError if ``cursor_ids`` is not a list.
        """
        check_callback(callback)
        if not isinstance(cursor_ids, list):
            raise TypeError(f"cursor_ids must be a list, not {type(cursor_ids).__name__}")
        for cursor_id in cursor_ids:
            if isinstance(cursor_id, bool) or not isinstance(cursor_id, int):
                raise TypeError(f"cursor ids must be ints, not {cursor_id!r}")
        return self._runtime.start(self._spec_kill_cursors, (list(cursor_ids),), callback=callback)

    @async_method
    def close_cursor(self, cursor_id: int, *, callback: Any = None) -> Any:
        """Kill one server cursor by id; see :meth:`kill_cursors`."""
        check_callback(callback)
        if isinstance(cursor_id, bool) or not isinstance(cursor_id, int):
            raise TypeError(f"cursor_id must be an int, not {type(cursor_id).__name__}")
        return self._runtime.start(self._spec_kill_cursors, ([cursor_id],), callback=callback)

    def _spec_kill_cursors(self, cursor_ids: list) -> None:
        registry = self.__dict__.get("_spec_cursors") or {}
        by_namespace: dict[tuple[str, str], list] = {}
        unknown = []
        for cursor_id in cursor_ids:
            delegate = registry.get(cursor_id)
            if delegate is None:
                unknown.append(cursor_id)
            else:
                by_namespace.setdefault((delegate._dbname, delegate._collname), []).append(
                    cursor_id
                )
        if unknown:
            for namespace, cursor_id in self._spec_idle_cursor_namespaces(unknown):
                by_namespace.setdefault(namespace, []).append(cursor_id)
        for (db_name, collection_name), ids in by_namespace.items():
            self.delegate[db_name].command(
                SON([("killCursors", collection_name), ("cursors", ids)])
            )

    def _spec_idle_cursor_namespaces(self, cursor_ids: list) -> list:
        try:
            idle = self.delegate.admin.aggregate(
                [
                    {"$currentOp": {"idleCursors": True, "allUsers": True}},
                    {"$match": {"type": "idleCursor", "cursor.cursorId": {"$in": cursor_ids}}},
                ]
            )
            found = []
            for op in idle:
                db_name, _, collection_name = op.get("ns", "").partition(".")
                if collection_name:
                    found.append(((db_name, collection_name), op["cursor"]["cursorId"]))
            return found
        except PyMongoError:
            return []

    # -- properties ------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """The host of the server operations go to (before connecting: the first seed's)."""
        address = self.address
        if address is not None:
            return address[0]
        return next(iter(self.delegate._topology_settings.seeds))[0]

    @property
    def port(self) -> int:
        """The port of the server operations go to (before connecting: the first seed's)."""
        address = self.address
        if address is not None:
            return address[1]
        return next(iter(self.delegate._topology_settings.seeds))[1]

    @property
    def max_bson_size(self) -> int:
        """The largest document (in bytes) the server accepts; 0 while none is known."""
        server = self._known_server()
        return 0 if server is None else server.max_bson_size

    @property
    def max_pool_size(self) -> int:
        """The most connections open at once to each server (``max_concurrent``).

        In PyMongo 4 this caps all connections, in use or idle.
        """
        return self.delegate.options.pool_options.max_pool_size

    @property
    def document_class(self) -> type:
        """The class of the documents this client returns (dict by default); settable."""
        return self.delegate.codec_options.document_class

    @document_class.setter
    def document_class(self, klass: type) -> None:
        common.validate_document_class("document_class", klass)
        self.delegate._codec_options = self.delegate.codec_options.with_options(
            document_class=klass
        )

    @property
    def tz_aware(self) -> bool:
        """Whether datetimes this client returns carry a timezone (UTC)."""
        return self.delegate.codec_options.tz_aware

    @property
    def secondary_acceptable_latency_ms(self) -> int:
        """How much slower than the nearest member (in ms) a member may be and
        still serve reads (PyMongo 4's ``localThresholdMS``); settable."""
        return self.delegate._topology_settings.local_threshold_ms

    @secondary_acceptable_latency_ms.setter
    def secondary_acceptable_latency_ms(self, value: Any) -> None:
        value = common.validate_non_negative_integer("secondary_acceptable_latency_ms", value)
        self.delegate._topology_settings._local_threshold_ms = value
