"""The bridge's fast paths: queued calls beyond the worker limit, direct sockets."""

from __future__ import annotations

import asyncio
import contextvars
import socket
import threading

import pytest

from motor.network.iostream_socket import IOStreamSocket, _MotorIOStream
from motor.runtime import greenlets
from motor.runtime.greenlets import LoopRuntime
from motor.runtime.timing import sleep as worker_sleep
from motor.runtime.timing import wait_for_future

VAR: contextvars.ContextVar[int] = contextvars.ContextVar("motor_fast_path_var", default=-1)


def runtime() -> LoopRuntime:
    return LoopRuntime.for_loop(asyncio.get_running_loop())


async def test_calls_beyond_the_worker_limit_queue_and_keep_their_context(monkeypatch):
    monkeypatch.setattr(greenlets, "MAX_ACTIVE_WORKERS", 3)
    rt = runtime()
    started = []

    def call(i):
        started.append(i)
        worker_sleep(0.01)
        return i, VAR.get()

    futures = []
    for i in range(20):
        VAR.set(i)
        futures.append(rt.start(call, (i,)))
    assert len(started) == 3  # the others wait in the queue, not in greenlets
    assert len(rt._queue) == 17
    results = await asyncio.gather(*futures)
    assert results == [(i, i) for i in range(20)]
    assert started == list(range(20))  # first come, first served
    assert rt._active == 0 and not rt._queue


async def test_a_queued_call_cancelled_before_it_starts_never_runs(monkeypatch):
    monkeypatch.setattr(greenlets, "MAX_ACTIVE_WORKERS", 1)
    rt = runtime()
    ran = []
    first = rt.start(lambda: worker_sleep(0.05) or ran.append("first"))
    second = rt.start(lambda: ran.append("second"))
    third = rt.start(lambda: ran.append("third"))
    second.cancel()
    await first
    await third
    assert ran == ["first", "third"]


async def test_a_worker_waiting_on_the_loop_does_not_hold_a_slot(monkeypatch):
    # An upload whose source is another Motor call: the outer call waits for
    # a Future that only a queued call can complete.
    monkeypatch.setattr(greenlets, "MAX_ACTIVE_WORKERS", 1)
    rt = runtime()

    def outer():
        inner = rt.loop.create_future()
        rt.loop.call_soon(lambda: asyncio.ensure_future(
            _chain(rt.start(lambda: "from the queued call"), inner)))
        return wait_for_future(inner)

    assert await asyncio.wait_for(rt.start(outer), 5) == "from the queued call"
    assert rt._active == 0


def _record_calls(monkeypatch, method: str) -> list:
    """Record the owners passed to ``LoopRuntime.<method>``, which still runs."""
    calls: list = []
    original = getattr(LoopRuntime, method)

    def recording(self, owner):
        calls.append(owner)
        original(self, owner)

    monkeypatch.setattr(LoopRuntime, method, recording)
    return calls


async def _chain(source, target):
    target.set_result(await source)


def _direct_sockets(client) -> list[IOStreamSocket]:
    pools = [server.pool for server in client.delegate._topology._servers.values()]
    return [conn.conn.get_conn for pool in pools for conn in pool.conns]


async def test_plain_connections_use_the_direct_path(make_client):
    client = make_client()
    await asyncio.gather(*[client.admin.command("ping") for _ in range(3)])
    sockets = _direct_sockets(client)
    assert sockets and all(s._direct for s in sockets)


async def test_replies_larger_than_the_read_buffer(make_client, db_name):
    client = make_client()
    coll = client[db_name]["big_replies"]
    big = "x" * 300_000
    await coll.insert_many([{"_id": i, "s": big} for i in range(4)])
    docs = await coll.find().sort("_id").to_list(None)
    assert [d["_id"] for d in docs] == [0, 1, 2, 3]
    assert all(d["s"] == big for d in docs)
    # Many small replies after a large one, on the same connections.
    assert await asyncio.gather(*[coll.find_one({"_id": i % 4}, {"_id": 1})
                                  for i in range(50)]) == [{"_id": i % 4} for i in range(50)]


async def test_many_large_replies_at_once_are_all_read(make_client, db_name, monkeypatch):
    # More reply bytes at once than BURST_BYTES: some wakes are put off to
    # later passes of the loop, none is lost.
    client = make_client()
    coll = client[db_name]["bursts"]
    await coll.insert_many([{"_id": i, "s": "y" * 40_000} for i in range(20)])
    rt = client._runtime
    deferred = _record_calls(monkeypatch, "defer_wake")

    async def read_all():
        return [d["_id"] async for d in coll.find().sort("_id")]

    results = await asyncio.gather(*[read_all() for _ in range(30)])
    assert results == [list(range(20))] * 30
    assert deferred  # the burst control was used...
    assert not rt.deferred_wakes  # ...and every wake it put off happened


async def test_closing_a_socket_from_another_thread_wakes_its_waiting_worker(make_client):
    client = make_client(maxPoolSize=1)
    await client.admin.command("ping")
    sock = _direct_sockets(client)[0]
    rt = client._runtime

    def wait_for_a_reply_that_never_comes():
        sock.settimeout(None)
        return sock.recv_into(memoryview(bytearray(16)))

    future = rt.start(wait_for_a_reply_that_never_comes)
    await asyncio.sleep(0.05)
    assert not future.done()
    closer = threading.Thread(target=sock.close)
    closer.start()
    closer.join()
    with pytest.raises(OSError):
        await asyncio.wait_for(future, 5)


