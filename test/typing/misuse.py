"""Mistakes that ``mypy --strict`` must report with this package's types.

Each line ending in ``# E: <code>`` must get exactly that error, and no
other line any (test/test_typing.py checks it), so the type information
cannot pass the typed programs by being ``Any`` everywhere. Never run.
"""

from __future__ import annotations

from typing import Any, TypedDict

import motor
from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorGridFSBucket


class Movie(TypedDict):
    title: str
    year: int


async def misuse(client: AsyncIOMotorClient[Movie]) -> None:
    movies = client.cinema.movies
    one: int = await movies.find_one({})  # E: assignment
    many: list[int] = await movies.find().to_list(None)  # E: assignment
    await movies.find().no_such_method()  # E: attr-defined
    await movies.insert_one({"title": "Jaws", "year": "1975"})  # E: arg-type
    async for movie in movies.find():
        title: int = movie["title"]  # E: assignment
    names: str = await client.list_database_names()  # E: assignment
    session = await client.start_session()
    with session:  # E: attr-defined
        pass
    async for change in movies.watch():
        when: str = change["year"]  # E: assignment
    grid_out = await AsyncIOMotorGridFSBucket(client.cinema).open_download_stream(1)
    text: str = await grid_out.read()  # E: assignment
    movies.insert_one({"title": "Heat", "year": 1995}, callback=42)  # E: arg-type
    count: str = await movies.count_documents({})  # E: assignment


async def misuse_tornado(client: motor.MotorClient[dict[str, Any]]) -> None:
    found: int = await client.db.things.find_one({})  # E: assignment
    await client.db.things.aggregate([]).no_such_method()  # E: attr-defined
