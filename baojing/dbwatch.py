"""Whether the database answers, so that while it does not every request is answered 503 at once.

Without it each request during a partition waits out its own timeouts (a stale pooled connection's
ping, then a new connection) before it fails. The first request that loses the database trips the
watch (errors.py); from then on requests that need the database are refused before they touch the
pool, and a probe asks the database every half second until it answers again.

A request already in a statement when the packets stop would wait for the statement timeout (10 s,
long on purpose: a burst of alarms queues on a lock). So the watch also keeps the PostgreSQL
statements in flight: one running longer than `stall_s` makes it probe on a connection of its own,
and a probe that gets no answer within the connect timeout means the database is gone, not busy: the
watch trips and cuts the connections in flight, whose requests are then answered 503 (about 2 s
after the packets stopped). A slow statement on a database that answers the probe is left alone."""
from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import event, text

from .db import make_probe_engine
from .errors import Unavailable
from .tasks import stop

log = logging.getLogger(__name__)


class DatabaseWatch:
    def __init__(self, state, probe_every_s: float = 0.5, stall_s: float = 0.5, probe_timeout_s: float = 1.5):
        self.state = state  # its engine: read at each probe
        self.probe_every_s = probe_every_s
        self.stall_s = stall_s
        self.down_since: float | None = None
        self.trips = 0
        self.cut = 0  # statements cut in flight when the database was found gone
        self._probe: asyncio.Task | None = None
        self._stalls: asyncio.Task | None = None
        self._probe_engine = self._probe_of = None
        self._probe_timeout_s = probe_timeout_s
        # id(DBAPI connection) -> (when its statement started, the connection)
        self._running: dict[int, tuple[float, object]] = {}

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def check(self) -> None:
        """Raise Unavailable (503 + Retry-After) while the database is known to be gone."""
        if self.down_since is not None:
            raise Unavailable()

    def follow(self, engine) -> None:
        """Watch this engine's statements in flight (PostgreSQL; SQLite has no network to lose)."""
        if self._probe_target() is engine:
            return  # SQLite
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._started)
        event.listen(sync, "after_cursor_execute", self._ended)
        event.listen(sync, "handle_error", self._failed_statement)
        event.listen(sync.pool, "checkin", self._checked_in)
        event.listen(sync.pool, "close", self._checked_in)
        # Once the watch has tripped, a request that got past check() does not spend the connect
        # timeout on a new connection either.
        event.listen(sync, "do_connect", self._refuse_while_down)
        self._stalls = asyncio.create_task(self._watch_stalls())

    def _started(self, conn, _cursor, _statement, _params, _context, _many) -> None:
        dbapi = conn.connection.dbapi_connection
        self._running[id(dbapi)] = (time.monotonic(), dbapi)

    def _ended(self, conn, *_a) -> None:
        self._running.pop(id(conn.connection.dbapi_connection), None)

    def _failed_statement(self, ctx) -> None:
        # Forget it now rather than at check-in; never raise here (it would replace the error).
        try:
            self._running.pop(id(ctx.connection.connection.dbapi_connection), None)
        except Exception:
            pass

    def _checked_in(self, dbapi, _record) -> None:
        self._running.pop(id(dbapi), None)  # also after a statement that failed

    def _refuse_while_down(self, *_a) -> None:
        self.check()

    def failed(self, exc: BaseException | None = None) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
            self.trips += 1
            log.error("database unreachable (%s): answering 503 until it is back", type(exc).__name__ if exc else "?")
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._wait_for_return())

    def lost(self, exc: BaseException | None = None) -> None:
        """A probe got no answer: trip, and cut the statements in flight, which no answer will reach."""
        self.failed(exc)
        running, self._running = list(self._running.values()), {}
        for _since, dbapi in running:
            try:
                self.state.engine.dialect.do_terminate(dbapi)
                self.cut += 1
            except Exception:  # already closed
                pass
        if running:
            log.error("cut %d statements in flight: the database does not answer", len(running))

    async def ping(self) -> bool:
        """SELECT 1, bounded by the connect timeout: on PostgreSQL over the probe's own connection,
        so that neither a full pool nor a stale pooled connection delays the answer."""
        engine = self._probe_target()
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            if engine is self._probe_engine:
                await engine.dispose()  # the next probe connects afresh
            return False

    def _probe_target(self):
        """The probe's engine, made for whichever engine the app has now."""
        engine = self.state.engine
        if self._probe_of is not engine:
            self._probe_of = engine
            self._probe_engine = make_probe_engine(engine.url.render_as_string(hide_password=False),
                                                   self._probe_timeout_s)
        return self._probe_engine or engine

    async def _watch_stalls(self) -> None:
        while True:
            await asyncio.sleep(min(0.1, self.stall_s / 2))
            if self.down_since is not None or not self._running:
                continue
            oldest = min(since for since, _ in self._running.values())
            if time.monotonic() - oldest > self.stall_s and not await self.ping():
                self.lost(TimeoutError("a statement stalled and a fresh connection got no answer"))

    async def _wait_for_return(self) -> None:
        while not await self.ping():
            if self._running:
                self.lost()
            await asyncio.sleep(self.probe_every_s)
        if self.down_since is not None:
            log.warning("database answers again after %.1f s", time.monotonic() - self.down_since)
        self.down_since = None

    async def close(self) -> None:
        await stop(self._probe, self._stalls)
        if self._probe_engine is not None:
            await self._probe_engine.dispose()
