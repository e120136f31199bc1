"""Declarative wrapping of PyMongo classes.

A Motor class body reads like a table of the PyMongo API it wraps::

    class AgnosticCollection(MotorBase, metaclass=MotorMeta):
        __delegate_class__ = Collection

        find_one = AsyncRead()
        insert_one = AsyncWrite()
        find = DelegateMethod(wrap="AgnosticCursor")
        name = ReadOnlyProperty()

:class:`MotorMeta` turns each attribute factory into the real method or
property. Agnostic classes are never used directly: :mod:`motor.frameworks`
generates the Tornado (``MotorCollection``) and asyncio
(``AsyncIOMotorCollection``) twins from them, and results that are PyMongo
objects come back as the twin of the caller's own flavour.

.. versionadded:: 4.0
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import Any, Callable

__all__ = [
    "Async",
    "AsyncCommand",
    "AsyncRead",
    "AsyncWrite",
    "DelegateMethod",
    "MotorAttributeFactory",
    "MotorBase",
    "MotorMeta",
    "ReadOnlyProperty",
    "ReadWriteProperty",
    "async_method",
    "callback_note",
    "check_callback",
    "coroutine_method",
    "unwrap_args",
]

callback_note = """

        :param callback: optional, keyword only: a function called on the loop
          as ``callback(result, error)`` when the operation completes; the
          method then returns None. Without it the method returns a Future
          that ``await`` and ``gen.coroutine`` both accept.
"""


def check_callback(callback: Any) -> None:
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be a callable taking (result, error), not {callback!r}")


def async_method(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a hand-written method that takes ``callback=`` and returns a Future.

    Appends the callback convention to its docstring, as the generated
    methods have it.
    """
    fn.__doc__ = (fn.__doc__ or "") + callback_note
    fn.motor_async = True  # type: ignore[attr-defined]
    return fn


