"""Code written for Motor 3.7 and code written from Motor's documentation, together.

``motor.MotorClient`` is ``motor.motor_tornado.MotorClient`` (as in Motor 3):
one set of classes with Motor 3.7's API and the spec's, whose objects mix.
Where the two APIs name one thing differently, both forms work (see
doc/differences.rst). The asyncio drop-in keeps Motor 3's API alone; the
behaviours Motor 3.7 has in both flavours (cursor ``started`` / ``closed``,
the deprecated ``fetch_next``, ``with`` refused for sessions and change
streams, ``to_list``'s checks...) are tested in both.
"""

from __future__ import annotations

import asyncio

import pytest
from bson.son import SON
from pymongo import ReadPreference
from pymongo.errors import InvalidOperation
from pymongo.monitoring import CommandListener
from pymongo.write_concern import WriteConcern

import motor
import motor.motor_asyncio as motor_asyncio
import motor.motor_tornado as motor_tornado
from motor.motor_asyncio import AsyncIOMotorClient
from motor.motor_tornado import MotorClient

FLAVOURS = {"asyncio": (motor_asyncio, "AsyncIOMotor"), "tornado": (motor_tornado, "Motor")}

# Motor 3.7's texts: its users' warning filters (and its own test suite's) match them.
FETCH_NEXT_WARNING = "The fetch_next property is deprecated"
NEXT_OBJECT_WARNING = "The next_object method is deprecated"


