"""Background work for dispatch: unanswered offers, and telling who needs to know that units moved."""
from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select

from ..alarms.models import Alarm
from ..deps import unit_of_work
from ..geo import distance_m
from .board import BoardUnit
from .status import eta_seconds
from .models import ACTIVE, Assignment
from . import service

log = logging.getLogger(__name__)


async def overdue_watch(state, every: float = 2.0) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            async with unit_of_work(state) as session:
                await service.overdue_sweep(session, state.board, state.settings.accept_timeout_s)
        except Exception:
            log.exception("overdue sweep failed")


def moved_listener(state):
    """After each AVL batch: consoles see the units move; callers see how far their officers are."""

    async def on_moved(moved: list[BoardUnit]) -> None:
        if not moved:
            return
        hub = state.hub
        hub.broadcast(("consoles",), "units.moved", {"units": [
            {"id": u.id, "position": {"lat": u.lat, "lon": u.lon, "accuracy_m": u.accuracy_m, "at": u.at}}
            for u in moved]})
        by_id = {u.id: u for u in moved}
        await state.priority.turn()
        async with state.sessions() as s:
            rows = (await s.execute(
                select(Assignment.id, Assignment.unit_id, Assignment.status, Alarm.id, Alarm.device_id, Alarm.lat, Alarm.lon)
                .join(Alarm, Alarm.incident_id == Assignment.incident_id)
                .where(Assignment.unit_id.in_(by_id), Assignment.status.in_(ACTIVE), Alarm.lat.is_not(None)))).all()
        show = state.settings.show_officer_position_to_caller
        for assignment_id, unit_id, status, alarm_id, device_id, lat, lon in rows:
            u = by_id[unit_id]
            d = distance_m(lat, lon, u.lat, u.lon)
            data = {"alarm_id": alarm_id, "unit": {"id": assignment_id, "status": status, "kind": u.kind,
                                                   "distance_m": round(d),
                                                   "eta_s": eta_seconds(u.kind, d)}}
            if show:
                data["unit"]["position"] = {"lat": u.lat, "lon": u.lon}
            hub.broadcast(("device", device_id), "responder.moved", data)

    return on_moved
