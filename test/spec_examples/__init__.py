"""Helpers for ``test/test_spec_examples.py``, which runs every code example of
Motor's documentation (``../shared/spec/motor-docs.txt``) as written.

- :mod:`.doctests` runs the spec's ``>>>`` sessions with the standard library's
  doctest machinery, checking their printed output.
- :mod:`.tornado6` stands in for the two Tornado APIs the examples use that
  Tornado 6 removed: ``@tornado.web.asynchronous`` and ``gen.Task``.
- :mod:`.serving` drives a Tornado application that an example started with
  ``IOLoop.instance().start()``: HTTP requests on the same loop, then stop.
- ``forked_app.py`` is the pre-forking start-up sequence of the tutorial, run
  as a script (``HTTPServer.start(0)`` forks, which pytest's process cannot).
"""
