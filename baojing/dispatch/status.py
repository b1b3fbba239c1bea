"""What a unit is doing and how soon it can be somewhere: the rules the repository's views, the
in-memory board and the caller's view all share. A leaf: it imports no other dispatch module."""
from __future__ import annotations

from datetime import datetime, timedelta

from ..db import utcnow
from .models import ACCEPTED, CAR, DISPATCHED, FOOT, MOTORBIKE, Assignment, Unit

# A unit on duty that has not reported for this long is drawn as stale and not recommended.
STALE_AFTER = timedelta(minutes=2)
AVAILABLE, OFF_DUTY, BUSY, STALE = "available", "off_duty", "busy", "stale"

# Straight-line distance understates the road; average urban speeds by kind, for a rough ETA.
DETOUR = 1.4
SPEED_MPS = {CAR: 30 / 3.6, MOTORBIKE: 30 / 3.6, FOOT: 5 / 3.6}


def unit_status(unit: Unit, active: Assignment | None) -> str:
    """What the unit is doing now, from its current assignment: never carried over from an old one."""
    if not unit.on_duty:
        return OFF_DUTY
    if active is not None:
        return DISPATCHED if active.status == ACCEPTED else active.status
    return BUSY if unit.busy else AVAILABLE


def is_stale(unit: Unit, now: datetime | None = None) -> bool:
    return unit.on_duty and (unit.position_at is None or unit.position_at < (now or utcnow()) - STALE_AFTER)


def eta_seconds(kind: str, metres: float) -> int:
    return round(metres * DETOUR / SPEED_MPS.get(kind, SPEED_MPS[CAR]))