async def test_replies_beyond_the_wake_batch_are_read_off_and_all_delivered(
        make_client, db_name, monkeypatch):
    # With a wake batch of 0 every reply is put off to a later pass: the
    # loop reads it off the socket first, the worker finds it read ahead.
    from motor.network import iostream_socket

    client = make_client()
    coll = client[db_name]["wake_batch"]
    await coll.insert_many([{"_id": i, "n": i * i} for i in range(10)])
    monkeypatch.setattr(greenlets, "WAKE_BATCH", 0)
    monkeypatch.setattr(iostream_socket, "WAKE_BATCH", 0)
    deferred = _record_calls(monkeypatch, "defer_wake")
    found = await asyncio.gather(*[coll.find_one({"_id": i % 10}) for i in range(60)])
    assert found == [{"_id": i % 10, "n": (i % 10) ** 2} for i in range(60)]
    assert len(deferred) >= 60  # every reply went through a deferred wake
    assert not client._runtime.deferred_wakes


async def test_requests_of_concurrent_calls_are_sent_together(make_client, db_name, monkeypatch):
    client = make_client()
    coll = client[db_name]["coalesced"]
    await coll.insert_one({"_id": "warm"})
    queued = _record_calls(monkeypatch, "queue_send")
    await asyncio.gather(*[coll.insert_one({"_id": i}) for i in range(40)])
    assert queued  # requests waited for the flush...
    assert not client._runtime._sends  # ...and every one went out
    assert await coll.count_documents({"_id": {"$type": "int"}}) == 40

    # A lone call sends at once.
    queued.clear()
    assert await coll.find_one({"_id": 7}) == {"_id": 7}
    assert not queued


async def test_queued_unacknowledged_writes_keep_their_order_and_survive_close(
        make_client, db_name):
    # While a ping is under way, unacknowledged writes on the other
    # connection queue behind each other for the same flush: they reach the
    # server in order, even when the client is closed right after.
    client = make_client(maxPoolSize=2, w=0)
    coll = client[db_name]["unacknowledged"]
    await asyncio.gather(*[client.admin.command("ping") for _ in range(2)])
    await asyncio.gather(
        client.admin.command("ping"),
        *[coll.update_one({"_id": 1}, {"$push": {"seq": i}}, upsert=True) for i in range(25)])
    client.close()
    checker = make_client()
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        doc = await checker[db_name]["unacknowledged"].find_one({"_id": 1})
        if (doc and len(doc["seq"]) == 25) or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.05)
    assert doc["seq"] == list(range(25))


async def _direct_pair(rcvbuf: int | None = None):
    """A direct IOStreamSocket connected to a plain socket the test reads."""
    loop = asyncio.get_running_loop()
    listener = socket.socket()
    if rcvbuf is not None:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    accepting = asyncio.ensure_future(loop.sock_accept(listener))
    stream = _MotorIOStream(socket.socket())
    await stream.connect(listener.getsockname())
    peer, _ = await accepting
    listener.close()
    sock = IOStreamSocket(stream, None, loop, runtime())
    assert sock._direct
    return sock, peer


async def test_a_queued_request_larger_than_the_kernel_takes_at_once_goes_out_whole():
    loop = asyncio.get_running_loop()
    sock, peer = await _direct_pair(rcvbuf=4096)
    sock._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    rt = runtime()
    chunks = [bytes([i]) * 16_384 for i in range(40)]
    sleeper = rt.start(worker_sleep, (0.3,))  # another call under way: sends queue

    def send_all():
        for chunk in chunks:
            sock.sendall(chunk)
        return sock._unsent is not None

    try:
        assert await rt.start(send_all)  # queued behind each other for the flush
        await asyncio.sleep(0.05)
        assert sock._unsent is not None  # the kernel took only part of it
        received = bytearray()
        while len(received) < len(chunks) * 16_384:
            data = await asyncio.wait_for(loop.sock_recv(peer, 65536), 5)
            assert data
            received += data
        assert bytes(received) == b"".join(chunks)
        assert sock._unsent is None
    finally:
        await sleeper
        sock.close()
        peer.close()


async def test_a_queued_request_that_cannot_be_sent_fails_the_call_awaiting_its_reply():
    sock, peer = await _direct_pair()
    rt = runtime()
    sleeper = rt.start(worker_sleep, (0.3,))  # another call under way: sends queue

    def request_and_reply():
        sock._sock.shutdown(socket.SHUT_WR)  # from now on a send fails (EPIPE)
        sock.sendall(b"x" * 100)  # queued for the flush
        return sock.recv_into(memoryview(bytearray(16)))

    try:
        with pytest.raises(BrokenPipeError):
            await asyncio.wait_for(rt.start(request_and_reply), 5)
    finally:
        await sleeper
        sock.close()
        peer.close()


async def test_a_queued_request_is_copied_so_the_caller_may_reuse_its_buffer():
    loop = asyncio.get_running_loop()
    sock, peer = await _direct_pair()
    rt = runtime()
    sleeper = rt.start(worker_sleep, (0.3,))  # another call under way: sends queue

    def send_then_reuse():
        buffer = bytearray(b"request")
        sock.sendall(buffer)
        buffer[:] = b"garbage"
        return sock._unsent is not None

    try:
        assert await rt.start(send_then_reuse)
        assert await asyncio.wait_for(loop.sock_recv(peer, 100), 5) == b"request"
    finally:
        await sleeper
        sock.close()
        peer.close()
