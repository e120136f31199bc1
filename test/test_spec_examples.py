"""Every code example of Motor's documentation, run as written.

The documentation is the spec, ``../shared/spec/motor-docs.txt`` (Motor
0.2's); each test cites the spec lines it runs. The examples are changed only
where Python 3 or Tornado 6 require it, and each change is marked where it is
made:

- Python 3 syntax: ``print()``, a keyword argument given before a positional
  one (in Python 3, keywords come last); Python 2's byte strings (``'Contents'`` written to GridFS,
  ``cStringIO``, ``open()`` of a file to store) are bytes; the expected output
  of ``>>>`` sessions has no ``u''`` prefixes and dicts in the server's order.
- ``@tornado.web.asynchronous`` and ``gen.Task``, gone in Tornado 6:
  ``spec_examples.tornado6`` has their closest Tornado 6 forms, used under the
  same names. Stacked on ``@gen.coroutine`` the decorator is simply dropped
  (Tornado 6 waits for the coroutine).
- Where the spec connects to ``localhost:27017`` (or listens on 8888), the
  tests use the test server (a free port): ``motor.MotorClient()`` and
  PyMongo's ``MongoClient()`` find the test server as their default host, and
  examples that name the host and port get ``HOST`` and ``PORT``.
- Names an excerpt uses without defining them (``db``, ``msg_id``...) are
  set up just before it, and a few checks of what the example did follow it;
  both are marked as not the spec's.

The examples use the spec's own database names (``test``,
``test_database``...); the ``spec`` fixture drops them before and after each
test, and closes the clients the examples make.
"""

from __future__ import annotations

import asyncio
import datetime
import inspect
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from types import SimpleNamespace

import gridfs
import pymongo
import pytest
from bson import ObjectId
from pymongo.errors import OperationFailure
from pymongo.uri_parser import parse_uri
from tornado import gen
from tornado.ioloop import IOLoop

import motor

from .motor_fixtures import sync_client, test_uri
from .servers import ServerStartError, find_free_port, secantusd_path
from .spec_examples.auth_server import available as auth_server_available
from .spec_examples.auth_server import start_auth_server
from .spec_examples.doctests import run_doctest
from .spec_examples.serving import WhileServing
from .spec_examples.tornado6 import Task, asynchronous

SPEC_DATABASES = ("test", "test_database", "my_database", "database_name")
HERE = os.path.dirname(os.path.abspath(__file__))


def _drop_spec_databases() -> None:
    with sync_client() as client:
        for name in SPEC_DATABASES:
            client.drop_database(name)


