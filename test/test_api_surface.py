"""Motor's public API against PyMongo's and Motor 3's.

Three references, each read without running it:

* PyMongo's synchronous classes (``MongoClient``, ``Database``...): every public
  attribute must exist on the Motor class wrapping it;
* PyMongo's asynchronous twins (``AsyncMongoClient``...): every coroutine
  method there must be asynchronous on Motor too (or return a Motor cursor,
  change stream or context manager, as Motor 3 did);
* Motor 3.7.1, installed in a separate virtualenv and parsed with :mod:`ast`
  (importing it here would clash with this package's name): every class its
  ``motor_tornado`` / ``motor_asyncio`` export, and every public name those
  classes declare, must exist here.

Anything deliberately left out is in :data:`EXCLUDED`, with the reason.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import os
import re
from typing import Any

import pytest
from pymongo.asynchronous.change_stream import AsyncChangeStream
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.command_cursor import AsyncCommandCursor
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.asynchronous.mongo_client import AsyncMongoClient
from pymongo.change_stream import ChangeStream
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.command_cursor import CommandCursor
from pymongo.cursor import Cursor
from pymongo.database import Database
from pymongo.mongo_client import MongoClient

import motor
import motor.motor_asyncio as motor_asyncio
import motor.motor_tornado as motor_tornado
from motor.runtime.greenlets import LoopRuntime

# -- the one exclusion table ---------------------------------------------------
#
# (owner, attribute) -> why Motor does not have it. ``owner`` is a PyMongo
# class name (synchronous or asynchronous), "motor3:<AgnosticClass>" for a
# name a Motor 3.7.1 class declares, or "motor3:<module>" for a class a Motor
# 3.7.1 module exports. (Motor 3's GridFS classes were excluded here, "GridFS
# arrives with its own issue", until it did.)

EXCLUDED: dict[tuple[str, str], str] = {
    # PyMongo's synchronous classes.
    ("MongoClient", "next"): "PyMongo raises TypeError: a client is not iterable",
    ("Database", "next"): "PyMongo raises TypeError: a database is not iterable",
    ("Collection", "next"): "PyMongo raises TypeError: a collection is not iterable",
    ("MongoClient", "eq_props"): (
        "PyMongo's helper for MongoClient.__eq__; Motor clients compare their delegates"
    ),
    # PyMongo's asynchronous twins.
    ("AsyncMongoClient", "aclose"): (
        "AsyncMongoClient-only alias; Motor (like Motor 3) has close(), whose Future may be awaited"
    ),
    ("AsyncMongoClient", "aconnect"): (
        "AsyncMongoClient-only; Motor (like Motor 3) connects on first use or with open()"
    ),
    # Motor 3.7.1's classes.
    ("motor3:AgnosticClient", "wrap"): "Motor 3's internal result-wrapping helper, undocumented",
    ("motor3:AgnosticDatabase", "wrap"): "Motor 3's internal result-wrapping helper, undocumented",
    ("motor3:AgnosticCollection", "wrap"): (
        "Motor 3's internal result-wrapping helper, undocumented"
    ),
    ("motor3:AgnosticGridFSBucket", "wrap"): (
        "Motor 3's internal result-wrapping helper, undocumented"
    ),
}

# Coroutine methods of PyMongo's async classes that are deliberately *not*
# awaitable on Motor: (async class, attribute) -> (what Motor returns, why).
# ``what`` is checked by calling the method (none of them does I/O).
NOT_AWAITABLE: dict[tuple[str, str], tuple[str, str]] = {
    ("AsyncMongoClient", "watch"): (
        "MotorChangeStream",
        "the stream opens on first use, so 'async with client.watch()' works as in Motor 3",
    ),
    ("AsyncDatabase", "watch"): ("MotorChangeStream", "opens on first use, as in Motor 3"),
    ("AsyncCollection", "watch"): ("MotorChangeStream", "opens on first use, as in Motor 3"),
    ("AsyncDatabase", "aggregate"): (
        "MotorLatentCommandCursor",
        "the command runs on the cursor's first fetch, so 'async for' needs no await first",
    ),
    ("AsyncCollection", "aggregate"): (
        "MotorLatentCommandCursor",
        "the command runs on the cursor's first fetch",
    ),
    ("AsyncCollection", "aggregate_raw_batches"): (
        "MotorLatentCommandCursor",
        "the command runs on the cursor's first fetch",
    ),
    ("AsyncCollection", "list_indexes"): (
        "MotorLatentCommandCursor",
        "the command runs on the cursor's first fetch",
    ),
    ("AsyncCollection", "list_search_indexes"): (
        "MotorLatentCommandCursor",
        "the command runs on the cursor's first fetch",
    ),
    ("AsyncCursor", "add_option"): ("same cursor", "a chaining option setter, as in Motor 3"),
    ("AsyncCursor", "rewind"): ("same cursor", "no I/O needed: resets and returns the cursor"),
    ("AsyncClientSession", "start_transaction"): (
        "async context manager",
        "no I/O until the first operation; 'async with s.start_transaction()' as in Motor 3",
    ),
}

# -- the classes compared --------------------------------------------------------

# PyMongo synchronous class, its async twin, Motor's agnostic class name.
PYMONGO_CLASSES = [
    (MongoClient, AsyncMongoClient, "AgnosticClient"),
    (Database, AsyncDatabase, "AgnosticDatabase"),
    (Collection, AsyncCollection, "AgnosticCollection"),
    (Cursor, AsyncCursor, "AgnosticCursor"),
    (CommandCursor, AsyncCommandCursor, "AgnosticCommandCursor"),
    (ChangeStream, AsyncChangeStream, "AgnosticChangeStream"),
    (ClientSession, AsyncClientSession, "AgnosticClientSession"),
]

# ``motor.MotorClient``... (the documented API), and the Motor 3 drop-ins.
FLAVOURS = {"motor": motor, "tornado": motor_tornado, "asyncio": motor_asyncio}


def motor_class(flavour: str, agnostic_name: str) -> type:
    module = FLAVOURS[flavour]
    prefix = "AsyncIO" if flavour == "asyncio" else ""
    return getattr(module, prefix + "Motor" + agnostic_name[len("Agnostic") :])


def public_names(cls: type) -> list[str]:
    return sorted(name for name in dir(cls) if not name.startswith("_"))


_STARTS_WORK = re.compile(r"\breturn\s+self\._runtime\.start\(")


def returns_awaitable(func: Any) -> bool:
    """True if calling ``func`` gives something to await, judged without calling it.

    Motor's generated I/O methods are marked ``motor_async``; hand-written
    ones either are coroutine functions or return the Future of
    ``self._runtime.start(...)`` (the call that runs PyMongo in a worker).
    """
    if getattr(func, "motor_async", False) or inspect.iscoroutinefunction(func):
        return True
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        return False
    return bool(_STARTS_WORK.search(source))


def motor_methods(cls: type) -> dict[str, Any]:
    """Public plain functions of ``cls`` (not properties), by name."""
    methods = {}
    for name in public_names(cls):
        value = inspect.getattr_static(cls, name)
        if inspect.isfunction(value):
            methods[name] = value
    return methods


@pytest.fixture
def flavour_client(request, io_loop, uri):
    """A client of the flavour the test is parametrized with, on the test loop."""
    flavour = request.node.callspec.params["flavour"]
    loop = io_loop.asyncio_loop if flavour == "asyncio" else io_loop
    client = motor_class(flavour, "AgnosticClient")(uri, io_loop=loop)
    yield client
    io_loop.run_sync(client.close)


# -- the exclusion tables themselves --------------------------------------------


def test_every_exclusion_has_a_reason():
    for key, reason in EXCLUDED.items():
        assert isinstance(reason, str) and len(reason) > 10, key
    for key, (what, reason) in NOT_AWAITABLE.items():
        assert what and len(reason) > 10, key


def test_no_exclusion_is_stale_for_pymongo_classes():
    """An excluded PyMongo name must exist in PyMongo and still be missing in Motor."""
    pymongo_classes = {}
    for sync_cls, async_cls, agnostic in PYMONGO_CLASSES:
        pymongo_classes[sync_cls.__name__] = (sync_cls, agnostic)
        pymongo_classes[async_cls.__name__] = (async_cls, agnostic)
    stale = []
    for owner, name in EXCLUDED:
        if owner.startswith("motor3:"):
            continue
        cls, agnostic = pymongo_classes[owner]
        assert hasattr(cls, name), f"{owner}.{name} is excluded but PyMongo has no such attribute"
        if all(hasattr(motor_class(flavour, agnostic), name) for flavour in FLAVOURS):
            stale.append(f"{owner}.{name}")
    assert not stale, f"excluded but Motor has them now; remove from EXCLUDED: {stale}"


# -- PyMongo's synchronous API -----------------------------------------------------


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
@pytest.mark.parametrize(
    "pymongo_cls, agnostic",
    [(sync_cls, agnostic) for sync_cls, _, agnostic in PYMONGO_CLASSES],
    ids=[sync_cls.__name__ for sync_cls, _, _ in PYMONGO_CLASSES],
)
def test_every_public_pymongo_attribute_exists_on_motor_class(pymongo_cls, agnostic, flavour):
    ours = motor_class(flavour, agnostic)
    missing = [
        name
        for name in public_names(pymongo_cls)
        if not hasattr(ours, name) and (pymongo_cls.__name__, name) not in EXCLUDED
    ]
    assert not missing, (
        f"{ours.__name__} lacks these public attributes of PyMongo's {pymongo_cls.__name__} "
        f"(add them, or list them in EXCLUDED with a reason): {missing}"
    )


# -- PyMongo's asynchronous API ------------------------------------------------------


def _async_twin_cases() -> list[tuple[type, str, str]]:
    cases = []
    for _, async_cls, agnostic in PYMONGO_CLASSES:
        for name in public_names(async_cls):
            # Names in EXCLUDED are not compared (the table says why).
            if (async_cls.__name__, name) in EXCLUDED:
                continue
            if inspect.iscoroutinefunction(getattr(async_cls, name)):
                cases.append((async_cls, name, agnostic))
    return cases


ASYNC_TWIN_CASES = _async_twin_cases()


def test_async_twins_have_coroutine_methods_to_compare():
    # Guards the parametrization below against PyMongo reorganising its classes.
    names = {(cls.__name__, name) for cls, name, _ in ASYNC_TWIN_CASES}
    assert ("AsyncCollection", "insert_one") in names
    assert ("AsyncMongoClient", "list_database_names") in names
    assert ("AsyncClientSession", "with_transaction") in names


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
@pytest.mark.parametrize(
    "async_cls, name, agnostic",
    ASYNC_TWIN_CASES,
    ids=[f"{cls.__name__}.{name}" for cls, name, _ in ASYNC_TWIN_CASES],
)
def test_pymongo_coroutine_method_is_async_on_motor(async_cls, name, agnostic, flavour):
    key = (async_cls.__name__, name)
    ours = motor_class(flavour, agnostic)
    assert hasattr(ours, name), f"{ours.__name__} has no {name!r} ({async_cls.__name__} does)"
    method = inspect.getattr_static(ours, name)
    assert inspect.isfunction(method), f"{ours.__name__}.{name} is not a method: {method!r}"
    if key in NOT_AWAITABLE:
        assert not returns_awaitable(method), (
            f"{ours.__name__}.{name} is awaitable now: remove it from NOT_AWAITABLE"
        )
    else:
        assert returns_awaitable(method), (
            f"{ours.__name__}.{name} does not return a Future, but "
            f"{async_cls.__name__}.{name} is a coroutine"
        )


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
async def test_non_awaitable_twins_return_what_the_table_says(flavour, flavour_client, db_name):
    client = flavour_client
    db = client[db_name]
    coll = db.things
    cursor = coll.find()
    session = await client.start_session()
    try:
        owners = {
            "AsyncMongoClient": client,
            "AsyncDatabase": db,
            "AsyncCollection": coll,
            "AsyncCursor": cursor,
            "AsyncClientSession": session,
        }
        args = {"aggregate": ([],), "aggregate_raw_batches": ([],), "add_option": (0,)}
        for (owner_name, name), (what, _) in NOT_AWAITABLE.items():
            owner = owners[owner_name]
            result = getattr(owner, name)(*args.get(name, ()))
            if what == "same cursor":
                assert result is owner, (owner_name, name)
            elif what == "async context manager":
                assert hasattr(result, "__aenter__") and hasattr(result, "__aexit__"), name
                assert session.in_transaction
                await session.abort_transaction()
            else:
                assert type(result) is motor_class(flavour, "Agnostic" + what[len("Motor") :]), (
                    owner_name,
                    name,
                    type(result),
                )
                await result.close()
    finally:
        await session.end_session()


# -- PyMongo objects come back as Motor objects -------------------------------------


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
async def test_methods_returning_pymongo_objects_return_motor_twins(
    flavour, flavour_client, db_name
):
    client = flavour_client

    def cls(agnostic: str) -> type:
        return motor_class(flavour, agnostic)

    db = client.get_database(db_name)
    assert type(db) is cls("AgnosticDatabase")
    coll = db.get_collection("y")
    assert type(coll) is cls("AgnosticCollection")
    assert type(coll.with_options()) is cls("AgnosticCollection")
    assert type(db.with_options()) is cls("AgnosticDatabase")
    assert type(coll.database) is cls("AgnosticDatabase")

    cursor = coll.find()
    assert type(cursor) is cls("AgnosticCursor")
    assert type(cursor.clone()) is cls("AgnosticCursor")
    assert type(cursor.collection) is cls("AgnosticCollection")
    assert type(coll.find_raw_batches()) is cls("AgnosticRawBatchCursor")

    aggregation = coll.aggregate([])
    assert type(aggregation) is cls("AgnosticLatentCommandCursor")
    await aggregation.close()

    stream = coll.watch()
    assert type(stream) is cls("AgnosticChangeStream")
    await stream.close()

    session = await client.start_session()
    try:
        assert type(session) is cls("AgnosticClientSession")
        assert session.client is client
    finally:
        await session.end_session()

    created = await db.create_collection("made")
    assert type(created) is cls("AgnosticCollection")
    collections = await db.list_collections()
    assert type(collections) is cls("AgnosticCommandCursor")
    await collections.close()
    databases = await client.list_databases()
    assert type(databases) is cls("AgnosticCommandCursor")
    await databases.close()


# -- the callback convention ----------------------------------------------------------


@contextlib.contextmanager
def no_worker_started(monkeypatch):
    """Fail if anything is handed to a worker (all I/O goes through one)."""
    started = []

    def refuse(self, fn, *args, **kwargs):
        started.append(fn)
        raise AssertionError(f"a worker was started for {fn!r}")

    with monkeypatch.context() as patch:
        patch.setattr(LoopRuntime, "start", refuse)
        yield started


async def _motor_objects(flavour, client, db_name) -> dict[str, Any]:
    """One object of every Motor class of ``client``'s flavour, by agnostic name."""
    db = client[db_name]
    coll = db.things
    command_cursor = await db.list_collections()
    # No public method returns a non-latent raw-batch command cursor, and its
    # class adds nothing to MotorCommandCursor: wrap a command cursor's delegate.
    raw_command_cursor = motor_class(flavour, "AgnosticRawBatchCommandCursor")(
        command_cursor.delegate, coll
    )
    return {
        "AgnosticClient": client,
        "AgnosticDatabase": db,
        "AgnosticCollection": coll,
        "AgnosticCursor": coll.find(),
        "AgnosticRawBatchCursor": coll.find_raw_batches(),
        "AgnosticCommandCursor": command_cursor,
        "AgnosticRawBatchCommandCursor": raw_command_cursor,
        "AgnosticLatentCommandCursor": coll.aggregate([]),
        "AgnosticChangeStream": coll.watch(),
        "AgnosticClientSession": await client.start_session(),
        **_gridfs_objects(flavour, db),
    }


