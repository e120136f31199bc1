"""What the documentation's runnable examples need around them (not shown in the docs).

``sphinx-build -b doctest doc <out>`` runs every ``.. doctest::`` and
``.. testcode::`` block; ``conf.py`` imports :data:`harness` into each. On
import this module:

- makes an asyncio event loop current, so ``IOLoop.current()`` is Tornado's
  wrapper of it, as in an application;
- makes ``MotorClient()`` and ``MongoClient()`` connect by default to the
  server named by ``MOTOR_TEST_URI`` (``localhost:27017`` without it), since
  the examples, like MongoDB's own, assume a server there.

Hidden blocks in the documents call the harness to reset databases, to
serve an example's application on a free port instead of 8888 and request
pages from it while the example's ``IOLoop.current().start()`` runs, and to
give examples the files they read.
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
from typing import Any, Awaitable, Callable

import pymongo
import tornado.web
from tornado.httpclient import AsyncHTTPClient
from tornado.ioloop import IOLoop

DEFAULT_URI = "mongodb://localhost:27017"
DOC_DATABASES = ("test", "test_database", "my_database")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Visit:
    """HTTP requests made once the example starts the loop; then the loop stops."""

    def __init__(self, requests: Callable[[AsyncHTTPClient, str], Awaitable[Any]], harness: Any):
        self._outcome: dict = {}
        io_loop = IOLoop.current()
        self._io_loop = io_loop
        self._timer = io_loop.call_later(30, self._time_out)

        async def run() -> None:
            http = AsyncHTTPClient(force_instance=True)
            try:
                # The loop may run before the example listens (open_sync
                # runs it): wait for the example's listen().
                while harness.port is None:
                    await asyncio.sleep(0.01)
                self._outcome["result"] = await requests(http, f"http://127.0.0.1:{harness.port}")
            except Exception as exc:
                self._outcome["error"] = exc
            finally:
                http.close()
                io_loop.stop()

        io_loop.add_callback(run)

    def _time_out(self) -> None:
        self._outcome.setdefault("error", TimeoutError("the documentation's requests timed out"))
        self._io_loop.stop()

    def result(self) -> Any:
        self._io_loop.remove_timeout(self._timer)
        if "error" in self._outcome:
            raise self._outcome["error"]
        return self._outcome["result"]


class Harness:
    def __init__(self) -> None:
        try:
            asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            asyncio.set_event_loop(asyncio.new_event_loop())
        self.uri = os.environ.get("MOTOR_TEST_URI", DEFAULT_URI)
        pymongo.MongoClient.HOST = self.uri
        auth_port = os.environ.get("MOTOR_DOCS_AUTH_PORT")
        self.auth_port = int(auth_port) if auth_port else None
        self.port: int | None = None
        self._servers: list = []
        self._listen = tornado.web.Application.listen
        self._cwd = os.getcwd()

    # -- databases -------------------------------------------------------------

    def fresh_databases(self) -> None:
        """Drop the databases the examples use (the loop is not running)."""
        with pymongo.MongoClient(self.uri) as client:
            for name in DOC_DATABASES:
                client.drop_database(name)

    def insert(self, db_name: str, coll_name: str, documents: list) -> None:
        """Documents an example expects to find, inserted with PyMongo."""
        with pymongo.MongoClient(self.uri) as client:
            client[db_name][coll_name].insert_many(documents)

    # -- serving -----------------------------------------------------------------

    def listen_anywhere(self) -> None:
        """Make ``application.listen(8888)`` listen on a free port of 127.0.0.1."""
        harness = self

        def listen(application: Any, port: int, address: str = "", **kwargs: Any) -> Any:
            harness.port = _free_port()
            server = harness._listen(application, harness.port, "127.0.0.1", **kwargs)
            harness._servers.append(server)
            return server

        tornado.web.Application.listen = listen  # type: ignore[method-assign]

    def visit(self, requests: Callable[[AsyncHTTPClient, str], Awaitable[Any]]) -> _Visit:
        """Make ``requests(http, base_url)`` once the loop starts, then stop it.

        ``base_url`` is that of the application the example made listen
        (after :meth:`listen_anywhere`) by the time the loop starts.
        """
        return _Visit(requests, self)

    def get(self, *paths: str) -> _Visit:
        """GET each path once the loop starts; ``result()`` is their bodies, as text."""

        async def requests(http: AsyncHTTPClient, base_url: str) -> list:
            return [(await http.fetch(base_url + path)).body.decode() for path in paths]

        return self.visit(requests)

    def stop_serving(self) -> None:
        for server in self._servers:
            server.stop()
        self._servers.clear()
        tornado.web.Application.listen = self._listen  # type: ignore[method-assign]
        self.port = None

    # -- files -------------------------------------------------------------------

    def in_a_directory_with(self, files: dict) -> None:
        """Change to a new temporary directory holding ``files`` (name: bytes)."""
        directory = tempfile.mkdtemp(prefix="motor-docs-")
        for name, data in files.items():
            with open(os.path.join(directory, name), "wb") as f:
                f.write(data)
        os.chdir(directory)

    def back_from_the_directory(self) -> None:
        os.chdir(self._cwd)


harness = Harness()
