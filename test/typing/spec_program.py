"""A typed program using ``motor``'s classic API (Motor's documentation) and callbacks.

Motor 3.7.1 has neither, so only this package's types are checked against
it (by test/test_typing.py, with ``mypy --strict``). Never run.
"""

from __future__ import annotations

from typing import Any, Optional

from tornado import gen

import motor


def on_found(result: Optional[dict[str, Any]], error: Optional[BaseException]) -> None:
    print(result, error)


def on_each(document: Optional[dict[str, Any]], error: Optional[BaseException]) -> None:
    print(document, error)


async def classic(client: motor.MotorClient[dict[str, Any]]) -> None:
    things = client.test.things
    await things.insert({"x": 1})
    await things.insert([{"x": 2}, {"x": 3}], manipulate=False)
    await things.update({"x": 1}, {"$set": {"y": 2}}, upsert=True)
    await things.save({"x": 4})
    await things.remove({"x": 2})
    await things.ensure_index("x")
    modified = await things.find_and_modify({"x": 1}, {"$inc": {"y": 1}}, new=True)
    print(modified)
    total = await things.count()
    print(total)
    result = await things.aggregate([{"$match": {"x": {"$gt": 0}}}])
    print(result["result"])
    cursor = things.find({"x": {"$gt": 0}}, fields=["x"]).sort("x").limit(5)
    docs: list[dict[str, Any]] = await cursor.to_list(length=10)
    print(docs)
    print(await cursor.count())
    names = await client.database_names()
    print(names)
    await client.test.authenticate("user", "password")
    print(client.host, client.port, things.write_concern)


def callbacks(client: motor.MotorClient[dict[str, Any]]) -> None:
    things = client.test.things
    things.find_one({"x": 1}, callback=on_found)
    things.insert_one({"x": 5}, callback=lambda result, error: print(result, error))
    things.find().each(on_each)
    client.server_info(callback=lambda info, error: print(info))


@gen.coroutine
def generator_style(client: motor.MotorClient[dict[str, Any]]) -> Any:
    document = yield client.test.things.find_one({"x": 1})
    return document


def replica_set() -> motor.MotorReplicaSetClient[dict[str, Any]]:
    client: motor.MotorReplicaSetClient[dict[str, Any]] = motor.MotorReplicaSetClient(
        "localhost:27017", replicaSet="rs0"
    )
    print(client.seeds)
    return client


async def legacy_gridfs(client: motor.MotorClient[dict[str, Any]]) -> bytes:
    fs = motor.MotorGridFS(client.test)
    file_id = await fs.put(b"contents", filename="notes.txt")
    grid_in = await fs.new_file(filename="more.txt")
    await grid_in.write(b"more")
    await grid_in.close()
    grid_out: motor.MotorGridOut = await fs.get(file_id)
    data: bytes = await grid_out.read()
    return data


def connect_first() -> motor.MotorClient[dict[str, Any]]:
    client: motor.MotorClient[dict[str, Any]] = motor.MotorClient().open_sync()
    return client
