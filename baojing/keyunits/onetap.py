"""One-tap alarms from key units and "found" replies to bulletins: an ordinary alarm (so the
member follows it like any caller) at top priority for the unit's owning station, plus a siren
entry every console keeps sounding until a call-taker acknowledges it."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..alarms import repository as alarm_repo
from ..alarms import service as alarms
from ..alarms.models import Alarm
from ..alarms.schemas import AlarmIn, LocationIn
from ..auth.models import Device, User
from ..auth.service import Principal, audit
from ..config import Settings
from ..db import utcnow
from ..errors import Conflict, Forbidden, NotFound
from ..sms import service as sms
from . import registry
from .members import Member
from .models import ACTIVE, CANCELLED, ONE_TAP, PHOTO, KeyUnit, KeyUnitAlarm, KeyUnitAlarmNote, KeyUnitFile

LOCAL = ZoneInfo("Asia/Shanghai")
TOP_PRIORITY = 1
# The unit's own position stands in for a phone with no fix: a network-grade fix, so the phone's
# first real fix replaces it.
UNIT_POSITION_ACCURACY_M = 150
KEYUNIT_CHANNEL = "keyunit"


def _recommend(board, lat: float | None, lon: float | None) -> list[dict]:
    if board is None or lat is None:
        return []
    return [{k: r.get(k) for k in ("unit_id", "call_sign", "kind", "station_id", "distance_m", "eta_s", "in_jurisdiction")}
            for r in board.recommend(lat, lon, limit=3)]


async def view(session: AsyncSession, ka: KeyUnitAlarm, board=None, unit_profile: dict | None = None,
               *, new: bool = False) -> dict:
    """`new`: just raised in this transaction, so it has no notes or photos yet: not asked for (every
    statement holds SQLite's one connection longer while ten presses queue behind it)."""
    alarm = await session.get(Alarm, ka.alarm_id)
    profile = unit_profile or await registry.profile(session, ka.unit_id)
    notes, photos = [], []
    if not new:
        notes = list(await session.scalars(select(KeyUnitAlarmNote).where(KeyUnitAlarmNote.alarm_id == ka.id)
                                           .order_by(KeyUnitAlarmNote.id)))
        photos = list(await session.scalars(select(KeyUnitFile).where(KeyUnitFile.alarm_id == ka.id)
                                            .order_by(KeyUnitFile.id)))
    acked_by = None
    if ka.acked_by:
        acked_by = {"id": ka.acked_by, "display_name": await session.scalar(select(User.display_name)
                                                                           .where(User.id == ka.acked_by))}
    loc = alarm_repo.location_view(alarm)
    return {
        "id": ka.id, "kind": ka.kind, "alarm_id": ka.alarm_id, "incident_id": ka.incident_id,
        "bulletin_id": ka.bulletin_id, "unit": profile, "station_id": profile["station_id"],
        "member": {"name": ka.member_name, "phone": ka.member_phone},
        "position_from": ka.position_from, "location": loc, "status": ka.status,
        "cancel_reason": ka.cancel_reason, "cancelled_at": ka.cancelled_at,
        "acked_at": ka.acked_at, "acked_by": acked_by, "siren": ka.acked_at is None,
        "created_at": ka.created_at,
        "notes": [{"id": n.id, "text": n.text, "at": n.created_at} for n in notes],
        "photos": [registry.file_view(p) for p in photos],
        "nearest_units": _recommend(board, loc["lat"] if loc else None, loc["lon"] if loc else None),
    }


def member_view(v: dict) -> dict:
    """What the member's page keeps of it: no other people's numbers."""
    return {k: v[k] for k in ("id", "kind", "alarm_id", "bulletin_id", "status", "cancel_reason", "cancelled_at",
                              "acked_at", "created_at", "notes", "photos", "position_from")} | \
        {"unit": {"id": v["unit"]["id"], "name": v["unit"]["name"]}}


async def announce(session: AsyncSession, ka: KeyUnitAlarm, board, who_label: str | None, action: str,
                   *, new: bool = False) -> dict:
    v = await view(session, ka, board, new=new)
    await events.emit(session, "keyunit.alarm", v, incident_id=ka.incident_id, actor=who_label, action=f"keyunit_{action}")
    await events.emit(session, "member.alarm", member_view(v), scope=events.USER, user_id=ka.member_user_id)
    return v


async def raise_for(session: AsyncSession, member: Member, unit: KeyUnit, key: str, location: LocationIn | None,
                    device: Device | None, *, kind: str, board, bulletin_id: int | None = None,
                    place_text: str | None = None) -> tuple[dict, dict, bool]:
    """(caller view of the alarm, the key-unit alarm's view, created). A repeated key answers the first.

    Ten units may press at once, and on SQLite each press holds the one connection for all of its
    statements while the others wait: nothing is read here that this transaction already knows
    (bench/README.md, key units)."""
    await events.lock_sequence(session)
    position_from = "phone"
    if location is None:
        position_from = "unit"
        location = LocationIn(lat=unit.lat, lon=unit.lon, accuracy_m=UNIT_POSITION_ACCURACY_M)
    caller, created, alarm = await alarms.raise_alarm_row(
        session, _alarm_in(key, member, unit, location, place_text), device, channel=KEYUNIT_CHANNEL,
        priority=TOP_PRIORITY, station_id=unit.station_id)
    if not created:
        ka = await session.scalar(select(KeyUnitAlarm).where(KeyUnitAlarm.alarm_id == alarm.id))
        if ka is None or ka.member_user_id != member.principal.user_id:
            raise Conflict("这个请求编号已被使用", "This idempotency key was used for something else", code="key_reused")
        return caller, await view(session, ka, board), False
    ka = KeyUnitAlarm(kind=kind, unit_id=unit.id, alarm_id=alarm.id, incident_id=alarm.incident_id,
                      bulletin_id=bulletin_id, member_user_id=member.principal.user_id, member_phone=member.phone,
                      member_name=member.name, position_from=position_from, status=ACTIVE, created_at=alarm.received_at)
    session.add(ka)
    await session.flush()
    await audit(session, member.principal, f"keyunit.{kind}", "key_unit_alarm", ka.id, {"unit_id": unit.id})
    if kind == ONE_TAP:
        # The unit's own security people hear of it at once, whoever pressed.
        at = ka.created_at.astimezone(LOCAL).strftime("%H:%M")
        text = f"【一键报警】{unit.name} {member.name} 于 {at} 按下一键报警，110 指挥中心已收到并处置。"
        await sms.queue_many(session, [(c["phone"], text) for c in unit.contacts or [] if c.get("phone")],
                             "keyunit_alarm")
    v = await announce(session, ka, board, member.principal.label, "raised", new=True)
    return caller, v, True


def _alarm_in(key: str, member: Member, unit: KeyUnit, location: LocationIn | None, place_text: str | None) -> AlarmIn:
    return AlarmIn(idempotency_key=key, phone=member.phone, name=member.name[:40], location=location,
                   place_text=(place_text or f"{unit.name}（{unit.address}）")[:200])


async def one_tap(session: AsyncSession, member: Member, unit_id: int, key: str, location: LocationIn | None,
                  device: Device | None, board) -> tuple[dict, dict, bool]:
    if unit_id not in member.unit_ids:
        raise Forbidden("您不在该单位的人员名单中，不能为它一键报警", "You are not on this unit's roster: no one-tap for it",
                        code="not_your_unit",
                        audit=(member.principal, "keyunit.one_tap_refused", "key_unit", unit_id))
    unit = await registry.get_unit(session, unit_id)
    return await raise_for(session, member, unit, key, location, device, kind=ONE_TAP, board=board)


async def get(session: AsyncSession, ka_id: int) -> KeyUnitAlarm:
    ka = await session.get(KeyUnitAlarm, ka_id, populate_existing=True)
    if ka is None:
        raise NotFound("没有这条单位报警", f"No key-unit alarm {ka_id}")
    return ka


async def _own(session: AsyncSession, member: Member, ka_id: int) -> KeyUnitAlarm:
    ka = await get(session, ka_id)
    if ka.member_user_id != member.principal.user_id:
        raise Forbidden("这不是您发出的报警", "This is not your alarm", code="not_your_alarm",
                        audit=(member.principal, "keyunit.alarm_refused", "key_unit_alarm", ka_id))
    return ka


async def add_note(session: AsyncSession, member: Member, ka_id: int, text: str, board) -> dict:
    await events.lock_sequence(session)
    ka = await _own(session, member, ka_id)
    session.add(KeyUnitAlarmNote(alarm_id=ka.id, text=text))
    await session.flush()
    return member_view(await announce(session, ka, board, member.principal.label, "note"))


async def add_photo(session: AsyncSession, settings: Settings, member: Member, ka_id: int, data: bytes,
                    name: str | None, board) -> dict:
    await events.lock_sequence(session)
    ka = await _own(session, member, ka_id)
    await registry.store_file(session, settings, data, name, PHOTO, member.principal.label, alarm_id=ka.id,
                              images_only=True)
    return member_view(await announce(session, ka, board, member.principal.label, "photo"))


async def cancel(session: AsyncSession, member: Member, ka_id: int, reason: str, board) -> dict:
    """A false alarm, as the member says: marked and kept, never deleted; the console decides the rest."""
    await events.lock_sequence(session)
    ka = await _own(session, member, ka_id)
    if ka.status == CANCELLED:
        raise Conflict("该报警已撤销", "This alarm was already cancelled", code="already_cancelled")
    ka.status, ka.cancel_reason, ka.cancelled_at = CANCELLED, reason, utcnow()
    await audit(session, member.principal, "keyunit.cancel", "key_unit_alarm", ka.id, {"reason": reason})
    return member_view(await announce(session, ka, board, member.principal.label, "cancelled"))


async def acknowledge(session: AsyncSession, ka_id: int, who: Principal, board) -> dict:
    """A call-taker takes it: the siren stops on every console. Two at once: the first one counts."""
    await events.lock_sequence(session)
    done = await session.execute(update(KeyUnitAlarm).where(KeyUnitAlarm.id == ka_id, KeyUnitAlarm.acked_at.is_(None))
                                 .values(acked_at=utcnow(), acked_by=who.user_id))
    ka = await get(session, ka_id)
    if done.rowcount == 0:
        return await view(session, ka, board)
    await audit(session, who, "keyunit.ack", "key_unit_alarm", ka.id)
    return await announce(session, ka, board, who.label, "acked")


async def console_list(session: AsyncSession, board, recent_hours: int = 12) -> dict:
    """Sirens still sounding and the last hours' key-unit alarms, for a console that (re)starts."""
    from datetime import timedelta

    seq = await events.last_seq(session)
    rows = await session.scalars(select(KeyUnitAlarm).where(
        (KeyUnitAlarm.acked_at.is_(None)) | (KeyUnitAlarm.created_at > utcnow() - timedelta(hours=recent_hours)))
        .order_by(KeyUnitAlarm.id))
    profiles: dict[int, dict] = {}
    out = []
    for ka in rows:
        if ka.unit_id not in profiles:
            profiles[ka.unit_id] = await registry.profile(session, ka.unit_id)
        out.append(await view(session, ka, board, profiles[ka.unit_id]))
    return {"seq": seq, "alarms": out}


async def of_member(session: AsyncSession, member: Member, limit: int = 10) -> list[dict]:
    rows = await session.scalars(select(KeyUnitAlarm).where(KeyUnitAlarm.member_user_id == member.principal.user_id)
                                 .order_by(KeyUnitAlarm.id.desc()).limit(limit))
    return [member_view(await view(session, ka)) for ka in rows]