def _gridfs_objects(flavour: str, db: Any) -> dict[str, Any]:
    """GridFS objects made without I/O, where this Motor has GridFS."""
    try:
        bucket = motor_class(flavour, "AgnosticGridFSBucket")(db)
        legacy = motor_class(flavour, "AgnosticGridFS")(db)
    except AttributeError:
        return {}
    return {
        "AgnosticGridFSBucket": bucket,
        "AgnosticGridFS": legacy,
        "AgnosticGridIn": bucket.open_upload_stream("never written"),
        "AgnosticGridOut": motor_class(flavour, "AgnosticGridOut")(db.fs, file_id=1),
        "AgnosticGridOutCursor": bucket.find(),
    }


def _async_methods_of(objects: dict[str, Any]) -> list[tuple[str, str, Any]]:
    found = []
    for agnostic, obj in objects.items():
        for name, method in motor_methods(type(obj)).items():
            if returns_awaitable(method):
                found.append((agnostic, name, obj))
    return found


def _call_with_bad_callback(obj: Any, name: str) -> None:
    method = getattr(obj, name)
    # None for each positional parameter before ``callback`` (to_list's length).
    leading = []
    for p in inspect.signature(method).parameters.values():
        if p.name == "callback" or p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        leading.append(None)
    result = method(*leading, callback="not callable")
    if inspect.iscoroutine(result):
        result.close()


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
async def test_every_async_method_takes_a_callback_keyword(flavour, flavour_client, db_name):
    client = flavour_client
    objects = await _motor_objects(flavour, client, db_name)
    try:
        methods = _async_methods_of(objects)
        assert len(methods) > 40, "too few async methods found: is returns_awaitable broken?"
        without = [
            f"{type(obj).__name__}.{name}"
            for _, name, obj in methods
            if "callback" not in inspect.signature(getattr(obj, name)).parameters
        ]
        assert not without, f"async methods without a callback keyword: {without}"
    finally:
        await objects["AgnosticClientSession"].end_session()


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
async def test_non_callable_callback_raises_type_error_without_io(
    flavour, flavour_client, db_name, monkeypatch
):
    client = flavour_client
    objects = await _motor_objects(flavour, client, db_name)
    problems = []
    try:
        with no_worker_started(monkeypatch) as started:
            for _, name, obj in _async_methods_of(objects):
                label = f"{type(obj).__name__}.{name}"
                try:
                    _call_with_bad_callback(obj, name)
                except TypeError as exc:
                    if "callback" not in str(exc) or "unexpected keyword" in str(exc):
                        problems.append(f"{label}: wrong TypeError: {exc}")
                except AssertionError as exc:
                    problems.append(f"{label}: {exc}")
                else:
                    problems.append(f"{label}: accepted a non-callable callback")
            assert not started
    finally:
        await objects["AgnosticClientSession"].end_session()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
