"""MotorClient: PyMongo's MongoClient, non-blocking.

::

    client = MotorClient("mongodb://localhost:27017", max_concurrent=50)
    doc = await client.test.things.find_one()

.. versionadded:: 4.0
"""

from __future__ import annotations

from asyncio import _get_running_loop
import numbers
import os
import warnings
import weakref
from typing import Any, Callable

from pymongo import MongoClient, common
from pymongo.driver_info import DriverInfo
from pymongo.errors import PyMongoError
from pymongo.read_preferences import ReadPreference
from pymongo.server_selectors import any_server_selector
from pymongo.server_type import SERVER_TYPE

from motor._version import version
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
        if old_pid is not None:
            # PyMongo's fork hook, in a child process: the parent's runtime
            # is not ours; _get_topology binds the child's.
            self.__dict__.pop("_motor_runtime", None)
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
            runtime = worker.runtime
        else:
            # A synchronous PyMongo call on this client's objects
            # (collection.delegate.insert_one(...)) opens it: it blocks
            # anyway, and the client serves the loop running here.
            loop = _get_running_loop()
            if loop is None:
                raise RuntimeError(
                    "A synchronous PyMongo call on a Motor client's objects (such as "
                    "collection.delegate.insert_one()) cannot open the client outside its "
                    "running loop; call the Motor method instead (await "
                    "collection.insert_one(...))"
                )
            runtime = LoopRuntime.for_loop(loop)
        self._motor_runtime = runtime
        if "_kill_cursors_executor" in self.__dict__:
            self._kill_cursors_executor.bind(runtime)
        return run_in_thread(super()._get_topology)

    def __repr__(self) -> str:
        # The class users know (and Motor 3 showed): "MotorClient(MongoClient(...))".
        return f"MongoClient({self._repr_helper()})"

    def __del__(self) -> None:
        # PyMongo's own warning would name this private class; name the
        # Motor class the application made, and its close().
        try:
            if self._opened and not self._closed:
                name = self.__dict__.get("_motor_class_name", "MotorClient")
                # Where it was made, without the source lines: the line that
                # made it may spell out a URI with its password.
                where = "".join(
                    line
                    for line in self._topology_settings._stack.splitlines(True)
                    if line.startswith("  File ")
                )
                # PyMongo's prefix is kept: warning filters written for
                # PyMongo and Motor 3 ("ignore:Unclosed MongoClient") match.
                warnings.warn(
                    f"Unclosed MongoClient of a {name}, which was never closed. "
                    f"It was opened at:\n{where}"
                    f"Call {name}.close() once you are done with it, to end its "
                    "sessions and close its connections.",
                    ResourceWarning,
                    stacklevel=2,
                )
        except (AttributeError, TypeError):
            pass  # interpreter shutdown

    def close(self) -> None:
        """Close at once, without I/O (see :meth:`AgnosticClient.close`)."""
        self._close_now(goodbye=False)

    def _close_now(self, goodbye: bool) -> Callable[[], None] | None:
        """Close without waiting for anything; returns the goodbye, if any.

        Everything PyMongo's close does that needs no I/O happens here, on
        the caller's thread: the client refuses new operations, idle
        connections close, the monitors are told to stop (never joined).
        What needs a round trip (endSessions, killCursors for abandoned
        cursors) is handed back, with ``goodbye`` True, as a function to run
        in a worker over one idle connection taken out of the pool first;
        otherwise it is skipped and the server times those out.
        """
        topology = self._topology
        if topology is None or self._closed:
            return None
        session_ids = topology.pop_all_sessions()
        self._kill_cursors_executor.close()
        abandoned = []
        queue = self._kill_cursors_queue
        while True:  # the garbage collector may append meanwhile
            try:
                abandoned.append(queue.pop())
            except IndexError:
                break
        conn = None
        if goodbye and self._opened and (session_ids or abandoned):
            conn = _take_idle_connection(topology)
        # Topology.close joins its event thread (up to 1 s) when there are
        # listeners: that thread stops on its own, don't wait for it.
        events = getattr(topology, "_events_executor", None)
        if events is not None:
            events.join = _no_join
        try:
            topology.close()
        finally:
            if events is not None:
                del events.join
        encrypter = self._encrypter
        if encrypter:
            internal = encrypter._internal_client
            if internal is not None:
                # The key vault's client: a plain MongoClient over Motor's
                # pools (PyMongo's _duplicate), whose own close would wait
                # for endSessions on the loop thread. Close it the same way.
                _LoopMongoClient._close_now(internal, goodbye=False)
                encrypter._internal_client = None
            encrypter.close()
        self._closed = True
        if conn is None:
            return None

        def say_goodbye() -> None:
            self._say_goodbye(conn, session_ids, abandoned)

        return say_goodbye

    def _say_goodbye(self, conn: Any, session_ids: list, abandoned: list) -> None:
        try:
            if session_ids and conn.supports_sessions:
                step = common._MAX_END_SESSIONS
                for i in range(0, len(session_ids), step):
                    conn.command(
                        "admin",
                        {"endSessions": session_ids[i : i + step]},
                        read_preference=ReadPreference.PRIMARY_PREFERRED,
                        client=self,
                    )
            by_namespace: dict = {}
            for address, cursor_id, conn_mgr in abandoned:
                if conn_mgr is None and address is not None and tuple(address) == conn.address:
                    by_namespace.setdefault(address.namespace, (address, []))[1].append(cursor_id)
            for address, cursor_ids in by_namespace.values():
                self._kill_cursor_impl(cursor_ids, address, None, conn)
        except (PyMongoError, OSError):
            pass  # as PyMongo's close: errors of endSessions are ignored
        finally:
            conn.close_conn(None)