class Commands(CommandListener):
    """Records the names of the commands a client sends."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event) -> None:
        pass

    def failed(self, event) -> None:
        pass


@pytest.fixture(params=sorted(FLAVOURS))
def flavour(request):
    return request.param


@pytest.fixture
def commands():
    return Commands()


@pytest.fixture
def any_client(flavour, io_loop, uri, commands):
    """A client of the flavour under test, on the test loop, recording its commands."""
    if flavour == "asyncio":
        client = AsyncIOMotorClient(uri, io_loop=io_loop.asyncio_loop, event_listeners=[commands])
    else:
        client = MotorClient(uri, io_loop=io_loop, event_listeners=[commands])
    yield client
    io_loop.run_sync(client.close)


@pytest.fixture
def any_db(any_client, db_name):
    return any_client[db_name]


@pytest.fixture
def any_coll(any_db):
    return any_db.test_collection


def motor_cls(flavour: str, name: str) -> type:
    module, prefix = FLAVOURS[flavour]
    return getattr(module, prefix + name)


# -- one namespace ----------------------------------------------------------------------


def test_motor_classes_are_motor_tornados():
    for name in motor_tornado.__all__:
        assert getattr(motor, name) is getattr(motor_tornado, name), name
    assert motor.MotorClient.__module__ == "motor.motor_tornado"


async def test_objects_of_spec_code_and_motor3_code_mix(client, db_name):
    # The spec's MotorClient, used with Motor 3's imports.
    db = client[db_name]
    assert isinstance(db, motor_tornado.MotorDatabase)
    await db.things.insert_one({})
    bucket = motor_tornado.MotorGridFSBucket(db)
    file_id = await bucket.upload_from_stream("f", b"data")
    assert await (await bucket.open_download_stream(file_id)).read() == b"data"
    session = await client.start_session()
    assert isinstance(session, motor_tornado.MotorClientSession)
    await session.end_session()
    # And Motor 3 code's database has the spec's methods.
    assert "things" in await motor_tornado.MotorDatabase(client, db_name).collection_names()


def test_the_asyncio_drop_in_keeps_motor3s_api(asyncio_client):
    collection = asyncio_client.test.things
    for spec_only in ("insert", "update", "save", "find_and_modify", "count", "ensure_index"):
        assert spec_only not in dir(type(collection)), spec_only
    assert type(collection.write_concern) is WriteConcern


async def test_a_database_of_the_other_flavour_is_refused(client, asyncio_client):
    with pytest.raises(TypeError, match="must be a MotorDatabase"):
        motor.MotorCollection(asyncio_client.test, "things")
    with pytest.raises(TypeError, match="must be a AsyncIOMotorDatabase"):
        motor_asyncio.AsyncIOMotorCollection(client.test, "things")


# -- write_concern: a WriteConcern and a dict -------------------------------------------


def test_write_concern_equals_the_writeconcern_and_the_dict(client):
    assert client.write_concern == WriteConcern()
    assert client.write_concern == {}
    assert isinstance(client.write_concern, WriteConcern)
    client.write_concern = {"w": 1, "wtimeout": 1000}
    assert WriteConcern(w=1, wtimeout=1000) == client.write_concern
    assert client.write_concern == {"w": 1, "wtimeout": 1000}
    assert client.write_concern.document == {"w": 1, "wtimeout": 1000}
    assert client.write_concern.acknowledged


async def test_write_concern_item_assignment_applies_to_its_owner_only(coll, commands):
    coll.write_concern["w"] = 0
    assert coll.write_concern == WriteConcern(w=0)
    assert not coll.delegate.write_concern.acknowledged
    # The database it came from, and collections made earlier, keep theirs.
    assert coll.database.write_concern == WriteConcern()
    assert coll.database[coll.name].write_concern == {}
    # And an unacknowledged write really goes out unacknowledged.
    result = await coll.insert_one({"_id": 1})
    assert not result.acknowledged


async def test_write_concern_passes_to_with_options_as_a_writeconcern(client, db_name):
    client.write_concern = {"w": 0}
    collection = client[db_name].things.with_options(write_concern=client.write_concern)
    assert collection.write_concern == WriteConcern(w=0)
    # A write concern is always true, even the server default: PyMongo reads
    # "write_concern or the parent's".
    assert bool(motor.MotorClient().write_concern)


def test_write_concern_copies_are_plain_write_concerns(client):
    import copy
    import pickle

    client.write_concern = {"w": 1, "j": True}
    for copied in (
        copy.copy(client.write_concern),
        copy.deepcopy(client.write_concern),  # must not copy the client
        pickle.loads(pickle.dumps(client.write_concern)),
    ):
        assert type(copied) is WriteConcern
        assert copied == WriteConcern(w=1, j=True)


# -- cursors ---------------------------------------------------------------------------


async def test_to_list_length_is_optional_and_checked(any_coll):
    await any_coll.insert_many([{"_id": i} for i in range(5)])
    assert len(await any_coll.find().to_list()) == 5
    assert len(await any_coll.find().to_list(2)) == 2
    with pytest.raises(TypeError, match="length must be an int"):
        any_coll.find().to_list("foo")
    with pytest.raises(ValueError, match="non-negative"):
        any_coll.find().to_list(-1)


async def test_to_list_on_a_tailable_cursor_raises_before_any_query(any_coll, commands):
    from pymongo import CursorType

    commands.names.clear()
    for length in (None, 10):
        with pytest.raises(InvalidOperation, match="tailable"):
            any_coll.find(cursor_type=CursorType.TAILABLE_AWAIT).to_list(length)
    await asyncio.sleep(0)
    assert "find" not in commands.names


async def test_cursor_started_and_closed_as_in_motor3(any_coll):
    await any_coll.insert_many([{"_id": i} for i in range(5)])
    for cursor in (any_coll.find().batch_size(2), any_coll.aggregate([]).batch_size(2)):
        assert not cursor.started and not cursor.closed
        assert await cursor.next() is not None
        assert cursor.started and not cursor.closed
        await cursor.close()
        assert cursor.closed
    cursor = any_coll.find()
    await cursor.to_list()
    assert cursor.started and not cursor.closed  # ran out, never closed
    cursor.rewind()
    assert not cursor.started
    async with any_coll.find() as cursor:
        pass
    assert cursor.closed


async def test_fetch_next_and_next_object_warn_with_motor3s_text(any_coll):
    await any_coll.insert_one({"_id": 1})
    cursor = any_coll.find()
    with pytest.warns(DeprecationWarning, match=FETCH_NEXT_WARNING) as warned:
        assert await cursor.fetch_next
    assert warned[0].filename == __file__  # points at the caller
    with pytest.warns(DeprecationWarning, match=NEXT_OBJECT_WARNING):
        assert cursor.next_object() == {"_id": 1}


# -- with instead of async with -----------------------------------------------------------


async def test_with_session_says_async_with(any_client):
    session = await any_client.start_session()
    with pytest.raises(AttributeError, match="async with await client.start_session"):
        with session:
            pass
    await session.end_session()


async def test_with_change_stream_says_async_with(any_coll, commands):
    commands.names.clear()
    with pytest.raises(RuntimeError, match="async with"):
        with any_coll.watch():
            pass
    await asyncio.sleep(0)
    assert "aggregate" not in commands.names


# -- change streams ----------------------------------------------------------------------


async def test_twenty_change_streams_made_at_once_all_see_a_change(any_coll):
    await any_coll.insert_one({"_id": "first"})  # the collection exists
    streams = [any_coll.watch() for _ in range(20)]
    try:
        nexts = [asyncio.ensure_future(stream.next()) for stream in streams[:10]]

        async def first_change(stream):
            async for change in stream:
                return change

        fors = [asyncio.ensure_future(first_change(stream)) for stream in streams[10:]]
        # Every stream opens (its aggregate runs) before the insert it must see.
        while not all(stream.delegate for stream in streams):
            await asyncio.sleep(0.02)
        await any_coll.insert_one({"_id": "second"})
        changes = await asyncio.wait_for(asyncio.gather(*nexts, *fors), 30)
    finally:
        for stream in streams:
            await stream.close()
    assert [change["documentKey"]["_id"] for change in changes] == ["second"] * 20


# -- constructors and argument checks -------------------------------------------------------


async def test_collection_constructor_refuses_create_options(flavour, any_db, commands):
    collection_cls = motor_cls(flavour, "Collection")
    assert collection_cls(any_db, "made_directly").name == "made_directly"
    commands.names.clear()
    with pytest.raises(TypeError, match="cannot create a collection .*capped, size.*create_collection"):
        collection_cls(any_db, "capped_one", capped=True, size=1000)
    await asyncio.sleep(0)
    assert "create" not in commands.names
    assert "capped_one" not in await any_db.list_collection_names()


async def test_an_empty_command_is_refused_before_any_io(any_db, commands):
    commands.names.clear()
    for empty in ({}, SON(), ""):
        with pytest.raises(InvalidOperation, match="empty"):
            any_db.command(empty)
    assert commands.names == []
    assert (await any_db.command("ping"))["ok"] == 1


async def test_spec_insert_of_a_non_document_says_what_it_takes(coll):
    for bad in (5, "doc", None):
        with pytest.raises(TypeError, match="a document .* or a list of documents, not"):
            coll.insert(bad)
    assert await coll.insert({"_id": 1}) == 1


def test_calling_a_collection_or_database_says_no_such_method_exists(any_client):
    # Motor 3's wording, which its users' tests look for.
    with pytest.raises(TypeError, match="no such method exists"):
        any_client.test.foo()
    with pytest.raises(TypeError, match="no such method exists"):
        any_client.foo()


# -- names both APIs define, in both forms --------------------------------------------------


async def test_motor3_positional_session_and_read_preference(client, db_name):
    db = client[db_name]
    await db.things.insert_one({"x": 1})
    async with await client.start_session() as session:
        assert await db.things.create_index("x", session) == "x_1"
        await db.things.drop_index("x_1", session)
        assert await db.things.create_index("x", 60) == "x_1"  # the spec's cache_for
        await db.things.drop_indexes(session)
        reply = await db.command("ping", 1, True, None, ReadPreference.PRIMARY, None, session)
        assert reply["ok"] == 1
        await db.things.drop(session)
        await db.drop_collection("other", session)
        await client.drop_database(db_name, session)
    assert db_name not in await client.list_database_names()


def test_client_positional_arguments_in_either_order(uri, io_loop):
    host, port = next(iter(motor.MotorClient(uri).delegate._topology_settings.seeds))
    motor3 = motor.MotorClient(host, port, SON, True, io_loop=io_loop)  # PyMongo 4's order
    assert motor3.delegate.codec_options.document_class is SON
    assert motor3.delegate.codec_options.tz_aware is True
    spec = motor.MotorClient(host, port, 7, io_loop=io_loop)  # PyMongo 2's: max_pool_size
    assert spec.max_pool_size == 7
    motor3.close()
    spec.close()


async def test_empty_projection_keyword_returns_whole_documents_fields_only_ids(coll):
    await coll.insert_one({"_id": 1, "x": 2})
    assert await coll.find_one({}, projection={}) == {"_id": 1, "x": 2}  # PyMongo 4
    assert await coll.find({}, projection={}).to_list() == [{"_id": 1, "x": 2}]
    assert await coll.find_one({}, []) == {"_id": 1}  # the spec (PyMongo 2)
    assert await coll.find(fields=[]).to_list() == [{"_id": 1}]


async def test_aggregate_is_awaitable_and_iterable(coll):
    await coll.insert_many([{"_id": i} for i in range(3)])
    pipeline = [{"$sort": {"_id": 1}}]
    assert await coll.aggregate(pipeline) == {"result": [{"_id": 0}, {"_id": 1}, {"_id": 2}], "ok": 1.0}
    assert [doc["_id"] async for doc in coll.aggregate(pipeline)] == [0, 1, 2]
    assert len(await coll.aggregate(pipeline).to_list()) == 3
