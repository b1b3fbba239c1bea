"""Whether the database answers, so that while it does not every request is answered 503 at once.

Without it each request during a partition waits out its own timeouts (a stale pooled connection's
ping, then a new connection) before it fails. The first request that loses the database trips the
watch (errors.py); from then on requests that need the database are refused before they touch the
pool, and a probe asks the database every half second until it answers again."""
from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import text

from .errors import Unavailable

log = logging.getLogger(__name__)


class DatabaseWatch:
    def __init__(self, state, probe_every_s: float = 0.5):
        self.state = state  # its engine: read at each probe
        self.probe_every_s = probe_every_s
        self.down_since: float | None = None
        self.trips = 0
        self._probe: asyncio.Task | None = None

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def check(self) -> None:
        """Raise Unavailable (503 + Retry-After) while the database is known to be gone."""
        if self.down_since is not None:
            raise Unavailable()

    def failed(self, exc: BaseException | None = None) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
            self.trips += 1
            log.error("database unreachable (%s): answering 503 until it is back", type(exc).__name__ if exc else "?")
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._wait_for_return())

    async def ping(self) -> bool:
        """SELECT 1, bounded by the engine's connect and command timeouts."""
        try:
            async with self.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def _wait_for_return(self) -> None:
        while not await self.ping():
            await asyncio.sleep(self.probe_every_s)
        if self.down_since is not None:
            log.warning("database answers again after %.1f s", time.monotonic() - self.down_since)
        self.down_since = None

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
