"""Tornado and asyncio flavours of Motor's classes, generated from one source.

Each agnostic class (``AgnosticClient``, ``AgnosticCollection``...) is written
once. A :class:`Framework` makes its twin for one API on first request:

- ``TORNADO``: ``motor.MotorClient``, which *is*
  ``motor.motor_tornado.MotorClient`` (as in Motor 3), and so on: Motor 3.7's
  API plus everything Motor's documentation (``../shared/spec``) adds, from
  the mixins in :mod:`motor.spec`. One class per name, so objects of code
  written either way mix freely.
- ``ASYNCIO``: ``motor.motor_asyncio.AsyncIOMotorClient``..., a drop-in for
  Motor 3.7 on asyncio (Motor 3's API only).

Both run on an asyncio loop underneath, since Tornado 6 does, and their
Futures are asyncio Futures.

.. versionadded:: 4.0
.. versionchanged:: 4.0
   ``motor.*`` and ``motor.motor_tornado`` were separate flavours (the spec's
   and Motor 3's) whose objects could not be mixed; they are one now.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["ASYNCIO", "TORNADO", "Framework", "register_agnostic", "spec_mixin"]

_agnostic_classes: dict[str, type] = {}
_spec_mixins: dict[str, type] = {}


def register_agnostic(cls: type) -> type:
    """Class decorator: make ``cls`` available to every framework by name."""
    _agnostic_classes[cls.__name__] = cls
    return cls


def spec_mixin(agnostic_name: str) -> Any:
    """Class decorator: add a mixin's methods to the Tornado twin of ``agnostic_name``.

    The spec's API (``insert``, ``update``, ``aggregate`` resolving to a result
    document...) lives in mixins, so that the asyncio drop-in stays exactly
    Motor 3's. A mixin must be registered before its twin is first made, and
    must not change what Motor 3 code calling the same name gets (see
    doc/differences.rst for the few names the two APIs define differently).
    """

    def register(mixin: type) -> type:
        _spec_mixins[agnostic_name] = mixin
        return mixin

    return register


# The agnostic classes every flavour exports (``motor`` adds its own).
PUBLIC_CLASSES = (
    "AgnosticChangeStream",
    "AgnosticClient",
    "AgnosticClientEncryption",
    "AgnosticClientSession",
    "AgnosticCollection",
    "AgnosticCommandCursor",
    "AgnosticCursor",
    "AgnosticDatabase",
    "AgnosticGridFS",
    "AgnosticGridFSBucket",
    "AgnosticGridIn",
    "AgnosticGridOut",
    "AgnosticGridOutCursor",
    "AgnosticLatentCommandCursor",
    "AgnosticRawBatchCommandCursor",
    "AgnosticRawBatchCursor",
)


class Framework:
    """One event-loop API: how ``io_loop`` is given, and the class names."""

    name = ""
    prefix = ""
    module = ""
    def __init__(self) -> None:
        self._classes: dict[str, type] = {}

    def motor_class(self, agnostic_name: str) -> type:
        cls = self._classes.get(agnostic_name)
        if cls is None:
            agnostic = _agnostic_classes[agnostic_name]
            name = self.prefix + agnostic.__motor_class_name__  # type: ignore[attr-defined]
            bases = self._bases(agnostic_name, agnostic)
            cls = type(agnostic)(name, bases, {"_framework": self, "__module__": self.module})
            self._classes[agnostic_name] = cls
        return cls

    def export(self, namespace: dict, agnostic_names: tuple = PUBLIC_CLASSES) -> list[str]:
        """Put this flavour's classes in a module's namespace; return their names.

        ::

            __all__ = TORNADO.export(globals())   # MotorClient, MotorDatabase...
        """
        names = []
        for agnostic_name in agnostic_names:
            cls = self.motor_class(agnostic_name)
            namespace[cls.__name__] = cls
            names.append(cls.__name__)
        return names

    def _bases(self, agnostic_name: str, agnostic: type) -> tuple[type, ...]:
        return (agnostic,)

    def resolve_loop(self, io_loop: Any) -> tuple[Any, asyncio.AbstractEventLoop]:
        """Return (the io_loop to report, the asyncio loop to run on)."""
        raise NotImplementedError


class _TornadoFramework(Framework):
    name = "tornado"
    prefix = ""
    module = "motor.motor_tornado"

    def _bases(self, agnostic_name: str, agnostic: type) -> tuple[type, ...]:
        mixin = _spec_mixins.get(agnostic_name)
        return (agnostic,) if mixin is None else (mixin, agnostic)

    def resolve_loop(self, io_loop: Any) -> tuple[Any, asyncio.AbstractEventLoop]:
        from tornado.ioloop import IOLoop

        if io_loop is None:
            io_loop = IOLoop.current()
        elif not isinstance(io_loop, IOLoop):
            raise TypeError(f"io_loop must be a tornado.ioloop.IOLoop, not {io_loop!r}")
        return io_loop, io_loop.asyncio_loop  # type: ignore[attr-defined]


class _AsyncioFramework(Framework):
    name = "asyncio"
    prefix = "AsyncIO"
    module = "motor.motor_asyncio"

    def resolve_loop(self, io_loop: Any) -> tuple[Any, asyncio.AbstractEventLoop]:
        if io_loop is None:
            try:
                io_loop = asyncio.get_running_loop()
            except RuntimeError:
                io_loop = asyncio.get_event_loop_policy().get_event_loop()
        elif not isinstance(io_loop, asyncio.AbstractEventLoop):
            raise TypeError(f"io_loop must be an asyncio event loop, not {io_loop!r}")
        return io_loop, io_loop


TORNADO = _TornadoFramework()
ASYNCIO = _AsyncioFramework()
