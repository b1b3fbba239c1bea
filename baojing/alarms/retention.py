"""Personal data is kept only as long as it is needed (PIPL, 个人信息保护法): alarms closed more than
N days ago (default 180, settings.retention_days) whose incident did not become a case (no
case_ref) lose the caller's number, name, typed place, positions and trail, network address and
rating comment, the chat lines of their calls and the content of their events. What is left —
that an alarm came, on which channel, when, how it was handled and closed, and the counts — keeps
the statistics true. `baojing anonymise` runs it (from a scheduler, e.g. nightly); each run is one
audit entry. Evidence files (recordings, photos) are evidence and are not touched here. The same run
forgets failed staff logins older than a day (auth/lockout.py), in case no login has failed since."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..auth.audit import append
from ..auth.lockout import purge_old as purge_old_login_failures
from ..calls.models import Call, CallMessage
from ..db import utcnow
from ..incidents.models import CLOSED, Incident
from .models import Alarm, AlarmPosition


async def anonymise(session: AsyncSession, days: int, now: datetime | None = None, batch: int = 500) -> dict:
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    due = list(await session.scalars(
        select(Alarm.id).join(Incident, Incident.id == Alarm.incident_id)
        .where(Incident.status == CLOSED, Incident.closed_at < cutoff, Incident.case_ref.is_(None),
               Alarm.anonymised_at.is_(None)).order_by(Alarm.id)))
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
    counts["events"] = await events.redact_incidents(session, sorted(incident_ids))
    counts["login_failures"] = await purge_old_login_failures(session)
    await append(session, [{"user_id": None, "actor": "retention", "action": "retention.anonymise",
                            "subject_type": "alarm", "subject_id": None,
                            "detail": {**counts, "days": days, "closed_before": cutoff.isoformat()}}])
    return counts
