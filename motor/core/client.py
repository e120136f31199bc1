"""MotorClient: PyMongo's MongoClient, non-blocking.

::

    client = MotorClient("mongodb://localhost:27017", max_concurrent=50)
    doc = await client.test.things.find_one()

.. versionadded:: 4.0
"""

from __future__ import annotations

import functools
import numbers
import weakref
from typing import Any

from pymongo import MongoClient, common
from pymongo.server_selectors import any_server_selector
from pymongo.server_type import SERVER_TYPE

from motor.core.metaprogramming import (
    AsyncCommand,
    AsyncRead,
    AsyncWrite,
    DelegateMethod,
    MotorBase,
    MotorMeta,
    ReadOnlyProperty,
    async_method,
    check_callback,
)
from motor.frameworks import register_agnostic
from motor.network.pool import MotorPool
from motor.runtime.conditions import GreenletCondition
from motor.runtime.greenlets import LoopRuntime, current_worker
from motor.runtime.periodic import LoopPeriodicExecutor
from motor.runtime.timing import run_in_thread

__all__ = ["AgnosticClient"]


class _LoopMongoClient(MongoClient):
    """The delegate: a MongoClient whose periodic work runs on Motor's loop."""

    def _init_background(self, old_pid: int | None = None) -> None:
        super()._init_background(old_pid)
        client_ref = weakref.ref(self)

        def periodic_tasks() -> bool:
            client = client_ref()
            if client is None:
                return False
            MongoClient._process_periodic_tasks(client)
            return True

        # Replaces the thread PyMongo made (never started: connect=False).
        executor = LoopPeriodicExecutor(common.KILL_CURSOR_FREQUENCY, periodic_tasks)
        runtime = self.__dict__.get("_motor_runtime")
        if runtime is not None:
            # Made again after resolving mongodb+srv://, from _get_topology.
            executor.bind(runtime)
        self._kill_cursors_executor = executor  # type: ignore[assignment]

    def _get_topology(self) -> Any:
        if self._opened:
            return self._topology
        # Opening starts PyMongo's monitor threads (Thread.start waits for
        # each thread to run) and resolves mongodb+srv:// records: blocking
        # work, so a thread does it while the worker waits.
        worker = current_worker()
        if worker is not None:
            self._motor_runtime = worker.runtime
            if "_kill_cursors_executor" in self.__dict__:
                self._kill_cursors_executor.bind(worker.runtime)
        return run_in_thread(super()._get_topology)

    def close(self) -> None:
        # PyMongo's close ends sessions and kills cursors over Motor's
        # connections (worker I/O), then closes the topology, which may join
        # its event thread: that last step goes to a thread.
        topology = self._topology
        if current_worker() is None or topology is None:
            super().close()
            return
        topology.close = functools.partial(run_in_thread, type(topology).close, topology)
        try:
            super().close()
        finally:
            del topology.close


def _pool_options(kwargs: dict, max_concurrent: Any, max_wait_time: Any) -> None:
    """Translate Motor's pool options to PyMongo's, checking them."""
    if max_concurrent is not None:
        if not isinstance(max_concurrent, int) or isinstance(max_concurrent, bool) or max_concurrent < 1:
            raise TypeError(f"max_concurrent must be a positive integer, not {max_concurrent!r}")
        kwargs["maxPoolSize"] = max_concurrent
    if max_wait_time is not None:
        if (
            not isinstance(max_wait_time, numbers.Real)
            or isinstance(max_wait_time, bool)
            or max_wait_time < 0
        ):
            raise TypeError(f"max_wait_time must be a number of seconds >= 0, not {max_wait_time!r}")
        kwargs["waitQueueTimeoutMS"] = max_wait_time * 1000


