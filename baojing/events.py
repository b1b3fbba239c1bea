"""The event log and the bus.

Every state change writes an Event row in the same transaction as the change; its `seq` is
allocated in commit order, so a reader that has seen `seq` N has seen everything before it.
SQLite gets that from BEGIN IMMEDIATE (one writer at a time); PostgreSQL from a transaction-level
advisory lock taken before the row is inserted and held until commit. After commit the session
owner publishes the events on the bus; the bus only wakes listeners up, the table is the truth.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Awaitable, Callable, Protocol

from pydantic_core import to_jsonable_python
from sqlalchemy import JSON, BigInteger, Index, Integer, String, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, UTCDateTime, utcnow

SEQ_LOCK_KEY = 110_110
# Two-key advisory locks (namespace, hashtext(key)); namespace 0 would overlap SEQ_LOCK_KEY's bigint form.
KEY_LOCK_NS = 110_111
STAFF = "staff"
DEVICE = "device"
UNIT = "unit"
USER = "user"
TRAFFIC = "traffic"  # the traffic desk (role traffic_officer)


class Event(Base):
    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    name: Mapped[str] = mapped_column(String(64))
    # Who may receive it: STAFF (console roles), DEVICE (the caller owning device_id), UNIT (the
    # officers of unit_id), USER (one account, user_id) or TRAFFIC (the traffic desk).
    scope: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[int | None] = mapped_column(Integer)
    unit_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer)
    incident_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str | None] = mapped_column(String(80))
    # The step in an incident's life this records (received, claimed, ...), for its timeline.
    action: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[dict] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_events_scope_seq", "scope", "seq"),
        Index("ix_events_device_seq", "device_id", "seq"),
        Index("ix_events_unit_seq", "unit_id", "seq"),
        Index("ix_events_user_seq", "user_id", "seq"),
        Index("ix_events_incident_seq", "incident_id", "seq"),
        # Never reuse a sequence number, even after the newest row is deleted.
        {"sqlite_autoincrement": True},
    )


@dataclass(frozen=True)
class Published:
    seq: int
    name: str
    scope: str
    device_id: int | None
    incident_id: int | None
    data: dict
    unit_id: int | None = None
    user_id: int | None = None

    @classmethod
    def of(cls, e: Event) -> "Published":
        return cls(e.seq, e.name, e.scope, e.device_id, e.incident_id, e.data, e.unit_id, e.user_id)


async def emit(
    session: AsyncSession,
    name: str,
    data: dict,
    *,
    scope: str = STAFF,
    device_id: int | None = None,
    incident_id: int | None = None,
    unit_id: int | None = None,
    user_id: int | None = None,
    actor: str | None = None,
    action: str | None = None,
) -> Event:
    await lock_sequence(session)
    # Serialised as the HTTP responses are, so an event's data is exactly what the API returns.
    ev = Event(name=name, scope=scope, device_id=device_id, incident_id=incident_id, unit_id=unit_id,
               user_id=user_id, actor=actor,
               action=action, data=to_jsonable_python(data))
    # Written with the transaction's next flush (at the latest its commit), in the order emitted:
    # the events of one request go in one INSERT instead of a round trip each.
    session.add(ev)
    session.info.setdefault("pending_events", []).append(ev)
    return ev


async def lock_sequence(session: AsyncSession) -> None:
    """Serialise writers that emit events (a no-op wait on SQLite, which is serial already).

    Taken before any read that decides a write, it also settles races between them (alarm intake,
    the busiest writer, takes lock_key instead and this one only with its first event)."""
    if not session.info.get("seq_locked"):
        if session.bind.dialect.name == "postgresql":
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEQ_LOCK_KEY})
        session.info["seq_locked"] = True


async def lock_key(session: AsyncSession, key: str) -> None:
    """Serialise the transactions about one thing (two retries of one alarm racing each other)
    without serialising every writer: on PostgreSQL a transaction-level advisory lock on the key's
    hash, in a namespace of its own; a no-op on SQLite, which is serial already. The sequence lock
    is then taken only when the transaction emits its first event, so the reads and inserts before
    it overlap with other writers' (bench/README.md, PostgreSQL)."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:ns, hashtext(:k))"), {"ns": KEY_LOCK_NS, "k": key})


def take_pending(session: AsyncSession) -> list[Published]:
    """Hand over the events of a committed transaction (and forget those of a rolled back one)."""
    session.info.pop("seq_locked", None)
    return [Published.of(e) for e in session.info.pop("pending_events", [])]


def forget_pending(session: AsyncSession) -> None:
    """A rolled back transaction's events vanish with it."""
    session.info.pop("seq_locked", None)
    session.info.pop("pending_events", None)


async def last_seq(session: AsyncSession) -> int:
    return (await session.scalar(select(Event.seq).order_by(Event.seq.desc()).limit(1))) or 0


async def events_after(session: AsyncSession, since: int, *, limit: int, audience=None) -> list[Published]:
    """Committed events after `since`, oldest first; `audience` narrows them to one reader's."""
    q = select(Event).where(Event.seq > since).order_by(Event.seq).limit(limit)
    if audience is not None:
        q = q.where(audience)
    return [Published.of(e) for e in (await session.scalars(q)).all()]


Listener = Callable[[Published], Awaitable[None]]


class Bus(Protocol):
    async def publish(self, events: list[Published]) -> None: ...
    def subscribe(self, listener: Listener) -> None: ...
    async def close(self) -> None: ...


class InProcessBus:
    """One process, no broker: listeners are called in publish order."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = asyncio.Lock()

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def publish(self, events: list[Published]) -> None:
        async with self._lock:
            for ev in events:
                for listener in self._listeners:
                    await listener(ev)

    async def close(self) -> None:
        self._listeners.clear()


async def redact_incidents(session: AsyncSession, incident_ids: list[int]) -> int:
    """Personal data leaves the history too (alarms/retention.py): the events of these incidents
    keep their name, time and sequence, and lose their content."""
    from sqlalchemy import update

    n = 0
    for i in range(0, len(incident_ids), 500):
        chunk = incident_ids[i:i + 500]
        n += (await session.execute(update(Event).where(Event.incident_id.in_(chunk))
                                    .values(data={"anonymised": True}))).rowcount
    return n