async def test_every_async_method_docstring_mentions_callback(flavour, flavour_client, db_name):
    client = flavour_client
    objects = await _motor_objects(flavour, client, db_name)
    try:
        undocumented = sorted(
            f"{type(obj).__name__}.{name}"
            for _, name, obj in _async_methods_of(objects)
            if "callback" not in (inspect.getdoc(getattr(obj, name)) or "")
        )
    finally:
        await objects["AgnosticClientSession"].end_session()
    assert not undocumented, f"async methods whose docstring omits 'callback': {undocumented}"


async def test_callback_receives_result_and_error(coll):
    """The convention in action: callback(result, None), then callback(None, error)."""
    import asyncio

    from pymongo.errors import DuplicateKeyError

    loop = asyncio.get_running_loop()

    def insert_with_callback(doc):
        outcome = loop.create_future()
        returned = coll.insert_one(doc, callback=lambda r, e: outcome.set_result((r, e)))
        assert returned is None
        return outcome

    result, error = await asyncio.wait_for(insert_with_callback({"_id": 1}), 10)
    assert result.inserted_id == 1 and error is None
    result, error = await asyncio.wait_for(insert_with_callback({"_id": 1}), 10)
    assert result is None and isinstance(error, DuplicateKeyError)


# -- Motor 3.7.1, read with ast -----------------------------------------------------------

