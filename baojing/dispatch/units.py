"""Views of units and the event that tells every console and the unit's own officers about one.
Needs nothing from the incident lifecycle, so incidents and dispatch can both build on it."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..auth.models import User
from ..auth.service import Principal
from . import repository
from .models import Unit, UnitMember


async def _members(session: AsyncSession, unit_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {i: [] for i in unit_ids}
    if unit_ids:
        rows = await session.execute(select(UnitMember.unit_id, User.id, User.display_name)
                                     .join(User, User.id == UnitMember.user_id).where(UnitMember.unit_id.in_(unit_ids)))
        for unit_id, uid, name in rows.all():
            out[unit_id].append({"id": uid, "display_name": name})
    return out


async def unit_views(session: AsyncSession, units: list[Unit]) -> list[dict]:
    active = await repository.active_by_unit(session)
    members = await _members(session, [u.id for u in units])
    return [repository.unit_view(u, active.get(u.id), members[u.id]) for u in units]


async def announce_unit(session: AsyncSession, unit: Unit, action: str | None, who: Principal | None) -> dict:
    await session.flush()
    (view,) = await unit_views(session, [unit])
    actor = who.label if who else None
    await events.emit(session, "unit.upserted", view, unit_id=unit.id, actor=actor, action=action)
    await events.emit(session, "unit.upserted", view, scope=events.UNIT, unit_id=unit.id, actor=actor)
    return view
