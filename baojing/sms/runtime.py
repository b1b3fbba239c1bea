"""Carries stored messages out through the gateway, after the transaction that queued them has
committed, and retries failures with backoff until sms_max_attempts; a message that never got
through stays on the admin page as failed. Messages still pending at shutdown go at the next start
(a message being handed over as the process dies may go twice: at least once, never zero times)."""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..db import utcnow
from ..phone import mask_phone
from . import service
from .gateway import Gateway, GatewayError, make_gateway
from ..tasks import stop

log = logging.getLogger("baojing.sms")
BATCH = 200
# At most this many messages handed to the provider at the same time.
PARALLEL = 10


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("sms_queued", False) and (runtime := session.info.get("sms_runtime")):
        runtime.wake()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("sms_queued", None)


class SmsRuntime:
    def __init__(self, state, gateway: Gateway | None = None) -> None:
        self._state = state
        self._settings = state.settings
        self.gateway = gateway or make_gateway(self._settings)
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._closing = False
        # Every unit of work that queued a message wakes this sender once it has committed.
        state.sessions.configure(info={**state.sessions.kw.get("info", {}), "sms_runtime": self})

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        # Asked to end between rounds, not cancelled inside one: a SQLite write cut off mid-way
        # kept the database locked past the busy timeout for whoever wrote next (the audit's flush).
        self._closing = True
        self.wake()
        if self._task:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 10)
            except TimeoutError:
                await stop(self._task)
        await self.gateway.close()

    async def _run(self) -> None:
        while not self._closing:
            try:
                wait = await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not stop every future message
                log.exception("SMS delivery round failed")
                wait = 5.0
            if self._closing:
                break
            try:
                async with asyncio.timeout(wait):  # no inner task to outlive a cancel, as wait_for's can
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()

    async def deliver_due(self) -> float:
        """One round: send everything due; returns how long to sleep before the next retry is due."""
        while True:
            self._wake.clear()
            async with self._state.sessions() as s:
                rows = await service.due(s, utcnow(), BATCH)
                s.expunge_all()  # read-only copies for the attempts below (no expiry on close)
            if not rows:
                break
            gate = asyncio.Semaphore(PARALLEL)

            async def one(m):
                async with gate:
                    try:
                        provider_id = await self.gateway.send(m.phone, m.text)
                        error = None
                    except GatewayError as e:
                        provider_id, error = None, str(e)
                    except Exception as e:  # a bug in a gateway is still a failed attempt, not a lost message
                        log.exception("SMS gateway raised")
                        provider_id, error = None, f"{type(e).__name__}: {e}"[:300]
                    out = service.outcome(m, self.gateway.name, error, provider_id, self._settings)
                    if error:
                        level = logging.ERROR if out.get("status") == "failed" else logging.WARNING
                        log.log(level, "SMS %d to %s attempt %d failed: %s", m.id, mask_phone(m.phone),
                                out["attempts"], error)
                    return m.id, out

            results = await asyncio.gather(*(one(m) for m in rows))
            async with self._state.sessions() as s, s.begin():
                await service.record(s, results)
            if len(rows) < BATCH:
                break
        async with self._state.sessions() as s:
            nxt = await service.next_due_at(s)
            await s.rollback()
        if nxt is None:
            return 60.0
        return max(0.05, min(60.0, (nxt - utcnow()) / timedelta(seconds=1)))
