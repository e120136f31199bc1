"""Fixtures for tests that talk to a real server through Motor.

The server is named by ``MOTOR_TEST_URI`` (``tools/run_tests.py`` starts
SecantusDB and sets it; point it at your own mongod to test against that).
"""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from pymongo import MongoClient

import motor
from motor.motor_asyncio import AsyncIOMotorClient

DEFAULT_URI = "mongodb://127.0.0.1:27017/?directConnection=true"


def test_uri() -> str:
    return os.environ.get("MOTOR_TEST_URI", DEFAULT_URI)


test_uri.__test__ = False  # type: ignore[attr-defined]


def sync_client(**kwargs) -> MongoClient:
    """A plain PyMongo client for setting up and checking from outside Motor.

    It blocks: in an ``async def`` test, use it inside :func:`off_loop`.
    """
    return MongoClient(test_uri(), **kwargs)


class Ticker:
    """Counts loop iterations while something else waits: proof the loop ran."""

    def __init__(self, interval: float = 0.01) -> None:
        self.ticks = 0
        self._interval = interval
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            self.ticks += 1

    def stop(self) -> int:
        self._task.cancel()
        return self.ticks


async def off_loop(fn, *args):
    """Run blocking test code (a plain PyMongo client) in a helper thread.

    The loop watchdog fails any test that blocks the loop thread, tests included.
    """
    from motor.runtime import threads

    return await threads.submit(asyncio.get_running_loop(), fn, *args)


def _chunk_count(db_name: str, file_id, bucket_name: str) -> int:
    with sync_client() as client:
        return client[db_name][bucket_name + ".chunks"].count_documents({"files_id": file_id})


async def chunk_count(db_name: str, file_id, bucket_name: str = "fs") -> int:
    """How many GridFS chunks the server holds for the file (read off the loop)."""
    return await off_loop(_chunk_count, db_name, file_id, bucket_name)


@pytest.fixture(scope="session")
def server_info() -> dict:
    with sync_client(serverSelectionTimeoutMS=10000) as client:
        info = client.server_info()
        info["hello"] = client.admin.command("hello")
        return info


@pytest.fixture(scope="session")
def is_secantus(server_info) -> bool:
    return "secantus" in str(server_info).lower()


@pytest.fixture
def uri() -> str:
    return test_uri()


@pytest.fixture
def make_client(io_loop):
    """Make MotorClients for the test loop; each is closed after the test."""
    clients = []

    def make(uri: str | None = None, **kwargs):
        client = motor.MotorClient(uri or test_uri(), io_loop=io_loop, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        io_loop.run_sync(client.close)


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def asyncio_client(io_loop):
    client = AsyncIOMotorClient(test_uri(), io_loop=io_loop.asyncio_loop)
    yield client
    io_loop.run_sync(client.close)


@pytest.fixture
def db_name():
    name = f"motor_test_{uuid.uuid4().hex[:12]}"
    yield name
    with sync_client() as client:
        client.drop_database(name)


@pytest.fixture
def db(client, db_name):
    return client[db_name]


@pytest.fixture
def coll(db):
    return db.test_collection