# Motor 3.7.1's package directory (its source is only read, never imported).
MOTOR3_DIR = os.environ.get(
    "MOTOR_TEST_MOTOR3_DIR", "/tmp/m3venv/lib/python3.11/site-packages/motor"
)

needs_motor3 = pytest.mark.skipif(
    not os.path.isfile(os.path.join(MOTOR3_DIR, "core.py")),
    reason=f"Motor 3.7.1's source is not at {MOTOR3_DIR}",
)


def _parse(filename: str) -> ast.Module:
    with open(os.path.join(MOTOR3_DIR, filename), encoding="utf-8") as f:
        return ast.parse(f.read(), filename)


def motor3_exports(module: str) -> dict[str, str | None]:
    """Public names a Motor 3 module exports -> the ``core`` class they're made from.

    Motor 3 writes ``MotorClient = create_motor_class(core.AgnosticClient)``
    (GridFS classes come from ``motor_gridfs``); the value is None for names
    listed in ``__all__`` but made some other way.
    """
    exports: dict[str, str | None] = {}
    for node in _parse(module + ".py").body:
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if not isinstance(target, ast.Name) or target.id.startswith("_"):
                continue
            source = None
            value = node.value
            if isinstance(value, ast.Call) and value.args:
                arg = value.args[0]
                if (
                    isinstance(arg, ast.Attribute)
                    and isinstance(arg.value, ast.Name)
                    and arg.value.id in ("core", "motor_gridfs")
                ):
                    source = arg.attr
            exports[target.id] = source
    for node in _parse(module + ".py").body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            for name in ast.literal_eval(node.value):
                exports.setdefault(name, None)
    return exports


