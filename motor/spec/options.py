"""The spec's options, expressed in PyMongo 4's terms.

The spec (Motor 0.2 over PyMongo 2.x) configures clients, databases,
collections and queries with options PyMongo 4 spells differently or no
longer has. This module translates them in one place:

- client constructor arguments (:func:`client_arguments`): PyMongo 2's
  positional order, ``read_preference`` as a number, ``tag_sets``,
  ``secondary_acceptable_latency_ms``, ``max_pool_size`` and the ``ssl_*``
  options; the deprecated options the spec rejects (``slave_okay`` /
  ``slaveok``, ``safe``) raise ConfigurationError, ``auto_start_request`` is
  ignored, in keyword arguments and in URIs alike;
- read preferences given as PyMongo 2's mode numbers (:func:`read_preference`);
- write concerns as the spec's live dictionary (:class:`WriteConcernDocument`);
- ``uuid_subtype`` (:func:`uuid_representation`);
- the per-object ``read_preference`` / ``tag_sets`` /
  ``secondary_acceptable_latency_ms`` / ``write_concern`` properties that
  clients, databases and collections share (:class:`SettingsMixin`).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, MutableMapping
from typing import Any
from urllib.parse import unquote

from bson.binary import UuidRepresentation
from pymongo.errors import ConfigurationError
from pymongo.read_preferences import _MONGOS_MODES, _ServerMode, make_read_preference
from pymongo.write_concern import WriteConcern

__all__ = [
    "SettingsMixin",
    "name_positional",
    "WriteConcernDocument",
    "check_no_rejected_options",
    "client_arguments",
    "legacy_mechanism",
    "read_preference",
    "uuid_representation",
    "write_concern_from_options",
]

# -- options the spec rejects or ignores ------------------------------------------

_SLAVE_OKAY_MESSAGE = (
    "the {name!r} option was deprecated in PyMongo 2.3 and Motor does not support "
    "it: use a read preference instead, e.g. "
    "read_preference=ReadPreference.SECONDARY_PREFERRED (readPreference="
    "secondaryPreferred in a URI)"
)
_SAFE_MESSAGE = (
    "the {name!r} option was deprecated in PyMongo 2.4 and Motor does not support "
    "it: use a write concern instead, e.g. w=1 (the default) for acknowledged "
    "writes or w=0 for unacknowledged ones"
)

# Normalized (lower case, no underscores) -> message template.
_REJECTED = {
    "slaveokay": _SLAVE_OKAY_MESSAGE,
    "slaveok": _SLAVE_OKAY_MESSAGE,
    "safe": _SAFE_MESSAGE,
}

# Accepted and ignored, as the spec says of auto_start_request (Motor has no
# requests); use_greenlets was how Motor 0.x configured PyMongo 2 itself.
_IGNORED = {"autostartrequest", "usegreenlets"}


def _normalized(name: str) -> str:
    return name.lower().replace("_", "")


def check_no_rejected_options(options: Mapping[str, Any] | Any) -> None:
    """Raise ConfigurationError if ``options`` names an option the spec rejects."""
    for name in options:
        message = _REJECTED.get(_normalized(name))
        if message is not None:
            raise ConfigurationError(message.format(name=name))


def _clean_uri(uri: str) -> str:
    """Check a URI's options; drop the ignored ones. Credentials stay untouched."""
    if not isinstance(uri, str) or "://" not in uri or "?" not in uri:
        return uri
    # Reserved characters must be percent-encoded in the user and password,
    # so the first "?" starts the options.
    base, _, query = uri.partition("?")
    kept = []
    for part in query.replace(";", "&").split("&"):
        if not part:
            continue
        name = unquote(part.partition("=")[0])
        message = _REJECTED.get(_normalized(name))
        if message is not None:
            raise ConfigurationError(message.format(name=name) + " (found in the URI)")
        if _normalized(name) in _IGNORED:
            continue
        if _normalized(name) == "authmechanism" and unquote(part.partition("=")[2]) == "MONGODB-CR":
            part = "authMechanism=" + legacy_mechanism("MONGODB-CR")
        kept.append(part)
    return base + ("?" + "&".join(kept) if kept else "")


