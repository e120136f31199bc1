"""Motor 3's ``motor.motor_gridfs`` module: the agnostic GridFS classes.

Code written for Motor 3 that imports from here keeps working::

    from motor.motor_gridfs import AgnosticGridFSBucket, AgnosticGridOut

    isinstance(grid_out, AgnosticGridOut)   # True for MotorGridOut and AsyncIOMotorGridOut

These are the classes :mod:`motor.motor_tornado` and :mod:`motor.motor_asyncio`
generate their GridFS classes from; they live in :mod:`motor.gridfs`. To use
GridFS, import the generated ones (``MotorGridFSBucket``,
``AsyncIOMotorGridFSBucket``...).

.. versionadded:: 4.0
"""

from motor.gridfs.bucket import AgnosticGridFSBucket
from motor.gridfs.legacy import AgnosticGridFS, AgnosticGridIn, AgnosticGridOut, AgnosticGridOutCursor

# Motor 3's name for the descriptor of a files-document field of a GridOut.
from motor.gridfs.legacy import GridOutField as MotorGridOutProperty

__all__ = [
    "AgnosticGridFS",
    "AgnosticGridFSBucket",
    "AgnosticGridIn",
    "AgnosticGridOut",
    "AgnosticGridOutCursor",
    "MotorGridOutProperty",
]
