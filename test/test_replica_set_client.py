"""MotorReplicaSetClient: a scripted multi-member replica set (mockupdb), a failover
followed while the loop runs, and SecantusDB's one-member set.

The mockupdb members answer from handlers that run in mockupdb's own server
threads (never ``receives()`` on the loop thread, which would block it); a
shared state says which member is primary (the loop thread only assigns
and reads it; the lock is mockupdb's threads' alone). The loop
watchdog fails the run if anything here blocks the loop thread.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from bson.son import SON
from pymongo import ReadPreference
from pymongo.errors import ConfigurationError

import motor

mockupdb = pytest.importorskip("mockupdb")

SET_NAME = "motor_rs"


class ScriptedSet:
    """Three mockupdb servers playing a replica set: two data members and an arbiter."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.servers = {name: mockupdb.MockupDB() for name in ("a", "b", "arbiter")}
        self.primary = "a"
        self.tags = {"a": {"dc": "sf"}, "b": {"dc": "ny"}}
        self.hellos = {name: 0 for name in self.servers}
        self.inserts: list[str] = []
        for name, server in self.servers.items():
            server.autoresponds(lambda request, name=name: self._handle(name, request))

    def start(self) -> ScriptedSet:
        for server in self.servers.values():
            server.run()
        return self

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def address(self, name: str) -> str:
        return self.servers[name].address_string

    def pair(self, name: str) -> tuple[str, int]:
        host, port = self.address(name).rsplit(":", 1)
        return host, int(port)

    def fail_over(self, new_primary: str) -> None:
        # One assignment, atomic: the loop thread never waits on the lock,
        # which only mockupdb's threads share.
        self.primary = new_primary

    def _hello(self, name: str) -> dict:
        primary = self.primary
        with self.lock:
            self.hellos[name] += 1
        reply = {
            "ok": 1,
            "helloOk": True,
            "setName": SET_NAME,
            "hosts": [self.address("a"), self.address("b")],
            "arbiters": [self.address("arbiter")],
            "me": self.address(name),
            "primary": self.address(primary),
            "minWireVersion": 0,
            "maxWireVersion": 21,
            "logicalSessionTimeoutMinutes": 30,
            "maxBsonObjectSize": 16777216,
        }
        if name == "arbiter":
            reply.update(ismaster=False, isWritablePrimary=False, secondary=False, arbiterOnly=True)
        else:
            is_primary = name == primary
            reply.update(
                ismaster=is_primary,
                isWritablePrimary=is_primary,
                secondary=not is_primary,
                tags=self.tags[name],
            )
        return reply

    def _handle(self, name: str, request) -> bool:
        command = (request.command_name or "").lower()
        if command in ("ismaster", "hello"):
            return request.replies(self._hello(name))
        is_primary = name == self.primary
        if command == "insert":
            if not is_primary:
                # As MongoDB 4.4+ answers: the label makes the write retryable.
                return request.replies(
                    {
                        "ok": 0,
                        "errmsg": "not primary",
                        "code": 10107,
                        "codeName": "NotWritablePrimary",
                        "errorLabels": ["RetryableWriteError"],
                    }
                )
            with self.lock:
                self.inserts.append(name)
            return request.replies({"ok": 1, "n": len(request.docs[1:]) or 1})
        if command == "find":
            return request.replies(
                {
                    "ok": 1,
                    "cursor": {"id": 0, "ns": "db.things", "firstBatch": [{"served_by": name}]},
                }
            )
        return request.replies({"ok": 1})


@pytest.fixture
def scripted_set():
    replica_set = ScriptedSet().start()
    yield replica_set
    replica_set.stop()


