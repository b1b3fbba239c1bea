"""Abuse without gating an emergency (docs/security.md): an alarm is never refused, hidden or
delayed for where it came from. What the console gets is information — how many alarms the same
phone (device) and the same network address sent in the last hour, "possible abuse" over a
threshold — and a call-taker's judgement: a number or device marked abusive lowers its later
alarms one priority step, with the reason shown on each."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Integer, String, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.service import Principal, audit
from ..db import UTCDateTime, utcnow
from ..errors import NotFound
from ..incidents.catalog import PRIORITIES
from .models import AbuseMark, Alarm

WINDOW = timedelta(hours=1)
# More than this many alarms in the window before this one: shown as possible abuse. A person in
# real trouble retries a few times; a script sends dozens (one address sent 100 in 2.1 s).
DEVICE_FLAG = 5
ADDRESS_FLAG = 10
LOWEST = max(p for p, _, _ in PRIORITIES)


@dataclass(frozen=True)
class Recent:
    """What the console is told about an alarm's sender: alarms from the same device and the same
    address in the window before it, and the newest standing mark on its number or device."""
    by_device: int
    by_address: int
    mark_id: int | None
    mark_reason: str | None


_MARK = ("FROM abuse_marks WHERE lifted_at IS NULL AND ((kind = 'phone' AND value = :phone) "
         "OR (kind = 'device' AND value = :device_value)) ORDER BY id DESC LIMIT 1")
# One statement for the three questions: it runs for every alarm, inside the write lock, where
# three ORM queries cost a millisecond of Python (bench/README.md, intake).
_RECENT = text(
    "SELECT (SELECT count(*) FROM alarms WHERE device_id = :device AND received_at > :since), "
    "(SELECT count(*) FROM alarms WHERE source_address = :address AND received_at > :since), "
    f"(SELECT id {_MARK}), (SELECT reason {_MARK})"
).bindparams(bindparam("since", type_=UTCDateTime), bindparam("device", type_=Integer),
             bindparam("device_value", type_=String), bindparam("address", type_=String), bindparam("phone", type_=String))


async def recent(session: AsyncSession, device_id: int | None, address: str | None, phone: str | None) -> Recent:
    """A device or number we have never seen (None) matches nothing."""
    row = (await session.execute(_RECENT, {
        "since": utcnow() - WINDOW, "device": device_id, "address": address, "phone": phone,
        "device_value": None if device_id is None else str(device_id)})).one()
    return Recent(row[0] or 0, row[1] or 0, row[2], row[3])


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
