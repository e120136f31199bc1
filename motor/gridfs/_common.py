"""Helpers shared by Motor's GridFS classes.

.. versionadded:: 4.0
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from motor.core.metaprogramming import callback_note, check_callback, unwrap_args

__all__ = ["check_motor_instance", "worker_method"]


def worker_method(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Make ``fn``, a blocking method of a Motor class, an asynchronous one.

    The public method runs ``fn(self, ...)`` in a worker and returns a Future,
    or takes a keyword-only ``callback(result, error)``, like every Motor I/O
    method. Motor arguments (sessions...) are replaced by their delegates.
    """

    def method(self: Any, *args: Any, callback: Any = None, **kwargs: Any) -> Any:
        check_callback(callback)
        args = unwrap_args(args, kwargs)
        return self._runtime.start(fn, (self, *args), kwargs, callback)

    method.__name__ = fn.__name__
    method.__qualname__ = fn.__qualname__
    method.__module__ = fn.__module__
    method.__doc__ = (fn.__doc__ or "").rstrip() + "\n" + callback_note
    # The documented signature: fn's, plus the keyword-only callback.
    signature = inspect.signature(fn)
    params = list(signature.parameters.values())
    callback_param = inspect.Parameter("callback", inspect.Parameter.KEYWORD_ONLY, default=None)
    if params and params[-1].kind is inspect.Parameter.VAR_KEYWORD:
        params.insert(len(params) - 1, callback_param)
    else:
        params.append(callback_param)
    method.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    method.motor_async = True  # type: ignore[attr-defined]
    return method


def check_motor_instance(owner: Any, value: Any, agnostic_name: str, what: str) -> None:
    """Raise TypeError unless ``value`` is ``owner``'s flavour of ``agnostic_name``."""
    expected = owner._motor_class(agnostic_name)
    if not isinstance(value, expected):
        raise TypeError(f"{what} must be a {expected.__name__}, not {value!r}")
