"""Shutdown leaves nothing running: every background task of the app has ended when its lifespan
does. A task only cancelled may still be inside a database call (a cancelled aiosqlite call
closes its connection on the way out) when the engine is disposed, and left pending it hung the
test run's event loop for good (twice in full runs)."""
import asyncio

from baojing import live
from baojing.app import create_app


async def test_the_lifespan_waits_for_a_task_cancelled_inside_a_database_call(settings, monkeypatch):
    inside = asyncio.Event()

    async def a_call_that_finishes_its_close(self, conns=None):
        inside.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(0.5)  # closing its connection on the way out, as a cancelled aiosqlite call does
            raise

    monkeypatch.setattr(live.Hub, "revalidate", a_call_that_finishes_its_close)
    before = asyncio.all_tasks()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(inside.wait(), 5)  # the sockets' check is in its "database call"
    left = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert left == [], [t.get_coro() for t in left]
