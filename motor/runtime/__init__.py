"""Motor's greenlet runtime: workers on the loop thread, and ways for them to wait.

- :mod:`motor.runtime.greenlets`: pooled child greenlets, Futures, callbacks.
- :mod:`motor.runtime.conditions`: a condition variable that parks workers.
- :mod:`motor.runtime.timing`: sleeping and waiting on futures inside a worker.
- :mod:`motor.runtime.periodic`: PyMongo's periodic maintenance, on the loop.
"""