@register_agnostic
class AgnosticClient(MotorBase, metaclass=MotorMeta):
    """A connection to MongoDB: a replica set, a standalone, or mongoses.

    Takes what :class:`~pymongo.mongo_client.MongoClient` takes, plus:

    :param io_loop: the loop to run on (default: the current one).
    :param max_concurrent: most connections open at once to each host
      (PyMongo's ``maxPoolSize``; default 100). Operations beyond it wait on
      the loop for a connection.
    :param max_wait_time: seconds an operation may wait for a connection
      before :class:`~motor.MotorPoolTimeout` (default: forever).

    Nothing is connected until :meth:`open` or the first operation.
    """

    __motor_class_name__ = "MotorClient"
    __delegate_class__ = MongoClient

    HOST = "localhost"
    PORT = 27017

    arbiters = ReadOnlyProperty()
    codec_options = ReadOnlyProperty()
    nodes = ReadOnlyProperty()
    options = ReadOnlyProperty()
    primary = ReadOnlyProperty()
    read_concern = ReadOnlyProperty()
    read_preference = ReadOnlyProperty()
    secondaries = ReadOnlyProperty()
    topology_description = ReadOnlyProperty()
    write_concern = ReadOnlyProperty()

    append_metadata = DelegateMethod()
    get_database = DelegateMethod(wrap="AgnosticDatabase")
    get_default_database = DelegateMethod(wrap="AgnosticDatabase")

    bulk_write = AsyncWrite()
    drop_database = AsyncCommand()
    list_database_names = AsyncRead()
    list_databases = AsyncRead(wrap="AgnosticCommandCursor")
    server_info = AsyncRead()
    start_session = AsyncCommand(wrap="AgnosticClientSession")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._client = self
        self._io_loop: Any = None
        self._bound_runtime: LoopRuntime | None = None
        io_loop = kwargs.pop("io_loop", None)
        if io_loop is not None:
            self._bind(io_loop)
        _pool_options(kwargs, kwargs.pop("max_concurrent", None), kwargs.pop("max_wait_time", None))
        # Never connect in the constructor: it would resolve SRV records and
        # start PyMongo's own background thread on the caller's thread.
        kwargs.pop("connect", None)
        self._init_args = (args, dict(kwargs))
        self.delegate = _LoopMongoClient(
            *args,
            connect=False,
            _pool_class=MotorPool,
            _condition_class=GreenletCondition,
            **kwargs,
        )

    # -- the loop ------------------------------------------------------------------

    def _bind(self, io_loop: Any) -> LoopRuntime:
        self._io_loop, loop = self._framework.resolve_loop(io_loop)
        runtime = self._bound_runtime = LoopRuntime.for_loop(loop)
        return runtime

    @property
    def _runtime(self) -> LoopRuntime:
        # Bound on first use, not in the constructor: a client made at import
        # time serves the loop that later runs (asyncio.run makes a new one).
        runtime = self._bound_runtime
        return runtime if runtime is not None else self._bind(None)

    @property
    def io_loop(self) -> Any:
        """The loop this client runs on (bound on first use if not given)."""
        self._runtime  # noqa: B018 - binds
        return self._io_loop

    # -- connecting ------------------------------------------------------------

    @async_method
    def open(self, callback: Any = None) -> Any:
        """Connect: a Future resolving to this client once a server answers.

        With ``callback``, it is called as ``callback(client, error)``.
        Raises :class:`~pymongo.errors.ServerSelectionTimeoutError` if no
        server is reachable within ``serverSelectionTimeoutMS``.
        """
        check_callback(callback)
        return self._runtime.start(self._open, callback=callback)

    def _open(self) -> Any:
        topology = self.delegate._get_topology()
        topology.select_server(any_server_selector, "open")
        return self

    def open_sync(self) -> Any:
        """Connect before the loop runs; return this client.

        ::

            client = MotorClient().open_sync()
            IOLoop.current().run_sync(main)
        """
        loop = self._runtime.loop
        if loop.is_running():
            raise RuntimeError(
                "open_sync() runs the loop until connected, but the loop is already "
                "running: use 'await client.open()' instead"
            )
        return loop.run_until_complete(self.open())

    @property
    def connected(self) -> bool:
        """True once a server of this client's topology has answered."""
        if not self.delegate._opened or self.delegate._closed:
            return False
        descriptions = self.delegate._topology.description.server_descriptions()
        return any(sd.is_server_type_known for sd in descriptions.values())

    @async_method
    def close(self, callback: Any = None) -> Any:
        """End sessions, close connections and stop monitoring.

        Returns a Future that is done once everything is closed; awaiting it
        is optional.
        """
        check_callback(callback)
        return self._runtime.start(self.delegate.close, callback=callback)

    def sync_client(self) -> MongoClient:
        """A blocking PyMongo MongoClient with this client's configuration."""
        args, kwargs = self._init_args
        return MongoClient(*args, **kwargs)

    # -- the current server, without waiting for one --------------------------

    def _known_server(self) -> Any:
        if not self.delegate._opened:
            return None
        description = self.delegate._topology.description
        writable = [sd for sd in description.known_servers if sd.is_writable]
        return writable[0] if writable else None

    @property
    def address(self) -> tuple[str, int] | None:
        """(host, port) of the server operations go to, or None if none is known yet.

        Unlike PyMongo's, this never waits for server selection; ``await
        client.open()`` first to be sure one is known.
        """
        server = self._known_server()
        return None if server is None else server.address

    @property
    def is_primary(self) -> bool:
        """True if the known writable server is a standalone, mongos or primary."""
        return self._known_server() is not None

    @property
    def is_mongos(self) -> bool:
        """True if the known writable server is a mongos."""
        server = self._known_server()
        return server is not None and server.server_type == SERVER_TYPE.Mongos

    # -- databases --------------------------------------------------------------

    def __getitem__(self, name: str) -> Any:
        return self._motor_class("AgnosticDatabase")(self, name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(
                f"{type(self).__name__} has no attribute {name!r}. To use the "
                f"{name!r} database, write client[{name!r}]."
            )
        return self[name]

    def watch(self, *args: Any, **kwargs: Any) -> Any:
        """A change stream on the whole deployment (opened on first use)."""
        return self._motor_class("AgnosticChangeStream")(self, args, kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.delegate!r})"
