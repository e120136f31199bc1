"""The fault matrix: Motor under faults, load and bad input (doc/reliability.rst).

One module per row of the matrix; each test fails when the row's guarantee
is broken. Rows 1-9 run against a real SecantusDB that the tests kill -9,
restart on the same port and storage, inject failpoints into and start with
``--auth``; row 10 (several servers) uses mockupdb, because SecantusDB is a
one-member replica set.

Rows that compare with Motor 3.7.1 run a scenario script from this package
under ``.venv-motor3/bin/python`` in a subprocess when that virtualenv exists.
"""
