"""The spec's MotorCollection: PyMongo 2's methods, over PyMongo 4.

Added to ``motor.MotorCollection`` (which is ``motor.motor_tornado``'s; the
asyncio drop-in keeps Motor 3's API)::

    _id = await collection.insert({"x": 1})            # the new _id; the doc gets it too
    ids = await collection.insert([{"x": 2}, {"x": 3}]) # a list of _ids
    result = await collection.update({"x": 1}, {"$set": {"y": 2}})
    result["n"], result["updatedExisting"]              # PyMongo 2's result document
    await collection.save(doc)                          # insert, or replace by _id
    await collection.remove({"x": 3})
    doc = await collection.find_and_modify({"x": 2}, {"$inc": {"x": 1}}, new=True)
    n = await collection.count()
    await collection.ensure_index("x")                  # remembered for cache_for seconds
    result = await collection.aggregate([{"$group": {"_id": None, "n": {"$sum": 1}}}])
    result["result"]                                    # the documents

``find()`` and ``find_one()`` accept PyMongo 2's keywords (``spec``,
``fields``, ``timeout``, ``tailable``, ``await_data``, ``as_class``,
``network_timeout``...) as well as PyMongo 4's. Every I/O method takes
``callback=`` or returns a Future.

Methods whose server command MongoDB has removed (``group``, and
``map_reduce`` on servers without mapReduce) still send it, and raise
:class:`~motor.spec._legacy.CommandRemoved`, naming the replacement, when the
server does not know it.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from typing import Any

import bson
from bson.code import Code
from bson.codec_options import CodecOptions
from bson.son import SON
from pymongo.cursor import CursorType
from pymongo.errors import (
    BulkWriteError,
    DuplicateKeyError,
    InvalidOperation,
    OperationFailure,
)
from pymongo.helpers_shared import _fields_list_to_dict, _gen_index_name, _index_list

from motor.core.collection import AgnosticCollection
from motor.core.metaprogramming import async_method, check_callback, unwrap_args
from motor.frameworks import spec_mixin
from motor.spec import manipulators
from motor.spec._legacy import run_legacy
from motor.spec.options import (
    SettingsMixin,
    check_no_rejected_options,
    name_positional,
    read_preference,
    uuid_representation,
    write_concern_from_options,
)

__all__ = ["CollectionSpecMixin", "IndexCache"]

# PyMongo 2's find(): these names, in this positional order.
_FIND_POSITIONAL = (
    "spec",
    "fields",
    "skip",
    "limit",
    "timeout",
    "snapshot",
    "tailable",
    "sort",
    "max_scan",
    "as_class",
    "slave_okay",
    "await_data",
    "partial",
    "manipulate",
    "read_preference",
    "tag_sets",
    "secondary_acceptable_latency_ms",
    "exhaust",
    "compile_re",
    "network_timeout",
    "uuid_subtype",
)

# The first positional arguments mean the same to PyMongo 2 and 4 (filter,
# projection, skip, limit); these keywords are PyMongo 2's alone.
_SHARED_POSITIONAL = 4
_PYMONGO2_ONLY = frozenset(_FIND_POSITIONAL) - {
    "skip",
    "limit",
    "sort",
    "max_scan",
    "snapshot",
}

_DUPLICATE_KEY_CODES = (11000, 11001, 12582)


class IndexCache:
    """The client's memory of indexes ``ensure_index`` made, for ``cache_for`` seconds."""

    def __init__(self) -> None:
        self._expiry: dict[tuple[str, str, str], float] = {}

    def cached(self, key: tuple[str, str, str]) -> bool:
        expiry = self._expiry.get(key)
        if expiry is None:
            return False
        if expiry < time.monotonic():
            del self._expiry[key]
            return False
        return True

    def remember(self, key: tuple[str, str, str], cache_for: float) -> None:
        self._expiry[key] = time.monotonic() + cache_for

    def forget(self, database: str, collection: str | None = None, name: str | None = None) -> None:
        for key in list(self._expiry):
            if (
                key[0] == database
                and (collection is None or key[1] == collection)
                and (name is None or key[2] == name)
            ):
                del self._expiry[key]


def index_cache(client: Any) -> IndexCache:
    cache = client.__dict__.get("_spec_index_cache")
    if cache is None:
        cache = client._spec_index_cache = IndexCache()
    return cache


# Motor 3's generated methods, which the spec's find and find_one hand their
# PyMongo 4 arguments to directly.
_motor_find = AgnosticCollection.find
_motor_find_one = AgnosticCollection.find_one