def legacy_mechanism(mechanism: Any) -> Any:
    """PyMongo 4's name for an authentication mechanism the spec names.

    MongoDB 4.0 removed MONGODB-CR, the spec's default, and PyMongo 4 cannot
    speak it; every server PyMongo 4 reaches negotiates SCRAM instead
    (SCRAM-SHA-256, or SCRAM-SHA-1 for older users), which is PyMongo's
    DEFAULT: that is what MONGODB-CR means here.
    """
    return "DEFAULT" if mechanism == "MONGODB-CR" else mechanism


# -- positional arguments of PyMongo 4's signatures --------------------------------


def name_positional(method: str, names: tuple[str, ...], args: tuple, kwargs: dict) -> dict:
    """Give positional arguments PyMongo 4 takes (``session``, ``comment``...) their names.

    Where a spec method's signature replaced PyMongo 4's, Motor 3 code may
    still pass PyMongo 4's optional arguments positionally::

        await collection.drop(session)   # Motor 3: drop(session=None, comment=None)
    """
    if len(args) > len(names):
        raise TypeError(
            f"{method}() takes at most {len(names)} optional positional arguments "
            f"({', '.join(names)}), {len(args)} were given"
        )
    for name, value in zip(names, args):
        if name in kwargs:
            raise TypeError(f"{method}() got multiple values for argument {name!r}")
        kwargs[name] = value
    return kwargs


# -- read preferences ---------------------------------------------------------------


def read_preference(mode: Any, tag_sets: Any = None) -> _ServerMode:
    """A PyMongo 4 read preference from the spec's ``read_preference`` and ``tag_sets``.

    ``mode`` is PyMongo 2's number (``0`` primary ... ``4`` nearest), a mode
    name (``"secondaryPreferred"``) or a PyMongo 4 read preference. Tag sets
    given with the primary mode are ignored, as PyMongo 2 ignored them.
    """
    if isinstance(mode, _ServerMode):
        if tag_sets is None:
            return mode
        mode = mode.mode
    elif isinstance(mode, str):
        names = {name.lower(): number for number, name in enumerate(_MONGOS_MODES)}
        if mode.lower() not in names:
            raise ConfigurationError(f"not a read preference mode: {mode!r}")
        mode = names[mode.lower()]
    if isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode < len(_MONGOS_MODES):
        raise ConfigurationError(
            f"read_preference must be a ReadPreference or a mode number 0-4, not {mode!r}"
        )
    if mode == 0:
        tag_sets = None
    return make_read_preference(mode, _tag_sets(tag_sets))


def _tag_sets(tag_sets: Any) -> list | None:
    if tag_sets is None:
        return None
    if isinstance(tag_sets, Mapping) or not isinstance(tag_sets, (list, tuple)):
        raise ConfigurationError(
            f"tag_sets must be a list of documents like [{{'dc': 'ny'}}, {{}}], not {tag_sets!r}"
        )
    return [dict(tags) for tags in tag_sets]


# -- UUIDs ----------------------------------------------------------------------------

# PyMongo 2's uuid_subtype values: OLD_UUID_SUBTYPE (3), UUID_SUBTYPE (4),
# JAVA_LEGACY (5), CSHARP_LEGACY (6).
_UUID_SUBTYPES = {
    3: UuidRepresentation.PYTHON_LEGACY,
    4: UuidRepresentation.STANDARD,
    5: UuidRepresentation.JAVA_LEGACY,
    6: UuidRepresentation.CSHARP_LEGACY,
}


def uuid_representation(uuid_subtype: Any) -> int:
    """PyMongo 4's UuidRepresentation for PyMongo 2's ``uuid_subtype``."""
    try:
        return _UUID_SUBTYPES[uuid_subtype]
    except (KeyError, TypeError):
        raise ConfigurationError(
            f"uuid_subtype must be one of {sorted(_UUID_SUBTYPES)}, not {uuid_subtype!r}"
        ) from None


# -- write concerns ---------------------------------------------------------------------

_WRITE_CONCERN_KEYS = ("w", "wtimeout", "j", "fsync")