def motor3_class_defs() -> dict[str, ast.ClassDef]:
    """Motor 3's agnostic classes, from ``core.py`` and ``motor_gridfs.py``."""
    return {
        node.name: node
        for filename in ("core.py", "motor_gridfs.py")
        for node in _parse(filename).body
        if isinstance(node, ast.ClassDef)
    }


_ASYNC_FACTORIES = {"AsyncRead", "AsyncWrite", "AsyncCommand"}


def _kind(statement: ast.stmt) -> str:
    """What a Motor 3 class-body statement declares: async, property, method, other."""
    if isinstance(statement, ast.AsyncFunctionDef):
        return "async"
    if isinstance(statement, ast.FunctionDef):
        decorators = {ast.unparse(d) for d in statement.decorator_list}
        return "property" if "property" in decorators else "method"
    value = statement.value  # type: ignore[attr-defined]
    # AsyncRead().wrap(Collection), AsyncCommand().unwrap("MotorDatabase")
    while (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr in ("wrap", "unwrap")
    ):
        value = value.func.value
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        if value.func.id in _ASYNC_FACTORIES:
            return "async"
        # (MotorGridOutProperty forwards whatever the GridOut has, methods too.)
        if value.func.id == "ReadOnlyProperty":
            return "property"
        if value.func.id in ("DelegateMethod", "MotorCursorChainingMethod"):
            return "method"
    return "other"


