"""Citizen alarm intake and the caller's live position."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from .. import events, geo
from ..auth import service as auth
from ..auth.models import Device
from ..auth.service import Principal
from ..dispatch import repository as dispatch
from ..db import utcnow
from ..errors import Conflict, Invalid, NotFound
from ..incidents import service as incidents
from ..incidents.catalog import DEFAULT_PRIORITY
from . import abuse, repository
from .models import AUTOMATIC, GPS, NETWORK, OPERATOR, PICKED, Alarm, AlarmPosition
from .schemas import AlarmIn, LocationIn, PositionIn

# A phone fix this tight is satellite positioning; looser ones are cell or Wi-Fi estimates.
GPS_ACCURACY_M = 100
# Faster than this between two fixes is a bad fix, not a caller in a car.
MAX_SPEED_MPS = 200 / 3.6
# Fixes stamped further in the future than this are clock errors; stamp them on arrival.
CLOCK_SKEW = timedelta(minutes=2)
ORDER_TOLERANCE = timedelta(seconds=5)
# A 110 call matches a phone alarm from the same number this recent.
CTI_WINDOW = timedelta(minutes=30)


def _fix_time(recorded_at: datetime | None, now: datetime) -> datetime:
    """The phone's own time of a fix, unless its clock runs ahead of ours."""
    return recorded_at if recorded_at and recorded_at <= now + CLOCK_SKEW else now


def _source(loc: LocationIn) -> str:
    if loc.source == "picked":
        return PICKED
    return GPS if loc.accuracy_m is not None and loc.accuracy_m <= GPS_ACCURACY_M else NETWORK


async def raise_alarm(session: AsyncSession, data: AlarmIn, device: Device | None,
                      source_address: str | None = None, *, channel: str | None = None,
                      priority: int = DEFAULT_PRIORITY, station_id: int | None = None) -> tuple[dict, bool]:
    """Store an alarm and open its incident. A repeated idempotency key returns the first alarm.
    Never refused or delayed for abuse: counted and flagged for the console (alarms/abuse.py)."""
    view, created, _ = await raise_alarm_row(session, data, device, source_address, channel=channel,
                                             priority=priority, station_id=station_id)
    return view, created


async def raise_alarm_row(session: AsyncSession, data: AlarmIn, device: Device | None,
                          source_address: str | None = None, *, channel: str | None = None,
                          priority: int = DEFAULT_PRIORITY, station_id: int | None = None) -> tuple[dict, bool, Alarm]:
    """raise_alarm, and the alarm's row too: key units (keyunits/onetap.py) raise theirs here, on
    their own channel, at top priority and for their owning station, and link their own row to it
    without reading it back (the session keeps only weak references to unchanged rows)."""
    await events.lock_key(session, data.idempotency_key)
    existing = await repository.by_key(session, data.idempotency_key)
    if existing is not None:
        token = None
        if device is None or device.id != existing.device_id:
            # The first answer never reached this phone: give it a way back to its own alarm.
            token = await auth.issue_token(session, existing.device_id)
        incident = await incidents.get(session, existing.incident_id)
        (view,) = await incidents.caller_views(session, incident, [existing])
        return {**view, "device_token": token}, False, existing

    # A new alarm opens a new incident: nothing about it can be read back yet, so nothing is asked
    # (no other alarm, assignment or note), and its rows go out in as few round trips as their ids
    # allow, while the write lock is held (bench/README.md, intake).
    new_device = device is None
    if station_id is None and data.location is not None:
        station_id = await dispatch.station_for(session, *geo.to_wgs84(data.location.lat, data.location.lon,
                                                                      data.location.crs))
    # A phone new to us has no earlier alarms and no marks to count.
    sender = await abuse.recent(session, None if new_device else device.id, source_address, data.phone)
    priority = abuse.lowered(priority) if sender.mark_id else priority
    if new_device:  # added after the reads, which would otherwise flush it on its own
        device = auth.new_device(session)
    incident = incidents.new_incident(session, priority, station_id)
    await session.flush()  # the device and the incident, for their ids
    token = await auth.issue_token(session, device.id) if new_device else None
    now = utcnow()
    alarm = Alarm(idempotency_key=data.idempotency_key, device_id=device.id, incident_id=incident.id,
                  channel=channel or data.channel, phone=data.phone, name=data.name, place_text=data.place_text,
                  received_at=now, updated_at=now, source_address=source_address, recent_from_device=sender.by_device,
                  recent_from_address=sender.by_address, abuse_mark_id=sender.mark_id,
                  abuse_reason=sender.mark_reason)
    point = None
    if data.location is not None:
        point = _fix(alarm, data.location, _source(data.location), _fix_time(data.location.recorded_at, now))
    session.add(alarm)
    await session.flush()
    if point is not None:
        point.alarm_id = alarm.id
        session.add(point)
    await incidents.announce(session, incident, "received", None, opened=[alarm])
    return {**repository.caller_view(alarm, incident), "device_token": token}, True, alarm


