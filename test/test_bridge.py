"""The greenlet bridge itself: workers, conditions, sleeps, contexts, DNS."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import greenlet
import pytest

import motor
from motor.runtime.conditions import GreenletCondition
from motor.runtime.greenlets import LoopRuntime, current_worker
from motor.runtime.timing import sleep as worker_sleep
from test.motor_fixtures import Ticker


def runtime() -> LoopRuntime:
    return LoopRuntime.for_loop(asyncio.get_running_loop())


async def test_workers_are_reused_between_calls():
    rt = runtime()
    first = await rt.start(greenlet.getcurrent)
    second = await rt.start(greenlet.getcurrent)
    assert first is second
    assert first is not greenlet.getcurrent()


async def test_concurrent_calls_each_get_a_worker():
    rt = runtime()
    condition = GreenletCondition(threading.Lock())
    released = []

    def park():
        with condition:
            condition.wait(5)
        released.append(greenlet.getcurrent())

    futures = [rt.start(park) for _ in range(3)]
    await asyncio.sleep(0.05)
    with condition:
        condition.notify_all()
    await asyncio.gather(*futures)
    assert len(set(map(id, released))) == 3


async def test_worker_sleep_lets_the_loop_run():
    ticker = Ticker()
    started = time.monotonic()
    await runtime().start(worker_sleep, (0.2,))
    assert time.monotonic() - started >= 0.19
    assert ticker.stop() >= 5


async def test_condition_wait_times_out_without_blocking_the_loop():
    condition = GreenletCondition(threading.Lock())

    def wait_briefly():
        with condition:
            return condition.wait(0.15)

    ticker = Ticker()
    assert await runtime().start(wait_briefly) is False
    assert ticker.stop() >= 5
    assert not condition._waiters


async def test_condition_notify_from_another_thread_wakes_the_worker():
    lock = threading.Lock()
    condition = GreenletCondition(lock)

    def wait_for_notify():
        with condition:
            return condition.wait(10)

    future = runtime().start(wait_for_notify)

    def notify_later():
        time.sleep(0.05)
        with condition:
            condition.notify_all()

    threading.Thread(target=notify_later).start()
    assert await asyncio.wait_for(future, 5) is True


async def test_condition_lock_held_by_the_notifying_thread_does_not_block_the_loop():
    # PyMongo's monitor threads notify the topology's condition with its lock
    # held, and may keep it a while after: the woken worker must not wait for
    # it on the loop's thread.
    lock = threading.Lock()
    condition = GreenletCondition(lock)
    notified = threading.Event()

    def wait_for_notify():
        with condition:
            return condition.wait(10), lock.locked()

    future = runtime().start(wait_for_notify)

    def notify_and_hold():
        with condition:
            condition.notify_all()
            notified.set()
            time.sleep(0.3)  # still holding the lock

    ticker = Ticker()
    threading.Thread(target=notify_and_hold).start()
    woke, held = await asyncio.wait_for(future, 5)
    assert woke is True and held is True  # it came back with the lock
    assert notified.is_set()
    assert ticker.stop() >= 10  # the loop kept ticking the whole 0.3 s


async def test_condition_still_works_for_plain_threads():
    condition = GreenletCondition(threading.Lock())
    results = []

    def thread_waiter():
        with condition:
            results.append(condition.wait(5))

    thread = threading.Thread(target=thread_waiter)
    thread.start()
    while not condition._waiters:
        await asyncio.sleep(0.01)
    with condition:
        condition.notify()
    await asyncio.get_running_loop().run_in_executor(None, thread.join)
    assert results == [True]


async def test_context_variables_reach_the_worker():
    var: contextvars.ContextVar[str] = contextvars.ContextVar("motor_test_var")
    var.set("from the caller")
    assert await runtime().start(var.get) == "from the caller"


async def test_errors_reach_the_future_and_the_callback():
    rt = runtime()

    def fail():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await rt.start(fail)

    outcome = asyncio.get_running_loop().create_future()
    assert rt.start(fail, callback=lambda r, e: outcome.set_result((r, e))) is None
    result, error = await outcome
    assert result is None and isinstance(error, ValueError)


async def test_callback_runs_on_the_loop_not_in_the_worker():
    outcome = asyncio.get_running_loop().create_future()

    def callback(result, error):
        outcome.set_result(current_worker())

    runtime().start(lambda: 42, callback=callback)
    assert await outcome is None


async def test_srv_lookup_runs_off_the_loop(monkeypatch, uri):
    from pymongo.synchronous import srv_resolver

    from pymongo.uri_parser import parse_uri

    host, port = parse_uri(uri)["nodelist"][0]
    lookups = []

    def slow_hosts(self):
        lookups.append(threading.get_ident())
        time.sleep(0.2)  # a slow DNS server
        return [(host, int(port))]

    monkeypatch.setattr(srv_resolver._SrvResolver, "get_hosts", slow_hosts)
    monkeypatch.setattr(srv_resolver._SrvResolver, "get_options", lambda self: None)
    client = motor.MotorClient(
        "mongodb+srv://cluster.example.test/?tls=false&directConnection=false",
        serverSelectionTimeoutMS=5000,
    )
    ticker = Ticker()
    try:
        assert (await client.admin.command("ping"))["ok"] == 1
    finally:
        await client.close()
    assert ticker.stop() >= 5
    assert lookups and threading.get_ident() not in lookups


async def test_min_pool_size_connections_are_opened_on_the_loop(make_client):
    client = make_client(minPoolSize=3)
    await client.open()
    pool = next(iter(client.delegate._topology._servers.values())).pool
    deadline = time.monotonic() + 5
    while len(pool.conns) < 3 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert len(pool.conns) == 3
    # They are Motor's connections: IOStreams owned by the loop.
    assert all(type(conn.conn.get_conn).__name__ == "IOStreamSocket" for conn in pool.conns)


async def test_idle_connections_past_max_idle_time_are_pruned(make_client):
    client = make_client(maxIdleTimeMS=200)
    await asyncio.gather(*[client.admin.command("ping") for _ in range(5)])
    pool = next(iter(client.delegate._topology._servers.values())).pool
    assert len(pool.conns) >= 2
    deadline = time.monotonic() + 5
    while pool.conns and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not pool.conns


async def test_helper_threads_run_blocking_calls_off_the_loop(monkeypatch):
    from motor.runtime import threads

    # Starting a helper must not go through threading.Thread.start, which
    # waits for the new thread to run.
    def refuse_start(self):
        raise AssertionError("threading.Thread.start used on the loop thread")

    monkeypatch.setattr(threading.Thread, "start", refuse_start)
    loop = asyncio.get_running_loop()
    ran_on = await threads.submit(loop, threading.get_ident)
    assert ran_on != threading.get_ident()

    def fail():
        raise LookupError("no such host")

    with pytest.raises(LookupError, match="no such host"):
        await threads.submit(loop, fail)


async def test_host_names_are_resolved_off_the_loop(make_client, uri, monkeypatch):
    import socket

    from pymongo.uri_parser import parse_uri

    host, port = parse_uri(uri)["nodelist"][0]
    if host not in ("127.0.0.1", "localhost"):
        pytest.skip("the test server is not on this machine")
    lookups = []
    real_getaddrinfo = socket.getaddrinfo

    def slow_getaddrinfo(*args, **kwargs):
        lookups.append(threading.get_ident())
        time.sleep(0.2)  # a slow resolver
        return real_getaddrinfo(*args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)
    client = make_client(f"mongodb://localhost:{port}/?directConnection=true")
    ticker = Ticker()
    assert (await client.admin.command("ping"))["ok"] == 1
    assert ticker.stop() >= 5
    assert lookups and threading.get_ident() not in lookups
