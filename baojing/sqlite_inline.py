"""SQLite on the event loop's own thread, for the one pooled connection (db.py).

aiosqlite runs each call of a statement (cursor, execute, fetch, close) on a worker thread and
hands the answer back through the event loop: an alarm's ten statements were some forty hops,
each waiting for the loop to finish whatever else it was doing. Under load that, not SQLite,
set the pace of the only connection: requests queued for it with the server's core 17 % idle
(bench/README.md, "Intake: the statements on the loop's thread"). SQLite in WAL mode answers a
statement here in microseconds and never fsyncs at commit (synchronous=NORMAL), so the statements
now run where their request runs, with no hop, as the same aiosqlite objects SQLAlchemy expects.

The one thing that could block the loop is another process's write lock (a backup, a batch
command): SQLite's own busy handler would sleep inside the call. So the connection's
busy_timeout is 0 and a "database is locked" answer is retried here with asyncio.sleep until
`busy_s`, then raised (the request is answered 503, errors.py)."""
from __future__ import annotations

import asyncio
import sqlite3
from functools import partial
from typing import Any

import aiosqlite

# The wait between two tries grows to this: a lock held by a batch command lasts tens of ms.
MAX_BACKOFF_S = 0.05
BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class _RunNow:
    """Stands in for aiosqlite's queue to its worker thread: runs each call as it is queued."""

    @staticmethod
    def put_nowait(item) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as e:  # noqa: B036 - handed to the awaiting caller, as aiosqlite does
            if future is not None and not future.done():
                future.set_exception(e)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    def __init__(self, connector, busy_s: float):
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunNow()
        self.busy_s = busy_s

    def __await__(self):
        return self._connect().__await__()  # no worker thread to start

    async def _execute(self, fn, *args, **kwargs):
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        call = partial(fn, *args, **kwargs)
        loop = asyncio.get_running_loop()
        deadline, backoff = None, 0.001
        while True:
            try:
                return call()
            except sqlite3.OperationalError as e:
                # Nothing was done by a call SQLite refused for a lock: trying it again is safe.
                if getattr(e, "sqlite_errorcode", None) not in BUSY:
                    raise
                now = loop.time()
                deadline = deadline or now + self.busy_s
                if now >= deadline:
                    raise
                await asyncio.sleep(min(backoff, deadline - now))
                backoff = min(backoff * 2, MAX_BACKOFF_S)


def connect(path: str, busy_s: float, **kwargs: Any) -> InlineConnection:
    """Like aiosqlite.connect, on the calling thread. busy_timeout stays 0 (see above)."""
    return InlineConnection(partial(sqlite3.connect, path, timeout=0, **kwargs), busy_s)
