# Type information for motor.motor_gridfs, Motor 3's module of the agnostic
# GridFS classes: the very classes of motor.gridfs, so that annotations and
# isinstance() with either name agree.

from motor.gridfs import AgnosticGridFS as AgnosticGridFS
from motor.gridfs import AgnosticGridFSBucket as AgnosticGridFSBucket
from motor.gridfs import AgnosticGridIn as AgnosticGridIn
from motor.gridfs import AgnosticGridOut as AgnosticGridOut
from motor.gridfs import AgnosticGridOutCursor as AgnosticGridOutCursor

__all__ = [
    "AgnosticGridFS",
    "AgnosticGridFSBucket",
    "AgnosticGridIn",
    "AgnosticGridOut",
    "AgnosticGridOutCursor",
    "MotorGridOutProperty",
]

class MotorGridOutProperty:
    # A MotorGridOut property read from its files document (Motor 3's name).
    def __init__(self, field: str, doc: str) -> None: ...
