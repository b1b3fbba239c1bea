"""Requests first (baojing/priority.py): work that can wait goes after the requests in flight, a
batch per loop iteration, and never waits longer than its patience."""
import asyncio

from baojing.priority import RequestsFirst


async def test_waiters_go_after_the_requests_a_batch_per_loop_iteration():
    priority = RequestsFirst(patience_s=60, batch=3)
    done: list[int] = []

    async def telemetry(i: int):
        await priority.turn()
        done.append(i)

    async with priority.request():
        tasks = [asyncio.create_task(telemetry(i)) for i in range(7)]
        for _ in range(5):
            await asyncio.sleep(0)
        assert done == []  # nothing while a request is in flight
    rounds = []
    while len(done) < 7:
        await asyncio.sleep(0)
        rounds.append(len(done))
    assert done == list(range(7))  # first come, first served
    assert all(b - a <= 3 for a, b in zip([0, *rounds], rounds))  # never more than a batch at once
    await asyncio.gather(*tasks)


async def test_with_no_request_in_flight_a_turn_is_immediate_and_patience_bounds_the_wait():
    priority = RequestsFirst(patience_s=0.01)
    await priority.turn()
    async with priority.request():
        await priority.turn()  # returns after patience, though the request is still in flight
        assert priority.requests == 1


async def test_an_upload_body_is_read_after_the_requests_in_flight_and_a_small_body_at_once():
    """An upload's megabytes do not share the event loop with an alarm's transaction
    (baojing/media/api.py UploadBodyLimit): each read of its body waits for the requests in flight,
    at most UPLOAD_YIELD_S; any other route's body is read at once."""
    from types import SimpleNamespace

    from baojing.media.api import UPLOAD_YIELD_S, UploadBodyLimit

    priority = RequestsFirst(patience_s=60)
    read: list[str] = []

    async def app(scope, receive, send):
        await receive()
        read.append(scope["path"])

    async def receive():
        return {"type": "http.request", "body": b"x", "more_body": False}

    limit = UploadBodyLimit(app, max_bytes=1024)
    state = SimpleNamespace(state=SimpleNamespace(priority=priority))

    def call(path: str):
        return asyncio.create_task(limit({"type": "http", "path": path, "headers": [], "app": state}, receive, None))

    async with priority.request():
        upload, alarm = call("/api/calls/1/attachments"), call("/api/alarms")
        await asyncio.sleep(UPLOAD_YIELD_S / 5)
        assert read == ["/api/alarms"]  # the alarm's body at once, the upload's not yet
    await asyncio.wait_for(asyncio.gather(upload, alarm), 1)
    assert read == ["/api/alarms", "/api/calls/1/attachments"]

    async with priority.request():  # a request that never ends: the upload still moves
        started = asyncio.get_running_loop().time()
        await asyncio.wait_for(call("/api/calls/2/attachments"), 1)
        assert asyncio.get_running_loop().time() - started < UPLOAD_YIELD_S * 3