def _record(session: AsyncSession, alarm: Alarm, loc: LocationIn, source: str, at: datetime,
            flag: str | None = None, set_by: int | None = None) -> AlarmPosition:
    point = _fix(alarm, loc, source, at, flag, set_by)
    point.alarm_id = alarm.id
    session.add(point)
    return point


def _fix(alarm: Alarm, loc: LocationIn, source: str, at: datetime, flag: str | None = None,
         set_by: int | None = None) -> AlarmPosition:
    """The row of one fix, and the alarm's current position when this fix may replace it."""
    lat, lon = geo.to_wgs84(loc.lat, loc.lon, loc.crs)
    point = AlarmPosition(lat=lat, lon=lon, accuracy_m=loc.accuracy_m, source=source,
                          crs=loc.crs, recorded_at=at, flag=flag, set_by=set_by)
    if flag is None and _may_replace(alarm.position_source, source):
        alarm.lat, alarm.lon, alarm.accuracy_m = lat, lon, loc.accuracy_m
        alarm.position_source, alarm.position_at = source, at
    alarm.updated_at = utcnow()
    return point


def _may_replace(current: str | None, new: str) -> bool:
    """A position a person chose (the operator, or the caller on a map) is never overwritten by a
    later automatic fix; the operator's word outranks the caller's pick."""
    if new in AUTOMATIC:
        return current is None or current in AUTOMATIC
    if new == PICKED:
        return current != OPERATOR
    return True


def _flag(alarm: Alarm, lat: float, lon: float, accuracy_m: float | None, at: datetime) -> str | None:
    if alarm.position_at is None or alarm.position_source not in AUTOMATIC:
        return None
    # Phones and the server keep slightly different clocks: only a clearly older fix is out of order.
    if at < alarm.position_at - ORDER_TOLERANCE:
        return "out_of_order"
    # Two fuzzy fixes may differ by their radii without anyone moving.
    moved = geo.distance_m(alarm.lat, alarm.lon, lat, lon) - (alarm.accuracy_m or 0) - (accuracy_m or 0)
    dt = max((at - alarm.position_at).total_seconds(), 1.0)
    return "implausible_jump" if moved / dt > MAX_SPEED_MPS else None


async def _emit_position(session: AsyncSession, alarm: Alarm, point: AlarmPosition, who: Principal | None) -> None:
    await session.flush()
    data = {"incident_id": alarm.incident_id, "alarm_id": alarm.id, "point": repository.point_view(point),
            "location": repository.location_view(alarm)}
    await events.emit(session, "alarm.position", data, incident_id=alarm.incident_id, actor=who.label if who else None)
    await incidents.to_responders(session, alarm.incident_id, "alarm.position", data)


async def _own_alarm(session: AsyncSession, alarm_id: int, device: Device) -> tuple[Alarm, object]:
    alarm = await session.get(Alarm, alarm_id)
    if alarm is None or alarm.device_id != device.id:
        raise NotFound("没有找到这条报警", f"No alarm {alarm_id} for this phone")
    return alarm, await incidents.get(session, alarm.incident_id)


async def add_position(session: AsyncSession, alarm_id: int, data: PositionIn, device: Device) -> dict:
    await events.lock_sequence(session)
    alarm, incident = await _own_alarm(session, alarm_id, device)
    if incident.status == "closed":
        return {"accepted": False, "flagged": False, "reason": "alarm_closed"}
    at = _fix_time(data.recorded_at, utcnow())
    source = _source(data)
    lat, lon = geo.to_wgs84(data.lat, data.lon, data.crs)
    flag = _flag(alarm, lat, lon, data.accuracy_m, at) if source in AUTOMATIC else None
    took = flag is None and _may_replace(alarm.position_source, source)
    point = _record(session, alarm, data, source, at, flag)
    await _emit_position(session, alarm, point, None)
    await incidents.locate(session, incident, await _station(session, alarm, incident, source, took), source=source,
                           action="caller_picked_position" if source == PICKED else None, who=None)
    return {"accepted": True, "flagged": flag is not None, "reason": flag}


