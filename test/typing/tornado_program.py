"""A typed Tornado program, as a Motor 3 user writes one.

``mypy --strict`` accepts it with Motor 3.7.1's type information and with
this package's (test/test_typing.py checks the second). It uses both
``motor.MotorClient`` and ``motor.motor_tornado``, which Motor 3 makes one.
Type-checked, never run.
"""

from __future__ import annotations

from typing import Any, Optional, TypedDict

import tornado.web
from bson import ObjectId
from pymongo import DESCENDING
from tornado.ioloop import IOLoop

import motor
from motor.motor_tornado import (
    MotorChangeStream,
    MotorClient,
    MotorClientSession,
    MotorCollection,
    MotorCommandCursor,
    MotorCursor,
    MotorDatabase,
    MotorGridFSBucket,
    MotorGridIn,
    MotorGridOut,
)


class Post(TypedDict):
    author: str
    text: str
    likes: int


class PostsHandler(tornado.web.RequestHandler):
    async def get(self) -> None:
        db: MotorDatabase[Post] = self.settings["db"]
        posts: MotorCollection[Post] = db.posts
        cursor: MotorCursor[Post] = posts.find({"likes": {"$gt": 0}}).sort("likes", DESCENDING)
        top: list[Post] = await cursor.to_list(length=20)
        for post in top:
            self.write(post["text"])
        first: Optional[Post] = await posts.find_one({"author": "ada"})
        if first is not None:
            self.write(str(first["likes"]))


def make_app() -> tornado.web.Application:
    client: motor.MotorClient[Post] = motor.MotorClient("mongodb://localhost:27017")
    return tornado.web.Application([(r"/", PostsHandler)], db=client.blog)


async def aggregate(client: MotorClient[dict[str, Any]]) -> list[dict[str, Any]]:
    pipeline: list[dict[str, Any]] = [{"$group": {"_id": "$author", "n": {"$sum": 1}}}]
    cursor: MotorCommandCursor[dict[str, Any]] = client.blog.posts.aggregate(pipeline)
    by_author: list[dict[str, Any]] = await cursor.to_list(None)
    async for row in client.blog.posts.aggregate(pipeline):
        print(row["n"])
    return by_author


async def sessions(client: MotorClient[dict[str, Any]]) -> None:
    posts = client.blog.posts

    async def like(session: MotorClientSession) -> None:
        await posts.update_one({"_id": 1}, {"$inc": {"likes": 1}}, session=session)

    async with await client.start_session() as session:
        await session.with_transaction(like)
        async with session.start_transaction():
            await posts.insert_one({"_id": 2, "likes": 0}, session=session)


async def change_streams(collection: MotorCollection[dict[str, Any]]) -> None:
    stream: MotorChangeStream[dict[str, Any]] = collection.database.watch()
    async with stream:
        async for change in stream:
            print(change["ns"])
            break


async def gridfs(db: MotorDatabase[dict[str, Any]]) -> None:
    bucket = MotorGridFSBucket(db)
    file_id: ObjectId = await bucket.upload_from_stream("a.txt", b"contents")
    grid_in: MotorGridIn = bucket.open_upload_stream_with_id(ObjectId(), "b.txt")
    await grid_in.write(b"more")
    await grid_in.close()
    grid_out: MotorGridOut = await bucket.open_download_stream_by_name("a.txt")
    print(grid_out.length)
    await bucket.delete(file_id)


async def read_file(bucket: MotorGridFSBucket, file_id: ObjectId) -> bytes:
    grid_out = await bucket.open_download_stream(file_id)
    data: bytes = await grid_out.read()
    return data


async def main() -> None:
    client: MotorClient[dict[str, Any]] = MotorClient()
    count: int = await client.blog.posts.count_documents({})
    print(count)
    await aggregate(client)
    client.close()


if __name__ == "__main__":
    IOLoop.current().run_sync(main)
