"""Personal data is kept only as long as it is needed (PIPL, 个人信息保护法): alarms closed more than
N days ago (default 180, settings.retention_days) that are linked to no case (see _due) lose the caller's number, name, typed place, positions and trail, network address and
rating comment, the chat lines of their calls and the content of their events. What is left —
that an alarm came, on which channel, when, how it was handled and closed, and the counts — keeps
the statistics true. `baojing anonymise` runs it (from a scheduler, e.g. nightly); each run is one
audit entry. Evidence files (recordings, photos) are evidence and are not touched here. The same run
forgets failed staff logins older than a day (auth/lockout.py), in case no login has failed since."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..auth.audit import append
from ..auth.lockout import purge_old as purge_old_login_failures
from ..calls.models import Call, CallMessage
from ..db import utcnow
from ..incidents.models import CLOSED, MERGED, Incident
from ..keyunits.models import KeyUnitAlarm
from ..traffic.models import TrafficCase
from .models import Alarm, AlarmPosition


def _due(cutoff: datetime):
    """Alarms closed before the cutoff and linked to no case. Closed: their incident was closed,
    or merged into one that was. A case: the incident (the one it was merged into, or one merged
    into it, whose alarms it holds now) has a case_ref (立案, set by staff: PUT /api/incidents/{id}/case), a
    minor-accident case of the traffic desk was opened from it, or it is a key-unit member's
    sighting of a police bulletin (寻人/通缉) — each keeps its personal data with the case."""
    own = Incident
    survivor = aliased(Incident)
    merged_in = aliased(Incident)
    closed = own.status == CLOSED
    merged_then_closed = and_(own.status == MERGED, survivor.status == CLOSED)
    return (select(Alarm.id).join(own, own.id == Alarm.incident_id)
            .outerjoin(survivor, survivor.id == own.merged_into)
            .where(Alarm.anonymised_at.is_(None), or_(closed, merged_then_closed),
                   func.coalesce(survivor.closed_at, own.closed_at) < cutoff,
                   own.case_ref.is_(None), survivor.case_ref.is_(None),
                   ~exists().where(merged_in.merged_into == own.id, merged_in.case_ref.is_not(None)),
                   ~exists().where(or_(TrafficCase.alarm_id == Alarm.id, TrafficCase.incident_id == own.id,
                                       TrafficCase.incident_id == survivor.id)),
                   ~exists().where(KeyUnitAlarm.alarm_id == Alarm.id, KeyUnitAlarm.bulletin_id.is_not(None)))
            .order_by(Alarm.id))


async def _with_merged(session: AsyncSession, incident_ids: set[int], chunk: int = 500) -> set[int]:
    """These incidents and those merged into them: a duplicate's alarms moved to the one it was
    merged into, but its own history (its events) still shows their callers. Merges are one
    level deep (incidents.merge)."""
    found, ids = set(incident_ids), sorted(incident_ids)
    for i in range(0, len(ids), chunk):
        found.update(await session.scalars(select(Incident.id).where(Incident.merged_into.in_(ids[i:i + chunk]))))
    return found


async def anonymise(session: AsyncSession, days: int, now: datetime | None = None, batch: int = 500) -> dict:
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    due = list(await session.scalars(_due(cutoff)))
    incident_ids: set[int] = set()
    counts = {"alarms": 0, "positions": 0, "messages": 0, "events": 0}
    for i in range(0, len(due), batch):
        ids = due[i:i + batch]
        incident_ids.update(await session.scalars(select(Alarm.incident_id).where(Alarm.id.in_(ids))))
        counts["positions"] += (await session.execute(delete(AlarmPosition).where(AlarmPosition.alarm_id.in_(ids)))).rowcount
        calls = select(Call.id).where(Call.alarm_id.in_(ids)).scalar_subquery()
        counts["messages"] += (await session.execute(
            update(CallMessage).where(CallMessage.call_id.in_(calls), CallMessage.text.is_not(None))
            .values(text=None))).rowcount
        counts["alarms"] += (await session.execute(update(Alarm).where(Alarm.id.in_(ids)).values(
            phone="", name=None, place_text=None, lat=None, lon=None, accuracy_m=None, source_address=None,
            rating_comment=None, anonymised_at=now))).rowcount
    counts["events"] = await events.redact_incidents(session, sorted(await _with_merged(session, incident_ids)))
    counts["login_failures"] = await purge_old_login_failures(session)
    await append(session, [{"user_id": None, "actor": "retention", "action": "retention.anonymise",
                            "subject_type": "alarm", "subject_id": None,
                            "detail": {**counts, "days": days, "closed_before": cutoff.isoformat()}}])
    return counts
