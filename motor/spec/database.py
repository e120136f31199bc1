"""The spec's MotorDatabase: PyMongo 2's methods, over PyMongo 4.

Added to ``motor.MotorDatabase``::

    reply = await db.command("collstats", "things")        # or SON([...]), value=, **kwargs
    names = await db.collection_names()
    await db.create_collection("log", capped=True, size=100000, max=1000)
    ops = await client.admin.current_op()                  # {'inprog': [...], ...}
    await db.set_profiling_level(pymongo.ALL)
    await db.add_user("jesse", "secret", read_only=True)
    await db.authenticate("jesse", "secret")
    await db.logout()

``eval``, ``error``, ``last_status``, ``previous_error`` and
``reset_error_history`` send commands MongoDB has removed; a server without
them raises :class:`~motor.spec._legacy.CommandRemoved`, naming the
replacement.

SON manipulators (``add_son_manipulator``) work as in PyMongo 2, per
MotorDatabase object: they transform documents this database's collections
insert (``insert``, ``save``) and, with ``manipulate=True`` (``find``'s
default), the documents they read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable

from bson.binary import UuidRepresentation
from bson.objectid import ObjectId
from bson.raw_bson import RawBSONDocument
from bson.son import SON
from pymongo.errors import ConfigurationError

from motor.core.database import _refuse_empty_command
from motor.core.metaprogramming import async_method, check_callback, unwrap, unwrap_args
from motor.frameworks import spec_mixin
from motor.spec import auth
from motor.spec._legacy import run_legacy
from motor.spec.collection import index_cache
from motor.spec.manipulators import (
    Manipulators,
    SONManipulator,
    note_manipulators_in_use,
    overrides,
)
from motor.spec.options import (
    SettingsMixin,
    name_positional,
    read_preference,
    uuid_representation,
)

__all__ = ["DatabaseSpecMixin", "SONManipulator"]

OFF, SLOW_ONLY, ALL = 0, 1, 2


# (id(database codec options), uuid_subtype) -> (those options, the reply's).
# CodecOptions are not hashable (their TypeRegistry is not), and making them
# anew costs several microseconds per command.
_reply_codec_cache: dict[tuple[int, int], tuple[Any, Any]] = {}


def _reply_codec_options(codec_options: Any, uuid_subtype: int) -> Any:
    """The codec options a spec command's reply is decoded with."""
    key = (id(codec_options), uuid_subtype)
    cached = _reply_codec_cache.get(key)
    if cached is not None and cached[0] is codec_options:
        return cached[1]
    reply_options = codec_options
    if codec_options.uuid_representation == UuidRepresentation.UNSPECIFIED:
        reply_options = codec_options.with_options(
            uuid_representation=uuid_representation(uuid_subtype)
        )
    if len(_reply_codec_cache) >= 256:
        _reply_codec_cache.clear()
    _reply_codec_cache[key] = (codec_options, reply_options)
    return reply_options


