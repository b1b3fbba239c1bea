"""Dispatch: units on duty, sending units to incidents, and each assignment's progress."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..auth.service import Principal, audit
from ..db import utcnow
from ..calls import service as calls
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..incidents import service as incidents
from ..incidents.models import NEW
from ..media import service as media
from . import reactions, repository
from .board import Board
from .units import announce_unit, unit_views
from .models import (ACCEPTED, ACTIVE, CANCELLED, CLEARED, DECLINED, DISPATCHED, EN_ROUTE, ON_SCENE, Assignment,
                     District, Station, Unit)


async def districts_geojson(session: AsyncSession) -> dict:
    rows = await session.scalars(select(District).order_by(District.id))
    return {"type": "FeatureCollection", "features": [{
        "type": "Feature",
        "properties": {"id": d.id, "code": d.code, "name_zh": d.name_zh, "name_en": d.name_en, "approximate": d.approximate},
        # GeoJSON is lon-lat; we keep lat-lon everywhere else.
        "geometry": {"type": "Polygon", "coordinates": [[[lon, lat] for lat, lon in d.outline]]},
    } for d in rows]}


def station_view(s: Station) -> dict:
    return {"id": s.id, "code": s.code, "name_zh": s.name_zh, "name_en": s.name_en, "lat": s.lat, "lon": s.lon,
            "address": s.address, "district_id": s.district_id, "jurisdiction": s.jurisdiction}


async def stations(session: AsyncSession) -> list[dict]:
    return [station_view(s) for s in await session.scalars(select(Station).order_by(Station.id))]


async def units_snapshot(session: AsyncSession) -> dict:
    seq = await events.last_seq(session)
    units = list(await session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.station_id, Unit.call_sign)))
    return {"seq": seq, "units": await unit_views(session, units)}


async def _unit(session: AsyncSession, unit_id: int) -> Unit:
    unit = await session.get(Unit, unit_id, populate_existing=True)
    if unit is None or not unit.active:
        raise NotFound("没有这个警力单元", f"No unit {unit_id}")
    return unit


async def officer_unit(session: AsyncSession, who: Principal) -> Unit:
    unit_id = await repository.unit_of_user(session, who.user_id)
    if unit_id is None:
        raise Conflict("您还没有编入任何警力单元，请联系管理员", "You are not in any unit; ask an administrator",
                       code="no_unit")
    return await _unit(session, unit_id)


async def set_duty(session: AsyncSession, who: Principal, on_duty: bool) -> dict:
    await events.lock_sequence(session)
    unit = await officer_unit(session, who)
    if not on_duty and await repository.active_assignment(session, unit.id):
        raise Conflict("有未结束的任务，不能下班", "Clear your current incident before going off duty",
                       code="assignment_open")
    unit.on_duty = on_duty
    await audit(session, who, "unit.duty", "unit", unit.id, {"on_duty": on_duty})
    return await announce_unit(session, unit, "on_duty" if on_duty else "off_duty", who)


async def set_busy(session: AsyncSession, who: Principal, busy: bool) -> dict:
    await events.lock_sequence(session)
    unit = await officer_unit(session, who)
    unit.busy = busy
    return await announce_unit(session, unit, "busy" if busy else "available", who)


async def recommend(session: AsyncSession, board: Board, incident_id: int, limit: int = 8) -> dict:
    incident = await incidents.get(session, incident_id)
    where = await incidents.position_of(session, incident.id)
    if where is None:
        return {"incident_id": incident.id, "station_id": incident.station_id, "position": None, "units": []}
    taken = {a["unit_id"] for a in (await repository.assignments_of(session, [incident.id]))[incident.id]
             if a["status"] in (*ACTIVE, DECLINED)}
    units = board.recommend(where["lat"], where["lon"], limit, exclude=taken)
    for u in units:
        u["in_jurisdiction"] = u["station_id"] == incident.station_id
    return {"incident_id": incident.id, "station_id": incident.station_id, "position": where, "units": units}


async def dispatch(session: AsyncSession, incident_id: int, unit_ids: list[int], who: Principal) -> dict:
    await events.lock_sequence(session)
    incident = await incidents.get(session, incident_id)
    incidents.require_open(incident)
    units = [await _unit(session, i) for i in sorted(set(unit_ids))]
    for unit in units:
        if not unit.on_duty:
            raise Conflict(f"{unit.call_sign} 未上班", f"{unit.call_sign} is off duty", code="unit_off_duty")
        if await repository.active_assignment(session, unit.id):
            raise Conflict(f"{unit.call_sign} 正在执行其他任务", f"{unit.call_sign} is on another incident",
                           code="unit_busy")
    if incident.status == NEW:
        # Sending units takes the incident: by the claim's own rules, with its audit and timeline step.
        await incidents.claim(session, incident.id, who)
    now = utcnow()
    for unit in units:
        a = Assignment(incident_id=incident.id, unit_id=unit.id, status=DISPATCHED, dispatched_at=now,
                       dispatched_by=who.user_id)
        session.add(a)
        await session.flush()
        await announce_unit(session, unit, None, who)
        await events.emit(session, "dispatch.offer", {"assignment": repository.assignment_view(a, unit),
                                                      "incident_id": incident.id},
                          scope=events.UNIT, unit_id=unit.id, incident_id=incident.id, actor=who.label,
                          action="dispatched")
    await audit(session, who, "incident.dispatch", "incident", incident.id, {"unit_ids": [u.id for u in units]})
    return await incidents.announce(session, incident, "dispatched", who)


# action -> (statuses it may follow, new status, timestamp field)
STEPS = {
    "accept": ((DISPATCHED,), ACCEPTED, "accepted_at"),
    "decline": ((DISPATCHED, ACCEPTED), DECLINED, "declined_at"),
    "en_route": ((DISPATCHED, ACCEPTED), EN_ROUTE, "en_route_at"),
    "on_scene": ((DISPATCHED, ACCEPTED, EN_ROUTE), ON_SCENE, "on_scene_at"),
    "clear": (ACTIVE, CLEARED, "cleared_at"),
    "backup": (ACTIVE, None, "backup_requested_at"),
}


async def respond(session: AsyncSession, assignment_id: int, action: str, who: Principal, *,
                  reason: str | None = None, disposition: str | None = None, note: str | None = None) -> dict:
    """An officer moves their own assignment forward."""
    await events.lock_sequence(session)
    a = await _assignment(session, assignment_id)
    if await repository.unit_of_user(session, who.user_id) != a.unit_id:
        raise Forbidden("这不是您单元的任务", "This assignment is not your unit's", code="not_your_assignment",
                        audit=(who, "assignment.refused", "assignment", a.id))
    return await _step(session, a, action, who, reason=reason, disposition=disposition, note=note)


async def crew_step(session: AsyncSession, assignment_id: int, action: str, crew: Principal,
                    disposition: str | None = None) -> dict:
    """The demo's simulated patrols (simulate.py, never in a real deployment) answer their own
    dispatches through the same steps, audit and events as an officer; they have no account."""
    await events.lock_sequence(session)
    a = await _assignment(session, assignment_id)
    if a.unit_id != crew.unit_id:
        raise Forbidden("这不是您单元的任务", "This assignment is not your unit's", code="not_your_assignment")
    return await _step(session, a, action, crew, disposition=disposition)


async def _assignment(session: AsyncSession, assignment_id: int) -> Assignment:
    a = await session.get(Assignment, assignment_id, populate_existing=True)
    if a is None:
        raise NotFound("没有这个任务", f"No assignment {assignment_id}")
    return a


async def _step(session: AsyncSession, a: Assignment, action: str, who: Principal, *, reason: str | None = None,
                disposition: str | None = None, note: str | None = None) -> dict:
    allowed_from, new_status, stamp = STEPS[action]
    if a.status not in allowed_from:
        raise Conflict("任务状态已变化，无法执行该操作", f"The assignment is {a.status}; cannot {action}",
                       code="bad_transition")
    if action == "decline" and not reason:
        raise Invalid("请说明拒绝原因", "Give a reason for declining", code="reason_required")
    now = utcnow()
    setattr(a, stamp, now)
    if action == "accept" or (action in ("en_route", "on_scene") and a.accepted_at is None):
        a.accepted_at = now
    if new_status:
        a.status = new_status
    a.decline_reason = reason if action == "decline" else a.decline_reason
    if action == "clear":
        a.disposition = disposition
    if note:
        await incidents.add_note(session, a.incident_id, note, who)
    await audit(session, who, f"assignment.{action}", "assignment", a.id)
    return await announce_assignment(session, a, action, who)


async def cancel(session: AsyncSession, assignment_id: int, who: Principal) -> dict:
    await events.lock_sequence(session)
    a = await _assignment(session, assignment_id)
    if a.status not in ACTIVE:
        raise Conflict("任务已结束", f"The assignment is already {a.status}", code="bad_transition")
    a.status, a.cancelled_at = CANCELLED, utcnow()
    await audit(session, who, "assignment.cancel", "assignment", a.id)
    return await announce_assignment(session, a, "cancelled", who)


async def announce_assignment(session: AsyncSession, a: Assignment, action: str, who: Principal | None) -> dict:
    view = await reactions.tell_unit(session, a, who)
    incident = await incidents.get(session, a.incident_id)
    await incidents.announce(session, incident, f"unit_{action}", who)
    return view


async def overdue_sweep(session: AsyncSession, board: Board, timeout_s: float) -> int:
    """Offers not accepted in time: tell the dispatcher once, with the next unit to try."""
    await events.lock_sequence(session)
    late = list(await session.scalars(select(Assignment).where(
        Assignment.status == DISPATCHED, Assignment.overdue_at.is_(None),
        Assignment.dispatched_at < utcnow() - timedelta(seconds=timeout_s))))
    for a in late:
        a.overdue_at = utcnow()
        unit = await _unit(session, a.unit_id)
        proposal = await recommend(session, board, a.incident_id, limit=1)
        await events.emit(session, "assignment.overdue", {
            "assignment": repository.assignment_view(a, unit), "incident_id": a.incident_id,
            "proposal": proposal["units"][0] if proposal["units"] else None}, incident_id=a.incident_id,
            action="dispatch_overdue")
        incident = await incidents.get(session, a.incident_id)
        await incidents.announce(session, incident, None, None)
    return len(late)


async def officer_home(session: AsyncSession, who: Principal) -> dict:
    seq = await events.last_seq(session)
    unit_id = await repository.unit_of_user(session, who.user_id)
    if unit_id is None:
        return {"seq": seq, "unit": None, "assignment": None, "incident": None}
    unit = await _unit(session, unit_id)
    (view,) = await unit_views(session, [unit])
    a = await repository.active_assignment(session, unit.id)
    return {"seq": seq, "unit": view, "assignment": repository.assignment_view(a, unit) if a else None,
            "incident": await incidents.detail(session, a.incident_id, who) if a else None,
            "calls": await calls.of_incident(session, a.incident_id, who) if a else []}


SCENE_PHOTO_MAX_BYTES = 10 * 1024 * 1024
SCENE_PHOTOS_PER_OFFICER = 20
# Photos may still come in for a while after clearing (taken on scene, sent once back in coverage).
PHOTO_GRACE = timedelta(hours=2)


async def scene_photo(session: AsyncSession, settings, assignment_id: int, staged: media.Staged,
                      caption: str | None, who: Principal) -> dict:
    """A photo the officer took on scene, kept as evidence of the incident."""
    await events.lock_sequence(session)
    a = await session.get(Assignment, assignment_id)
    if a is None:
        raise NotFound("没有这个任务", f"No assignment {assignment_id}")
    if await repository.unit_of_user(session, who.user_id) != a.unit_id:
        raise Forbidden("这不是您单元的任务", "This assignment is not your unit's", code="not_your_assignment",
                        audit=(who, "assignment.refused", "assignment", a.id))
    if a.status not in ACTIVE and not (a.status == CLEARED and a.cleared_at > utcnow() - PHOTO_GRACE):
        raise Conflict("任务已结束，不能再上传照片", "The assignment is over; no more photos", code="bad_transition")
    if await media.count_by(session, a.incident_id, "photo", who.label) >= SCENE_PHOTOS_PER_OFFICER:
        raise Invalid(f"每人每个警情最多 {SCENE_PHOTOS_PER_OFFICER} 张照片",
                      f"At most {SCENE_PHOTOS_PER_OFFICER} photos per officer and incident", code="too_many_photos")
    try:
        if staged.mime not in media.IMAGES:
            raise Invalid("只能上传 JPEG、PNG 或 WebP 照片", "Only JPEG, PNG or WebP photos", code="unsupported_file")
        m = await media.store(session, settings, staged, incident_id=a.incident_id, call_id=None, kind="photo",
                              created_by=who.label, original_name=caption or staged.original_name)
    except BaseException:
        staged.discard()
        raise
    await audit(session, who, "assignment.photo", "assignment", a.id, {"media_id": m.id})
    return await media.announce(session, m, "scene_photo", who.label)