@pytest.fixture
def make_rs_client(io_loop):
    clients = []

    def make(*args, **kwargs):
        client = motor.MotorReplicaSetClient(*args, io_loop=io_loop, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        io_loop.run_sync(client.close)


class Ticker:
    """Counts loop iterations while we wait: proof the loop kept running."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.01)
            self.ticks += 1

    def stop(self) -> int:
        self._task.cancel()
        return self.ticks


async def _wait_for(predicate, timeout=10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out waiting for the client to see the change"
        await asyncio.sleep(0.05)


def _uri(scripted_set, *names, **options) -> str:
    query = "&".join([f"replicaSet={SET_NAME}"] + [f"{k}={v}" for k, v in options.items()])
    return "mongodb://" + ",".join(scripted_set.address(n) for n in names) + "/?" + query


@pytest.mark.timeout_seconds(30)
async def test_members_primary_secondaries_arbiters_hosts_and_seeds(scripted_set, make_rs_client):
    client = make_rs_client(_uri(scripted_set, "a"))
    assert client.primary is None and client.hosts == frozenset()
    assert client.seeds == {scripted_set.pair("a")}
    assert await client.open() is client
    await _wait_for(lambda: client.secondaries and client.arbiters)
    assert client.primary == scripted_set.pair("a")
    assert client.secondaries == {scripted_set.pair("b")}
    assert client.arbiters == {scripted_set.pair("arbiter")}
    assert client.hosts == {scripted_set.pair("a"), scripted_set.pair("b")}
    assert client.is_primary is True and client.is_mongos is False
    assert client.max_bson_size == 16777216
    assert client.connected


@pytest.mark.timeout_seconds(30)
async def test_reads_follow_read_preference_and_tag_sets(scripted_set, make_rs_client):
    client = make_rs_client(_uri(scripted_set, "a", "b"))
    await client.open()
    await _wait_for(lambda: client.secondaries)
    things = client.db.things
    assert (await things.find_one())["served_by"] == "a"
    secondary = await things.find_one(read_preference=ReadPreference.SECONDARY)
    assert secondary["served_by"] == "b"
    # PyMongo 2's mode numbers and tag sets, on the client.
    client.read_preference = 4  # NEAREST
    client.tag_sets = [{"dc": "ny"}]
    assert (await client.db.things.find_one())["served_by"] == "b"
    client.tag_sets = [{"dc": "sf"}]
    assert (await client.db.things.find_one())["served_by"] == "a"


@pytest.mark.timeout_seconds(60)
async def test_failover_is_followed_while_the_loop_runs(scripted_set, make_rs_client):
    client = make_rs_client(
        _uri(scripted_set, "a", heartbeatFrequencyMS=500), serverSelectionTimeoutMS=15000
    )
    await client.open()
    await _wait_for(lambda: client.secondaries)
    await client.db.things.insert({"x": 1})
    assert scripted_set.inserts == ["a"]

    ticker = Ticker()
    scripted_set.fail_over("b")
    # The old primary now refuses writes ("not primary"): the client marks it
    # unknown, finds the new primary, and the retryable write goes there.
    await client.db.things.insert({"x": 2})
    # The old primary comes back as a secondary at its next heartbeat.
    await _wait_for(
        lambda: (
            client.primary == scripted_set.pair("b")
            and client.secondaries == {scripted_set.pair("a")}
        )
    )
    await client.db.things.insert({"x": 3})
    assert scripted_set.inserts[-2:] == ["b", "b"]
    assert (await client.db.things.find_one())["served_by"] == "b"
    assert ticker.stop() > 10

    # And back again.
    scripted_set.fail_over("a")
    await _wait_for(lambda: client.primary == scripted_set.pair("a"))
    await client.db.things.insert({"x": 4})
    assert scripted_set.inserts[-1] == "a"


@pytest.mark.timeout_seconds(30)
async def test_close_stops_monitoring(scripted_set, make_rs_client):
    client = make_rs_client(_uri(scripted_set, "a", heartbeatFrequencyMS=500))
    await client.open()
    await _wait_for(lambda: client.secondaries)
    await _wait_for(lambda: all(scripted_set.hellos[n] >= 2 for n in ("a", "b")))
    await client.close()
    after_close = dict(scripted_set.hellos)
    await asyncio.sleep(1.6)  # three heartbeats
    assert scripted_set.hellos == after_close


async def test_document_class_get_and_set(scripted_set, make_rs_client):
    client = make_rs_client(_uri(scripted_set, "a"))
    assert client.get_document_class() is dict
    client.set_document_class(SON)
    assert client.get_document_class() is SON and client.document_class is SON
    assert isinstance(await client.db.things.find_one(), SON)


def test_the_replica_set_name_is_required():
    with pytest.raises(ConfigurationError, match="replicaSet"):
        motor.MotorReplicaSetClient("localhost:27017")
    with pytest.raises(ConfigurationError, match="replicaSet"):
        motor.MotorReplicaSetClient("mongodb://localhost:27017/?directConnection=true")


def test_pymongo2_arguments(io_loop):
    client = motor.MotorReplicaSetClient(
        "localhost:1,localhost:2", 5, SON, True, replicaSet="rs", io_loop=io_loop
    )
    assert client.max_pool_size == 5
    assert client.document_class is SON and client.tz_aware is True
    assert client.seeds == {("localhost", 1), ("localhost", 2)}
    client = motor.MotorReplicaSetClient(hosts_or_uri="localhost:3", replicaSet="rs")
    assert client.seeds == {("localhost", 3)}


async def test_secantus_one_member_set(make_rs_client, make_client):
    hello = await make_client().admin.command("hello")
    if "setName" not in hello:
        pytest.skip("the test server is not a replica set member")
    client = make_rs_client(f"mongodb://{hello['me']}/?replicaSet={hello['setName']}")
    await client.open()
    host, port = hello["me"].rsplit(":", 1)
    assert client.primary == (host, int(port))
    assert (host, int(port)) in client.hosts
    assert client.seeds == {(host, int(port))}
    assert (await client.admin.command("ping"))["ok"] == 1.0
    assert await client.alive() is True