@spec_mixin("AgnosticDatabase")
class DatabaseSpecMixin(SettingsMixin):
    """What the spec's MotorDatabase adds to Motor's."""

    _spec_manipulators: Manipulators | None = None

    @property
    def connection(self) -> Any:
        """The client this database belongs to (the spec's name for :attr:`client`)."""
        return self._client

    # -- command ----------------------------------------------------------------------

    @async_method
    def command(
        self,
        command: Any,
        value: Any = 1,
        check: bool = True,
        allowable_errors: Any = None,
        *args: Any,
        callback: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Run a command; the server's reply.

        ``command`` is a command name (sent as ``{command: value}``, with
        ``kwargs`` added) or a whole command document (use SON or a dict in
        the order the command needs: its name first)::

            await db.command("buildinfo")
            await db.command("collstats", collection_name)
            await db.command(SON([("distinct", "things"), ("key", "x")]))

        With ``check`` (the default) an error reply raises OperationFailure,
        unless its message or code is in ``allowable_errors``.
        ``uuid_subtype`` says how ``uuid.UUID`` values in the command are
        encoded (3, PyMongo 2's default, unless the database sets a UUID
        representation of its own; 4 for the standard one).
        ``read_preference`` (a ReadPreference or PyMongo 2's mode number)
        and ``tag_sets`` choose the member that runs it;
        ``secondary_acceptable_latency_ms`` is a client-wide setting in
        PyMongo 4 and is ignored here. PyMongo 4's ``codec_options``,
        ``session`` and ``comment`` keywords are accepted too.

        The fifth positional argument is the spec's ``uuid_subtype`` if it is
        an int, else PyMongo 4's ``read_preference`` (then ``codec_options``,
        ``session``, ``comment``), as Motor 3 code passes them. An empty
        command document raises InvalidOperation before anything is sent.
        """
        check_callback(callback)
        if not (args or kwargs or allowable_errors):
            # The per-operation path (db.command("ping")): nothing to translate.
            if not command:
                _refuse_empty_command(command)
            delegate = self.delegate
            # PyMongo's (command, value, check, allowable_errors,
            # read_preference, codec_options), positionally: cheaper than a
            # keyword through its decorators.
            codec_options = _reply_codec_options(delegate.codec_options, 3)
            return self._runtime.start(
                delegate.command,
                (command, value, check, None, None, codec_options),
                None,
                callback,
            )
        uuid_subtype = 3
        if args or kwargs:
            uuid_subtype = kwargs.pop("uuid_subtype", 3)
            if args and isinstance(args[0], int) and not isinstance(args[0], bool):
                uuid_subtype, args = args[0], args[1:]
            name_positional(
                "command", ("read_preference", "codec_options", "session", "comment"), args, kwargs
            )
            unwrap_args((), kwargs)
        if not command:
            _refuse_empty_command(command)
        return self._runtime.start(
            self._spec_command,
            (command, value, check, allowable_errors, uuid_subtype, kwargs),
            callback=callback,
        )

    def _spec_command(
        self,
        command: Any,
        value: Any,
        check: bool,
        allowable_errors: Any,
        uuid_subtype: int,
        options: dict,
    ) -> Any:
        if allowable_errors:
            allowable_errors = list(allowable_errors)
        options = dict(options)
        mode = options.pop("read_preference", None)
        tag_sets = options.pop("tag_sets", None)
        options.pop("secondary_acceptable_latency_ms", None)
        if mode is not None or tag_sets is not None:
            options["read_preference"] = read_preference(0 if mode is None else mode, tag_sets)
        if "codec_options" not in options:
            # The database's codec options, as PyMongo 2 decoded replies with
            # (PyMongo 4 uses its defaults unless told).
            options["codec_options"] = _reply_codec_options(
                self.delegate.codec_options, uuid_subtype
            )
        if "session" in options:
            options["session"] = unwrap(options["session"])
        return self.delegate.command(
            command,
            value,
            check,
            allowable_errors or None,
            **options,
        )

    # -- collections --------------------------------------------------------------------

    @async_method
    def collection_names(
        self, include_system_collections: bool = True, *, callback: Any = None
    ) -> Any:
        """The names of this database's collections (``system.*`` ones too, by default)."""
        check_callback(callback)
        return self._runtime.start(
            self._spec_collection_names, (include_system_collections,), callback=callback
        )

    def _spec_collection_names(self, include_system_collections: bool) -> list:
        names = self.delegate.list_collection_names()
        if not include_system_collections:
            names = [name for name in names if not name.startswith("system.")]
        return names

    @async_method
    def drop_collection(
        self, name_or_collection: Any, *args: Any, callback: Any = None, **kwargs: Any
    ) -> Any:
        """Drop a collection, given its name or the MotorCollection itself.

        Takes PyMongo 4's ``session``, ``comment`` and ``encrypted_fields``
        (positionally too).
        """
        check_callback(callback)
        name_positional(
            "drop_collection", ("session", "comment", "encrypted_fields"), args, kwargs
        )
        unwrap_args((), kwargs)
        name_or_collection = unwrap(name_or_collection)
        return self._runtime.start(
            self._spec_drop_collection, (name_or_collection, kwargs), callback=callback
        )

    def _spec_drop_collection(self, name_or_collection: Any, options: dict) -> Any:
        name = getattr(name_or_collection, "name", name_or_collection)
        if isinstance(name, str):
            index_cache(self._client).forget(self.delegate.name, name)
        return self.delegate.drop_collection(name_or_collection, **options)

    # -- server state ---------------------------------------------------------------------

    @async_method
    def current_op(self, include_all: bool = False, *, callback: Any = None) -> Any:
        """The operations running on the server: ``{'inprog': [...], ...}``.

        ``include_all`` lists idle operations too. Runs ``currentOp`` on the
        admin database, whichever database it is called on. The reply has
        ``fsyncLock: True`` while the server is locked by ``fsync(lock=True)``,
        which is the spec's replacement for ``is_locked``::

            locked = bool((await client.admin.current_op()).get("fsyncLock", None))
        """
        check_callback(callback)
        if not isinstance(include_all, bool):
            raise TypeError(f"include_all must be True or False, not {include_all!r}")
        return self._runtime.start(self._spec_current_op, (include_all,), callback=callback)

    def _spec_current_op(self, include_all: bool) -> Any:
        admin = self._client.delegate.admin
        return admin.command(SON([("currentOp", 1), ("$all", include_all)]))

    @async_method
    def profiling_level(self, *, callback: Any = None) -> Any:
        """This database's profiling level: OFF (0), SLOW_ONLY (1) or ALL (2)."""
        check_callback(callback)
        return self._runtime.start(
            lambda: int(self.delegate.command("profile", -1)["was"]), callback=callback
        )

    @async_method
    def set_profiling_level(
        self, level: int, slow_ms: int | None = None, *, callback: Any = None
    ) -> Any:
        """Set the profiling level (OFF, SLOW_ONLY or ALL) and, optionally, the
        threshold in milliseconds above which an operation counts as slow.

        Raises ValueError for another level, TypeError for a non-integer ``slow_ms``.
        """
        check_callback(callback)
        return self._runtime.start(
            self._spec_set_profiling_level, (level, slow_ms), callback=callback
        )

    def _spec_set_profiling_level(self, level: Any, slow_ms: Any) -> None:
        if isinstance(level, bool) or level not in (OFF, SLOW_ONLY, ALL):
            raise ValueError("level must be one of (OFF, SLOW_ONLY, ALL)")
        command = SON([("profile", level)])
        if slow_ms is not None:
            if isinstance(slow_ms, bool) or not isinstance(slow_ms, int):
                raise TypeError(f"slow_ms must be an integer, not {slow_ms!r}")
            command["slowms"] = slow_ms
        self.delegate.command(command)

    @async_method
    def profiling_info(self, *, callback: Any = None) -> Any:
        """The profiler's records for this database: a list of ``system.profile`` documents."""
        check_callback(callback)
        return self._runtime.start(
            lambda: list(self.delegate["system.profile"].find()), callback=callback
        )

    # -- users --------------------------------------------------------------------------

    @async_method
    def add_user(
        self,
        name: str,
        password: str | None = None,
        read_only: bool | None = None,
        *,
        callback: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Create user ``name`` with ``password``, or change the password of that user.

        The user gets the ``read`` role with ``read_only``, else ``dbOwner``
        (``root`` on admin), unless ``roles`` says otherwise. ``otherDBRoles``
        (``{'other_db': ['read']}``) grants roles on other databases. Other
        keywords (``mechanisms``, ``customData``...) go into the
        ``createUser`` / ``updateUser`` command. ``userSource`` (MongoDB 2.4's
        users defined elsewhere) raises ConfigurationError: create the user
        in its own database and grant it roles here instead.
        """
        check_callback(callback)
        unwrap_args((), kwargs)
        return self._runtime.start(
            self._spec_add_user, (name, password, read_only, kwargs), callback=callback
        )

    def _spec_add_user(self, name: Any, password: Any, read_only: Any, options: dict) -> None:
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, not {type(name).__name__}")
        if password is not None and not isinstance(password, str):
            raise TypeError(f"password must be a str, not {type(password).__name__}")
        options = dict(options)
        if "userSource" in options:
            raise ConfigurationError(
                "userSource (MongoDB 2.4) is gone: users live in one database; create "
                "the user there and grant it roles on this database "
                "(roles=[{'role': 'read', 'db': ...}])"
            )
        if read_only is not None and "roles" in options:
            raise ConfigurationError("read_only and roles cannot be used together")
        other_roles = options.pop("otherDBRoles", None) or {}
        exists = bool(self.delegate.command("usersInfo", name).get("users"))
        command = SON([("updateUser" if exists else "createUser", name)])
        if password is not None:
            command["pwd"] = password
        roles = options.pop("roles", None)
        if roles is None and (read_only is not None or not exists):
            if read_only:
                roles = ["read"]
            else:
                roles = ["root"] if self.delegate.name == "admin" else ["dbOwner"]
        if other_roles:
            roles = list(roles or [])
            for db_name, db_roles in other_roles.items():
                roles.extend({"role": role, "db": db_name} for role in db_roles)
        if roles is not None:
            command["roles"] = roles
        command.update(options)
        self.delegate.command(command)

    @async_method
    def remove_user(self, name: str, *, callback: Any = None) -> Any:
        """Remove user ``name`` from this database (the ``dropUser`` command)."""
        check_callback(callback)
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, not {type(name).__name__}")
        return self._runtime.start(
            lambda: self.delegate.command("dropUser", name) and None, callback=callback
        )

    @async_method
    def authenticate(
        self,
        name: str,
        password: str | None = None,
        source: str | None = None,
        mechanism: str = "MONGODB-CR",
        *,
        callback: Any = None,
    ) -> Any:
        """Authenticate this client as ``name``; True.

        Every operation of the client is authenticated from then on, until
        :meth:`logout`. ``source`` is the database the user is defined in
        (this one by default). ``mechanism`` defaults to the spec's
        ``'MONGODB-CR'``, which MongoDB 4.0 removed: it now means "what the
        server offers", SCRAM-SHA-256 or SCRAM-SHA-1, as PyMongo's
        ``'DEFAULT'`` does. Other mechanisms: ``'SCRAM-SHA-256'``,
        ``'SCRAM-SHA-1'``, ``'PLAIN'``, ``'GSSAPI'``, ``'MONGODB-X509'``...

        A wrong name or password raises OperationFailure (the client stays as
        it was). PyMongo 4 authenticates a client as one user: to switch
        users, :meth:`logout` first. See :mod:`motor.spec.auth`.
        """
        check_callback(callback)
        credentials = auth.credentials_for(self.delegate.name, name, password, source, mechanism)
        return self._runtime.start(
            auth.authenticate,
            (self._client, credentials, mechanism == "MONGODB-CR"),
            callback=callback,
        )

    @async_method
    def logout(self, *, callback: Any = None) -> Any:
        """Stop authenticating as the user authenticated on this database.

        Connections made from then on are not authenticated; those already
        open are closed as they come back to the pool.
        """
        check_callback(callback)
        return self._runtime.start(
            auth.logout, (self._client, self.delegate.name), callback=callback
        )

    # -- removed commands -------------------------------------------------------------------

    @async_method
    def eval(self, code: Any, *args: Any, callback: Any = None) -> Any:
        """Evaluate JavaScript ``code`` on the server with ``args``; its result.

        MongoDB 4.2 removed the command: servers without it raise
        :class:`~motor.spec._legacy.CommandRemoved`, naming the alternatives.
        """
        check_callback(callback)
        return self._runtime.start(self._spec_eval, (code, args), callback=callback)

    def _spec_eval(self, code: Any, args: tuple) -> Any:
        from bson.code import Code

        if not isinstance(code, (str, Code)):
            raise TypeError(f"code must be a str or Code, not {type(code).__name__}")
        reply = run_legacy("$eval", lambda: self.delegate.command("$eval", code, args=list(args)))
        return reply.get("retval", None)

    def _spec_last_error(self, command: str) -> Any:
        return run_legacy(command, lambda: self.delegate.command(command))

    @async_method
    def error(self, *, callback: Any = None) -> Any:
        """The error of the last operation on this connection, or None (``getLastError``).

        MongoDB 5.1 removed getLastError; every write reports its own errors
        now. Servers without it raise :class:`~motor.spec._legacy.CommandRemoved`.
        """
        check_callback(callback)
        return self._runtime.start(self._spec_error, callback=callback)

    def _spec_error(self) -> Any:
        reply = self._spec_last_error("getlasterror")
        return reply if reply.get("err") is not None else None

    @async_method
    def last_status(self, *, callback: Any = None) -> Any:
        """The status document of the last operation (``getLastError``); see :meth:`error`."""
        check_callback(callback)
        return self._runtime.start(self._spec_last_error, ("getlasterror",), callback=callback)

    @async_method
    def previous_error(self, *, callback: Any = None) -> Any:
        """The most recent error since :meth:`reset_error_history`, or None (``getPrevError``).

        Removed in MongoDB 5.1; see :meth:`error`.
        """
        check_callback(callback)
        return self._runtime.start(self._spec_previous_error, callback=callback)

    def _spec_previous_error(self) -> Any:
        reply = self._spec_last_error("getpreverror")
        return reply if reply.get("err", 0) is not None else None

    @async_method
    def reset_error_history(self, *, callback: Any = None) -> Any:
        """Forget earlier errors (``resetError``). Removed in MongoDB 5.1; see :meth:`error`."""
        check_callback(callback)
        return self._runtime.start(
            lambda: self._spec_last_error("reseterror") and None, callback=callback
        )

    # -- SON manipulators ------------------------------------------------------------------

    def add_son_manipulator(self, manipulator: Any) -> None:
        """Add a SON manipulator to this MotorDatabase (newest ones run first).

        ``manipulator`` is a :class:`SONManipulator` (or has its methods).
        Its ``transform_incoming`` runs on documents this database's
        collections insert or save; its ``transform_outgoing`` on documents
        their queries return.
        """
        manipulators = self._spec_manipulators
        if manipulators is None:
            manipulators = self._spec_manipulators = Manipulators()
            note_manipulators_in_use()
        copying = bool(manipulator.will_copy()) if hasattr(manipulator, "will_copy") else False
        if overrides(manipulator, "transform_incoming"):
            target = manipulators.incoming_copying if copying else manipulators.incoming
            target.insert(0, manipulator)
        if overrides(manipulator, "transform_outgoing"):
            target = manipulators.outgoing_copying if copying else manipulators.outgoing
            target.insert(0, manipulator)

    def _spec_names(self, attr: str) -> list:
        manipulators = self._spec_manipulators
        if manipulators is None:
            return []
        return [type(m).__name__ for m in getattr(manipulators, attr)]

    @property
    def incoming_manipulators(self) -> list:
        """Class names of the incoming, non-copying SON manipulators."""
        return self._spec_names("incoming")

    @property
    def incoming_copying_manipulators(self) -> list:
        """Class names of the incoming, copying SON manipulators."""
        return self._spec_names("incoming_copying")

    @property
    def outgoing_manipulators(self) -> list:
        """Class names of the outgoing, non-copying SON manipulators."""
        return self._spec_names("outgoing")

    @property
    def outgoing_copying_manipulators(self) -> list:
        """Class names of the outgoing, copying SON manipulators."""
        return self._spec_names("outgoing_copying")

    def _spec_fix_incoming(self, son: Any, collection: Any, inject_id: bool) -> Any:
        """A document about to be inserted, as PyMongo 2 prepared it."""
        manipulators = self._spec_manipulators
        if manipulators is not None:
            for manipulator in manipulators.incoming:
                son = manipulator.transform_incoming(son, collection)
        if inject_id and "_id" not in son and not isinstance(son, RawBSONDocument):
            son["_id"] = ObjectId()
        if manipulators is not None:
            for manipulator in manipulators.incoming_copying:
                son = manipulator.transform_incoming(son, collection)
        return son

    def _spec_outgoing_fixer(self, collection: Any) -> Callable[[Any], Any] | None:
        """What to apply to each document read, or None when nothing is to be done."""
        manipulators = self._spec_manipulators
        if manipulators is None or not (manipulators.outgoing or manipulators.outgoing_copying):
            return None
        chain = list(reversed(manipulators.outgoing)) + list(
            reversed(manipulators.outgoing_copying)
        )

        def fix(son: Any) -> Any:
            if not isinstance(son, Mapping):
                return son
            for manipulator in chain:
                son = manipulator.transform_outgoing(son, collection)
            return son

        return fix
