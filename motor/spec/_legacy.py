"""Commands today's servers no longer have, and what replaced them.

The spec documents methods built on commands MongoDB has since removed
(``eval``, ``group``, ``copydb``, the ``getLastError`` family...). Motor keeps
every such method: it sends the command, so a server that still has it
answers; a server that does not gets a :class:`CommandRemoved` naming the
modern replacement.
"""

from __future__ import annotations

from typing import Any, Callable

from pymongo.errors import OperationFailure

__all__ = ["REPLACEMENTS", "CommandRemoved", "run_legacy"]

# Error codes and messages meaning "no such command".
_COMMAND_NOT_FOUND = 59
_NOT_FOUND_TEXT = ("no such command", "no such cmd", "command not found", "unrecognized command")

REPLACEMENTS = {
    "$eval": (
        "MongoDB 4.2 removed the eval command (db.eval): run the logic in Python, "
        "or on the server with an aggregation pipeline (collection.aggregate() with "
        "$expr, $function where available, $merge...)"
    ),
    "group": (
        "MongoDB 4.2 removed the group command: use collection.aggregate() with a "
        "$group stage, e.g. [{'$match': condition}, {'$group': {'_id': '$key', ...}}]"
    ),
    "copydb": (
        "MongoDB 4.2 removed the copydb command: copy with mongodump and mongorestore, "
        "or per collection with collection.aggregate([{'$out': {'db': to_name, "
        "'coll': name}}])"
    ),
    "copydbgetnonce": (
        "MongoDB 4.0 removed copydbgetnonce (MONGODB-CR authentication for copydb): "
        "copy with mongodump and mongorestore"
    ),
    "getlasterror": (
        "MongoDB 5.1 removed getLastError: every write now reports its errors and "
        "write concern in its own reply, so check the result (or exception) of "
        "insert(), update(), remove() and save() instead"
    ),
    "getpreverror": (
        "MongoDB 5.1 removed getPrevError: every write now reports its own errors, so "
        "check the result (or exception) of each write instead"
    ),
    "reseterror": (
        "MongoDB 5.1 removed resetError: writes no longer leave errors behind for "
        "later commands to read, so there is no history to reset"
    ),
    "mapreduce": (
        "this server has no mapReduce command (deprecated since MongoDB 5.0): use "
        "collection.aggregate() with $group (and $out or $merge to keep the result)"
    ),
    "reindex": (
        "this server has no reIndex command (MongoDB 6.0 kept it for standalone "
        "servers only): drop_indexes() and create the indexes again"
    ),
    "fsyncunlock": (
        "this server has no fsyncUnlock command: unlocking needs a server that "
        "supports fsync with lock=True (MongoDB's fsyncUnlock)"
    ),
}


class CommandRemoved(OperationFailure):
    """The server has no such command any more; the message says what replaced it.

    An :class:`~pymongo.errors.OperationFailure` (code 59, CommandNotFound), so
    code that catches OperationFailure keeps working.
    """


def is_command_not_found(exc: OperationFailure) -> bool:
    if exc.code == _COMMAND_NOT_FOUND:
        return True
    text = str(exc).lower()
    return any(marker in text for marker in _NOT_FOUND_TEXT)


def run_legacy(name: str, run: Callable[[], Any]) -> Any:
    """Run a removed command through ``run()``; translate "no such command"."""
    try:
        return run()
    except OperationFailure as exc:
        if not is_command_not_found(exc):
            raise
        answer = (exc.details or {}).get("errmsg") or str(exc)
        raise CommandRemoved(
            f"{REPLACEMENTS[name.lower()]} (the server answered: {answer})",
            _COMMAND_NOT_FOUND,
            exc.details,
        ) from exc