def motor3_class_names(agnostic: str) -> dict[str, str]:
    """Public names Motor 3's ``core.<agnostic>`` declares (with its bases) -> kind."""
    classes = motor3_class_defs()

    def collect(name: str) -> dict[str, str]:
        node = classes[name]
        found: dict[str, str] = {}
        for base in node.bases:
            if isinstance(base, ast.Name) and base.id in classes:
                found.update(collect(base.id))
        for statement in node.body:
            if isinstance(statement, ast.Assign):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = _kind(statement)
            elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                found[statement.target.id] = "other"
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[statement.name] = _kind(statement)
        return found

    return {k: v for k, v in collect(agnostic).items() if not k.startswith("_")}


MOTOR3_MODULES = {"motor_tornado": motor_tornado, "motor_asyncio": motor_asyncio}


def _motor3_common_classes() -> list[tuple[str, str, str]]:
    """(module, exported class name, Motor 3 agnostic class) present in both Motors."""
    if not os.path.isfile(os.path.join(MOTOR3_DIR, "core.py")):
        return []
    cases = []
    for module, ours in MOTOR3_MODULES.items():
        for name, agnostic in sorted(motor3_exports(module).items()):
            if agnostic is not None and hasattr(ours, name):
                cases.append((module, name, agnostic))
    return cases


