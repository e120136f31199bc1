"""Motor 3's ``motor.motor_common`` module, for code that imports from it.

Motor 3 kept one name here: :data:`callback_type_error`, the TypeError it
raised for a ``callback`` that is not callable. Motor raises its own
TypeError for that, naming the value it was given::

    try:
        collection.find_one({}, callback="not callable")
    except TypeError as exc:
        print(exc)   # callback must be a callable taking (result, error), not 'not callable'

.. versionadded:: 4.0
"""

__all__ = ["callback_type_error"]

#: Motor 3's error for a callback that is not callable (kept for imports).
callback_type_error = TypeError("callback must be a callable")