def coroutine_method(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Give a hand-written ``async def`` method Motor's calling convention.

    The method then returns a Future (a Task on the client's loop), or, given
    ``callback=``, returns None and calls ``callback(result, error)``.
    """

    @functools.wraps(fn)
    def method(self: Any, *args: Any, callback: Any = None, **kwargs: Any) -> Any:
        check_callback(callback)
        runtime = self._runtime
        runtime.check_thread()
        task = runtime.loop.create_task(fn(self, *args, **kwargs))
        if callback is None:
            return task
        task.add_done_callback(functools.partial(_call_back_with_task, callback))
        return None

    signature = inspect.signature(fn)
    callback_param = inspect.Parameter("callback", inspect.Parameter.KEYWORD_ONLY, default=None)
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), callback_param],
        return_annotation=inspect.Signature.empty,
    )
    return async_method(method)


def _call_back_with_task(callback: Callable[[Any, Any], Any], task: Any) -> None:
    if task.cancelled():
        callback(None, asyncio.CancelledError())
    elif task.exception() is not None:
        callback(None, task.exception())
    else:
        callback(task.result(), None)


class MotorBase:
    """What every Motor object has: a PyMongo delegate and a loop runtime."""

    __delegate_class__: type | None = None
    _framework: Any = None

    __slots__ = ()

    def __eq__(self, other: Any) -> bool:
        if type(self) is type(other):
            return bool(self.delegate == other.delegate)
        return NotImplemented

    def __ne__(self, other: Any) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash(self.delegate)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.delegate!r})"

    @classmethod
    def _from_delegate(cls, delegate: Any, owner: MotorBase) -> Any:
        """Wrap ``delegate``, a PyMongo object that ``owner`` produced."""
        obj = cls.__new__(cls)
        obj.delegate = delegate
        obj._client = owner._client
        return obj

    @property
    def _runtime(self) -> Any:
        # Through the client, which binds to a loop on first use.
        return self._client._runtime

    @property
    def io_loop(self) -> Any:
        """The loop this object's client runs on (an IOLoop, or an asyncio loop)."""
        return self._client.io_loop

    def get_io_loop(self) -> Any:
        """The loop this object's client runs on (an IOLoop, or an asyncio loop)."""
        return self._client.io_loop

    def _motor_class(self, agnostic_name: str) -> type:
        """This object's flavour of the agnostic class ``agnostic_name``."""
        return self._framework.motor_class(agnostic_name)


def unwrap(value: Any) -> Any:
    return value.delegate if isinstance(value, MotorBase) else value


def unwrap_args(args: tuple, kwargs: dict) -> tuple:
    """Pass PyMongo the delegates of any Motor arguments (sessions, dbs...)."""
    for value in args:
        if isinstance(value, MotorBase):
            args = tuple(unwrap(v) for v in args)
            break
    for key, value in kwargs.items():
        if isinstance(value, MotorBase):
            kwargs[key] = value.delegate
    return args


class MotorAttributeFactory:
    """A placeholder in a class body that :class:`MotorMeta` replaces."""

    def __init__(self, doc: str | None = None) -> None:
        self.doc = doc

    def create_attribute(self, cls: type, attr_name: str) -> Any:
        raise NotImplementedError

    def _delegate_doc(self, cls: type, attr_name: str) -> str | None:
        if self.doc is not None:
            return self.doc
        target = getattr(cls.__delegate_class__, attr_name, None)
        return getattr(target, "__doc__", None)


class Async(MotorAttributeFactory):
    """A PyMongo method that does I/O: run it in a worker.

    ``wrap`` names the agnostic class whose twin wraps the result (for
    methods returning PyMongo objects).
    """

    def __init__(self, wrap: str | None = None, doc: str | None = None) -> None:
        super().__init__(doc)
        self.wrap = wrap

    def create_attribute(self, cls: type, attr_name: str) -> Callable[..., Any]:
        wrap = self.wrap

        def method(self: Any, *args: Any, callback: Any = None, **kwargs: Any) -> Any:
            # The per-operation path: keep it short.
            if callback is not None:
                check_callback(callback)
            if args or kwargs:
                args = unwrap_args(args, kwargs)
            fn = getattr(self.delegate, attr_name)
            if wrap is not None:
                fn = _wrapping(fn, self, wrap)
            return self._client._runtime.start(fn, args, kwargs, callback)

        method.__name__ = attr_name
        method.__qualname__ = f"{cls.__name__}.{attr_name}"
        doc = self._delegate_doc(cls, attr_name)
        method.__doc__ = (doc or "") + callback_note
        method.motor_async = True  # type: ignore[attr-defined]
        return method


def _wrapping(fn: Callable[..., Any], owner: Any, wrap: str) -> Callable[..., Any]:
    motor_class = owner._motor_class(wrap)

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        return motor_class._from_delegate(fn(*args, **kwargs), owner)

    return call


class AsyncRead(Async):
    """An I/O method that reads."""


class AsyncWrite(Async):
    """An I/O method that writes."""


class AsyncCommand(Async):
    """An I/O method that runs a command."""


class DelegateMethod(MotorAttributeFactory):
    """A PyMongo method that does no I/O: call it directly."""

    def __init__(self, wrap: str | None = None, doc: str | None = None) -> None:
        super().__init__(doc)
        self.wrap = wrap

    def create_attribute(self, cls: type, attr_name: str) -> Callable[..., Any]:
        wrap = self.wrap

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            args = unwrap_args(args, kwargs)
            result = getattr(self.delegate, attr_name)(*args, **kwargs)
            if wrap is None:
                return result
            return self._motor_class(wrap)._from_delegate(result, self)

        method.__name__ = attr_name
        method.__qualname__ = f"{cls.__name__}.{attr_name}"
        method.__doc__ = self._delegate_doc(cls, attr_name)
        return method


class ReadOnlyProperty(MotorAttributeFactory):
    """A PyMongo property, read from the delegate."""

    def create_attribute(self, cls: type, attr_name: str) -> property:
        def fget(self: Any) -> Any:
            return getattr(self.delegate, attr_name)

        return property(fget, doc=self._delegate_doc(cls, attr_name))


class ReadWriteProperty(MotorAttributeFactory):
    """A PyMongo attribute that can also be set."""

    def create_attribute(self, cls: type, attr_name: str) -> property:
        def fget(self: Any) -> Any:
            return getattr(self.delegate, attr_name)

        def fset(self: Any, value: Any) -> None:
            setattr(self.delegate, attr_name, value)

        return property(fget, fset, doc=self._delegate_doc(cls, attr_name))


class MotorMeta(type):
    """Replaces attribute factories in a class body with real attributes."""

    def __new__(mcs, name: str, bases: tuple, namespace: dict) -> MotorMeta:
        cls = super().__new__(mcs, name, bases, namespace)
        for attr_name, value in namespace.items():
            if isinstance(value, MotorAttributeFactory):
                setattr(cls, attr_name, value.create_attribute(cls, attr_name))
        return cls