def _write_concern(document: Mapping[str, Any]) -> WriteConcern:
    unknown = [key for key in document if key not in _WRITE_CONCERN_KEYS]
    if unknown:
        raise ConfigurationError(
            f"{unknown[0]!r} is not a write concern option; valid options are "
            f"{', '.join(_WRITE_CONCERN_KEYS)}"
        )
    if document.get("w") == 0:
        # "Setting w=0 disables write acknowledgement and all other write
        # concern options."
        return WriteConcern(w=0)
    try:
        return WriteConcern(**document)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"invalid write concern {dict(document)!r}: {exc}") from exc


def write_concern_from_options(options: dict) -> WriteConcern | None:
    """Pop w / wtimeout / j / fsync from an operation's options; their WriteConcern.

    None if the options name none of them. The spec's ``safe`` is refused.
    """
    check_no_rejected_options(options)
    document = {key: options.pop(key) for key in _WRITE_CONCERN_KEYS if key in options}
    return _write_concern(document) if document else None


class WriteConcernDocument(WriteConcern, MutableMapping):
    """A write concern that is both a PyMongo WriteConcern and the spec's live dict.

    Motor 3 code gets a :class:`~pymongo.write_concern.WriteConcern`
    (``.document``, ``.acknowledged``, ``== WriteConcern(w=2)``, passes to
    ``with_options``); code written from Motor's documentation gets a dict
    whose changes apply to its owner at once::

        client.write_concern == WriteConcern(w=2, wtimeout=1000)  # Motor 3
        client.write_concern == {"w": 2, "wtimeout": 1000}         # the spec
        client.write_concern["j"] = True   # the client's writes journal from now on
        client.write_concern["w"] = 0      # unacknowledged writes from now on

    The dict holds what was set; the WriteConcern is what PyMongo sends (with
    ``w`` 0, no other option: "w=0 disables acknowledgement and all other
    write concern options"). It is always true, as a WriteConcern is, even
    when empty. Copies (``copy``, ``deepcopy``, ``pickle``) are plain
    WriteConcerns. Passed as is to ``with_options(write_concern=...)``, it is
    shared by the new object and follows later changes made through the dict;
    pass ``copy.copy(collection.write_concern)`` to pass a fixed value.

    .. versionchanged:: 4.0
       A WriteConcern as well as a dict, so code written for either works.
    """

    __slots__ = ("_items", "_owner")

    def __init__(self, owner: Any, document: Mapping[str, Any]) -> None:
        self._owner = owner
        self._set(dict(document))

    def _set(self, items: dict) -> None:
        effective = _write_concern(items)
        WriteConcern.__init__(self, **effective.document)
        self._items = items

    def _change(self, change: Any) -> Any:
        proposed = dict(self._items)
        result = change(proposed)
        effective = _write_concern(proposed)  # raises before anything changes
        self._owner._spec_apply_write_concern(effective, self)
        self._set(proposed)
        return result

    # The mapping: what was set.
    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Any:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __setitem__(self, key: str, value: Any) -> None:
        self._change(lambda d: d.__setitem__(key, value))

    def __delitem__(self, key: str) -> None:
        self._change(lambda d: d.__delitem__(key))

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self._change(lambda d: d.update(*args, **kwargs))

    def setdefault(self, key: str, default: Any = None) -> Any:
        return self._change(lambda d: d.setdefault(key, default))

    def pop(self, key: str, *default: Any) -> Any:  # type: ignore[override]
        return self._change(lambda d: d.pop(key, *default))

    def popitem(self) -> Any:
        return self._change(lambda d: d.popitem())

    def clear(self) -> None:
        self._change(lambda d: d.clear())

    def copy(self) -> dict:
        """A plain dict of what was set."""
        return dict(self._items)

    def __bool__(self) -> bool:
        # PyMongo writes "write_concern or default": never fall back.
        return True

    def __eq__(self, other: object) -> bool:
        if isinstance(other, WriteConcern):
            return self.document == other.document
        if isinstance(other, Mapping):
            return self._items == dict(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> Any:
        # A copy (copy, deepcopy, pickle) is a plain WriteConcern: it is not
        # bound to this one's owner (a deep copy would copy the client).
        document = self.document
        return WriteConcern, tuple(document.get(key) for key in _WRITE_CONCERN_KEYS)

    def __repr__(self) -> str:
        return f"WriteConcern({', '.join(f'{k}={v!r}' for k, v in self._items.items())})"


# -- what clients, databases and collections share ------------------------------------


class SettingsMixin:
    """``read_preference``, ``tag_sets``, ``secondary_acceptable_latency_ms`` and
    ``write_concern``, each readable and settable as in the spec.

    PyMongo 2 kept a read preference mode and its tag sets apart; PyMongo 4
    makes one read preference object of them. Tag sets set while the mode is
    primary (which cannot have tags) are kept here and apply once a
    non-primary mode is set, as they did in PyMongo 2.
    """

    # Set on instances when needed: a tag set waiting for a non-primary
    # mode, and the write_concern dict last handed out.
    _spec_pending_tag_sets: Any = None
    _spec_write_concern_doc: Any = None

    @property
    def read_preference(self) -> _ServerMode:
        """The read preference: a PyMongo 4 read preference object
        (``ReadPreference.PRIMARY``...); PyMongo 2's mode numbers may be assigned."""
        return self.delegate.read_preference

    @read_preference.setter
    def read_preference(self, value: Any) -> None:
        pending = self._spec_pending_tag_sets
        if isinstance(value, _ServerMode):
            if pending is not None and value.mode != 0 and value.tag_sets == [{}]:
                value = read_preference(value.mode, pending)
        else:
            current = self.delegate.read_preference
            tags = pending if pending is not None else (current.tag_sets if current.mode else None)
            value = read_preference(value, tags)
        self.delegate._read_preference = value

    @property
    def tag_sets(self) -> list:
        """The read preference's tag sets, like ``[{'dc': 'ny'}, {}]``; ``[{}]`` for none."""
        if self.delegate.read_preference.mode == 0 and self._spec_pending_tag_sets is not None:
            return list(self._spec_pending_tag_sets)
        return self.delegate.read_preference.tag_sets

    @tag_sets.setter
    def tag_sets(self, value: Any) -> None:
        value = _tag_sets(value) or [{}]
        mode = self.delegate.read_preference.mode
        if mode == 0:
            self._spec_pending_tag_sets = value
        else:
            self.delegate._read_preference = read_preference(mode, value)

    @property
    def secondary_acceptable_latency_ms(self) -> int:
        """How much slower than the nearest member (in ms) a member may be and
        still serve reads: PyMongo 4's ``localThresholdMS``, set per client."""
        return self._client.delegate._topology_settings.local_threshold_ms

    @secondary_acceptable_latency_ms.setter
    def secondary_acceptable_latency_ms(self, value: Any) -> None:
        raise ConfigurationError(
            "secondary_acceptable_latency_ms is a client-wide setting in PyMongo 4 "
            "(localThresholdMS): set it on the client, or pass "
            "localThresholdMS=... when creating it"
        )

    @property
    def write_concern(self) -> WriteConcernDocument:
        """The default write concern: a WriteConcern that is also a dict.

        Compares equal to ``WriteConcern(w=2, wtimeout=1000)`` and to
        ``{'w': 2, 'wtimeout': 1000}``. Changing the dict changes this
        object's write concern, as assigning a new dict (or WriteConcern)
        does. Setting ``w`` to 0 turns acknowledgement (and every other write
        concern option) off. See :class:`WriteConcernDocument`.
        """
        current = self.delegate.write_concern
        cached = self._spec_write_concern_doc
        if cached is not None and cached[1] is current:
            return cached[0]
        document = WriteConcernDocument(self, current.document)
        self._spec_write_concern_doc = (document, current)
        return document

    @write_concern.setter
    def write_concern(self, value: Any) -> None:
        if isinstance(value, WriteConcernDocument):
            value = dict(value)
        elif isinstance(value, WriteConcern):
            value = value.document
        if not isinstance(value, Mapping):
            raise ConfigurationError(
                f"write_concern must be a dict like {{'w': 1}} or a WriteConcern, not {value!r}"
            )
        document = WriteConcernDocument(self, value)
        self._spec_apply_write_concern(_write_concern(dict(value)), document)

    def _spec_apply_write_concern(
        self, write_concern: WriteConcern, document: WriteConcernDocument
    ) -> None:
        # PyMongo gets a plain, immutable WriteConcern: objects derived from
        # this one (db[name], with_options) share it, and must not see later
        # changes to this object's dict.
        self.delegate._write_concern = write_concern
        self._spec_write_concern_doc = (document, write_concern)


# -- client constructor arguments ------------------------------------------------------

# MongoClient(host, port, max_pool_size, document_class, tz_aware) in PyMongo 2;
# MongoReplicaSetClient(hosts_or_uri, max_pool_size, document_class, tz_aware).
_CLIENT_POSITIONAL = ("host", "port", "max_pool_size", "document_class", "tz_aware")
_RS_CLIENT_POSITIONAL = ("host", "max_pool_size", "document_class", "tz_aware")
# PyMongo 4's (and so Motor 3's) MongoClient: the third is document_class.
_PYMONGO4_CLIENT_POSITIONAL = ("host", "port", "document_class", "tz_aware", "connect", "type_registry")


def _ssl_options(kwargs: dict) -> None:
    certfile = kwargs.pop("ssl_certfile", None)
    keyfile = kwargs.pop("ssl_keyfile", None)
    if keyfile is not None and keyfile != certfile:
        raise ConfigurationError(
            "PyMongo 4 reads the client certificate and its key from one PEM file: "
            "combine ssl_certfile and ssl_keyfile into one file and pass it as "
            "tlsCertificateKeyFile (or ssl_certfile)"
        )
    if certfile is not None:
        kwargs["tlsCertificateKeyFile"] = certfile
    if "ssl_ca_certs" in kwargs:
        kwargs["tlsCAFile"] = kwargs.pop("ssl_ca_certs")
    if "ssl_cert_reqs" in kwargs:
        reqs = kwargs.pop("ssl_cert_reqs")
        if reqs == ssl.CERT_NONE:
            kwargs["tlsAllowInvalidCertificates"] = True
        elif reqs not in (ssl.CERT_REQUIRED, ssl.CERT_OPTIONAL, None):
            raise ConfigurationError(f"ssl_cert_reqs must be an ssl.CERT_* value, not {reqs!r}")


def client_arguments(args: tuple, kwargs: dict, replica_set: bool = False) -> tuple[tuple, dict]:
    """PyMongo 4 constructor arguments for the spec's (PyMongo 2's) ones.

    Positional arguments after ``host`` and ``port`` differ: PyMongo 2 has
    ``max_pool_size`` third, PyMongo 4 (Motor 3) ``document_class``. A class
    there means PyMongo 4's order, anything else PyMongo 2's.
    """
    names = _RS_CLIENT_POSITIONAL if replica_set else _CLIENT_POSITIONAL
    if not replica_set and len(args) > 2 and isinstance(args[2], type):
        names = _PYMONGO4_CLIENT_POSITIONAL
    if len(args) > len(names):
        raise TypeError(f"at most {len(names)} positional arguments ({', '.join(names)})")
    kwargs = dict(kwargs)
    for name, value in zip(names, args):
        if name in kwargs:
            raise TypeError(f"got multiple values for argument {name!r}")
        kwargs[name] = value
    if replica_set and "hosts_or_uri" in kwargs:
        kwargs["host"] = kwargs.pop("hosts_or_uri")

    check_no_rejected_options(kwargs)
    for name in list(kwargs):
        if _normalized(name) in _IGNORED:
            del kwargs[name]
        elif _normalized(name) == "authmechanism" and kwargs[name] == "MONGODB-CR":
            kwargs[name] = legacy_mechanism(kwargs[name])

    host = kwargs.get("host")
    if isinstance(host, str):
        kwargs["host"] = _clean_uri(host)
    elif isinstance(host, (list, tuple)):
        kwargs["host"] = [_clean_uri(h) for h in host]

    max_pool_size = kwargs.pop("max_pool_size", None)
    if max_pool_size is not None and kwargs.get("max_concurrent") is None:
        # PyMongo 4 caps every connection, idle or in use, with maxPoolSize;
        # so does Motor's max_concurrent, which wins when both are given.
        kwargs["max_concurrent"] = max_pool_size

    mode = kwargs.pop("read_preference", None)
    tag_sets = kwargs.pop("tag_sets", None)
    if mode is not None or tag_sets is not None:
        kwargs["read_preference"] = read_preference(0 if mode is None else mode, tag_sets)
    if "secondary_acceptable_latency_ms" in kwargs:
        kwargs["localThresholdMS"] = kwargs.pop("secondary_acceptable_latency_ms")
    _ssl_options(kwargs)
    return (), kwargs

