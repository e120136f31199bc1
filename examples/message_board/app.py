"""A message board with file uploads: Tornado 6, Motor and GridFS.

Run it against any MongoDB (or the SecantusDB that ``tools/run_tests.py``
installs)::

    python examples/message_board/app.py --uri mongodb://localhost:27017 --port 8888

then open http://localhost:8888/. Pages:

``/``           the messages, newest first
``/compose``    a form to post a message
``/uploads``    upload files (pictures, audio, video...) and see them
``/files/<id>/<name>``
                the stored files, served from GridFS by motor.web.GridFSHandler,
                with byte ranges, so audio and video can seek

Everything is ``async def`` and every database call goes through Motor:
the loop never waits for MongoDB.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import mimetypes
import os
import sys

import tornado.escape
import tornado.web
from bson import ObjectId
from bson.errors import InvalidId

try:
    import motor
except ImportError:  # run from a checkout without installing Motor
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    import motor
import motor.web

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_UPLOAD_BYTES = 64 * 1024 * 1024


class BaseHandler(tornado.web.RequestHandler):
    @property
    def db(self):
        return self.settings["db"]

    @property
    def bucket(self):
        return motor.MotorGridFSBucket(self.db, "uploads")


class MessagesHandler(BaseHandler):
    async def get(self):
        """The latest messages, newest first."""
        messages = await self.db.messages.find().sort("_id", -1).to_list(100)
        self.render("messages.html", messages=messages)


class ComposeHandler(BaseHandler):
    def get(self):
        self.render("compose.html", error=None)

    async def post(self):
        text = self.get_body_argument("msg", "").strip()
        if not text:
            self.set_status(400)
            self.render("compose.html", error="Write something first.")
            return
        await self.db.messages.insert_one(
            {"msg": text[:1000], "posted": datetime.datetime.now(datetime.timezone.utc)}
        )
        self.redirect("/")


def media_kind(content_type: str) -> str:
    """How the uploads page shows a file: image, audio, video or link."""
    kind = content_type.split("/", 1)[0]
    return kind if kind in ("image", "audio", "video") else "link"


class UploadsHandler(BaseHandler):
    async def get(self):
        files = await self.bucket.find().sort("uploadDate", -1).limit(50).to_list(None)
        entries = []
        for grid_out in files:
            content_type = (grid_out.metadata or {}).get("contentType", "application/octet-stream")
            entries.append(
                {
                    "url": f"/files/{grid_out._id}/"
                    + tornado.escape.url_escape(grid_out.filename, plus=False),
                    "name": grid_out.filename,
                    "kind": media_kind(content_type),
                    "length": grid_out.length,
                }
            )
        self.render("uploads.html", files=entries, error=None)

    async def post(self):
        uploads = self.request.files.get("file", [])
        if not uploads or not uploads[0].filename:
            raise tornado.web.HTTPError(400, reason="Choose a file to upload")
        for upload in uploads:
            name = os.path.basename(upload.filename.replace("\\", "/")) or "upload"
            content_type = upload.content_type
            if not content_type or content_type == "application/octet-stream":
                content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            await self.bucket.upload_from_stream(
                name, upload.body, metadata={"contentType": content_type}
            )
        self.redirect("/uploads")


class FileHandler(motor.web.GridFSHandler):
    """GridFSHandler, finding files by _id (their names need not be unique)."""

    def get_gridfs_file(self, bucket, file_id, request):
        try:
            return bucket.open_download_stream(ObjectId(file_id))
        except InvalidId:
            raise tornado.web.HTTPError(404) from None

    def set_extra_headers(self, path, gridout):
        # Uploaded content is the users': never let a browser run it as a page of ours.
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "sandbox")


def make_app(db, **settings) -> tornado.web.Application:
    """The application, storing in the MotorDatabase ``db``."""
    return tornado.web.Application(
        [
            (r"/", MessagesHandler),
            (r"/compose", ComposeHandler),
            (r"/uploads", UploadsHandler),
            (
                r"/files/([0-9a-f]{24})(?:/[^/]*)?",
                FileHandler,
                {"database": db, "root_collection": "uploads"},
            ),
        ],
        db=db,
        template_path=os.path.join(HERE, "templates"),
        xsrf_cookies=True,
        **settings,
    )


async def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Motor's message board example")
    parser.add_argument("--uri", default="mongodb://localhost:27017")
    parser.add_argument("--db", default="message_board")
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--address", default="127.0.0.1")
    args = parser.parse_args(argv)

    client = motor.MotorClient(args.uri)
    await client.open()
    app = make_app(client[args.db])
    app.listen(args.port, args.address, max_body_size=MAX_UPLOAD_BYTES)
    print(f"Listening on http://{args.address}:{args.port}/", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
