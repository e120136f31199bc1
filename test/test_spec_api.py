"""The spec's API, read from the spec itself: every documented method and property
exists on the ``motor.*`` classes with the documented parameters, every
asynchronous one takes ``callback=`` and returns a Future, and the Motor 3
drop-ins stay without them.

The spec is ``../shared/spec/motor-docs.txt`` (``MOTOR_TEST_SPEC`` to point
elsewhere); its API sections list each member as ``name(params)`` or ``name``
on a line of its own.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import warnings

import pytest
from pymongo.errors import ConfigurationError

import motor
import motor.motor_asyncio as motor_asyncio
import motor.motor_tornado as motor_tornado

SPEC_PATH = os.environ.get(
    "MOTOR_TEST_SPEC",
    os.path.join(os.path.dirname(__file__), "..", "..", "shared", "spec", "motor-docs.txt"),
)
if not os.path.isfile(SPEC_PATH):
    SPEC_PATH = "/work/shared/spec/motor-docs.txt"

needs_spec = pytest.mark.skipif(not os.path.isfile(SPEC_PATH), reason=f"no spec at {SPEC_PATH}")

# Names the spec's API sections mention that are deliberately not members.
NOT_MEMBERS = {
    "end_request": "only in 'See also end_request()': Motor has no requests (the spec's "
    "Requests section says so)",
    "evaluated": "a word of command()'s prose ('will be evaluated'), not a member",
    "background": "a word in create_index's option list, not a member",
    "index": "a word in create_index's option list, not a member",
    "arguments": "a word in create_index's option list, not a member",
}

# Documented members that do no I/O (everything else with parentheses is async).
SYNCHRONOUS = {
    "disconnect",
    "open_sync",
    "sync_client",
    "get_document_class",
    "set_document_class",
    "add_son_manipulator",
    "find",
}


def spec_sections() -> dict[str, tuple[dict[str, list[str]], set[str]]]:
    """Class name -> ({method: [parameter names]}, {property names})."""
    with open(SPEC_PATH, encoding="utf-8") as f:
        text = f.read()
    starts = [(m.start(), m.group(1)) for m in re.finditer(r"^class motor\.(\w+)\(", text, re.M)]
    sections = {}
    for i, (position, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        section = text[position:end]
        methods: dict[str, list[str]] = {}
        for method, params in re.findall(r"^\t?([a-z_]\w*)\(([^)]*)\)\s*$", section, re.M):
            names = [p.split("=")[0].strip().lstrip("*") for p in params.split(",") if p.strip()]
            methods[method] = names
        properties = set(re.findall(r"^\t?([a-z_]\w*)\s*$", section, re.M)) - set(methods)
        sections[name] = (
            {k: v for k, v in methods.items() if k not in NOT_MEMBERS},
            {p for p in properties if p not in NOT_MEMBERS},
        )
    return sections


SECTIONS = spec_sections() if os.path.isfile(SPEC_PATH) else {}


def _cases(kind: str) -> list:
    cases = []
    for class_name, (methods, properties) in sorted(SECTIONS.items()):
        if kind == "method":
            cases += [(class_name, name, params) for name, params in sorted(methods.items())]
        else:
            cases += [(class_name, name, None) for name in sorted(properties)]
    return cases


METHOD_CASES = _cases("method")
PROPERTY_CASES = _cases("property")


@needs_spec
def test_the_spec_was_parsed():
    assert set(SECTIONS) == {
        "MotorClient",
        "MotorReplicaSetClient",
        "MotorDatabase",
        "MotorCollection",
    }
    methods, properties = SECTIONS["MotorClient"]
    assert methods["copy_database"] == [
        "from_name",
        "to_name",
        "from_host",
        "username",
        "password",
        "callback",
    ]
    assert "write_concern" in properties
    assert "find_and_modify" in SECTIONS["MotorCollection"][0]
    assert len(METHOD_CASES) > 50 and len(PROPERTY_CASES) > 30


@needs_spec
@pytest.mark.parametrize(
    "class_name, name, params", METHOD_CASES, ids=[f"{c}.{n}" for c, n, _ in METHOD_CASES]
)
def test_documented_method_exists_with_its_parameters(class_name, name, params):
    cls = getattr(motor, class_name)
    method = getattr(cls, name, None)
    assert callable(method), f"motor.{class_name} has no method {name}()"
    signature = inspect.signature(method)
    accepted = signature.parameters
    takes_any_keyword = any(p.kind == p.VAR_KEYWORD for p in accepted.values())
    takes_any_positional = any(p.kind == p.VAR_POSITIONAL for p in accepted.values())
    for param in params:
        if param in ("kwargs", "args"):
            kind = (
                inspect.Parameter.VAR_KEYWORD
                if param == "kwargs"
                else inspect.Parameter.VAR_POSITIONAL
            )
            assert any(p.kind == kind for p in accepted.values()), (class_name, name, param)
        elif param not in accepted:
            # The spec's find(*args, **kwargs) and close_cursor(cursor_id, _conn_id):
            # PyMongo 2 internals a caller never passes are the only exceptions.
            assert param.startswith("_") or takes_any_keyword and takes_any_positional, (
                f"motor.{class_name}.{name}() lacks the documented parameter {param!r}: {signature}"
            )
    if name not in SYNCHRONOUS and "callback" in params:
        callback = accepted.get("callback")
        assert callback is not None and callback.default is None, (class_name, name)
        assert callback.kind == inspect.Parameter.KEYWORD_ONLY or name == "open", (
            f"{class_name}.{name}: callback must be passed by keyword (the spec says so)"
        )
        assert "callback" in (inspect.getdoc(method) or ""), (class_name, name)


@needs_spec
@pytest.mark.parametrize(
    "class_name, name, _", PROPERTY_CASES, ids=[f"{c}.{n}" for c, n, _ in PROPERTY_CASES]
)
def test_documented_property_exists(class_name, name, _):
    cls = getattr(motor, class_name)
    assert hasattr(cls, name), f"motor.{class_name} has no {name}"
    assert isinstance(inspect.getattr_static(cls, name), property), f"{class_name}.{name}"


SPEC_ONLY = {
    "MotorClient": [
        "database_names",
        "copy_database",
        "fsync",
        "unlock",
        "alive",
        "kill_cursors",
        "disconnect",
        "max_pool_size",
        "document_class",
        "tag_sets",
        "host",
    ],
    "MotorDatabase": [
        "collection_names",
        "current_op",
        "add_user",
        "authenticate",
        "logout",
        "eval",
        "error",
        "last_status",
        "profiling_level",
        "add_son_manipulator",
    ],
    "MotorCollection": [
        "insert",
        "update",
        "remove",
        "save",
        "find_and_modify",
        "count",
        "ensure_index",
        "group",
        "map_reduce",
        "inline_map_reduce",
    ],
    "MotorCursor": ["count"],
}


def test_motor_and_motor_tornado_are_one_flavour_with_the_spec_api():
    # As in Motor 3, motor.MotorClient is motor.motor_tornado.MotorClient; it
    # has the spec's API as well as Motor 3's.
    for class_name, names in SPEC_ONLY.items():
        cls = getattr(motor, class_name)
        assert getattr(motor_tornado, class_name) is cls
        for name in names:
            assert hasattr(cls, name), (class_name, name)
    assert hasattr(motor.MotorCursor, "__getitem__")


def test_asyncio_drop_in_does_not_gain_the_spec_api():
    for class_name, names in SPEC_ONLY.items():
        drop_in = getattr(motor_asyncio, "AsyncIO" + class_name)
        for name in names:
            assert name not in dir(drop_in), f"{drop_in.__name__} has the spec's {name}"
    assert not hasattr(motor_asyncio.AsyncIOMotorCursor, "__getitem__")
    assert not hasattr(motor_asyncio, "AsyncIOMotorReplicaSetClient")


def test_motor_exports_the_spec_names():
    for name in (
        "MotorClient",
        "MotorReplicaSetClient",
        "MotorDatabase",
        "MotorCollection",
        "MotorCursor",
        "Op",
    ):
        assert name in motor.__all__
    # As in PyMongo 2, the replica set client is a class of its own (of the
    # Tornado flavour, as every motor.* class).
    assert motor.MotorReplicaSetClient.__module__ == "motor.motor_tornado"


@pytest.mark.parametrize("cls", ["MotorConnection", "MotorReplicaSetConnection"])
def test_deprecated_connection_classes_raise_configuration_error(cls):
    with pytest.raises(ConfigurationError, match="deprecated"):
        getattr(motor, cls)("localhost", 27017)


async def test_op_runs_a_callback_method_and_warns(coll):
    await coll.insert_one({"_id": 1, "x": "op"})
    with pytest.warns(DeprecationWarning, match="motor.Op is deprecated"):
        future = motor.Op(coll.find_one, {"_id": 1})
    assert (await future) == {"_id": 1, "x": "op"}


async def test_op_raises_the_error_the_method_calls_back_with(coll):
    from pymongo.errors import DuplicateKeyError

    await coll.insert_one({"_id": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(DuplicateKeyError):
            await motor.Op(coll.insert_one, {"_id": 1})


async def test_op_works_in_a_gen_coroutine(coll):
    from tornado import gen

    await coll.insert_one({"_id": 7})

    @gen.coroutine
    def f():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            doc = yield motor.Op(coll.find_one, {"_id": 7})
        return doc

    assert (await f()) == {"_id": 7}


def test_op_refuses_a_callback_of_its_own(io_loop):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(TypeError, match="its own callback"):
            motor.Op(print, callback=print)


async def test_every_spec_async_method_returns_a_future_or_calls_back(coll):
    # One round trip each way, through the same method, to show both forms.
    await coll.insert({"_id": 1})
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    assert coll.count(callback=lambda result, error: done.set_result((result, error))) is None
    assert await asyncio.wait_for(done, 10) == (1, None)
    assert await coll.count() == 1
