"""A SecantusDB started with ``--auth``, with the users the spec's examples log in as.

``admin``/``pass`` (root, on ``admin``) and ``user``/``pass`` (readWrite on
``database_name`` and on ``my_database``), as in the spec's authentication
examples. The users are made before auth is turned on, then the server is
restarted with ``--auth`` on the same port and data.
"""

from __future__ import annotations

import os

import pymongo

from test.servers import SecantusServer, secantusd_path

USERS_BY_DATABASE = {"database_name": "user", "my_database": "user"}


def available() -> bool:
    return os.path.exists(secantusd_path())


def start_auth_server(storage_path: str) -> SecantusServer:
    """Start it (raises ServerStartError); the caller stops it."""
    server = SecantusServer(storage_path=storage_path)
    server.start()
    try:
        with pymongo.MongoClient(server.uri) as client:
            client.admin.command("createUser", "admin", pwd="pass", roles=["root"])
            for db_name, user in USERS_BY_DATABASE.items():
                client[db_name].command("createUser", user, pwd="pass", roles=["readWrite"])
    finally:
        server.stop()
    server.auth = True
    server.start()
    return server
