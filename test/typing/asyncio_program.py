"""A typed asyncio program, as a Motor 3 user writes one.

``mypy --strict`` accepts it with Motor 3.7.1's type information and with
this package's (test/test_typing.py checks the second). It is type-checked,
never run: every line is plain Motor 3 API.
"""

from __future__ import annotations

import io
from typing import Any, Optional, TypedDict

from bson import ObjectId
from pymongo import ASCENDING
from pymongo.results import DeleteResult, InsertManyResult, InsertOneResult, UpdateResult

from motor.motor_asyncio import (
    AsyncIOMotorChangeStream,
    AsyncIOMotorClient,
    AsyncIOMotorClientSession,
    AsyncIOMotorCollection,
    AsyncIOMotorCommandCursor,
    AsyncIOMotorCursor,
    AsyncIOMotorDatabase,
    AsyncIOMotorGridFSBucket,
    AsyncIOMotorGridIn,
    AsyncIOMotorGridOut,
)


class Movie(TypedDict):
    title: str
    year: int


def make_client() -> AsyncIOMotorClient[dict[str, Any]]:
    client: AsyncIOMotorClient[dict[str, Any]] = AsyncIOMotorClient(
        "mongodb://localhost:27017", serverSelectionTimeoutMS=1000
    )
    return client


async def typed_documents(client: AsyncIOMotorClient[Movie]) -> list[Movie]:
    db: AsyncIOMotorDatabase[Movie] = client.get_database("cinema")
    movies: AsyncIOMotorCollection[Movie] = db.movies
    inserted: InsertOneResult = await movies.insert_one({"title": "Jaws", "year": 1975})
    print(inserted.inserted_id)
    many: InsertManyResult = await movies.insert_many(
        [{"title": "Alien", "year": 1979}, {"title": "Heat", "year": 1995}]
    )
    print(many.inserted_ids)

    one: Optional[Movie] = await movies.find_one({"year": 1975})
    if one is not None:
        title: str = one["title"]
        print(title)

    cursor: AsyncIOMotorCursor[Movie] = (
        movies.find({"year": {"$gt": 1970}}).sort("year", ASCENDING).skip(1).limit(10)
    )
    found: list[Movie] = await cursor.to_list(length=10)
    every: list[Movie] = await movies.find().to_list(None)
    async for movie in movies.find({}, batch_size=2):
        print(movie["year"])

    updated: UpdateResult = await movies.update_one({"title": "Jaws"}, {"$set": {"year": 1976}})
    print(updated.modified_count)
    deleted: DeleteResult = await movies.delete_many({"year": {"$lt": 1900}})
    print(deleted.deleted_count)
    count: int = await movies.count_documents({})
    print(count)
    index_name: str = await movies.create_index([("year", ASCENDING)])
    print(index_name)
    return found + every


async def aggregate(collection: AsyncIOMotorCollection[dict[str, Any]]) -> list[dict[str, Any]]:
    pipeline: list[dict[str, Any]] = [{"$group": {"_id": "$year", "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}]
    cursor: AsyncIOMotorCommandCursor[dict[str, Any]] = collection.aggregate(pipeline)
    groups: list[dict[str, Any]] = await cursor.to_list(length=None)
    async for group in collection.aggregate(pipeline):
        print(group["n"])
    return groups


async def databases(client: AsyncIOMotorClient[dict[str, Any]]) -> None:
    names: list[str] = await client.list_database_names()
    print(names)
    info: dict[str, Any] = await client.server_info()
    print(info["version"])
    reply: dict[str, Any] = await client.admin.command("ping")
    print(reply["ok"])
    collection_names: list[str] = await client.test.list_collection_names()
    print(collection_names)
    await client.drop_database("scratch")


async def sessions(client: AsyncIOMotorClient[dict[str, Any]]) -> None:
    accounts = client.bank.accounts
    async with await client.start_session() as session:
        async with session.start_transaction():
            await accounts.update_one({"_id": 1}, {"$inc": {"balance": -10}}, session=session)
            await accounts.update_one({"_id": 2}, {"$inc": {"balance": 10}}, session=session)
        print(session.in_transaction)

    async def transfer(session: AsyncIOMotorClientSession) -> None:
        await accounts.insert_one({"_id": 3, "balance": 0}, session=session)

    session = await client.start_session()
    await session.with_transaction(transfer)
    doc: Optional[dict[str, Any]] = await accounts.find_one({"_id": 3}, session=session)
    print(doc)
    await session.end_session()


async def change_streams(client: AsyncIOMotorClient[dict[str, Any]]) -> None:
    stream: AsyncIOMotorChangeStream[dict[str, Any]] = client.watch(
        [{"$match": {"operationType": "insert"}}]
    )
    async with stream:
        async for change in stream:
            print(change["operationType"])
            print(stream.resume_token)
            break
    async with client.test.get_collection("feed").watch() as feed:
        maybe: Optional[dict[str, Any]] = await feed.try_next()
        print(maybe)
    db_stream: AsyncIOMotorChangeStream[dict[str, Any]] = client.test.watch()
    await db_stream.close()


async def gridfs(db: AsyncIOMotorDatabase[dict[str, Any]]) -> None:
    bucket = AsyncIOMotorGridFSBucket(db, bucket_name="files")
    file_id: ObjectId = await bucket.upload_from_stream(
        "hello.txt", b"hello", metadata={"contentType": "text/plain"}
    )
    grid_in: AsyncIOMotorGridIn = bucket.open_upload_stream("big.bin", chunk_size_bytes=1024)
    await grid_in.write(b"data")
    await grid_in.close()
    destination = io.BytesIO()
    await bucket.download_to_stream(file_id, destination)
    grid_out: AsyncIOMotorGridOut = await bucket.open_download_stream(file_id)
    print(grid_out.filename, grid_out.length, grid_out.upload_date)
    async for grid_file in bucket.find({"filename": "hello.txt"}):
        print(grid_file)
    await bucket.rename(file_id, "renamed.txt")
    await bucket.delete(file_id)


async def read_file(bucket: AsyncIOMotorGridFSBucket, file_id: ObjectId) -> bytes:
    grid_out = await bucket.open_download_stream(file_id)
    data: bytes = await grid_out.read()
    return data


def close(client: AsyncIOMotorClient[dict[str, Any]]) -> None:
    client.close()


def is_grid_file(value: object) -> bool:
    # Motor 3's module of the agnostic GridFS classes.
    from motor.motor_gridfs import AgnosticGridOut

    return isinstance(value, AgnosticGridOut)


async def file_name(bucket: AsyncIOMotorGridFSBucket, file_id: ObjectId) -> str | None:
    from motor.motor_gridfs import AgnosticGridOut

    grid_out: AgnosticGridOut = await bucket.open_download_stream(file_id)
    return grid_out.filename
