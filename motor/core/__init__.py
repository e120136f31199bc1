"""Motor's classes, written once over PyMongo's synchronous API.

The agnostic classes here are turned into the Tornado and asyncio flavours by
:mod:`motor.frameworks`; import those from :mod:`motor.motor_tornado` or
:mod:`motor.motor_asyncio` (or simply :mod:`motor`).
"""

from motor.core.change_stream import AgnosticChangeStream
from motor.core.client import AgnosticClient
from motor.core.collection import AgnosticCollection
from motor.core.cursor import (
    AgnosticCommandCursor,
    AgnosticCursor,
    AgnosticLatentCommandCursor,
    AgnosticRawBatchCommandCursor,
    AgnosticRawBatchCursor,
)
from motor.core.database import AgnosticDatabase
from motor.core.encryption import AgnosticClientEncryption
from motor.core.session import AgnosticClientSession

__all__ = [
    "AgnosticChangeStream",
    "AgnosticClient",
    "AgnosticClientEncryption",
    "AgnosticClientSession",
    "AgnosticCollection",
    "AgnosticCommandCursor",
    "AgnosticCursor",
    "AgnosticDatabase",
    "AgnosticLatentCommandCursor",
    "AgnosticRawBatchCommandCursor",
    "AgnosticRawBatchCursor",
]