def _legacy_write_error(exc: BulkWriteError) -> OperationFailure:
    """PyMongo 2 raised the write's own error, not a bulk error: do so too."""
    details = exc.details or {}
    errors = details.get("writeErrors") or []
    if not errors:
        return exc
    error = errors[-1]
    code = error.get("code")
    cls = DuplicateKeyError if code in _DUPLICATE_KEY_CODES else OperationFailure
    return cls(error.get("errmsg", str(exc)), code, error)


def _legacy_result(raw: Mapping[str, Any] | None) -> dict | None:
    """PyMongo 2's result document of an acknowledged update or remove."""
    if raw is None:
        return None
    result: dict[str, Any] = {"ok": float(raw.get("ok", 1.0)), "err": None, "n": raw.get("n", 0)}
    if "nModified" in raw:
        result["nModified"] = raw["nModified"]
    if "updatedExisting" in raw:
        result["updatedExisting"] = raw["updatedExisting"]
    if "upserted" in raw:
        result["upserted"] = raw["upserted"]
    return result


def _check_document(value: Any, what: str) -> None:
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a dict (a mapping), not {type(value).__name__}")


@spec_mixin("AgnosticCollection")
class CollectionSpecMixin(SettingsMixin):
    """What the spec's MotorCollection adds to Motor's."""

    # -- helpers --------------------------------------------------------------------

    def _spec_database(self) -> Any:
        return self.database

    def _spec_with_write_concern(self, options: dict) -> Any:
        """This collection's delegate, with the write concern ``options`` name (if any)."""
        write_concern = write_concern_from_options(options)
        if write_concern is None:
            return self.delegate
        return self.delegate.with_options(write_concern=write_concern)

    def _spec_check_keys(self, document: Mapping[str, Any]) -> None:
        # Raises bson.errors.InvalidDocument for keys starting with "$" or
        # containing ".", as PyMongo 2 did before sending anything.
        bson.encode(document, check_keys=True, codec_options=self.delegate.codec_options)

    # -- insert, update, remove, save ---------------------------------------------------

    @async_method
    def insert(
        self,
        doc_or_docs: Any,
        manipulate: bool = True,
        safe: Any = None,
        check_keys: bool = True,
        continue_on_error: bool = False,
        *,
        callback: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Insert a document or a list of documents; the new ``_id`` or list of ``_id``\\ s.

        With ``manipulate`` (the default) each document gets its ``_id``
        (a new ObjectId unless it has one) and passes through the database's
        SON manipulators first. ``continue_on_error`` goes on past a failed
        document in a list. Write concern options (``w``, ``wtimeout``, ``j``,
        ``fsync``) may be given; ``safe`` raises ConfigurationError.

        A duplicate ``_id`` raises :class:`~pymongo.errors.DuplicateKeyError`.
        """
        check_callback(callback)
        if not isinstance(doc_or_docs, Mapping) and (
            isinstance(doc_or_docs, (str, bytes)) or not hasattr(doc_or_docs, "__iter__")
        ):
            raise TypeError(
                "insert() takes a document (a dict) or a list of documents, not "
                f"{type(doc_or_docs).__name__}"
            )
        unwrap_args((), kwargs)
        return self._runtime.start(
            self._spec_insert,
            (doc_or_docs, manipulate, safe, check_keys, continue_on_error, kwargs),
            callback=callback,
        )

    def _spec_insert(
        self,
        doc_or_docs: Any,
        manipulate: bool,
        safe: Any,
        check_keys: bool,
        continue_on_error: bool,
        options: dict,
    ) -> Any:
        if safe is not None:
            check_no_rejected_options({"safe": safe})
        single = isinstance(doc_or_docs, Mapping)
        docs = [doc_or_docs] if single else list(doc_or_docs)
        if not docs:
            raise InvalidOperation("cannot do an empty bulk insert")
        database = self._spec_database()
        to_send = []
        for doc in docs:
            _check_document(doc, "each document to insert")
            if manipulate:
                doc = database._spec_fix_incoming(doc, self, inject_id=True)
            else:
                # PyMongo 4 would give the caller's document an _id: PyMongo 2
                # left it alone without manipulate.
                doc = dict(doc)
            if check_keys:
                self._spec_check_keys(doc)
            to_send.append(doc)
        collection = self._spec_with_write_concern(options)
        try:
            if single:
                collection.insert_one(to_send[0], **options)
            else:
                collection.insert_many(to_send, ordered=not continue_on_error, **options)
        except BulkWriteError as exc:
            raise _legacy_write_error(exc) from exc
        if manipulate:
            ids = [doc.get("_id") for doc in to_send]
        else:
            ids = [doc.get("_id") for doc in docs]
        return ids[0] if single else ids

    @async_method
    def update(
        self,
        spec: Any,
        document: Any,
        upsert: bool = False,
        manipulate: bool = False,
        safe: Any = None,
        multi: bool = False,
        check_keys: bool = True,
        *,
        callback: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Update the documents matching ``spec``; PyMongo 2's result document.

        ``document`` either holds update operators (``{'$set': {...}}``) or
        replaces the matched document, keeping its ``_id``. Only the first
        match changes unless ``multi`` is True (operators only); ``upsert``
        inserts when nothing matches. The result, for acknowledged writes::

            {'ok': 1.0, 'err': None, 'n': 1, 'nModified': 1, 'updatedExisting': True}

        (with ``'upserted': _id`` after an upsert); None with ``w=0``.
        """
        check_callback(callback)
        unwrap_args((), kwargs)
        return self._runtime.start(
            self._spec_update,
            (spec, document, upsert, manipulate, safe, multi, check_keys, kwargs),
            callback=callback,
        )

    def _spec_update(
        self,
        spec: Any,
        document: Any,
        upsert: bool,
        manipulate: bool,
        safe: Any,
        multi: bool,
        check_keys: bool,
        options: dict,
    ) -> Any:
        if safe is not None:
            check_no_rejected_options({"safe": safe})
        _check_document(spec, "spec")
        _check_document(document, "document")
        if not isinstance(upsert, bool):
            raise TypeError(f"upsert must be True or False, not {upsert!r}")
        if manipulate:
            document = self._spec_database()._spec_fix_incoming(document, self, inject_id=False)
        operators = bool(document) and next(iter(document)).startswith("$")
        collection = self._spec_with_write_concern(options)
        if operators:
            method = collection.update_many if multi else collection.update_one
            result = method(spec, document, upsert=upsert, **options)
        else:
            if multi:
                raise OperationFailure("multi update only works with $ operators", 9)
            if check_keys:
                self._spec_check_keys(document)
            result = collection.replace_one(spec, document, upsert=upsert, **options)
        return _legacy_result(result.raw_result) if result.acknowledged else None

    @async_method
    def remove(
        self,
        spec_or_id: Any = None,
        safe: Any = None,
        multi: bool = True,
        *,
        callback: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Remove the matching documents (all of them by default); PyMongo 2's result.

        ``spec_or_id`` is a query, or an ``_id`` value; None removes every
        document. ``multi=False`` removes only the first match. The result
        is ``{'ok': 1.0, 'err': None, 'n': <removed>}``, or None with ``w=0``.
        """
        check_callback(callback)
        unwrap_args((), kwargs)
        return self._runtime.start(
            self._spec_remove, (spec_or_id, safe, multi, kwargs), callback=callback
        )

    def _spec_remove(self, spec_or_id: Any, safe: Any, multi: bool, options: dict) -> Any:
        if safe is not None:
            check_no_rejected_options({"safe": safe})
        if spec_or_id is None:
            spec = {}
        elif isinstance(spec_or_id, Mapping):
            spec = spec_or_id
        else:
            spec = {"_id": spec_or_id}
        collection = self._spec_with_write_concern(options)
        method = collection.delete_many if multi else collection.delete_one
        result = method(spec, **options)
        return _legacy_result(result.raw_result) if result.acknowledged else None

    @async_method
    def save(
        self,
        to_save: Any,
        manipulate: bool = True,
        safe: Any = None,
        check_keys: bool = True,
        *,
        callback: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Insert ``to_save``, or replace the document with its ``_id``; the ``_id``.

        Without an ``_id`` the document is inserted (and, with
        ``manipulate``, gets one); with one, it replaces (upserts) the stored
        document of that ``_id``.
        """
        check_callback(callback)
        unwrap_args((), kwargs)
        return self._runtime.start(
            self._spec_save, (to_save, manipulate, safe, check_keys, kwargs), callback=callback
        )

    def _spec_save(
        self, to_save: Any, manipulate: bool, safe: Any, check_keys: bool, options: dict
    ) -> Any:
        _check_document(to_save, "to_save")
        if "_id" not in to_save:
            return self._spec_insert(to_save, manipulate, safe, check_keys, False, options)
        self._spec_update(
            {"_id": to_save["_id"]}, to_save, True, manipulate, safe, False, check_keys, options
        )
        return to_save.get("_id")

    # -- find ---------------------------------------------------------------------------

    def _spec_find_arguments(self, args: tuple, kwargs: dict) -> tuple[Any, dict, dict]:
        """(collection delegate, PyMongo 4 find() keywords, spec cursor settings)."""
        if len(args) > len(_FIND_POSITIONAL):
            raise TypeError(f"find() takes at most {len(_FIND_POSITIONAL)} positional arguments")
        options = dict(kwargs)
        for name, value in zip(_FIND_POSITIONAL, args):
            if name in options:
                raise TypeError(f"find() got multiple values for argument {name!r}")
            options[name] = value
        check_no_rejected_options(options)
        unwrap_args((), options)

        def rename(old: str, new: str) -> None:
            if old in options:
                if new in options:
                    raise TypeError(f"find() got both {old!r} and {new!r}")
                options[new] = options.pop(old)

        rename("spec", "filter")
        fields = options.get("fields")
        rename("fields", "projection")
        if fields is not None and not fields:
            # PyMongo 2: an empty field list (positional, or fields=) returns
            # only each document's _id. PyMongo 4's projection={} keyword
            # returns whole documents.
            options["projection"] = {"_id": 1}
        rename("partial", "allow_partial_results")
        if "timeout" in options:
            timeout = options.pop("timeout")
            if not isinstance(timeout, bool):
                raise TypeError(f"timeout must be True or False, not {timeout!r}")
            options.setdefault("no_cursor_timeout", not timeout)
        tailable = options.pop("tailable", False)
        await_data = options.pop("await_data", False)
        exhaust = options.pop("exhaust", False)
        if tailable or await_data or exhaust:
            if exhaust and (tailable or await_data):
                raise InvalidOperation("an exhaust cursor cannot be tailable")
            if "cursor_type" in options:
                raise TypeError("find() got cursor_type with tailable, await_data or exhaust")
            if exhaust:
                options["cursor_type"] = CursorType.EXHAUST
            elif await_data:
                options["cursor_type"] = CursorType.TAILABLE_AWAIT
            else:
                options["cursor_type"] = CursorType.TAILABLE
        if not options.get("snapshot"):
            options.pop("snapshot", None)
        # PyMongo 4 always returns BSON regular expressions as bson.Regex
        # (compile one with .try_compile()); compile_re is accepted, unused.
        options.pop("compile_re", None)

        settings: dict[str, Any] = {
            "network_timeout": options.pop("network_timeout", None),
            "manipulate": options.pop("manipulate", True),
        }
        collection = self.delegate
        codec_changes: dict[str, Any] = {}
        if options.get("as_class") is not None:
            codec_changes["document_class"] = options.pop("as_class")
        options.pop("as_class", None)
        if "uuid_subtype" in options:
            codec_changes["uuid_representation"] = uuid_representation(options.pop("uuid_subtype"))
        with_options: dict[str, Any] = {}
        if codec_changes:
            with_options["codec_options"] = collection.codec_options.with_options(**codec_changes)
        mode = options.pop("read_preference", None)
        tag_sets = options.pop("tag_sets", None)
        options.pop("secondary_acceptable_latency_ms", None)  # per client in PyMongo 4
        if mode is not None or tag_sets is not None:
            base = collection.read_preference if mode is None else mode
            with_options["read_preference"] = read_preference(base, tag_sets)
        if with_options:
            collection = collection.with_options(**with_options)
        return collection, options, settings

    def _spec_cursor(self, args: tuple, kwargs: dict) -> Any:
        collection, options, settings = self._spec_find_arguments(args, kwargs)
        cursor = self._motor_class("AgnosticCursor")._from_delegate(
            collection.find(**options), self
        )
        timeout = settings["network_timeout"]
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
                raise TypeError(f"network_timeout must be a positive number, not {timeout!r}")
            cursor._spec_network_timeout = timeout
        if settings["manipulate"]:
            cursor._spec_fix_outgoing = self._spec_database()._spec_outgoing_fixer(self)
        return cursor

    def find(self, *args: Any, **kwargs: Any) -> Any:
        """A MotorCursor for a query; no I/O until it is read.

        Takes PyMongo 2's arguments, positionally in its order (``spec``,
        ``fields``, ``skip``, ``limit``, ``timeout``, ``snapshot``,
        ``tailable``, ``sort``, ``max_scan``, ``as_class``, ``slave_okay``,
        ``await_data``, ``partial``, ``manipulate``, ``read_preference``,
        ``tag_sets``, ``secondary_acceptable_latency_ms``, ``exhaust``,
        ``compile_re``, ``network_timeout``, ``uuid_subtype``), and PyMongo
        4's keywords (``filter``, ``projection``, ``cursor_type``,
        ``session``...)::

            cursor = collection.find({"i": {"$lt": 5}}, fields=["i"]).sort("i")
            tail = collection.find(tailable=True, await_data=True)

        ``network_timeout`` (seconds) bounds each trip to the server:
        exceeding it raises :class:`~pymongo.errors.NetworkTimeout`.
        ``slave_okay`` raises ConfigurationError.
        """
        if (
            len(args) <= _SHARED_POSITIONAL
            and (not kwargs or _PYMONGO2_ONLY.isdisjoint(kwargs))
            and (len(args) < 2 or args[1] is None or args[1])  # not find(filter, [])
        ):
            # Arguments PyMongo 4 takes as they are: no translation needed.
            cursor = _motor_find(self, *args, **kwargs)
            if manipulators.in_use:
                database = self._database or self.database
                cursor._spec_fix_outgoing = database._spec_outgoing_fixer(self)
            return cursor
        return self._spec_cursor(args, kwargs)

    @async_method
    def find_one(
        self, spec_or_id: Any = None, *args: Any, callback: Any = None, **kwargs: Any
    ) -> Any:
        """The first document matching ``spec_or_id``, or None.

        ``spec_or_id`` is a query document or an ``_id`` value; the other
        arguments are :meth:`find`'s (a ``limit`` is ignored)::

            doc = await collection.find_one({"name": "Jesse"})
            doc = await collection.find_one(object_id, network_timeout=5)
        """
        if not kwargs and not args and not manipulators.in_use:
            # The per-operation path, find_one(filter): PyMongo 4's find_one
            # takes it as it is (and reads a filter that is not a document as
            # an _id), so go straight to Motor's generated method.
            if spec_or_id is None:
                return _motor_find_one(self, callback=callback)
            return _motor_find_one(self, spec_or_id, callback=callback)
        if (
            _PYMONGO2_ONLY.isdisjoint(kwargs)
            and len(args) < _SHARED_POSITIONAL
            and not (args and args[0] is not None and not args[0])
            and (self._database or self.database)._spec_manipulators is None
        ):
            # Arguments PyMongo 4's find_one takes as they are.
            if spec_or_id is not None:
                args = (spec_or_id, *args)
            return _motor_find_one(self, *args, callback=callback, **kwargs)
        check_callback(callback)
        unwrap_args((), kwargs)
        if spec_or_id is not None and not isinstance(spec_or_id, Mapping):
            spec_or_id = {"_id": spec_or_id}
        if spec_or_id is not None:
            if args or "spec" in kwargs or "filter" in kwargs:
                args = (spec_or_id, *args)
            else:
                kwargs["spec"] = spec_or_id
        kwargs.pop("limit", None)
        cursor = self._spec_cursor(args, kwargs)
        cursor.delegate.limit(-1)
        return self._runtime.start(self._spec_find_one, (cursor,), callback=callback)

    @staticmethod
    def _spec_find_one(cursor: Any) -> Any:
        docs = cursor._to_list(1)
        return docs[0] if docs else None

    # -- counting, find_and_modify ------------------------------------------------------

    @async_method
    def count(self, *, callback: Any = None) -> Any:
        """The number of documents in this collection (the ``count`` command).

        To count a query's matches, use ``find(query).count()``.
        """
        check_callback(callback)
        cursor = self._spec_cursor((), {"manipulate": False})
        return self._runtime.start(cursor._spec_count, (False,), callback=callback)

    @async_method
    def find_and_modify(
        self,
        query: Any = {},  # noqa: B006 - the spec's signature; never mutated
        update: Any = None,
        upsert: bool = False,
        sort: Any = None,
        full_response: bool = False,
        *,
        callback: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Update (or remove) one document and return it: the ``findAndModify`` command.

        Keywords: ``remove`` (remove instead of updating), ``new`` (return
        the document after the change, not before), ``fields`` (a projection,
        as :meth:`find`'s), and any other option of the command. Returns the
        document, None if nothing matched, ``{}`` when upserting with
        ``new=False`` inserted a new document (as the spec says), or with
        ``full_response`` the server's whole reply (``value``,
        ``lastErrorObject``, ``ok``)::

            doc = await collection.find_and_modify({"_id": 1}, {"$inc": {"n": 1}}, new=True)
        """
        check_callback(callback)
        unwrap_args((), kwargs)
        return self._runtime.start(
            self._spec_find_and_modify,
            (query, update, upsert, sort, full_response, kwargs),
            callback=callback,
        )

    def _spec_find_and_modify(
        self, query: Any, update: Any, upsert: bool, sort: Any, full_response: bool, options: dict
    ) -> Any:
        options = dict(options)
        manipulate = options.pop("manipulate", False)
        remove = options.get("remove", False)
        if update is None and not remove:
            raise ValueError("find_and_modify needs update, or remove=True")
        if update is not None and remove:
            raise ValueError("find_and_modify cannot both update and remove")
        command = SON([("findAndModify", self.delegate.name), ("query", query or {})])
        if sort is not None:
            if isinstance(sort, Mapping):
                command["sort"] = sort
            else:
                command["sort"] = SON(_index_list(sort))
        if update is not None:
            command["update"] = update
        if upsert:
            command["upsert"] = True
        if "fields" in options:
            command["fields"] = _fields_list_to_dict(options.pop("fields"), "fields")
        write_concern = write_concern_from_options(options)
        if write_concern is None:
            write_concern = self.delegate.write_concern
        if not write_concern.is_server_default:
            command["writeConcern"] = write_concern.document
        session = options.pop("session", None)
        command.update(options)
        reply = self.delegate.database.command(
            command,
            session=session,
            codec_options=self.delegate.codec_options,
        )
        if full_response:
            return reply
        document = reply.get("value")
        if document is None:
            last = reply.get("lastErrorObject") or {}
            if upsert and not options.get("new") and last.get("upserted") is not None:
                return {}
            return None
        if manipulate:
            document = self._spec_database()._spec_outgoing_fixer(self)(document)
        return document

    # -- indexes ------------------------------------------------------------------------

    def _spec_index_options(self, cache_for: Any, kwargs: dict) -> tuple[float, dict]:
        options = dict(kwargs)
        if "ttl" in options:
            warnings.warn("ttl is deprecated, use cache_for", DeprecationWarning, stacklevel=4)
            cache_for = options.pop("ttl")
        if isinstance(cache_for, bool) or not isinstance(cache_for, (int, float)):
            raise TypeError(f"cache_for must be a number of seconds, not {cache_for!r}")
        for old, new in (("drop_dups", "dropDups"), ("bucket_size", "bucketSize")):
            if old in options:
                options[new] = options.pop(old)
        return cache_for, options

    def _spec_create_index(self, key_or_list: Any, cache_for: float, options: dict) -> str:
        keys = _index_list(key_or_list)
        name = options.setdefault("name", _gen_index_name(keys))
        created = self.delegate.create_index(keys, **options)
        index_cache(self._client).remember(
            (self.delegate.database.name, self.delegate.name, name), cache_for
        )
        return created

    @async_method
    def create_index(
        self, key_or_list: Any, *args: Any, callback: Any = None, **kwargs: Any
    ) -> Any:
        """Create an index; its name.

        ``key_or_list`` is a key name or a list of ``(key, direction)`` pairs
        (``pymongo.ASCENDING``, ``DESCENDING``, ``GEO2D``...). Options as
        keywords: ``name``, ``unique``, ``background``, ``sparse``,
        ``expireAfterSeconds``, ``min`` / ``max``, ``bucketSize``, ``session``,
        ``comment``... The index is remembered for ``cache_for`` seconds
        (default 300) by :meth:`ensure_index`.

        The second positional argument is the spec's ``cache_for`` if it is a
        number, else PyMongo 4's ``session`` (then ``comment``), as Motor 3
        code passes them.
        """
        check_callback(callback)
        cache_for = kwargs.pop("cache_for", 300)
        if args and isinstance(args[0], (int, float)) and not isinstance(args[0], bool):
            cache_for, args = args[0], args[1:]
        name_positional("create_index", ("session", "comment"), args, kwargs)
        unwrap_args((), kwargs)
        cache_for, options = self._spec_index_options(cache_for, kwargs)
        return self._runtime.start(
            self._spec_create_index, (key_or_list, cache_for, options), callback=callback
        )

    @async_method
    def ensure_index(
        self, key_or_list: Any, cache_for: float = 300, *, callback: Any = None, **kwargs: Any
    ) -> Any:
        """Create an index unless this client made it in the last ``cache_for`` seconds.

        The index's name if it was created (or ensured on the server), None
        if the client remembered it and sent nothing. Takes
        :meth:`create_index`'s options. The memory is this client's: an
        index dropped by another client within the window is not re-created.
        """
        check_callback(callback)
        unwrap_args((), kwargs)
        cache_for, options = self._spec_index_options(cache_for, kwargs)
        return self._runtime.start(
            self._spec_ensure_index, (key_or_list, cache_for, options), callback=callback
        )

    def _spec_ensure_index(self, key_or_list: Any, cache_for: float, options: dict) -> Any:
        keys = _index_list(key_or_list)
        name = options.get("name") or _gen_index_name(keys)
        key = (self.delegate.database.name, self.delegate.name, name)
        if index_cache(self._client).cached(key):
            return None
        return self._spec_create_index(keys, cache_for, options)

    @async_method
    def drop_index(
        self, index_or_name: Any, *args: Any, callback: Any = None, **kwargs: Any
    ) -> Any:
        """Drop an index, given its name or its ``(key, direction)`` list.

        Takes PyMongo 4's ``session`` and ``comment`` (positionally too).
        """
        check_callback(callback)
        name_positional("drop_index", ("session", "comment"), args, kwargs)
        unwrap_args((), kwargs)
        return self._runtime.start(
            self._spec_drop_index, (index_or_name, kwargs), callback=callback
        )

    def _spec_drop_index(self, index_or_name: Any, options: dict) -> None:
        name = (
            index_or_name
            if isinstance(index_or_name, str)
            else _gen_index_name(_index_list(index_or_name))
        )
        index_cache(self._client).forget(self.delegate.database.name, self.delegate.name, name)
        self.delegate.drop_index(index_or_name, **options)

    @async_method
    def drop_indexes(self, *args: Any, callback: Any = None, **kwargs: Any) -> Any:
        """Drop every index of this collection except the one on ``_id``.

        Takes PyMongo 4's ``session`` and ``comment`` (positionally too).
        """
        check_callback(callback)
        name_positional("drop_indexes", ("session", "comment"), args, kwargs)
        unwrap_args((), kwargs)
        return self._runtime.start(self._spec_drop_indexes, (kwargs,), callback=callback)

    def _spec_drop_indexes(self, options: dict) -> None:
        index_cache(self._client).forget(self.delegate.database.name, self.delegate.name)
        self.delegate.drop_indexes(**options)

    @async_method
    def drop(self, *args: Any, callback: Any = None, **kwargs: Any) -> Any:
        """Drop this collection (``db.drop_collection(name)``).

        Takes PyMongo 4's ``session``, ``comment`` and ``encrypted_fields``
        (positionally too).
        """
        check_callback(callback)
        name_positional("drop", ("session", "comment", "encrypted_fields"), args, kwargs)
        unwrap_args((), kwargs)
        return self._runtime.start(self._spec_drop, (kwargs,), callback=callback)

    def _spec_drop(self, options: dict) -> None:
        index_cache(self._client).forget(self.delegate.database.name, self.delegate.name)
        self.delegate.drop(**options)

    @async_method
    def reindex(self, *, callback: Any = None) -> Any:
        """Rebuild this collection's indexes (the ``reIndex`` command, standalone servers only)."""
        check_callback(callback)
        return self._runtime.start(
            lambda: run_legacy(
                "reindex", lambda: self.delegate.database.command("reIndex", self.delegate.name)
            ),
            callback=callback,
        )

    # -- aggregation and friends ----------------------------------------------------------

    def aggregate(self, pipeline: Any, *args: Any, callback: Any = None, **kwargs: Any) -> Any:
        """Run an aggregation pipeline.

        As in the spec, awaiting (or yielding) what it returns, or passing
        ``callback``, gives the result document::

            result = await collection.aggregate([{"$match": {"x": 1}}])
            result == {"result": [...documents...], "ok": 1.0}

        What it returns is a MotorLatentCommandCursor, which resolves like a
        Future to that document when awaited or yielded; as in Motor 3,
        ``async for doc in collection.aggregate(pipeline)`` iterates the
        documents instead (the command runs on first use). ``pipeline`` may
        be a single stage.

        :param callback: optional, keyword only: called on the loop as
          ``callback(result_document, error)``; the method then returns None.
          Without it, the method returns the awaitable cursor.
        """
        check_callback(callback)
        unwrap_args((), kwargs)
        if isinstance(pipeline, Mapping):
            pipeline = [pipeline]
        cursor = super().aggregate(pipeline, *args, **kwargs)
        cursor._spec_result_document = True
        if callback is None:
            return cursor
        cursor._spec_result(callback)
        return None

    @async_method
    def group(
        self,
        key: Any,
        condition: Any,
        initial: Any,
        reduce: Any,
        finalize: Any = None,
        *,
        callback: Any = None,
    ) -> Any:
        """Group documents as SQL's GROUP BY does (the ``group`` command); a list of groups.

        ``key`` is None (the whole document), a list of field names, or a
        JavaScript function (str or Code) computing the key; ``condition``
        selects documents; ``initial`` is each group's starting value;
        ``reduce`` and ``finalize`` are JavaScript functions. MongoDB 4.2
        removed the command: servers without it raise
        :class:`~motor.spec._legacy.CommandRemoved`, whose message shows the
        ``$group`` aggregation that replaces it.
        """
        check_callback(callback)
        return self._runtime.start(
            self._spec_group, (key, condition, initial, reduce, finalize), callback=callback
        )

    def _spec_group(
        self, key: Any, condition: Any, initial: Any, reduce: Any, finalize: Any
    ) -> list:
        group = SON([("ns", self.delegate.name), ("$reduce", Code(reduce))])
        if isinstance(key, (str, Code)):
            group["$keyf"] = Code(key)
        elif key is not None:
            group["key"] = _fields_list_to_dict(key, "key")
        group["cond"] = condition
        group["initial"] = initial
        if finalize is not None:
            group["finalize"] = Code(finalize)
        reply = run_legacy("group", lambda: self.delegate.database.command("group", group))
        return reply["retval"]

    @async_method
    def map_reduce(
        self,
        map: Any,
        reduce: Any,
        out: Any,
        full_response: bool = False,
        *,
        callback: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Run a map/reduce into the collection ``out``; a MotorCollection of the results.

        ``out`` is a collection name or a document like ``{'replace': name}``
        or ``{'merge': name, 'db': other_db}``. With ``full_response`` the
        server's reply instead. Other keywords (``query``, ``sort``,
        ``limit``, ``finalize``, ``scope``...) go into the command. On a
        server without mapReduce, :class:`~motor.spec._legacy.CommandRemoved`
        names the aggregation that replaces it.
        """
        check_callback(callback)
        unwrap_args((), kwargs)
        if not isinstance(out, (str, Mapping)):
            raise TypeError(f"out must be a collection name or a document, not {out!r}")
        return self._runtime.start(
            self._spec_map_reduce, (map, reduce, out, full_response, kwargs), callback=callback
        )

    def _spec_map_reduce(
        self, map: Any, reduce: Any, out: Any, full_response: bool, options: dict
    ) -> Any:
        reply = self._spec_run_map_reduce(map, reduce, out, options)
        if full_response or not reply.get("result"):
            return reply
        result = reply["result"]
        database = self._spec_database()
        if isinstance(result, Mapping):
            return self._client[result["db"]][result["collection"]]
        return database[result]

    def _spec_run_map_reduce(self, map: Any, reduce: Any, out: Any, options: dict) -> dict:
        command = SON(
            [
                ("mapReduce", self.delegate.name),
                ("map", map),
                ("reduce", reduce),
                ("out", out),
            ]
        )
        session = options.pop("session", None)
        command.update(options)
        return run_legacy(
            "mapreduce",
            lambda: self.delegate.database.command(
                command,
                session=session,
                read_preference=self.delegate.read_preference
                if isinstance(out, Mapping) and "inline" in out
                else None,
                codec_options=self.delegate.codec_options,
            ),
        )

    @async_method
    def inline_map_reduce(
        self,
        map: Any,
        reduce: Any,
        full_response: bool = False,
        *,
        callback: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Run a map/reduce in memory; the list of result documents.

        With ``full_response``, the server's whole reply instead. Keywords as
        :meth:`map_reduce`'s.
        """
        check_callback(callback)
        unwrap_args((), kwargs)
        return self._runtime.start(
            self._spec_inline_map_reduce, (map, reduce, full_response, kwargs), callback=callback
        )

    def _spec_inline_map_reduce(
        self, map: Any, reduce: Any, full_response: bool, options: dict
    ) -> Any:
        reply = self._spec_run_map_reduce(map, reduce, {"inline": 1}, options)
        return reply if full_response else reply.get("results")

    # -- uuid_subtype -------------------------------------------------------------------

    @property
    def uuid_subtype(self) -> int:
        """How ``uuid.UUID`` values are stored: PyMongo 2's subtype numbers (3, 4, 5, 6)."""
        representation = self.delegate.codec_options.uuid_representation
        for subtype, value in _UUID_SUBTYPES_BY_NUMBER.items():
            if value == representation:
                return subtype
        return 3

    @uuid_subtype.setter
    def uuid_subtype(self, value: Any) -> None:
        codec_options: CodecOptions = self.delegate.codec_options.with_options(
            uuid_representation=uuid_representation(value)
        )
        self.delegate = self.delegate.with_options(codec_options=codec_options)


_UUID_SUBTYPES_BY_NUMBER = {n: uuid_representation(n) for n in (3, 4, 5, 6)}
