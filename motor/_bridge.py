"""Installs Motor's hooks into PyMongo, once, when :mod:`motor` is imported.

Both hooks change behaviour only for Motor: the socket factory only for
connections a Motor pool opens, ``time.sleep`` only inside Motor's workers.
Every other PyMongo client in the process works as before.
"""

from motor.network import pool
from motor.runtime import timing


def install() -> None:
    pool.install()
    timing.install()