MOTOR3_COMMON = _motor3_common_classes()


@needs_motor3
def test_motor3_exports_were_parsed():
    tornado_names = motor3_exports("motor_tornado")
    assert tornado_names["MotorClient"] == "AgnosticClient"
    assert "MotorLatentCommandCursor" in tornado_names  # assigned, though not in __all__
    assert motor3_exports("motor_asyncio")["AsyncIOMotorChangeStream"] == "AgnosticChangeStream"
    client_names = motor3_class_names("AgnosticClient")
    assert client_names["start_session"] == "async"
    assert client_names["codec_options"] == "property"  # inherited from a base class
    assert motor3_class_names("AgnosticCursor")["to_list"] == "method"


@needs_motor3
@pytest.mark.parametrize("module", sorted(MOTOR3_MODULES))
def test_every_class_motor3_exports_exists(module):
    ours = MOTOR3_MODULES[module]
    missing = [
        name
        for name in sorted(motor3_exports(module))
        if not hasattr(ours, name) and (f"motor3:{module}", name) not in EXCLUDED
    ]
    assert not missing, f"motor.{module} lacks classes Motor 3.7.1 exports: {missing}"


@needs_motor3
@pytest.mark.parametrize(
    "module, name, agnostic", MOTOR3_COMMON, ids=[f"{m}.{n}" for m, n, _ in MOTOR3_COMMON]
)
def test_every_motor3_class_attribute_exists(module, name, agnostic):
    ours = getattr(MOTOR3_MODULES[module], name)
    missing = [
        attr
        for attr in sorted(motor3_class_names(agnostic))
        if not hasattr(ours, attr) and (f"motor3:{agnostic}", attr) not in EXCLUDED
    ]
    assert not missing, (
        f"{name} lacks names Motor 3.7.1's {name} has "
        f"(add them, or list them in EXCLUDED with a reason): {missing}"
    )


@needs_motor3
@pytest.mark.parametrize(
    "module, name, agnostic", MOTOR3_COMMON, ids=[f"{m}.{n}" for m, n, _ in MOTOR3_COMMON]
)
def test_motor3_async_methods_and_properties_keep_their_kind(module, name, agnostic):
    """What Motor 3 made awaitable is awaitable here; its properties are not methods here."""
    ours = getattr(MOTOR3_MODULES[module], name)
    wrong = []
    for attr, kind in sorted(motor3_class_names(agnostic).items()):
        if not hasattr(ours, attr):
            continue  # reported by test_every_motor3_class_attribute_exists
        value = inspect.getattr_static(ours, attr)
        if kind == "async" and not (inspect.isfunction(value) and returns_awaitable(value)):
            wrong.append(f"{attr}: awaitable in Motor 3, not here")
        elif kind == "property" and inspect.isfunction(value):
            wrong.append(f"{attr}: a property in Motor 3, a method here")
        elif kind == "method" and not callable(value):
            wrong.append(f"{attr}: a method in Motor 3, not callable here")
    assert not wrong, f"{name}: {wrong}"


