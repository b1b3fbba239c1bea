"""Reads of stations, units and assignments, and their views."""
from __future__ import annotations

import json

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ..geo import distance_m, point_in_polygon
from .models import ACTIVE, ON_SCENE, Assignment, Station, Unit, UnitMember
from .status import eta_seconds, is_stale, unit_status


def unit_view(unit: Unit, active: Assignment | None, members: list[dict] | None = None) -> dict:
    return {"id": unit.id, "call_sign": unit.call_sign, "kind": unit.kind, "station_id": unit.station_id,
            "on_duty": unit.on_duty, "busy": unit.busy, "status": unit_status(unit, active),
            "incident_id": active.incident_id if active else None,
            "assignment_id": active.id if active else None,
            "position": None if unit.lat is None else {"lat": unit.lat, "lon": unit.lon,
                                                       "accuracy_m": unit.accuracy_m, "at": unit.position_at},
            "stale": is_stale(unit), "members": members or []}


def assignment_view(a: Assignment, unit: Unit) -> dict:
    return {"id": a.id, "incident_id": a.incident_id, "unit_id": a.unit_id, "call_sign": unit.call_sign,
            "unit_kind": unit.kind, "status": a.status, "dispatched_at": a.dispatched_at,
            "accepted_at": a.accepted_at, "en_route_at": a.en_route_at, "on_scene_at": a.on_scene_at,
            "cleared_at": a.cleared_at, "declined_at": a.declined_at, "decline_reason": a.decline_reason,
            "cancelled_at": a.cancelled_at, "disposition": a.disposition,
            "backup_requested_at": a.backup_requested_at, "overdue_at": a.overdue_at}


async def unit_of_user(session: AsyncSession, user_id: int) -> int | None:
    return await session.scalar(select(UnitMember.unit_id).where(UnitMember.user_id == user_id))


async def active_assignment(session: AsyncSession, unit_id: int) -> Assignment | None:
    return await session.scalar(select(Assignment).where(Assignment.unit_id == unit_id,
                                                         Assignment.status.in_(ACTIVE)))


async def active_by_unit(session: AsyncSession) -> dict[int, Assignment]:
    rows = await session.scalars(select(Assignment).where(Assignment.status.in_(ACTIVE)))
    return {a.unit_id: a for a in rows}


async def assignments_of(session: AsyncSession, incident_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {i: [] for i in incident_ids}
    if incident_ids:
        rows = await session.execute(select(Assignment, Unit).join(Unit, Unit.id == Assignment.unit_id)
                                     .where(Assignment.incident_id.in_(incident_ids)).order_by(Assignment.id))
        for a, u in rows.all():
            out[a.incident_id].append(assignment_view(a, u))
    return out


async def active_on(session: AsyncSession, incident_id: int) -> list[Assignment]:
    return list(await session.scalars(select(Assignment).where(
        Assignment.incident_id == incident_id, Assignment.status.in_(ACTIVE)).order_by(Assignment.id)))


async def units_on(session: AsyncSession, incident_id: int) -> list[int]:
    """Units with an active assignment on this incident: they follow its changes live."""
    return list(await session.scalars(select(Assignment.unit_id).where(
        Assignment.incident_id == incident_id, Assignment.status.in_(ACTIVE))))


async def responds_to(session: AsyncSession, user_id: int, incident_id: int) -> bool:
    """Is this officer's unit out on this incident now? (What lets an officer into its chat and evidence.)"""
    unit_id = await unit_of_user(session, user_id)
    return unit_id is not None and unit_id in await units_on(session, incident_id)


_JURISDICTIONS = text("SELECT id, CAST(jurisdiction AS TEXT) FROM stations WHERE jurisdiction IS NOT NULL ORDER BY id")
# Each jurisdiction's stored JSON text -> its ring, parsed once: it is read for every alarm, and
# changes only when an administrator edits a station (a new text, parsed again).
_rings: dict[str, list] = {}


async def station_for(session: AsyncSession, lat: float, lon: float) -> int | None:
    # The stored text, not Station objects or decoded JSON: asked for every alarm, inside the write lock.
    for st_id, stored in await session.execute(_JURISDICTIONS):
        ring = _rings.get(stored)
        if ring is None:
            if len(_rings) > 10_000:
                _rings.clear()
            ring = _rings[stored] = json.loads(stored)
        if point_in_polygon(lat, lon, ring):
            return st_id
    return None


async def station_names(session: AsyncSession, ids: list[int | None]) -> dict[int, dict]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = await session.execute(select(Station.id, Station.name_zh, Station.name_en).where(Station.id.in_(wanted)))
    return {r.id: {"id": r.id, "name_zh": r.name_zh, "name_en": r.name_en} for r in rows}


async def responding_units(session: AsyncSession, incident_id: int) -> list[tuple[Assignment, Unit]]:
    rows = await session.execute(select(Assignment, Unit).join(Unit, Unit.id == Assignment.unit_id)
                                 .where(Assignment.incident_id == incident_id, Assignment.status.in_(ACTIVE))
                                 .order_by(Assignment.id))
    return [(a, u) for a, u in rows.all()]


def responders_for_caller(responding: list[tuple[Assignment, Unit]], loc: dict | None) -> list[dict]:
    """What a caller may know of the officers coming: how they travel, how far, how long. Never
    who they are or (unless a setting allows, elsewhere) exactly where."""
    out = []
    for a, u in responding:
        d = None
        if loc and u.lat is not None:
            d = distance_m(loc["lat"], loc["lon"], u.lat, u.lon)
        out.append({"id": a.id, "status": a.status, "kind": u.kind, "distance_m": None if d is None else round(d),
                    "eta_s": None if d is None or a.status == ON_SCENE else eta_seconds(u.kind, d)})
    return out
