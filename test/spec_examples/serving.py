"""Talk to a Tornado application that an example serves with ``IOLoop.instance().start()``.

The spec's web examples end by starting the IOLoop, which runs until someone
stops it. :class:`WhileServing` schedules the test's HTTP requests on that
same loop before the example starts it, and stops the loop when they are
done (or after a timeout)::

    visit = WhileServing(io_loop, requests)     # requests: async def (base_url)
    tornado.ioloop.IOLoop.instance().start()    # the example's last line
    pages = visit.result()
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from tornado.httpclient import AsyncHTTPClient


class WhileServing:
    def __init__(
        self,
        io_loop: Any,
        port: int,
        requests: Callable[[AsyncHTTPClient, str], Awaitable[Any]],
        timeout: float = 30.0,
    ) -> None:
        self._io_loop = io_loop
        self._outcome: dict = {}
        self._timer = io_loop.call_later(timeout, self._time_out)
        base_url = f"http://127.0.0.1:{port}"

        async def run() -> None:
            http = AsyncHTTPClient(force_instance=True)
            try:
                self._outcome["result"] = await requests(http, base_url)
            except BaseException as exc:  # reported by result()
                self._outcome["error"] = exc
            finally:
                http.close()
                io_loop.stop()

        io_loop.add_callback(run)

    def _time_out(self) -> None:
        self._outcome.setdefault("error", TimeoutError("the example's requests did not finish"))
        self._io_loop.stop()

    def result(self) -> Any:
        """What the requests returned, once the example's ``start()`` has returned."""
        self._io_loop.remove_timeout(self._timer)
        if "error" in self._outcome:
            raise self._outcome["error"]
        if "result" not in self._outcome:
            raise RuntimeError("the IOLoop stopped before the example's requests finished")
        return self._outcome["result"]
