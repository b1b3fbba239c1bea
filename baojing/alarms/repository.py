"""Reads of alarms and their positions, and the two views of an alarm: the caller's and staff's."""
from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..dispatch.models import ACTIVE, EN_ROUTE, ON_SCENE
from ..incidents.models import CLOSED, NEW, Incident
from .abuse import view as abuse_view
from .models import OPERATOR, Alarm, AlarmPosition


def location_view(a: Alarm) -> dict | None:
    if a.lat is None:
        return None
    return {"lat": a.lat, "lon": a.lon, "accuracy_m": a.accuracy_m, "source": a.position_source,
            "at": a.position_at, "locked": a.position_source == OPERATOR}


def point_view(p: AlarmPosition) -> dict:
    return {"lat": p.lat, "lon": p.lon, "accuracy_m": p.accuracy_m, "source": p.source,
            "at": p.recorded_at, "flag": p.flag}


def caller_status(incident: Incident, assignments: list[dict] = ()) -> str:
    """What the caller reads, exactly as far as it went: received (nobody has it yet), handling
    (a call-taker has it, no officer sent), dispatched (officers sent, not yet moving), en_route,
    on_scene, closed. `assignments`: the incident's, as views (any status; only active ones count)."""
    if incident.status == CLOSED:
        return "closed"
    if incident.status == NEW:
        return "received"
    going = {a["status"] for a in assignments} & set(ACTIVE)
    if ON_SCENE in going:
        return "on_scene"
    if EN_ROUTE in going:
        return "en_route"
    return "dispatched" if going else "handling"


def caller_view(a: Alarm, incident: Incident, responders: list[dict] = ()) -> dict:
    rating = None
    if a.rating_score is not None:
        rating = {"score": a.rating_score, "comment": a.rating_comment, "at": a.rated_at}
    return {"id": a.id, "status": caller_status(incident, responders), "channel": a.channel, "phone": a.phone,
            "name": a.name, "received_at": a.received_at, "updated_at": max(a.updated_at, incident.updated_at),
            "handling_at": incident.claimed_at, "closed_at": incident.closed_at, "location": location_view(a), "place_text": a.place_text,
            "rating": rating, "responders": list(responders)}


def staff_view(a: Alarm, incident: Incident, assignments: list[dict] = ()) -> dict:
    return {"id": a.id, "phone": a.phone, "phone_verified": a.phone_verified, "name": a.name,
            "channel": a.channel, "status": caller_status(incident, assignments), "received_at": a.received_at,
            "place_text": a.place_text, "location": location_view(a),
            "rating": ({"score": a.rating_score, "comment": a.rating_comment, "at": a.rated_at}
                       if a.rating_score is not None else None),
            "abuse": abuse_view(a)}


# Asked for every alarm, nearly always about a key never seen: built once (building an ORM select
# costs more than SQLite takes to answer it), and the row loaded only when there is one.
_ID_BY_KEY = select(Alarm.id).where(Alarm.idempotency_key == bindparam("key"))


async def by_key(session: AsyncSession, key: str) -> Alarm | None:
    alarm_id = await session.scalar(_ID_BY_KEY, {"key": key})
    return None if alarm_id is None else await session.get(Alarm, alarm_id)


async def recent_open_by_phone(session: AsyncSession, phone: str, since) -> Alarm | None:
    return await session.scalar(
        select(Alarm).join(Incident, Incident.id == Alarm.incident_id)
        .where(Alarm.phone == phone, Alarm.received_at >= since, Incident.status.in_((NEW, "claimed")))
        .order_by(Alarm.id.desc()).limit(1))


async def of_incidents(session: AsyncSession, incident_ids: list[int]) -> dict[int, list[Alarm]]:
    out: dict[int, list[Alarm]] = {i: [] for i in incident_ids}
    if incident_ids:
        rows = await session.scalars(select(Alarm).where(Alarm.incident_id.in_(incident_ids)).order_by(Alarm.id))
        for a in rows:
            out[a.incident_id].append(a)
    return out


async def of_device(session: AsyncSession, device_id: int, limit: int = 20) -> list[tuple[Alarm, Incident]]:
    rows = await session.execute(
        select(Alarm, Incident).join(Incident, Incident.id == Alarm.incident_id)
        .where(Alarm.device_id == device_id).order_by(Alarm.id.desc()).limit(limit))
    return [(r.Alarm, r.Incident) for r in rows]


async def trails(session: AsyncSession, alarm_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {i: [] for i in alarm_ids}
    if alarm_ids:
        rows = await session.scalars(
            select(AlarmPosition).where(AlarmPosition.alarm_id.in_(alarm_ids)).order_by(AlarmPosition.id))
        for p in rows:
            out[p.alarm_id].append(point_view(p))
    return out


async def move_to_incident(session: AsyncSession, from_ids: list[int], to_id: int) -> None:
    await session.execute(update(Alarm).where(Alarm.incident_id.in_(from_ids)).values(incident_id=to_id))
