"""Precompute the canned server's replies (run by the harness in .venv: needs bson).

    python replies.py DATA_DIR OUT_DIR N GRIDFS_BYTES CONCURRENCY[,CONCURRENCY...]

Writes, for every benchmark and concurrency, ``rules-<bench>-c<conc>.txt``
(the format bench/canned_server.c reads) and the BSON batch files it names,
modelled on what a real server would send for that benchmark's data: a
first batch of at most 101 documents, then batches of at most 16 MiB.
Also ``rules-base.txt`` (hello only) and ``manifest.json`` with each
benchmark's size in bytes.
"""

import datetime
import json
import os
import sys

import bson
from bson import ObjectId
from bson.binary import Binary
from bson.raw_bson import RawBSONDocument

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import BENCH_NAMES, CORPUS, DB_NAME, LARGE_DOCS, ops_per_iteration, shares  # noqa: E402

MARKER = 0x0123456789ABCDEF
FIRST_BATCH = 101
MAX_BATCH_BYTES = 16 * 1024 * 1024
CHUNK_SIZE = 255 * 1024
FILES_ID = ObjectId("5f0000000000000000000001")

HELLO = {
    "helloOk": True,
    "ismaster": True,
    "isWritablePrimary": True,
    "maxBsonObjectSize": 16 * 1024 * 1024,
    "maxMessageSizeBytes": 48000000,
    "maxWriteBatchSize": 100000,
    "localTime": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    "logicalSessionTimeoutMinutes": 30,
    "connectionId": 1,
    "minWireVersion": 0,
    "maxWireVersion": 21,
    "readOnly": False,
    "ok": 1.0,
}


class Writer:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.count = 0

    def blob(self, data):
        self.count += 1
        path = os.path.join(self.out_dir, "b%05d.bson" % self.count)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def single(self, cmd, coll, doc):
        return "rule %s %s -1 %s\n" % (cmd, coll, self.blob(bson.encode(doc)))

    def cursor(self, cmd, coll, ns, docs):
        """A find reply as a real server would batch ``docs``."""
        batches, current, size = [], [], 0
        limit = FIRST_BATCH
        for doc in docs:
            raw = bson.encode(doc)
            if current and (len(current) >= limit or size + len(raw) > MAX_BATCH_BYTES):
                batches.append(current)
                current, size, limit = [], 0, 1 << 62
            current.append(raw)
            size += len(raw)
        batches.append(current)
        paths, offset = [], -1
        for i, batch in enumerate(batches):
            last = i == len(batches) - 1
            field = "firstBatch" if i == 0 else "nextBatch"
            reply = {
                "cursor": {"id": bson.Int64(0 if last else MARKER), "ns": ns,
                           field: [RawBSONDocument(raw) for raw in batch]},
                "ok": 1.0,
            }
            data = bson.encode(reply)
            if not last:
                offset = data.index(MARKER.to_bytes(8, "little"))
            paths.append(self.blob(data))
        return "rule %s %s %d %s\n" % (cmd, coll, offset, " ".join(paths))


def load(data_dir, name):
    with open(os.path.join(data_dir, name + ".json")) as f:
        return json.load(f)


def main(data_dir, out_dir, n, gridfs_bytes, concurrencies):
    os.makedirs(out_dir, exist_ok=True)
    writer = Writer(out_dir)
    tweet = load(data_dir, "tweet")
    small = load(data_dir, "small_doc")
    large = load(data_dir, "large_doc")
    with open(os.path.join(data_dir, "gridfs_large.bin"), "rb") as f:
        gridfs_data = f.read(gridfs_bytes)

    hello_rule = writer.single("hello", "*", HELLO)
    ping_rule = writer.single("ping", "*", {"ok": 1.0})
    base = hello_rule + ping_rule
    with open(os.path.join(out_dir, "rules-base.txt"), "w") as f:
        f.write(base)

    ns = "%s.%s" % (DB_NAME, CORPUS)
    sizes = {
        "hello": len(bson.encode({"hello": True})),
        "tweet": len(bson.encode({"_id": 1, **tweet})),
        "small_doc": len(bson.encode({"_id": ObjectId(), **small})),
        "large_doc": len(bson.encode({"_id": ObjectId(), **large})),
    }
    manifest = {"n": n, "gridfs_bytes": len(gridfs_data), "sizes": sizes, "benchmarks": {}}

    def tweets(count):
        return [{"_id": i + 1, **tweet} for i in range(count)]

    for conc in concurrencies:
        for bench in BENCH_NAMES:
            ops = ops_per_iteration(bench, conc, n)
            rules = base
            if bench == "run_command":
                size = n * sizes["hello"]
            elif bench == "find_one":
                rules += writer.single("find", "*", {
                    "cursor": {"id": bson.Int64(0), "ns": ns, "firstBatch": tweets(1)}, "ok": 1.0})
                size = n * sizes["tweet"]
            elif bench == "small_insert":
                rules += writer.single("insert", "*", {"n": 1, "ok": 1.0})
                size = n * sizes["small_doc"]
            elif bench == "large_insert":
                rules += writer.single("insert", "*", {"n": 1, "ok": 1.0})
                size = LARGE_DOCS * sizes["large_doc"]
            elif bench == "find_many":
                per = n // ops
                rules += writer.cursor("find", "*", ns, tweets(per))
                size = per * ops * sizes["tweet"]
            elif bench == "small_bulk":
                per = n // ops
                rules += writer.single("insert", "*", {"n": per, "ok": 1.0})
                size = per * ops * sizes["small_doc"]
            elif bench == "large_bulk":
                per = max(1, LARGE_DOCS // ops)
                rules += writer.single("insert", "*", {"n": per, "ok": 1.0})
                size = LARGE_DOCS * sizes["large_doc"]
            else:
                per = len(gridfs_data) // ops
                files_doc = {"_id": FILES_ID, "length": per, "chunkSize": CHUNK_SIZE,
                             "uploadDate": datetime.datetime(2026, 1, 1),
                             "filename": "gridfs_large.bin", "metadata": {}}
                rules += writer.single("find", "*.files", {
                    "cursor": {"id": bson.Int64(0), "ns": DB_NAME + ".fs.files",
                               "firstBatch": [files_doc]}, "ok": 1.0})
                rules += writer.single("insert", "*", {"n": 1, "ok": 1.0})
                if bench == "gridfs_upload":
                    # GridIn's index check: a chunk exists, so no listIndexes.
                    rules += writer.single("find", "*.chunks", {
                        "cursor": {"id": bson.Int64(0), "ns": DB_NAME + ".fs.chunks",
                                   "firstBatch": [{"_id": ObjectId()}]}, "ok": 1.0})
                else:
                    chunks = [{"_id": ObjectId(), "files_id": FILES_ID, "n": i,
                               "data": Binary(gridfs_data[start:stop])}
                              for i, (start, stop) in enumerate(
                                  (s, min(s + CHUNK_SIZE, per)) for s in range(0, per, CHUNK_SIZE))]
                    rules += writer.cursor("find", "*.chunks", DB_NAME + ".fs.chunks", chunks)
                size = per * ops
            with open(os.path.join(out_dir, "rules-%s-c%d.txt" % (bench, conc)), "w") as f:
                f.write(rules)
            manifest["benchmarks"]["%s-c%d" % (bench, conc)] = {"bytes": size, "ops": ops}
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
         [int(c) for c in sys.argv[5].split(",")])
