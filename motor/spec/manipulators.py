"""SON manipulators (PyMongo 2's ``pymongo.son_manipulator``), for the spec's MotorDatabase.

::

    class Stamp(motor.spec.SONManipulator):
        def transform_incoming(self, son, collection):
            son["stamped"] = True
            return son

    db.add_son_manipulator(Stamp())

Which manipulators a database has is kept on its MotorDatabase
(:mod:`motor.spec.database`). Whether any database of the process has ever
had one is kept here, so that ``find`` and ``find_one`` skip looking for them
on the per-operation path until then.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Manipulators",
    "SONManipulator",
    "in_use",
    "note_manipulators_in_use",
    "overrides",
]

#: True once any MotorDatabase of this process has had a SON manipulator
#: added (read as ``manipulators.in_use`` on the per-operation path).
in_use = False


def note_manipulators_in_use() -> None:
    global in_use
    in_use = True


class SONManipulator:
    """Base class of SON manipulators (PyMongo 2's ``pymongo.son_manipulator``).

    Override ``transform_incoming`` (documents on their way to the server)
    and/or ``transform_outgoing`` (documents read); return True from
    ``will_copy`` if they return new documents instead of changing them::

        class Stamp(motor.spec.SONManipulator):
            def transform_incoming(self, son, collection):
                son["stamped"] = True
                return son

        db.add_son_manipulator(Stamp())
    """

    def will_copy(self) -> bool:
        return False

    def transform_incoming(self, son: Any, collection: Any) -> Any:
        return son

    def transform_outgoing(self, son: Any, collection: Any) -> Any:
        return son


def overrides(manipulator: Any, method: str) -> bool:
    """Whether ``manipulator`` has a ``method`` of its own (not SONManipulator's no-op)."""
    if not hasattr(manipulator, method):
        return False
    if isinstance(manipulator, SONManipulator):
        return getattr(type(manipulator), method) is not getattr(SONManipulator, method)
    return True


class Manipulators:
    """One database's manipulators, newest first, by direction and by whether they copy."""

    def __init__(self) -> None:
        self.incoming: list = []
        self.incoming_copying: list = []
        self.outgoing: list = []
        self.outgoing_copying: list = []