def _no_join(timeout: float | None = None) -> None:
    """In place of a thread's join: the loop thread does not wait for threads."""


def _take_idle_connection(topology: Any) -> Any:
    """An idle application connection, out of its pool (a writable server's first)."""
    servers = sorted(topology._servers.values(), key=lambda s: not s.description.is_writable)
    for server in servers:
        pool = server.pool
        with pool.lock:
            if pool.conns:
                return pool.conns.popleft()
    return None


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
        io_loop = self._given_io_loop = kwargs.pop("io_loop", None)
        if io_loop is not None:
            self._bind(io_loop)
        _pool_options(kwargs, kwargs.pop("max_concurrent", None), kwargs.pop("max_wait_time", None))
        # Never connect in the constructor: it would resolve SRV records and
        # start PyMongo's own background thread on the caller's thread.
        kwargs.pop("connect", None)
        self._init_args = (args, dict(kwargs))
        app_driver = kwargs.pop("driver", None)
        if app_driver is not None and not isinstance(app_driver, DriverInfo):
            raise TypeError(
                f"driver must be a pymongo.driver_info.DriverInfo, not {type(app_driver).__name__}"
            )
        kwargs["driver"] = _motor_driver_info(self._framework, app_driver)
        self.delegate = _LoopMongoClient(
            *args,
            connect=False,
            _pool_class=MotorPool,
            _condition_class=GreenletCondition,
            **kwargs,
        )
        self.delegate._motor_class_name = type(self).__name__
        _live_clients.add(self)

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
        return runtime if runtime is not None else self._bind(self._given_io_loop)

    def _unbind_after_fork(self) -> None:
        # In a forked child: the parent's loop (even one given as io_loop)
        # shares its epoll instance with the parent and is not this
        # process's to run. The next operation binds to the child's current
        # loop, and PyMongo, which has replaced the topology already, opens
        # fresh connections (after its "opened before fork" warning).
        self._bound_runtime = None
        self._io_loop = self._given_io_loop = None

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
        """Close this client, at once; it cannot be used again.

        When ``close()`` returns, new operations raise
        :class:`~pymongo.errors.InvalidOperation`, idle connections are
        closed (in use ones close as their operations end) and the monitors
        are told to stop. It never blocks the loop and works whether the
        loop is running, stopped or closed (a test fixture's teardown).

        PyMongo also ends the client's server sessions and kills the cursors
        the garbage collector abandoned, which takes a round trip: if the
        loop is running, a worker does that in the background over one idle
        connection (taken out of the pool, closed afterwards); otherwise it
        is skipped and the server times them out.

        Calling it is enough, as in Motor 3. For code written for earlier
        4.0 development versions it returns an awaitable: awaiting it waits
        for the background goodbye, if any.

        .. versionchanged:: 4.0
           Synchronous, as in Motor 3: it no longer needs the loop to run.
        """
        check_callback(callback)
        runtime = self._bound_runtime
        loop = None if runtime is None else runtime.loop
        running = loop is not None and loop.is_running() and runtime.on_loop_thread()  # type: ignore[union-attr]
        goodbye = self.delegate._close_now(goodbye=running)
        if goodbye is not None:
            return runtime.start(goodbye, callback=callback)  # type: ignore[union-attr]
        if callback is not None:
            if loop is not None and not loop.is_closed():
                loop.call_soon(callback, None, None)
            else:
                callback(None, None)
            return None
        return _CLOSED

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


class _Closed:
    """What :meth:`AgnosticClient.close` returns: awaiting it returns None at once."""

    __slots__ = ()

    def __await__(self) -> Any:
        return None
        yield  # noqa: unreachable - makes this a generator

    def done(self) -> bool:
        return True

    def result(self) -> None:
        return None

    def __repr__(self) -> str:
        return "<client closed>"


_CLOSED = _Closed()


def _motor_driver_info(framework: Any, app_driver: DriverInfo | None) -> DriverInfo:
    """What the handshake says of Motor, then of the application, if it says.

    The server logs it for every connection: "PyMongo|Motor|<app's name>",
    versions and platforms likewise. One DriverInfo for every connection,
    monitors' included (``append_metadata`` would reach only the
    application's); PyMongo's constructor refuses a "|" in the fields it is
    given, so the combination is made with namedtuple's ``_make``, keeping
    the fields aligned as PyMongo's own appending does.
    """
    if framework is not None and framework.name == "asyncio":
        platform = "asyncio"
    else:
        import tornado

        platform = f"Tornado {tornado.version}"
    if app_driver is None:
        return DriverInfo("Motor", version, platform)
    return DriverInfo._make(
        (
            f"Motor|{app_driver.name or ''}",
            f"{version}|{app_driver.version or ''}",
            f"{platform}|{app_driver.platform}" if app_driver.platform else platform,
        )
    )


# Every Motor client alive, so that a forked child can unbind them all from
# the parent's loop (PyMongo resets their topologies itself).
_live_clients: weakref.WeakSet = weakref.WeakSet()


def _unbind_clients_after_fork() -> None:
    for client in list(_live_clients):
        client._unbind_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_unbind_clients_after_fork)
