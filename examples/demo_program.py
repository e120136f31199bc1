"""A short tour of Motor on Tornado. Run it with ``python3 tools/demo.py``."""

import argparse

import motor
from pymongo import ReturnDocument
from tornado.concurrent import Future
from tornado.ioloop import IOLoop

MESSAGES = [
    {"author": "ada", "text": "Hello from Motor", "likes": 3},
    {"author": "grace", "text": "Greenlets make blocking code async", "likes": 7},
    {"author": "ada", "text": "Tornado runs the event loop", "likes": 5},
    {"author": "linus", "text": "Indexes keep queries fast", "likes": 1},
    {"author": "grace", "text": "Callbacks still work too", "likes": 4},
]


async def main(uri):
    client = motor.MotorClient(uri)
    db = client.demo
    messages = db.messages

    await messages.drop()  # start from a clean collection on every run
    result = await messages.insert_many([dict(m) for m in MESSAGES])
    print("inserted %d messages" % len(result.inserted_ids))
    print("created index", await messages.create_index([("likes", -1)]))

    print("\nthe three most liked:")
    top = await messages.find({}, {"_id": 0}).sort("likes", -1).limit(3).to_list(length=None)
    for doc in top:
        print("  %(likes)2d  %(author)-6s %(text)s" % doc)

    print("\nby ada, streamed with async for:")
    async for doc in messages.find({"author": "ada"}).sort("likes", -1):
        print("  %(likes)2d  %(text)s" % doc)

    update = await messages.update_one({"author": "linus"}, {"$inc": {"likes": 10}})
    print("\nliked linus's message: modified %d" % update.modified_count)
    popular = await messages.count_documents({"likes": {"$gte": 5}})
    print("messages with 5 likes or more:", popular)

    print("\nlikes per author (aggregate):")
    pipeline = [
        {"$group": {"_id": "$author", "likes": {"$sum": "$likes"}, "posts": {"$sum": 1}}},
        {"$sort": {"likes": -1}},
    ]
    async for row in messages.aggregate(pipeline):
        print("  %(_id)-6s %(likes)2d likes in %(posts)d posts" % row)

    # The callback style: Motor calls cb(result, error) when the operation ends.
    done = Future()

    def cb(result, error):
        if error:
            print("\nfind_one failed:", error)
        else:
            print("\nfind_one with a callback found: %(text)r" % result)
        done.set_result(None)

    messages.find_one({"author": "grace"}, sort=[("likes", -1)], callback=cb)
    await done

    # The server keeps .demo-data/ between runs: count them.
    runs = await db.runs.find_one_and_update(
        {"_id": "demo"}, {"$inc": {"count": 1}}, upsert=True,
        return_document=ReturnDocument.AFTER)
    print("this demo has run %d time(s) against this data directory" % runs["count"])
    client.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uri", default="mongodb://localhost:27017")
    args = parser.parse_args()
    IOLoop.current().run_sync(lambda: main(args.uri))
