"""GridFS for Motor: files of any size stored in MongoDB, read and written without blocking.

Two APIs, as in PyMongo:

- :class:`~motor.MotorGridFSBucket` (``AsyncIOMotorGridFSBucket``): the
  GridFS API shared by every MongoDB driver, and Motor 3's.
- :class:`~motor.MotorGridFS` (``AsyncIOMotorGridFS``): PyMongo's older
  :class:`gridfs.GridFS` API (``put``, ``get``, ``new_file``...).

Both hand out :class:`~motor.MotorGridIn` to write a file and
:class:`~motor.MotorGridOut` to read one; ``find()`` returns a
:class:`~motor.MotorGridOutCursor` of MotorGridOuts. Import the classes from
:mod:`motor.motor_tornado` / :mod:`motor.motor_asyncio` (or :mod:`motor`);
this package holds the agnostic classes they are generated from.
:class:`motor.web.GridFSHandler` (Tornado) and
:class:`motor.aiohttp.AIOHTTPGridFS` serve GridFS files over HTTP;
:mod:`motor.gridfs.serving` holds what they share (the ETag, ranges, dates).

.. versionadded:: 4.0
"""

from motor.gridfs.bucket import AgnosticGridFSBucket
from motor.gridfs.legacy import AgnosticGridFS, AgnosticGridIn, AgnosticGridOut, AgnosticGridOutCursor

__all__ = [
    "AgnosticGridFS",
    "AgnosticGridFSBucket",
    "AgnosticGridIn",
    "AgnosticGridOut",
    "AgnosticGridOutCursor",
]
