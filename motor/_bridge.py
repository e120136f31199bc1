"""Installs Motor's hooks into PyMongo, once, when :mod:`motor` is imported.

Each hook changes behaviour only for Motor: the socket factory only for
connections a Motor pool opens, ``time.sleep`` and the encryption helpers'
blocking I/O only inside Motor's workers.
Every other PyMongo client in the process works as before.
"""

from motor.core import encryption
from motor.network import pool
from motor.runtime import timing


def install() -> None:
    pool.install()
    timing.install()
    encryption.install()
