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
