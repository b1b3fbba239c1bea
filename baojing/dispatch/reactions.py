"""How assignments follow their incident: when the console closes or merges an incident, the units
out on it are stood down or follow it, in the same transaction as the incident's own change. The
incidents service calls these; they never call back into it."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..auth.service import Principal
from ..db import utcnow
from . import repository
from .models import CANCELLED, Assignment, Unit
from .units import announce_unit


async def tell_unit(session: AsyncSession, a: Assignment, who: Principal | None) -> dict:
    """The unit's officers get the assignment's new state; every console the unit's."""
    unit = await session.get(Unit, a.unit_id, populate_existing=True)
    view = repository.assignment_view(a, unit)
    await events.emit(session, "assignment.updated", view, scope=events.UNIT, unit_id=unit.id,
                      incident_id=a.incident_id, actor=who.label if who else None)
    await announce_unit(session, unit, None, who)
    return view


async def incident_closed(session: AsyncSession, incident_id: int, who: Principal) -> None:
    """Units still out on an incident the console closed are stood down, and told so."""
    for a in await repository.active_on(session, incident_id):
        a.status, a.cancelled_at = CANCELLED, utcnow()
        await tell_unit(session, a, who)


async def incidents_merged(session: AsyncSession, source_ids: list[int], target_id: int, who: Principal) -> None:
    """Units sent to a duplicate keep going: their assignments follow the alarms to the survivor."""
    for source in source_ids:
        for a in await repository.active_on(session, source):
            a.incident_id = target_id
            await tell_unit(session, a, who)
