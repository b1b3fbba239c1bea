"""Requests first: alarms (and every other request) before telemetry, at the database and on the
event loop.

SQLite has one writer, and its one pooled connection is handed out first come, first served
(db.py); the event loop runs ready callbacks first come, first served too. Position reports used to
queue in both like any request: an alarm waited behind AVL flush slices for the connection, and each
of its round trips to the database thread waited behind a loop iteration full of unit sockets'
fixes (bench/README.md, "Alarms first"). Now the work that can wait asks for its turn first: each
slice of the AVL flush, the audit flush, and each position message from a unit's socket. A turn
comes when no request holds or waits for a session. Waiters are let go a batch per loop iteration,
so thousands of paused sockets do not all land in one iteration in front of the next alarm's
callbacks; a paused socket is not read (uvicorn reads the next message only when the app asks), so
TCP slows its phone down too. Patience bounds every wait: under requests without a gap, a waiter
goes after `patience_s`, still a batch per loop iteration between the requests' steps: telemetry
is delayed, it never starves."""
from __future__ import annotations

import asyncio
from collections import deque
from contextlib import asynccontextmanager
from typing import AsyncIterator


class RequestsFirst:
    def __init__(self, patience_s: float = 1.0, batch: int = 32):
        self.patience_s = patience_s
        self.batch = batch
        self.requests = 0  # requests holding or waiting for a session
        # (future, deadline) first come first served; one timer for all of them, not one each
        # (a timer per waiting socket cost a seventh of the loop in the AVL profile).
        self._waiters: deque[tuple[asyncio.Future, float]] = deque()
        self._timer: asyncio.Handle | None = None

    @asynccontextmanager
    async def request(self) -> AsyncIterator[None]:
        """Around a request's unit of work, from before it asks for a connection until it let go."""
        self.requests += 1
        try:
            yield
        finally:
            self.requests -= 1
            if not self.requests:
                self._release()

    async def turn(self) -> None:
        """Before work that can wait: returns when no request is in flight and the waiters before
        this one have gone, or once it has waited patience_s (then still a batch at a time)."""
        if not self.requests and not self._waiters:
            return
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiters.append((waiter, loop.time() + self.patience_s))
        if self._timer is None:
            self._timer = loop.call_soon(self._release) if not self.requests else \
                loop.call_at(self._waiters[0][1], self._release)
        await waiter

    def _release(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        loop = asyncio.get_running_loop()
        now, woken = loop.time(), 0
        while self._waiters and woken < self.batch and (not self.requests or self._waiters[0][1] <= now):
            waiter, _ = self._waiters.popleft()
            if not waiter.done():  # not cancelled meanwhile (its socket closed)
                waiter.set_result(None)
                woken += 1
        if self._waiters:
            # The next batch after this one's turn on the loop; while requests are in flight, at
            # the next waiter's deadline.
            ready = not self.requests or self._waiters[0][1] <= now
            self._timer = loop.call_soon(self._release) if ready else loop.call_at(self._waiters[0][1], self._release)
