"""Abuse without gating an emergency (docs/security.md): an alarm is never refused, hidden or
delayed for where it came from. What the console gets is information — how many alarms the same
phone (device) and the same network address sent in the last hour, "possible abuse" over a
threshold — and a call-taker's judgement: a number or device marked abusive lowers its later
alarms one priority step, with the reason shown on each."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.service import Principal, audit
from ..db import utcnow
from ..errors import NotFound
from ..incidents.catalog import PRIORITIES
from .models import AbuseMark, Alarm

WINDOW = timedelta(hours=1)
# More than this many alarms in the window before this one: shown as possible abuse. A person in
# real trouble retries a few times; a script sends dozens (one address sent 100 in 2.1 s).
DEVICE_FLAG = 5
ADDRESS_FLAG = 10
LOWEST = max(p for p, _, _ in PRIORITIES)


async def counts(session: AsyncSession, device_id: int | None, address: str | None) -> tuple[int, int]:
    since = utcnow() - WINDOW
    by_device = by_address = 0
    if device_id is not None:
        by_device = await session.scalar(select(func.count()).where(Alarm.device_id == device_id,
                                                                    Alarm.received_at > since))
    if address:
        by_address = await session.scalar(select(func.count()).where(Alarm.source_address == address,
                                                                     Alarm.received_at > since))
    return by_device or 0, by_address or 0


async def mark_for(session: AsyncSession, phone: str | None, device_id: int | None) -> AbuseMark | None:
    """The newest standing mark on this number or this device."""
    clauses = []
    if phone:
        clauses.append((AbuseMark.kind == "phone") & (AbuseMark.value == phone))
    if device_id is not None:
        clauses.append((AbuseMark.kind == "device") & (AbuseMark.value == str(device_id)))
    if not clauses:
        return None
    return await session.scalar(select(AbuseMark).where(or_(*clauses), AbuseMark.lifted_at.is_(None))
                                .order_by(AbuseMark.id.desc()).limit(1))


def lowered(priority: int) -> int:
    return min(LOWEST, priority + 1)


def view(a: Alarm) -> dict:
    possible = a.recent_from_device >= DEVICE_FLAG or a.recent_from_address >= ADDRESS_FLAG
    return {"device_alarms": a.recent_from_device, "address_alarms": a.recent_from_address,
            "window_minutes": int(WINDOW.total_seconds() // 60), "possible": possible or a.abuse_mark_id is not None,
            "marked": None if a.abuse_mark_id is None else {"id": a.abuse_mark_id, "reason": a.abuse_reason}}


async def mark(session: AsyncSession, alarm_id: int, target: str, reason: str, who: Principal) -> dict:
    """Mark the number or the device an alarm came from as abusive; later alarms from it are
    lowered one step with this reason. This alarm itself is not changed: it was already seen."""
    alarm = await session.get(Alarm, alarm_id)
    if alarm is None or alarm.anonymised_at is not None:
        raise NotFound("没有这条报警", f"No alarm {alarm_id}")
    value = alarm.phone if target == "phone" else str(alarm.device_id)
    m = AbuseMark(kind=target, value=value, reason=reason, marked_by=who.user_id)
    session.add(m)
    await session.flush()
    await audit(session, who, "abuse.mark", "alarm", alarm.id, {"mark_id": m.id, "kind": target, "reason": reason})
    return mark_view(m)


async def lift(session: AsyncSession, mark_id: int, who: Principal) -> dict:
    m = await session.get(AbuseMark, mark_id)
    if m is None or m.lifted_at is not None:
        raise NotFound("没有这个标记", f"No standing mark {mark_id}")
    m.lifted_at, m.lifted_by = utcnow(), who.user_id
    await audit(session, who, "abuse.lift", "abuse_mark", m.id)
    return mark_view(m)


async def standing(session: AsyncSession) -> list[dict]:
    rows = await session.scalars(select(AbuseMark).where(AbuseMark.lifted_at.is_(None)).order_by(AbuseMark.id.desc()))
    return [mark_view(m) for m in rows]


def mark_view(m: AbuseMark) -> dict:
    return {"id": m.id, "kind": m.kind, "value": m.value, "reason": m.reason, "marked_by": m.marked_by,
            "marked_at": m.marked_at, "lifted_at": m.lifted_at}