async def _station(session: AsyncSession, alarm: Alarm, incident, source: str, took: bool) -> int | None:
    """Where the incident belongs after a position: the first usable one routes it (a phone's fix
    after the page stopped waiting, a place picked on the map, an operator's); later, only a place
    a person chose moves it, since a caller being driven away is still the first station's case."""
    if not took or (incident.station_id is not None and source in AUTOMATIC):
        return incident.station_id
    return await dispatch.station_for(session, alarm.lat, alarm.lon)


async def set_place(session: AsyncSession, alarm_id: int, text: str, device: Device) -> dict:
    await events.lock_sequence(session)
    alarm, incident = await _own_alarm(session, alarm_id, device)
    alarm.place_text, alarm.updated_at = text, utcnow()
    await incidents.announce(session, incident, "caller_typed_place", None)
    return (await incidents.caller_views(session, incident, [alarm]))[0]


async def rate(session: AsyncSession, alarm_id: int, score: int, comment: str | None, device: Device) -> dict:
    await events.lock_sequence(session)
    alarm, incident = await _own_alarm(session, alarm_id, device)
    if incident.status != "closed":
        raise Invalid("警情结束后才能评价", "You can rate the handling once the alarm is closed", code="not_closed")
    if alarm.rating_score is not None:
        raise Conflict("您已评价过", "This alarm has already been rated", code="already_rated")
    alarm.rating_score, alarm.rating_comment, alarm.rated_at = score, comment or None, utcnow()
    # The command centre hears it: one event with the stars and the words, which is also the
    # incident's timeline step (the upserted view that follows carries the rating, no step).
    await events.emit(session, "incident.rated", {
        "incident_id": incident.id, "alarm_id": alarm.id, "score": score, "comment": alarm.rating_comment,
        "at": alarm.rated_at}, incident_id=incident.id, actor=f"device:{device.id}", action="rated")
    await incidents.announce(session, incident, None, None)
    return (await incidents.caller_views(session, incident, [alarm]))[0]


async def of_device(session: AsyncSession, device: Device) -> dict:
    seq = await events.last_seq(session)
    return {"seq": seq, "alarms": [(await incidents.caller_views(session, i, [a]))[0]
                                   for a, i in await repository.of_device(session, device.id)]}


async def operator_position(session: AsyncSession, alarm_id: int, loc: LocationIn, who: Principal) -> dict:
    await events.lock_sequence(session)
    alarm = await session.get(Alarm, alarm_id)
    if alarm is None:
        raise NotFound("没有这条报警", f"No alarm {alarm_id}")
    incident = await incidents.get(session, alarm.incident_id)
    point = _record(session, alarm, loc, OPERATOR, utcnow(), set_by=who.user_id)
    await _emit_position(session, alarm, point, who)
    await auth.audit(session, who, "alarm.set_position", "alarm", alarm.id,
                     {"lat": alarm.lat, "lon": alarm.lon})
    return await incidents.locate(session, incident, await _station(session, alarm, incident, OPERATOR, True),
                                  source=OPERATOR, action="operator_position", who=who)


async def match_call(session: AsyncSession, caller_number: str, call_id: str, agent: str | None) -> dict:
    """A 110 call is ringing (CTI): pop the caller's recent alarm, with its position, on the console
    of the call-taker who answered (or on every console when the telephony does not say who)."""
    await events.lock_sequence(session)
    alarm = await repository.recent_open_by_phone(session, caller_number, utcnow() - CTI_WINDOW)
    user_id = await auth.user_id_by_username(session, agent) if agent else None
    data = {"call_id": call_id, "caller_number": caller_number, "agent": agent, "at": utcnow(),
            "alarm_id": alarm.id if alarm else None, "incident_id": alarm.incident_id if alarm else None}
    if user_id is not None:
        await events.emit(session, "cti.call", data, scope=events.USER, user_id=user_id,
                          incident_id=data["incident_id"], action="call_ringing")
    else:
        await events.emit(session, "cti.call", data, incident_id=data["incident_id"], action="call_ringing")
    return {"matched": alarm is not None, "alarm_id": data["alarm_id"], "incident_id": data["incident_id"]}