def test_no_exclusion_is_stale_for_motor3():
    if not os.path.isfile(os.path.join(MOTOR3_DIR, "core.py")):
        pytest.skip(f"Motor 3.7.1's source is not at {MOTOR3_DIR}")
    stale = []
    for owner, name in EXCLUDED:
        if not owner.startswith("motor3:"):
            continue
        target = owner[len("motor3:") :]
        if target in MOTOR3_MODULES:
            assert name in motor3_exports(target), f"Motor 3's {target} has no {name}"
            if hasattr(MOTOR3_MODULES[target], name):
                stale.append(f"{owner}.{name}")
        else:
            assert name in motor3_class_names(target), f"Motor 3's {target} has no {name}"
            for module, exported, agnostic in MOTOR3_COMMON:
                if agnostic == target and hasattr(getattr(MOTOR3_MODULES[module], exported), name):
                    stale.append(f"{exported}.{name}")
    assert not stale, f"excluded but Motor has them now; remove from EXCLUDED: {stale}"


def motor3_method_defs(agnostic: str) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Hand-written public methods of Motor 3's ``core.<agnostic>`` (with its bases)."""
    classes = motor3_class_defs()

    def collect(name: str) -> dict[str, Any]:
        node = classes[name]
        found: dict[str, Any] = {}
        for base in node.bases:
            if isinstance(base, ast.Name) and base.id in classes:
                found.update(collect(base.id))
        for statement in node.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[statement.name] = statement
            elif isinstance(statement, ast.Assign):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        found.pop(target.id, None)  # redefined by a factory
        return found

    return {
        name: node
        for name, node in collect(agnostic).items()
        if not name.startswith("_")
        and "property" not in {ast.unparse(d) for d in node.decorator_list}
    }


def signature_incompatibilities(
    theirs: ast.FunctionDef | ast.AsyncFunctionDef, ours: Any
) -> list[str]:
    """Calls Motor 3's signature accepts that ``ours`` would refuse or read differently."""
    args = theirs.args
    positional = [a.arg for a in args.posonlyargs + args.args][1:]  # without self
    first_default = len(positional) - len(args.defaults)
    optional = set(positional[first_default:]) | {
        a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None
    }
    keyword_names = [a.arg for a in args.args][1:] + [a.arg for a in args.kwonlyargs]

    params = list(inspect.signature(ours).parameters.values())[1:]  # without self
    by_name = {p.name: p for p in params}
    our_positional = [
        p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    has_varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
    has_varkw = any(p.kind is p.VAR_KEYWORD for p in params)

    problems = []
    for index, name in enumerate(positional):
        if index < len(our_positional):
            if our_positional[index] != name:
                problems.append(
                    f"positional argument {index + 1} is {name!r} in Motor 3, "
                    f"{our_positional[index]!r} here"
                )
        elif not has_varargs:
            problems.append(f"takes no positional argument {index + 1} ({name!r})")
    if args.vararg is not None and not has_varargs:
        problems.append(f"takes no *{args.vararg.arg}")
    for name in keyword_names:
        param = by_name.get(name)
        if param is None:
            if not has_varkw:
                problems.append(f"takes no keyword {name!r}")
        elif param.kind is param.POSITIONAL_ONLY:
            problems.append(f"{name!r} cannot be given by keyword")
    if args.kwarg is not None and not has_varkw:
        problems.append(f"takes no **{args.kwarg.arg}")
    for name in optional:
        param = by_name.get(name)
        if (
            param is not None
            and param.default is param.empty
            and param.kind
            not in (
                param.VAR_POSITIONAL,
                param.VAR_KEYWORD,
            )
        ):
            problems.append(f"{name!r} is optional in Motor 3, required here")
    return problems


@needs_motor3
@pytest.mark.parametrize(
    "module, name, agnostic", MOTOR3_COMMON, ids=[f"{m}.{n}" for m, n, _ in MOTOR3_COMMON]
)
def test_motor3_method_signatures_are_accepted(module, name, agnostic):
    """Every call Motor 3's hand-written methods accept, ours accept the same way."""
    ours = getattr(MOTOR3_MODULES[module], name)
    problems = []
    for attr, node in sorted(motor3_method_defs(agnostic).items()):
        method = inspect.getattr_static(ours, attr, None)
        if not inspect.isfunction(method):
            continue  # missing ones are reported by test_every_motor3_class_attribute_exists
        problems += [f"{attr}: {p}" for p in signature_incompatibilities(node, method)]
    assert not problems, f"{name}: " + "; ".join(problems)