@pytest.fixture
def spec(monkeypatch, io_loop):
    """The world the spec's examples assume: MongoDB at the default host and port.

    ``motor.MotorClient()`` and ``pymongo.MongoClient()`` connect to the test
    server; ``spec.host`` / ``spec.port`` name it for examples that spell out
    ``'localhost', 27017``. Motor clients the examples make are closed after
    the test, and the spec's databases dropped before and after it.
    """
    uri = test_uri()
    host, port = parse_uri(uri)["nodelist"][0]
    monkeypatch.setattr(pymongo.MongoClient, "HOST", uri)

    made = []
    init = motor.MotorClient.__init__

    def init_and_remember(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(motor.MotorClient, "__init__", init_and_remember)
    _drop_spec_databases()
    yield SimpleNamespace(host=host, port=port, uri=uri, clients=made)
    for client in made:
        io_loop.run_sync(client.close, timeout=30)
    _drop_spec_databases()


# -- instrumentation (not the spec's) ------------------------------------------------


def recording(callback, calls: list):
    """``callback``, noting each call's arguments in ``calls`` first."""

    def record(*args):
        calls.append(args)
        return callback(*args)

    return record


async def until(predicate, timeout: float = 30.0) -> None:
    """Wait on the loop until ``predicate()`` (maybe a coroutine function) is true."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {predicate!r}")
        await asyncio.sleep(0.01)


def run_until(io_loop, predicate, timeout: float = 30.0) -> None:
    """From a test whose loop is stopped: run it until ``predicate()`` is true."""
    io_loop.run_sync(lambda: until(predicate, timeout), timeout=timeout + 5)


def set_fail_point(data: dict, times: int = 1) -> None:
    """Make the next ``times`` commands named in ``data`` fail or stall, or skip."""
    with sync_client() as client:
        try:
            client.admin.command(
                {"configureFailPoint": "failCommand", "mode": {"times": times}, "data": data}
            )
        except OperationFailure as exc:
            pytest.skip(f"the server has no failCommand fail point (configureFailPoint): {exc}")


def clear_fail_point() -> None:
    with sync_client() as client:
        client.admin.command({"configureFailPoint": "failCommand", "mode": "off"})


def insert_with_pymongo(db_name: str, coll_name: str, *documents: dict) -> None:
    with sync_client() as client:
        client[db_name][coll_name].insert_many(list(documents))


# == "Motor 和 PyMongo 的区别" (differences between Motor and PyMongo), lines 32-478 ==


def test_differences_open_sync(spec):
    # Spec lines 45-46.
    import motor
    client = motor.MotorClient().open_sync()

    assert client.connected  # check (not in the spec)


async def test_differences_open_with_callback(spec, capsys):
    # Spec lines 54-61, once the application runs (on the loop).
    def opened(client, error):
        if error:
            print('Error connecting!', error)
        else:
            # Use the client
            pass

    calls: list = []
    opened = recording(opened, calls)  # instrumentation (not in the spec)

    motor.MotorClient().open(opened)

    await until(lambda: calls)  # check (not in the spec)
    client, error = calls[0]
    assert error is None and client.connected
    assert capsys.readouterr().out == ""


def test_differences_callbacks_and_find_one(spec, io_loop, capsys):
    from motor import MotorClient
    from pymongo import MongoClient

    insert_with_pymongo("test", "users", {"name": "Jesse"})  # set-up (not in the spec)

    # Spec lines 74-75: the shape of every callback.
    def callback(result, error):
        pass

    callback(None, None)

    # Spec lines 84-86: the same query with PyMongo, which blocks (the loop is not running).
    db = MongoClient().test
    user = db.users.find_one({'name': 'Jesse'})
    print(user)

    db.client.close()  # clean-up (not in the spec)
    assert "'name': 'Jesse'" in capsys.readouterr().out

    # Spec lines 94-102.
    db = MotorClient().open_sync().test

    def got_user(user, error):
        if error:
            print('error getting user!', error)
        else:
            print(user)

    calls: list = []
    got_user = recording(got_user, calls)  # instrumentation (not in the spec)

    db.users.find_one({'name': 'Jesse'}, callback=got_user)

    run_until(io_loop, lambda: calls)  # check (not in the spec)
    assert calls[0][0]["name"] == "Jesse" and calls[0][1] is None
    assert "'name': 'Jesse'" in capsys.readouterr().out


def test_differences_to_list_with_callback(spec, io_loop, capsys):
    from motor import MotorClient

    insert_with_pymongo("test", "users", {"name": "Jesse"}, {"name": "Ben"})  # set-up
    db = MotorClient().open_sync().test  # set-up: spec line 94

    # Spec lines 112-119.
    def got_users(users, error):
        if error:
            print('error getting users!', error)
        else:
            for user in users:
                print(user)

    calls: list = []
    got_users = recording(got_users, calls)  # instrumentation (not in the spec)

    db.users.find().to_list(length=10, callback=got_users)

    run_until(io_loop, lambda: calls)  # check (not in the spec)
    out = capsys.readouterr().out
    assert "'name': 'Jesse'" in out and "'name': 'Ben'" in out


def test_differences_future_in_a_coroutine(spec, io_loop):
    motor_db = motor.MotorClient().open_sync().test  # set-up (not in the spec)

    # Spec lines 135-140.
    from tornado import gen

    @gen.coroutine
    def f():
        yield motor_db.collection.insert({'name': 'Randall'})
        doc = yield motor_db.collection.find_one()

        assert doc["name"] == "Randall"  # check (not in the spec)

    io_loop.run_sync(f)


def test_differences_timeouts_pymongo(spec, capsys):
    from pymongo import MongoClient
    from pymongo.errors import AutoReconnect

    insert_with_pymongo("test", "users", {"name": "Jesse"})  # set-up

    for stall in (False, True):  # the server answers in time; then it stalls 1.5 s
        if stall:
            # Twice: PyMongo 4 retries a read once after a network error.
            set_fail_point(
                {"failCommands": ["find"], "blockConnection": True, "blockTimeMS": 1500}, times=2
            )

        # Spec lines 172-177.
        db = MongoClient(socketTimeoutMS=500).test
        try:
            user = db.users.find_one({'name': 'Jesse'})
            print(user)
        except AutoReconnect:
            print('timed out')

        db.client.close()  # clean-up (not in the spec)
    clear_fail_point()
    out = capsys.readouterr().out.splitlines()
    assert "'name': 'Jesse'" in out[0]
    assert out[1] == "timed out"


def test_differences_timeouts_motor(spec, io_loop, capsys):
    from motor import MotorClient
    from pymongo.errors import AutoReconnect

    insert_with_pymongo("test", "users", {"name": "Jesse"})  # set-up

    for stall in (False, True):  # the server answers in time; then it stalls 1.5 s
        if stall:
            # Twice: PyMongo 4 retries a read once after a network error.
            set_fail_point(
                {"failCommands": ["find"], "blockConnection": True, "blockTimeMS": 1500}, times=2
            )

        # Spec lines 186-194.
        db = MotorClient(socketTimeoutMS=500).open_sync().test

        @gen.coroutine
        def f():
            try:
                user = yield db.users.find_one({'name': 'Jesse'})
                print(user)
            except AutoReconnect:
                print('timed out')

        io_loop.run_sync(f)  # runs the example (not in the spec)
    clear_fail_point()
    out = capsys.readouterr().out.splitlines()
    assert "'name': 'Jesse'" in out[0]
    assert out[1] == "timed out"


def test_differences_requests_with_callbacks(spec, io_loop, capsys):
    db = motor.MotorClient().open_sync().test  # set-up (not in the spec)

    # Spec lines 214-227.
    def inserted(result, error):
        if error:
            raise error

        db.users.find_one({'name': 'Ben'}, callback=found_one)

    def found_one(result, error):
        if error:
            raise error

        print(result)

    calls: list = []
    found_one = recording(found_one, calls)  # instrumentation (not in the spec)

    # Acknowledged insert:
    db.users.insert({'name': 'Ben', 'maintains': 'Tornado'}, callback=inserted)

    run_until(io_loop, lambda: calls)  # check (not in the spec)
    assert calls[0][0]["maintains"] == "Tornado"
    assert "'maintains': 'Tornado'" in capsys.readouterr().out


def test_differences_requests_with_a_coroutine(spec, io_loop, capsys):
    db = motor.MotorClient().open_sync().test  # set-up (not in the spec)

    # Spec lines 236-240.
    @gen.coroutine
    def f():
        yield db.users.insert({'name': 'Ben', 'maintains': 'Tornado'})
        result = yield db.users.find_one({'name': 'Ben'})
        print(result)

    io_loop.run_sync(f)
    assert "'maintains': 'Tornado'" in capsys.readouterr().out  # check


def test_differences_gridfs_iteration_pymongo(spec, capsys):
    from pymongo import MongoClient

    db = MongoClient().test  # set-up (not in the spec)
    file_id = gridfs.GridFS(db).put(b"x" * 300000)  # set-up: a file of two chunks

    # Spec lines 314-317, PyMongo's GridOut (the loop is not running).
    fs = gridfs.GridFS(db)
    grid_out = fs.get(file_id)
    for chunk in grid_out:
        print(chunk)

    db.client.close()  # clean-up (not in the spec)
    # PyMongo 4's GridOut is an io.IOBase: iterating it yields lines, not chunks.
    assert capsys.readouterr().out == "b'" + "x" * 300000 + "'\n"


def test_differences_gridfs_setting_properties(spec, io_loop):
    from pymongo import MongoClient

    db = MongoClient().test  # set-up (not in the spec)
    fs = gridfs.GridFS(db)

    # Spec lines 347-349, PyMongo's GridIn.
    grid_in = fs.new_file()
    grid_in.close()
    grid_in.my_field = 'my_value'  # Sends update to server.

    assert db.fs.files.find_one({"_id": grid_in._id})["my_field"] == "my_value"  # check
    db.client.close()

    db = motor.MotorClient().open_sync().test  # set-up (not in the spec)
    made: list = []

    # Spec lines 358-366, Motor's.
    @gen.coroutine
    def f():
        fs = motor.MotorGridFS(db)
        yield fs.open()
        grid_in = yield fs.new_file()
        yield grid_in.close()

        # Sends update to server.
        yield grid_in.set('my_field', 'my_value')

        made.append(grid_in)  # check (not in the spec)

    io_loop.run_sync(f)
    with sync_client() as client:
        assert client.test.fs.files.find_one({"_id": made[0]._id})["my_field"] == "my_value"


def test_differences_gridfs_with_statement_pymongo(spec):
    from pymongo import MongoClient

    db = MongoClient().test  # set-up (not in the spec)
    fs = gridfs.GridFS(db)

    # Spec lines 390-391, PyMongo's GridIn.
    with fs.new_file() as grid_in:
        grid_in.write(b'data')  # Python 3: bytes (the spec's 'data' is Python 2's str)

    assert fs.get(grid_in._id).read() == b"data"  # check (not in the spec)
    db.client.close()


async def test_differences_is_locked(spec):
    client = motor.MotorClient()  # set-up (not in the spec)

    # Spec lines 417-418, in a coroutine.
    @gen.coroutine
    def f():
        result = yield client.admin.current_op()
        locked = bool(result.get('fsyncLock', None))

        assert locked is False  # check (not in the spec)
        assert "inprog" in result

    await f()


def test_differences_system_js_pymongo(spec):
    # Spec lines 431-433: PyMongo's stored JavaScript, which "Motor does not" support.
    pytest.skip(
        "needs server-side JavaScript: functions stored in system.js and run by the "
        "server's eval command, which MongoDB removed in 4.2 and the test server lacks "
        "(PyMongo 4 also removed Database.system_js)"
    )


async def test_differences_system_js_motor_has_none(spec):
    # Spec line 439: "Motor does not." db.system_js is just a collection named so.
    db = motor.MotorClient().test
    with pytest.raises(TypeError, match="not callable"):
        db.system_js.my_func(2)


def test_differences_cursor_slicing_pymongo(spec):
    from pymongo import MongoClient

    db = MongoClient().test  # set-up (not in the spec): fewer than 101 documents
    db.collection.insert_many([{"n": n} for n in range(10)])

    # Spec lines 449-450.
    with pytest.raises(IndexError):  # "Can raise IndexError."
        doc = db.collection.find()[100]
    db.client.close()


def test_differences_cursor_slicing_motor(spec, io_loop):
    db = motor.MotorClient().open_sync().test  # set-up (not in the spec)
    seen: list = []

    # Spec lines 458-464.
    @gen.coroutine
    def f():
        cursor = db.collection.find()[100]

        # Iterates zero or one times.
        while (yield cursor.fetch_next):
            doc = cursor.next_object()

            seen.append(doc)  # check (not in the spec)

    io_loop.run_sync(f)  # no documents
    insert_with_pymongo("test", "collection", *({"n": n} for n in range(10)))
    io_loop.run_sync(f)  # 10 documents: none at index 100, and no IndexError
    assert seen == []
    insert_with_pymongo("test", "collection", *({"n": n} for n in range(10, 101)))
    io_loop.run_sync(f)  # 101 documents: the last one
    assert [doc["n"] for doc in seen] == [100]


# == "Motor Features", lines 479-563 =================================================


async def test_features_timeouts(spec):
    db = motor.MotorClient().test  # set-up (not in the spec)
    my_complex_query = {"x": {"$gt": 1}}
    await db.collection.insert_many([{"x": 1}, {"x": 2}])
    found = []

    # Spec lines 513-519.
    @gen.coroutine
    def f():
        try:
            document = yield db.collection.find_one(my_complex_query, network_timeout=5)

            found.append(document)  # check (not in the spec)
        except pymongo.errors.ConnectionFailure:
            # find_one took more than 5 seconds
            pass

    await f()
    assert [doc["x"] for doc in found] == [2]


# == "Motor 指南" (the tutorial), lines 599-1299 =====================================


def tutorial_globals(spec) -> dict:
    """What the tutorial's sessions have defined by the time they use ``db``."""
    import pymongo
    from tornado import gen
    from tornado.ioloop import IOLoop

    client = motor.MotorClient().open_sync()  # spec line 662
    db = client.test_database  # spec line 692
    return {"motor": motor, "pymongo": pymongo, "gen": gen, "IOLoop": IOLoop, "client": client, "db": db}


def test_tutorial_client_database_and_collection(spec, io_loop):
    # The spec's sessions connect to localhost:27017; HOST and PORT name the test server.
    g = {"HOST": spec.host, "PORT": spec.port}

    run_doctest(""">>> import motor
""", g, name="tutorial: prerequisites", lineno=617)

    run_doctest(""">>> client = motor.MotorClient().open_sync()
""", g, name="tutorial: creating a client", lineno=662)

    run_doctest(""">>> client = motor.MotorClient(HOST, PORT).open_sync()
""", g, name="tutorial: host and port", lineno=670)  # spec: ('localhost', 27017)

    run_doctest(""">>> client = motor.MotorClient('mongodb://%s:%d' % (HOST, PORT)).open_sync()
""", g, name="tutorial: connection URI", lineno=678)  # spec: 'mongodb://localhost:27017'

    run_doctest(""">>> db = client.test_database
>>> db = client['test_database']
""", g, name="tutorial: getting a database", lineno=692)

    run_doctest(""">>> collection = db.test_collection
>>> collection = db['test_collection']
""", g, name="tutorial: getting a collection", lineno=778)

    # Checks (not in the spec): connected clients; references made without I/O.
    assert g["client"].connected
    assert isinstance(g["db"], motor.MotorDatabase) and g["db"].name == "test_database"
    assert isinstance(g["collection"], motor.MotorCollection)
    assert g["collection"].full_name == "test_database.test_collection"


def test_tutorial_application_startup_sequence(spec, io_loop):
    import tornado.ioloop
    import tornado.web

    # Spec lines 726-728.
    class MainHandler(tornado.web.RequestHandler):
        def get(self):
            db = self.settings['db']

            self.write(db.name)  # check (not in the spec)

    # Spec lines 710-717.
    db = motor.MotorClient().open_sync().test_database

    application = tornado.web.Application([
        (r'/', MainHandler)
    ], db=db)

    port = find_free_port()
    server = application.listen(port)  # spec: application.listen(8888)

    async def requests(http, base_url):  # the test's requests (not in the spec)
        return (await http.fetch(base_url + "/")).body

    visit = WhileServing(io_loop, port, requests)
    tornado.ioloop.IOLoop.instance().start()

    server.stop()
    assert visit.result() == b"test_database"


def test_tutorial_application_startup_sequence_forking(spec):
    # Spec lines 726-728 and 738-752, in spec_examples/forked_app.py: start(0)
    # forks a process per core, which cannot happen inside pytest's process.
    port = find_free_port()
    env = dict(os.environ, MOTOR_TEST_URI=spec.uri)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.dirname(HERE), env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "spec_examples", "forked_app.py"), str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        bodies = set()
        deadline = time.monotonic() + 60
        while len(bodies) < 10:
            if process.poll() is not None:
                pytest.fail(f"the application exited: {process.stdout.read().decode()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the application did not answer; answers so far: {bodies}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
                    bodies.add(response.read().decode())
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
                continue
            if len({body.split()[1] for body in bodies}) > 1:
                break  # two processes answered
        assert all(body.split()[0] == "test_database" for body in bodies)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        process.stdout.close()


def test_tutorial_inserting_with_callbacks(spec, io_loop):
    g = tutorial_globals(spec)
    db = g["db"]

    run_doctest(""">>> from tornado.ioloop import IOLoop
>>> def my_callback(result, error):
...     print('result', repr(result))
...     IOLoop.instance().stop()
...
>>> document = {'key': 'value'}
>>> db.test_collection.insert(document, callback=my_callback)
>>> IOLoop.instance().start()
result ObjectId('...')
""", g, name="tutorial: inserting a document", lineno=795, io_loop=io_loop)
    assert isinstance(g["document"]["_id"], ObjectId)  # check: insert set the _id

    # Spec line 815; some_function stands for any callback (not in the spec).
    calls: list = []

    def some_function(result, error):
        calls.append((result, error))
        io_loop.stop()

    g.update(some_function=some_function, document={"key": "value"})
    run_doctest(""">>> db.test_collection.insert(document, callback=some_function)
""", g, name="tutorial: callback= keyword", lineno=815)
    io_loop.start()
    assert isinstance(calls[0][0], ObjectId) and calls[0][1] is None

    run_doctest(""">>> ncalls = 0
>>> def my_callback(result, error):
...     global ncalls
...     print('result', repr(result), 'error', repr(error))
...     ncalls += 1
...     if ncalls == 2:
...         IOLoop.instance().stop()
...
>>> document = {'_id': 1}
>>> db.test_collection.insert(document, callback=my_callback)
>>> db.test_collection.insert(document, callback=my_callback)
>>> IOLoop.instance().start()
result 1 error None
result None error DuplicateKeyError(...E11000 duplicate key error...)
""", g, name="tutorial: a duplicate-key error", lineno=841, io_loop=io_loop, any_order=True)
    # (Motor runs both inserts at once, on two connections: either may reach
    # the server first, so the two lines may come in either order.)

    # Spec lines 867-868, as code: in a >>> session each insert's Future would
    # be echoed, and the spec shows no output. The loop is stopped: the
    # inserts run once the next session starts it.
    for i in range(2000):
        db.test_collection.insert({'i': i})

    run_doctest(""">>> i = 0
>>> def do_insert(result, error):
...     global i
...     if error:
...         raise error
...     i += 1
...     if i < 2000:
...         db.test_collection.insert({'i': i}, callback=do_insert)
...     else:
...         IOLoop.instance().stop()
...
>>> # Start
>>> db.test_collection.insert({'i': i}, callback=do_insert)
>>> IOLoop.instance().start()
""", g, name="tutorial: inserting one at a time with callbacks", lineno=881, io_loop=io_loop)

    # Checks (not in the spec): the callback chain ran 2000 inserts one after
    # the other, and the loop's 2000 inserts all arrived too.
    assert g["i"] == 2000

    async def all_inserted():
        return await db.test_collection.count_documents({"i": {"$exists": True}}) == 4000

    run_until(io_loop, all_inserted, timeout=120)


@pytest.mark.timeout_seconds(180)
def test_tutorial_coroutines_queries_updates_and_commands(spec, io_loop):
    g = tutorial_globals(spec)

    run_doctest(""">>> @gen.coroutine
... def do_insert():
...     pass
""", g, name="tutorial: gen.coroutine", lineno=913)

    run_doctest(""">>> @gen.coroutine
... def do_insert():
...     for i in range(2000):
...         future = db.test_collection.insert({'i': i})
...         result = yield future
...
>>> IOLoop.current().run_sync(do_insert)
""", g, name="tutorial: inserting in a coroutine", lineno=925)

    run_doctest(""">>> @gen.coroutine
... def do_find_one():
...     document = yield db.test_collection.find_one({'i': {'$lt': 2}})
...     print(document)
...
>>> IOLoop.current().run_sync(do_find_one)
{'_id': ObjectId('...'), 'i': 0}
""", g, name="tutorial: find_one", lineno=969)

    run_doctest(""">>> @gen.coroutine
... def do_find():
...     cursor = db.test_collection.find({'i': {'$lt': 5}})
...     for document in (yield cursor.to_list(length=100)):
...         print(document)
...
>>> IOLoop.current().run_sync(do_find)
{'_id': ObjectId('...'), 'i': 0}
{'_id': ObjectId('...'), 'i': 1}
{'_id': ObjectId('...'), 'i': 2}
{'_id': ObjectId('...'), 'i': 3}
{'_id': ObjectId('...'), 'i': 4}
""", g, name="tutorial: to_list", lineno=1011)

    run_doctest(""">>> @gen.coroutine
... def do_find():
...     cursor = db.test_collection.find({'i': {'$lt': 5}})
...     while (yield cursor.fetch_next):
...         document = cursor.next_object()
...         print(document)
...
>>> IOLoop.current().run_sync(do_find)
{'_id': ObjectId('...'), 'i': 0}
{'_id': ObjectId('...'), 'i': 1}
{'_id': ObjectId('...'), 'i': 2}
{'_id': ObjectId('...'), 'i': 3}
{'_id': ObjectId('...'), 'i': 4}
""", g, name="tutorial: fetch_next", lineno=1034)

    run_doctest(""">>> @gen.coroutine
... def do_find():
...     cursor = db.test_collection.find({'i': {'$lt': 5}})
...     # Modify the query before iterating
...     cursor.sort([('i', pymongo.DESCENDING)]).limit(2).skip(2)
...     while (yield cursor.fetch_next):
...         document = cursor.next_object()
...         print(document)
...
>>> IOLoop.current().run_sync(do_find)
{'_id': ObjectId('...'), 'i': 2}
{'_id': ObjectId('...'), 'i': 1}
""", g, name="tutorial: sort, limit and skip", lineno=1054)

    run_doctest(""">>> @gen.coroutine
... def do_count():
...     n = yield db.test_collection.find().count()
...     print(n, 'documents in collection')
...     n = yield db.test_collection.find({'i': {'$gt': 1000}}).count()
...     print(n, 'documents where i > 1000')
...
>>> IOLoop.current().run_sync(do_count)
2000 documents in collection
999 documents where i > 1000
""", g, name="tutorial: counting documents", lineno=1082)

    run_doctest(""">>> @gen.coroutine
... def do_replace():
...     coll = db.test_collection
...     old_document = yield coll.find_one({'i': 50})
...     print('found document:', old_document)
...     _id = old_document['_id']
...     result = yield coll.update({'_id': _id}, {'key': 'value'})
...     print('replaced', result['n'], 'document')
...     new_document = yield coll.find_one({'_id': _id})
...     print('document is now', new_document)
...
>>> IOLoop.current().run_sync(do_replace)
found document: {'_id': ObjectId('...'), 'i': 50}
replaced 1 document
document is now {'_id': ObjectId('...'), 'key': 'value'}
""", g, name="tutorial: replacing a document", lineno=1118)

    run_doctest(""">>> @gen.coroutine
... def do_update():
...     coll = db.test_collection
...     result = yield coll.update({'i': 51}, {'$set': {'key': 'value'}})
...     print('updated', result['n'], 'document')
...     new_document = yield coll.find_one({'i': 51})
...     print('document is now', new_document)
...
>>> IOLoop.current().run_sync(do_update)
updated 1 document
document is now {'_id': ObjectId('...'), 'i': 51, 'key': 'value'}
""", g, name="tutorial: updating a document", lineno=1145)

    # Spec line 1166 is one line of a coroutine; the coroutine around it and
    # the count after it are not the spec's.
    run_doctest(""">>> @gen.coroutine
... def do_update_multi():
...     coll = db.test_collection
...     yield coll.update({'i': {'$gt': 100}}, {'$set': {'key': 'value'}}, multi=True)
...
>>> IOLoop.current().run_sync(do_update_multi)
>>> IOLoop.current().run_sync(lambda: db.test_collection.count_documents({'key': 'value'}))
1901
""", g, name="tutorial: multi=True", lineno=1166)

    run_doctest(""">>> @gen.coroutine
... def do_save():
...     coll = db.test_collection
...     doc = {'key': 'value'}
...     yield coll.save(doc)
...     print('document _id:', repr(doc['_id']))
...     doc['other_key'] = 'other_value'
...     yield coll.save(doc)
...     yield coll.remove(doc)
...
>>> IOLoop.current().run_sync(do_save)
document _id: ObjectId('...')
""", g, name="tutorial: saving documents", lineno=1190)

    run_doctest(""">>> @gen.coroutine
... def do_remove():
...     coll = db.test_collection
...     n = yield coll.count()
...     print(n, 'documents before calling remove()')
...     result = yield db.test_collection.remove({'i': {'$gte': 1000}})
...     print((yield coll.count()), 'documents after')
...
>>> IOLoop.current().run_sync(do_remove)
2000 documents before calling remove()
1000 documents after
""", g, name="tutorial: removing documents", lineno=1216)

    run_doctest(""">>> from bson import SON
>>> @gen.coroutine
... def use_count_command():
...     response = yield db.command(SON([("count", "test_collection")]))
...     print('response:', response)
...
>>> IOLoop.current().run_sync(use_count_command)
response: {'n': 1000, 'ok': 1.0...}
""", g, name="tutorial: commands", lineno=1248)

    # Spec line 1265, in a coroutine (not the spec's), with its unbalanced
    # bracket closed: ("key", "my_key"]) is a SyntaxError in any Python.
    run_doctest(""">>> @gen.coroutine
... def use_distinct_command():
...     response = yield db.command(SON([("distinct", "test_collection"), ("key", "my_key")]))
...     print(response['values'])
...
>>> IOLoop.current().run_sync(use_distinct_command)
[]
""", g, name="tutorial: commands with SON", lineno=1265)


# == "Examples With Callbacks And Coroutines", lines 1300-1473 =====================


async def post_messages_and_list_them(http, base_url, messages=("first", "second")):
    """The test's visit (not in the spec): compose messages, then list them."""
    pages = {}
    for msg in messages:
        response = await http.fetch(
            base_url + "/compose", method="POST", body=f"msg={msg}", follow_redirects=False,
            raise_error=False,
        )
        assert response.code == 302 and response.headers["Location"] == "/", response
    pages["/"] = (await http.fetch(base_url + "/")).body.decode()
    return pages


def test_callbacks_message_application(spec, io_loop, capsys):
    # Spec lines 1310-1371.
    import tornado.web, tornado.ioloop  # noqa: E401 - the spec's line
    import motor

    class NewMessageHandler(tornado.web.RequestHandler):
        def get(self):
            """Show a 'compose message' form."""
            self.write('''
            <form method="post">
                <input type="text" name="msg">
                <input type="submit">
            </form>''')

        # Method exits before the HTTP request completes, thus "asynchronous"
        @asynchronous  # spec: @tornado.web.asynchronous (removed in Tornado 6)
        def post(self):
            """Insert a message."""
            msg = self.get_argument('msg')

            # Async insert; callback is executed when insert completes
            self.settings['db'].messages.insert(
                {'msg': msg},
                callback=self._on_response)

        def _on_response(self, result, error):
            if error:
                raise tornado.web.HTTPError(500, error)
            else:
                self.redirect('/')

    class MessagesHandler(tornado.web.RequestHandler):
        @asynchronous  # spec: @tornado.web.asynchronous (removed in Tornado 6)
        def get(self):
            """Display all messages."""
            self.write('<a href="/compose">Compose a message</a><br>')
            self.write('<ul>')
            db = self.settings['db']
            db.messages.find().sort([('_id', -1)]).each(self._got_message)

        def _got_message(self, message, error):
            if error:
                raise tornado.web.HTTPError(500, error)
            elif message:
                self.write('<li>%s</li>' % message['msg'])
            else:
                # Iteration complete
                self.write('</ul>')
                self.finish()

    db = motor.MotorClient().open_sync().test

    application = tornado.web.Application(
        [
            (r'/compose', NewMessageHandler),
            (r'/', MessagesHandler)
        ],
        db=db
    )

    port = find_free_port()
    print('Listening on http://localhost:%d' % port)  # spec: 8888
    server = application.listen(port)  # spec: application.listen(8888)

    async def requests(http, base_url):  # the test's visit (not in the spec)
        form = (await http.fetch(base_url + "/compose")).body.decode()
        return form, await post_messages_and_list_them(http, base_url)

    visit = WhileServing(io_loop, port, requests)
    tornado.ioloop.IOLoop.instance().start()

    server.stop()
    form, pages = visit.result()
    assert '<input type="text" name="msg">' in form
    assert pages["/"] == (
        '<a href="/compose">Compose a message</a><br><ul><li>second</li><li>first</li></ul>'
    )
    assert capsys.readouterr().out == f"Listening on http://localhost:{port}\n"


def test_callbacks_messages_with_to_list_and_a_template(spec, io_loop):
    import tornado.ioloop
    import tornado.web

    insert_with_pymongo("test", "messages", *({"msg": f"m{n}"} for n in range(12)))  # set-up

    # Spec lines 1381-1406.
    from tornado import template
    messages_template = template.Template('''<ul>
    {% for message in messages %}
        <li>{{ message['msg'] }}</li>
    {% end %}
    </ul>''')

    class MessagesHandler(tornado.web.RequestHandler):
        @asynchronous  # spec: @tornado.web.asynchronous (removed in Tornado 6)
        def get(self):
            """Display all messages
            """
            self.write('<a href="/compose">Compose a message</a><br>')
            self.write('<ul>')
            db = self.settings['db']
            (db.messages.find()
                .sort([('_id', -1)])
                .limit(10)
                .to_list(length=10, callback=self._got_messages))  # spec: (length=10, self._got_messages)

        def _got_messages(self, messages, error):
            if error:
                raise tornado.web.HTTPError(500, error)
            elif messages:
                self.write(messages_template.generate(messages=messages))
            self.finish()

    # The application of spec lines 1359-1371 (not repeated in the spec).
    db = motor.MotorClient().open_sync().test
    application = tornado.web.Application([(r'/', MessagesHandler)], db=db)
    port = find_free_port()
    server = application.listen(port)

    async def requests(http, base_url):  # the test's visit (not in the spec)
        return (await http.fetch(base_url + "/")).body.decode()

    visit = WhileServing(io_loop, port, requests)
    tornado.ioloop.IOLoop.instance().start()

    server.stop()
    page = visit.result()
    items = [line.strip() for line in page.splitlines() if "<li>" in line]
    assert items == [f"<li>m{n}</li>" for n in range(11, 1, -1)]  # the newest 10


def test_coroutines_message_application(spec, io_loop):
    import tornado.ioloop
    import tornado.web

    # Spec lines 1423-1455.
    from tornado import gen

    class NewMessageHandler(tornado.web.RequestHandler):
        # spec: @tornado.web.asynchronous (removed in Tornado 6; it waits for the coroutine)
        @gen.coroutine
        def post(self):
            """Insert a message."""
            msg = self.get_argument('msg')
            db = self.settings['db']

            # insert() returns a Future. Yield the Future to get the result.
            result = yield db.messages.insert({'msg': msg})

            # Success
            self.redirect('/')

    class MessagesHandler(tornado.web.RequestHandler):
        # spec: @tornado.web.asynchronous (removed in Tornado 6; it waits for the coroutine)
        @gen.coroutine
        def get(self):
            """Display all messages."""
            self.write('<a href="/compose">Compose a message</a><br>')
            self.write('<ul>')
            db = self.settings['db']
            cursor = db.messages.find().sort([('_id', -1)])
            while (yield cursor.fetch_next):
                message = cursor.next_object()
                self.write('<li>%s</li>' % message['msg'])

            # Iteration complete
            self.write('</ul>')
            self.finish()

    # The application of spec lines 1359-1371 (not repeated in the spec).
    db = motor.MotorClient().open_sync().test
    application = tornado.web.Application(
        [(r'/compose', NewMessageHandler), (r'/', MessagesHandler)], db=db
    )
    port = find_free_port()
    server = application.listen(port)

    visit = WhileServing(io_loop, port, post_messages_and_list_them)
    tornado.ioloop.IOLoop.instance().start()

    server.stop()
    assert visit.result()["/"] == (
        '<a href="/compose">Compose a message</a><br><ul><li>second</li><li>first</li></ul>'
    )


async def test_coroutines_parallel_queries(spec):
    db = motor.MotorClient().test  # set-up (not in the spec)
    ids = [ObjectId() for _ in range(3)]
    await db.messages.insert_many([{"_id": _id, "msg": str(n)} for n, _id in enumerate(ids)])
    msg_id = ids[1]

    @gen.coroutine
    def f():  # the coroutine around the spec's lines (not in the spec)
        # Spec lines 1464-1473.
        msg = yield db.messages.find_one({'_id': msg_id})

        # Start getting the previous. find_one returns a Future.
        prev_future = db.messages.find_one({'_id': {'$lt': msg_id}})

        # Start getting the next.
        next_future = db.messages.find_one({'_id': {'$gt': msg_id}})

        # Wait for both to complete by yielding the Futures.
        previous_msg, next_msg = yield [prev_future, next_future]

        return msg, previous_msg, next_msg  # check (not in the spec)

    msg, previous_msg, next_msg = await f()
    assert (previous_msg["msg"], msg["msg"], next_msg["msg"]) == ("0", "1", "2")


# == "Motor GridFS Examples", lines 1474-1610 =========================================


def test_gridfs_writing_a_file_with_put(spec, io_loop):
    # Spec lines 1486-1505.
    from tornado import gen
    import motor

    db = motor.MotorClient().open_sync().test

    @gen.coroutine
    def write_file():
        fs = yield motor.MotorGridFS(db).open()

        # file_id is the ObjectId of the resulting file.
        file_id = yield fs.put(b'Contents')  # Python 3: bytes

        assert isinstance(file_id, ObjectId)  # check (not in the spec)

        # put() can take a file or a file-like object, too.
        from io import BytesIO  # Python 3: spec's "from cStringIO import StringIO"
        file_like = BytesIO(b'Lengthy contents')
        file_id = yield fs.put(file_like)

        assert (yield (yield fs.get(file_id)).read()) == b"Lengthy contents"  # check

        # Specify the _id.
        specified_id = yield fs.put(b'Contents', _id=42)  # Python 3: bytes
        assert 42 == specified_id

    io_loop.run_sync(write_file)  # runs the example (not in the spec)


def test_gridfs_streaming_a_file_with_motor_grid_in(spec, io_loop, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # set-up (not in the spec): the file the example reads
    (tmp_path / "my_file.txt").write_bytes(b"Line 1\nLine 2\n" * 50000)

    # Spec lines 1516-1546.
    from tornado import gen
    import motor

    db = motor.MotorClient().open_sync().test

    @gen.coroutine
    def write_file_streaming():
        fs = yield motor.MotorGridFS(db).open()

        # Create a MotorGridIn and write in chunks, then close the file to
        # flush all data to the server.
        gridin = yield fs.new_file()
        yield gridin.write(b'First part\n')  # Python 3: bytes
        yield gridin.write(b'Second part')  # Python 3: bytes
        yield gridin.close()

        # By default, the MotorGridIn's _id is an ObjectId.
        file_id = gridin._id

        gridout = yield fs.get(file_id)
        content = yield gridout.read()
        assert b'First part\nSecond part' == content  # Python 3: bytes

        # Specify the _id.
        gridin = yield fs.new_file(_id=42)
        assert 42 == gridin._id

        # MotorGridIn can write from file-like objects, too.
        file = open('my_file.txt', 'rb')  # Python 3: binary, as Python 2's open() was
        yield gridin.write(file)
        yield gridin.close()

        file.close()  # check (not in the spec)
        assert (yield (yield fs.get(42)).read()) == b"Line 1\nLine 2\n" * 50000

    io_loop.run_sync(write_file_streaming)  # runs the example (not in the spec)


def test_gridfs_setting_attributes_on_a_motor_grid_in(spec, io_loop):
    # Spec lines 1557-1577.
    from tornado import gen
    import motor

    db = motor.MotorClient().open_sync().test

    @gen.coroutine
    def set_attributes():
        fs = yield motor.MotorGridFS(db).open()
        gridin = yield fs.new_file()

        # Set metadata attributes.
        yield gridin.set('content_type', 'image/png')
        yield gridin.close()

        # Attributes set after closing are sent to the server immediately.
        yield gridin.set('my_field', 'my_value')

        gridout = yield fs.get(gridin._id)
        assert 'image/png' == gridin.content_type
        assert 'image/png' == gridin.contentType  # Synonymous.
        assert 'my_value' == gridin.my_field

        assert (gridout.content_type, gridout.my_field) == ("image/png", "my_value")  # check

    io_loop.run_sync(set_attributes)  # runs the example (not in the spec)


def test_gridfs_reading_with_motor_grid_out(spec, io_loop):
    data = os.urandom(600 * 1024)  # set-up (not in the spec): three chunks, named my_file
    with sync_client() as client:
        file_id = gridfs.GridFS(client.test).put(data, filename="my_file")

    # Spec lines 1588-1610.
    from tornado import gen
    import motor

    db = motor.MotorClient().open_sync().test

    @gen.coroutine
    def read_file(file_id):
        fs = yield motor.MotorGridFS(db).open()

        # Create a MotorGridOut and read it all at once.
        gridout = yield fs.get(file_id)
        content = yield gridout.read()

        assert content == data  # check (not in the spec)

        # Or read in chunks - every chunk_size bytes is one MongoDB document
        # in the db.fs.chunks collection.
        gridout = yield fs.get(file_id)
        content = b''  # Python 3: bytes
        while len(content) < gridout.length:
            content += (yield gridout.read(gridout.chunk_size))

        assert content == data  # check (not in the spec)

        # Get a file by name.
        gridout = yield fs.get_last_version(filename='my_file')
        content = yield gridout.read()

        assert content == data  # check (not in the spec)

    io_loop.run_sync(lambda: read_file(file_id))  # runs the example (not in the spec)


# == "Motor Tailable Cursor Example", lines 1611-1638 =================================


class _EnoughResults(Exception):
    pass


@pytest.mark.timeout_seconds(60)
async def test_tailable_cursor(spec):
    db = motor.MotorClient().test  # set-up (not in the spec)
    await db.create_collection("my_capped_collection", capped=True, size=100000)
    loop = IOLoop.current()
    printed: list = []

    def print(results):  # noqa: A001 - instrumentation: ends the example's endless loop
        printed.append(list(results))
        if len(results) == 3:
            raise _EnoughResults

    # Spec lines 1616-1629.
    @gen.coroutine
    def tail_example():
        results = []
        collection = db.my_capped_collection
        cursor = collection.find(tailable=True, await_data=True)
        while True:
            if not cursor.alive:
                # While collection is empty, tailable cursor dies immediately
                yield Task(loop.add_timeout, datetime.timedelta(seconds=1))  # spec: gen.Task
                cursor = collection.find(tailable=True, await_data=True)

            if (yield cursor.fetch_next):
                results.append(cursor.next_object())
                print(results)

    tailing = tail_example()
    await asyncio.sleep(0.5)  # the collection is empty: the cursor dies, the example waits
    for n in range(3):
        await db.my_capped_collection.insert_one({"n": n})
        await asyncio.sleep(0.3)
    with pytest.raises(_EnoughResults):
        await asyncio.wait_for(tailing, 30)
    assert [[doc["n"] for doc in results] for results in printed] == [[0], [0, 1], [0, 1, 2]]


# == "Authentication With Motor", lines 1639-1689 =====================================


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    """A SecantusDB with --auth, with the users the examples log in as."""
    if not auth_server_available():
        pytest.skip(f"no SecantusDB launcher at {secantusd_path()} to start a server with --auth")
    try:
        server = start_auth_server(str(tmp_path_factory.mktemp("spec-auth-data")))
    except ServerStartError as exc:
        pytest.fail(f"could not start SecantusDB with --auth: {exc}")
    yield server
    server.stop()


def test_authentication_synchronous(spec, auth_server, io_loop):
    port = auth_server.port  # the spec's 27017

    # Spec lines 1658-1662.
    admin_uri = "mongodb://admin:pass@localhost:%d" % port
    client = motor.MotorClient(admin_uri).open_sync()

    async def use_as_admin():  # check (not in the spec): root, so any database
        await client.database_name.things.insert_one({"by": "admin"})
        return await client.admin.command("usersInfo", {"user": "user", "db": "database_name"})

    assert io_loop.run_sync(use_as_admin)["users"][0]["user"] == "user"

    normal_uri = "mongodb://user:pass@localhost:%d/database_name" % port
    client = motor.MotorClient(normal_uri).open_sync()

    async def use():  # check (not in the spec): authenticated on database_name
        await client.database_name.things.insert_one({"x": 1})
        return await client.database_name.things.find({}, {"_id": 0}).to_list(None)

    assert io_loop.run_sync(use) == [{"by": "admin"}, {"x": 1}]


def test_authentication_asynchronous(spec, auth_server, io_loop):
    # Spec lines 1676-1680.
    client = motor.MotorClient('localhost', auth_server.port).open_sync()  # spec: 27017

    @gen.coroutine
    def login(c):
        yield c.my_database.authenticate("user", "pass")

    async def refused():  # check (not in the spec): not logged in yet
        with pytest.raises(OperationFailure):
            await client.my_database.things.find_one()

    io_loop.run_sync(refused)
    io_loop.run_sync(lambda: login(client))

    async def use():  # check (not in the spec): logged in
        await client.my_database.things.insert_one({"x": 1})
        return await client.my_database.things.find_one({}, {"_id": 0})

    assert io_loop.run_sync(use) == {"x": 1}


# == "Changelog": Motor 0.2's migration snippets, lines 1723-1772 ====================


async def test_changelog_yield_a_future(spec):
    collection = motor.MotorClient().test.collection  # set-up (not in the spec)
    await collection.insert_one({"_id": 1})

    @gen.coroutine
    def f():  # the coroutine around the spec's line (not in the spec)
        # Spec line 1728.
        document = yield collection.find_one()

        return document

    assert await f() == {"_id": 1}


async def test_changelog_explicit_callbacks(spec, capsys, caplog):
    collection = motor.MotorClient().test.collection  # set-up (not in the spec)
    await collection.insert_one({"_id": 1})

    # Spec lines 1737-1743.
    def callback(document, error):
        if error:
            logging.error("Oh no!")
        else:
            print(document)

    calls: list = []
    callback = recording(callback, calls)  # instrumentation (not in the spec)

    collection.find_one(callback=callback)

    await until(lambda: calls)  # check (not in the spec)
    assert capsys.readouterr().out == "{'_id': 1}\n"
    assert "Oh no!" not in caplog.text


async def test_changelog_to_list_with_length(spec):
    collection = motor.MotorClient().test.collection  # set-up (not in the spec)
    await collection.insert_many([{"_id": n} for n in range(150)])

    @gen.coroutine
    def f():  # the coroutine around the spec's line (not in the spec)
        # Spec line 1752.
        result = yield collection.find().to_list(100)

        return result

    assert len(await f()) == 100
    # Spec line 1709 says length is "no longer optional"; Motor 3 made it
    # optional again, and motor.* serves Motor 3 code too: omitting it means
    # every document (doc/differences.rst).
    assert len(await collection.find().to_list()) == 150


async def test_changelog_is_locked_was_removed(spec):
    client = motor.MotorClient()  # set-up (not in the spec)

    @gen.coroutine
    def f():  # the coroutine around the spec's line (not in the spec)
        # Spec line 1763: what Motor 0.1 code did; is_locked is gone since 0.2,
        # so client.is_locked is a database, and calling it fails.
        locked = yield motor.Op(client.is_locked)

    with pytest.warns(DeprecationWarning), pytest.raises(TypeError):
        await f()

    # Spec line 1725: "motor.Op is deprecated. You can continue to use it".
    @gen.coroutine
    def g():
        document = yield motor.Op(client.test.collection.find_one, {"_id": 1})
        return document

    await client.test.collection.insert_one({"_id": 1})
    with pytest.warns(DeprecationWarning):
        assert await g() == {"_id": 1}


async def test_changelog_is_locked_replacement(spec):
    client = motor.MotorClient()  # set-up (not in the spec)

    @gen.coroutine
    def f():  # the coroutine around the spec's lines (not in the spec)
        # Spec lines 1771-1772.
        result = yield client.admin.current_op()
        locked = bool(result.get('fsyncLock', None))

        return locked

    assert await f() is False


# == The API reference's examples (PyMongo's docstrings, run through Motor) ==========
#
# The API pages show PyMongo's own ``>>>`` examples. Through Motor each call
# returns a Future, so they run in a coroutine, yielding each call.


async def test_api_alive_ping(spec):
    client = motor.MotorClient()

    @gen.coroutine
    def f():
        # Spec lines 2008 and 2721.
        response = yield client.admin.command('ping')
        return response

    assert (await f())["ok"] == 1


def test_api_write_concern(spec):
    # Spec lines 2628-2642 (and 3260-3274, 4355-4369), on a MotorClient: the
    # spec documents MotorClient.write_concern's dict-style access with them.
    m = motor.MotorClient()  # spec: pymongo.MongoClient()
    assert m.write_concern == {}
    m.write_concern = {'w': 2, 'wtimeout': 1000}
    assert m.write_concern == {'wtimeout': 1000, 'w': 2}
    m.write_concern['j'] = True
    assert m.write_concern == {'wtimeout': 1000, 'j': True, 'w': 2}
    m.write_concern = {'j': True}
    assert m.write_concern == {'j': True}
    # Disable write acknowledgement and write concern
    m.write_concern['w'] = 0

    assert m.write_concern == {'j': True, 'w': 0}  # check (not in the spec)


async def test_api_command(spec):
    db = motor.MotorClient().test

    @gen.coroutine
    def f():
        # Spec line 3514.
        info = yield db.command("buildinfo")
        assert "version" in info  # check (not in the spec)

    await f()


@pytest.mark.parametrize(
    "command, lineno",
    [("collstats", 3523), ("filemd5", 3532)],
)
async def test_api_command_with_a_value(spec, command, lineno):
    db = motor.MotorClient().test
    if not await _server_has_command(db, command):
        pytest.skip(f"the server has no {command} command (spec line {lineno} runs it)")
    collection_name = "things"
    await db.things.insert_one({"x": 1})
    fs = motor.MotorGridFS(db)
    object_id = await fs.put(b"hello")
    file_root = "fs"

    @gen.coroutine
    def f():
        if command == "collstats":
            # Spec line 3523.
            response = yield db.command("collstats", collection_name)
        else:
            # Spec line 3532.
            response = yield db.command("filemd5", object_id, root=file_root)
        return response

    assert (await f())["ok"] == 1


async def _server_has_command(db, name: str) -> bool:
    try:
        await db.command(name, "no_such_collection_for_probing")
    except OperationFailure as exc:
        return exc.code != 59  # CommandNotFound
    return True


async def test_api_create_index(spec):
    my_collection = motor.MotorClient().test.my_collection

    @gen.coroutine
    def f():
        # Spec line 4499.
        yield my_collection.create_index("mike")
        # Spec lines 4508-4509.
        yield my_collection.create_index([("mike", pymongo.DESCENDING),
                                          ("eliot", pymongo.ASCENDING)])

    await f()
    assert {"mike_1", "mike_-1_eliot_1"} <= set(await my_collection.index_information())


async def test_api_drop(spec):
    db = motor.MotorClient().test
    await db.foo.insert_one({})

    @gen.coroutine
    def f():
        # Spec lines 4657-4658: "the following two calls are equivalent".
        yield db.foo.drop()
        assert "foo" not in (yield db.list_collection_names())  # check (not in the spec)
        yield db.foo.insert_one({})  # set-up again (not in the spec)
        yield db.drop_collection("foo")
        assert "foo" not in (yield db.list_collection_names())  # check (not in the spec)

    await f()


async def test_api_ensure_index_and_index_information(spec):
    db = motor.MotorClient().test

    @gen.coroutine
    def f():
        # Spec lines 5097-5100.
        name = yield db.test.ensure_index("x", unique=True)
        assert name == 'x_1'
        info = yield db.test.index_information()
        return info

    info = await f()
    assert set(info) == {"_id_", "x_1"}
    assert info["_id_"]["key"] == [("_id", 1)]
    assert info["x_1"]["key"] == [("x", 1)] and info["x_1"]["unique"] is True
