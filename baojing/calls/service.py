"""Video and text calls: intake, the desk queue, answer, hold, transfer, hang up, parties.

A call is an alarm (channel "video" or "text", raised through the ordinary intake so it has an
incident, a position and an idempotency key) plus who talks to whom. Each action here takes the
event-sequence lock first, changes the rows and announces the call; the caller's session commits.
Presence (a party whose socket vanished) is decided in runtime.py and lands here as `party_gone`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events, geo
from ..alarms import repository as alarms_repo
from ..alarms import service as alarms
from ..alarms.models import Alarm
from ..alarms.schemas import LocationIn
from ..auth import roles
from ..auth.models import Device, User
from ..auth.service import Principal, audit
from ..config import Settings
from ..db import utcnow
from ..dispatch import repository as dispatch
from ..dispatch.models import District
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..incidents import service as incidents
from ..incidents.models import NEW, Incident
from .models import (ACTIVE, CALLER, DESK, ENDED, HELD, OFFICER, OPEN, SUPERVISOR, TEXT, VIDEO, WAITING, Call,
                     CallParty)
from .schemas import CallIn

# Who may step in on any call (take it over, end it, add parties): the supervisors.
SUPERVISORS = frozenset({roles.DISPATCHER, roles.ADMIN})

OUTSIDE_ZH = "您所在的位置暂未开通视频报警。请直接拨打 110 电话报警，或使用文字报警。"
OUTSIDE_EN = "Video alarms are not offered where you are yet. Please call 110, or send a text alarm."
NO_PLACE_ZH = "视频报警需要您的位置。请允许定位后重试，或直接拨打 110 电话、使用文字报警。"
NO_PLACE_EN = "A video alarm needs your location. Allow location and try again, or call 110, or send a text alarm."


# ---------------------------------------------------------------------------------------- views

def ice_servers(settings: Settings, who: str) -> list[dict]:
    """The ICE servers for one party: the configured ones, plus short-lived TURN credentials in
    coturn's use-auth-secret scheme (username "<expiry>:<who>", HMAC-SHA1 of it with the secret)."""
    out = [dict(s) for s in settings.ice_servers]
    if settings.turn_urls and settings.turn_secret:
        username = f"{int(time.time()) + settings.turn_ttl_s}:{who}"
        mac = hmac.new(settings.turn_secret.encode(), username.encode(), hashlib.sha1).digest()
        out.append({"urls": list(settings.turn_urls), "username": username,
                    "credential": base64.b64encode(mac).decode()})
    return out


def recording_for(call: Call, settings: Settings) -> bool:
    return call.kind == VIDEO and settings.recording_enabled


async def queue_order(session: AsyncSession) -> list[int]:
    """Waiting calls, next first: by the incident's priority, then by arrival."""
    rows = await session.scalars(
        select(Call.id).join(Alarm, Alarm.id == Call.alarm_id).join(Incident, Incident.id == Alarm.incident_id)
        .where(Call.status == WAITING).order_by(Incident.priority, Call.queued_at, Call.id))
    return list(rows)


async def _parties_of(session: AsyncSession, call_ids: list[int]) -> dict[int, list[CallParty]]:
    out: dict[int, list[CallParty]] = {i: [] for i in call_ids}
    if call_ids:
        for p in await session.scalars(select(CallParty).where(CallParty.call_id.in_(call_ids))
                                       .order_by(CallParty.id).execution_options(populate_existing=True)):
            out[p.call_id].append(p)
    return out


async def people(session: AsyncSession, ids: set[int]) -> dict[int, dict]:
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {r.id: {"id": r.id, "display_name": r.display_name} for r in rows}


async def staff_views(session: AsyncSession, calls: list[Call], settings: Settings) -> list[dict]:
    ids = [c.id for c in calls]
    parties = await _parties_of(session, ids)
    rows = await session.execute(select(Alarm.id, Incident.id, Incident.priority)
                                 .join(Incident, Incident.id == Alarm.incident_id)
                                 .where(Alarm.id.in_([c.alarm_id for c in calls])))
    incident_of = {a: (i, p) for a, i, p in rows.all()}
    names = await people(session, {c.operator_id for c in calls if c.operator_id}
                           | {p.user_id for ps in parties.values() for p in ps if p.user_id})
    order = await queue_order(session) if any(c.status == WAITING for c in calls) else []
    out = []
    for c in calls:
        incident_id, priority = incident_of[c.alarm_id]
        out.append({
            "id": c.id, "kind": c.kind, "silent": c.silent, "status": c.status, "alarm_id": c.alarm_id,
            "incident_id": incident_id, "priority": priority,
            "queue_position": order.index(c.id) + 1 if c.id in order else None,
            "queued_at": c.queued_at, "created_at": c.created_at, "updated_at": c.updated_at,
            "answered_at": c.answered_at, "held_at": c.held_at, "ended_at": c.ended_at, "end_reason": c.end_reason,
            "operator": names.get(c.operator_id), "recording": recording_for(c, settings),
            "parties": [{"id": p.id, "role": p.role, "user": names.get(p.user_id), "device_id": p.device_id,
                         "invited_at": p.invited_at, "joined_at": p.joined_at, "left_at": p.left_at,
                         "left_reason": p.left_reason} for p in parties[c.id]],
        })
    return out


async def caller_view(session: AsyncSession, call: Call, settings: Settings, order: list[int] | None = None) -> dict:
    """The caller's own call: roles, never names; their place in the queue while waiting."""
    parties = (await _parties_of(session, [call.id]))[call.id]
    me = next(p.id for p in parties if p.role == CALLER)
    queue = None
    if call.status == WAITING:
        order = await queue_order(session) if order is None else order
        ahead = order.index(call.id) if call.id in order else 0
        queue = {"position": ahead + 1, "ahead": ahead}
    return {"id": call.id, "kind": call.kind, "silent": call.silent, "status": call.status,
            "alarm_id": call.alarm_id, "me": me,
            "parties": [{"id": p.id, "role": p.role, "joined": p.joined_at is not None, "left": p.left_at is not None}
                        for p in parties],
            "queue": queue, "queued_at": call.queued_at, "answered_at": call.answered_at,
            "ended_at": call.ended_at, "end_reason": call.end_reason, "recording": recording_for(call, settings)}


async def announce(session: AsyncSession, call: Call, settings: Settings, action: str | None,
                   who: Principal | None) -> dict:
    """Tell the consoles, the officers in the call and the caller what the call looks like now."""
    call.updated_at = utcnow()
    await session.flush()
    (view,) = await staff_views(session, [call], settings)
    actor = who.label if who else None
    await events.emit(session, "call.upserted", view, incident_id=view["incident_id"], actor=actor, action=action)
    # Officers are not console roles: they hear of the calls they are (or were) in by name.
    for user_id in {p["user"]["id"] for p in view["parties"] if p["role"] == OFFICER and p["user"]}:
        await events.emit(session, "call.upserted", view, scope=events.USER, user_id=user_id,
                          incident_id=view["incident_id"])
    # And the officers sent to its incident follow it from their card (silent or not, ended).
    await incidents.to_responders(session, view["incident_id"], "call.upserted", view)
    await events.emit(session, "call.updated", await caller_view(session, call, settings), scope=events.DEVICE,
                      device_id=call.device_id, incident_id=view["incident_id"])
    return view


async def _queue_moved(session: AsyncSession, settings: Settings, skip: int | None = None) -> None:
    """Waiting callers see their new place after the queue changed ahead of them."""
    order = await queue_order(session)
    for call in await session.scalars(select(Call).where(Call.id.in_(order))):
        if call.id != skip:
            await events.emit(session, "call.updated", await caller_view(session, call, settings, order),
                              scope=events.DEVICE, device_id=call.device_id)


# ------------------------------------------------------------------------------------- intake

async def service_area_refusal(session: AsyncSession, settings: Settings, loc: LocationIn | None) -> tuple | None:
    """(code, zh, en) when a video alarm is not offered at this position; None when it is."""
    if not settings.video_service_area_check:
        return None
    q = select(District)
    if settings.video_districts:
        q = q.where(District.code.in_(settings.video_districts))
    areas = list(await session.scalars(q))
    if not areas:  # no service area defined at all: nothing to hold a caller to
        return None
    if loc is None:
        return "location_required", NO_PLACE_ZH, NO_PLACE_EN
    lat, lon = geo.to_wgs84(loc.lat, loc.lon, loc.crs)
    if any(geo.point_in_polygon(lat, lon, a.outline) for a in areas):
        return None
    return "outside_service_area", OUTSIDE_ZH, OUTSIDE_EN


async def availability(session: AsyncSession, settings: Settings, loc: LocationIn | None) -> dict:
    refusal = await service_area_refusal(session, settings, loc)
    code, zh, en = refusal or (None, None, None)
    return {"video": refusal is None, "text": True, "reason": code, "message_zh": zh, "message_en": en}


async def start(session: AsyncSession, settings: Settings, data: CallIn, device: Device | None) -> tuple[dict, bool]:
    """Raise the alarm and put its call in the desk queue. A repeated idempotency key, or a phone
    that already has an open call of this kind, gets that call back instead."""
    await events.lock_sequence(session)
    if await alarms_repo.by_key(session, data.idempotency_key) is not None:
        first, _ = await alarms.raise_alarm(session, data, device)  # the first alarm, and a token for a new phone
        call = await session.scalar(select(Call).where(Call.alarm_id == first["id"]))
        if call is None:
            raise Conflict("该请求编号已用于另一条报警", "This idempotency key belongs to another alarm",
                           code="key_in_use")
        return {**await caller_view(session, call, settings), "device_token": first["device_token"]}, False
    if device is not None:
        call = await session.scalar(select(Call).where(Call.device_id == device.id, Call.kind == data.kind,
                                                       Call.status.in_(OPEN)).order_by(Call.id.desc()).limit(1))
        if call is not None:
            return await caller_view(session, call, settings), False
    if data.kind == VIDEO:
        refusal = await service_area_refusal(session, settings, data.location)
        if refusal:
            raise Invalid(refusal[1], refusal[2], code=refusal[0])
    first, _ = await alarms.raise_alarm(session, data, device)
    alarm = await session.get(Alarm, first["id"])
    now = utcnow()
    call = Call(alarm_id=alarm.id, device_id=alarm.device_id, kind=data.kind, silent=data.silent, status=WAITING,
                queued_at=now, created_at=now, updated_at=now)
    session.add(call)
    await session.flush()
    session.add(CallParty(call_id=call.id, role=CALLER, device_id=alarm.device_id, invited_at=now, joined_at=now))
    await announce(session, call, settings, "call_waiting", None)
    await _queue_moved(session, settings, skip=call.id)
    return {**await caller_view(session, call, settings), "device_token": first["device_token"]}, True


# ------------------------------------------------------------------------------------- reads

async def get(session: AsyncSession, call_id: int) -> Call:
    call = await session.get(Call, call_id, populate_existing=True)
    if call is None:
        raise NotFound("没有这个通话", f"No call {call_id}")
    return call


async def desk_list(session: AsyncSession, settings: Settings) -> dict:
    """The video desk: waiting calls in queue order, then the answered and held ones."""
    seq = await events.last_seq(session)
    order = await queue_order(session)
    waiting = {c.id: c for c in await session.scalars(select(Call).where(Call.id.in_(order)))}
    busy = list(await session.scalars(select(Call).where(Call.status.in_((ACTIVE, HELD))).order_by(Call.answered_at)))
    return {"seq": seq, "calls": await staff_views(session, [waiting[i] for i in order] + busy, settings)}


async def staff_call(session: AsyncSession, settings: Settings, call_id: int, who: Principal) -> dict:
    call = await get(session, call_id)
    await may_see(session, call, who)
    (view,) = await staff_views(session, [call], settings)
    mine = await party_of(session, call, who)
    return {**view, "me": mine.id if mine else None, "ice_servers": ice_servers(settings, who.label)}


async def of_device(session: AsyncSession, settings: Settings, device: Device) -> dict:
    seq = await events.last_seq(session)
    calls = await session.scalars(select(Call).where(Call.device_id == device.id).order_by(Call.id.desc()).limit(10))
    out = []
    for c in calls:
        view = await caller_view(session, c, settings)
        out.append({**view, "ice_servers": ice_servers(settings, f"call{c.id}-party{view['me']}")})
    return {"seq": seq, "calls": out}


async def incident_of(session: AsyncSession, call_id: int) -> int:
    """The call's incident now: its alarm's (a merge moves the alarm, and the call with it)."""
    return await session.scalar(select(Alarm.incident_id).join(Call, Call.alarm_id == Alarm.id)
                                .where(Call.id == call_id))


async def party_of(session: AsyncSession, call: Call, who: Principal, *, joined: bool = False) -> CallParty | None:
    """The asker's own current party in this call, if any."""
    q = select(CallParty).where(CallParty.call_id == call.id, CallParty.left_at.is_(None))
    q = q.where(CallParty.device_id == who.device_id, CallParty.role == CALLER) if who.kind == "caller" \
        else q.where(CallParty.user_id == who.user_id)
    if joined:
        q = q.where(CallParty.joined_at.is_not(None))
    return await session.scalar(q.execution_options(populate_existing=True))


async def may_see(session: AsyncSession, call: Call, who: Principal) -> None:
    """Consoles see every call; an officer sent to its incident sees it too (what the caller wrote
    and showed is what they walk into); anyone else only a call they are in (or were invited to)."""
    if who.console:
        return
    if await session.scalar(select(CallParty.id).where(CallParty.call_id == call.id, CallParty.user_id == who.user_id)):
        return
    if await _responding(session, call, who):
        return
    raise Forbidden("您不在这个通话中", "You are not in this call", code="not_a_party",
                    audit=(who, "call.refused", "call", call.id))


# ------------------------------------------------------------------------------------ actions

def _require_open(call: Call) -> None:
    if call.status == ENDED:
        raise Conflict("通话已结束", f"Call {call.id} has ended", code="call_ended")


def _require_answered_by(call: Call, who: Principal) -> None:
    """Hold, transfer and inviting are for a live call, by the operator who has it (or a supervisor)."""
    _require_open(call)
    _require_in_charge(call, who)
    if call.status == WAITING:
        raise Conflict("通话尚未接听", "The call has not been answered", code="not_answered")


def _require_in_charge(call: Call, who: Principal) -> None:
    if who.user_id != call.operator_id and who.role not in SUPERVISORS:
        raise Forbidden("这不是您接听的通话", "This call is answered by someone else", code="not_your_call",
                        audit=(who, "call.refused", "call", call.id))


async def _holder(session: AsyncSession, user_id: int | None) -> str:
    user = await session.get(User, user_id) if user_id else None
    return user.display_name if user else "?"


async def answer(session: AsyncSession, settings: Settings, call_id: int, who: Principal) -> dict:
    await events.lock_sequence(session)
    now = utcnow()
    # The conditional update settles two operators answering at once: one row changes, once.
    done = await session.execute(update(Call).where(Call.id == call_id, Call.status == WAITING)
                                 .values(status=ACTIVE, operator_id=who.user_id, answered_at=now, held_at=None))
    call = await get(session, call_id)
    if done.rowcount == 0:
        if call.status in (ACTIVE, HELD) and call.operator_id == who.user_id:
            return await staff_call(session, settings, call.id, who)
        _require_open(call)
        name = await _holder(session, call.operator_id)
        raise Conflict(f"已由 {name} 接听", f"Already answered by {name}", code="already_answered")
    session.add(CallParty(call_id=call.id, role=DESK, user_id=who.user_id, invited_by=who.user_id, invited_at=now,
                          joined_at=now))
    alarm = await session.get(Alarm, call.alarm_id)
    incident = await incidents.get(session, alarm.incident_id)
    if incident.status == NEW:
        # Answering the call is taking the alarm (接警): the incident is this operator's too.
        await incidents.claim(session, incident.id, who)
    await audit(session, who, "call.answer", "call", call.id)
    await announce(session, call, settings, "call_answered", who)
    await _queue_moved(session, settings)
    return await staff_call(session, settings, call.id, who)


async def hold(session: AsyncSession, settings: Settings, call_id: int, on_hold: bool, who: Principal) -> dict:
    await events.lock_sequence(session)
    call = await get(session, call_id)
    _require_answered_by(call, who)
    if (call.status == HELD) != on_hold:
        call.status, call.held_at = (HELD, utcnow()) if on_hold else (ACTIVE, None)
        await audit(session, who, "call.hold" if on_hold else "call.resume", "call", call.id)
        await announce(session, call, settings, "call_held" if on_hold else "call_resumed", who)
    return await staff_call(session, settings, call.id, who)


async def _leave_desk(session: AsyncSession, call: Call, reason: str) -> None:
    for p in (await _parties_of(session, [call.id]))[call.id]:
        if p.role == DESK and p.left_at is None:
            p.left_at, p.left_reason = utcnow(), reason


async def _requeue(session: AsyncSession, settings: Settings, call: Call, reason: str, who: Principal | None) -> None:
    """Back to the queue, at its first arrival time: nobody answering it must not cost its place."""
    await _leave_desk(session, call, reason)
    call.status, call.operator_id, call.held_at = WAITING, None, None
    await announce(session, call, settings, "call_requeued", who)
    await _queue_moved(session, settings, skip=call.id)


async def transfer(session: AsyncSession, settings: Settings, call_id: int, to_user_id: int | None,
                   who: Principal) -> dict:
    await events.lock_sequence(session)
    call = await get(session, call_id)
    _require_answered_by(call, who)
    if to_user_id is None:
        await audit(session, who, "call.transfer", "call", call.id, {"to": None})
        await _requeue(session, settings, call, "transferred", who)
        return await staff_call(session, settings, call.id, who)
    target = await session.get(User, to_user_id)
    if target is None or not target.active or target.role not in roles.CONSOLE:
        raise Invalid("只能转给其他接警席", "A call can be transferred to another desk operator only",
                      code="bad_transfer_target")
    if target.id == call.operator_id:
        raise Invalid("通话已在该接警员处", "The call is already with that operator", code="bad_transfer_target")
    await _leave_desk(session, call, "transferred")
    now = utcnow()
    # The new operator joins by POST /join; until then the call is theirs but ringing (runtime.py
    # puts it back in the queue if they never do).
    existing = await session.scalar(select(CallParty).where(CallParty.call_id == call.id,
                                                             CallParty.user_id == target.id))
    if existing is not None:
        existing.role, existing.invited_at, existing.joined_at = DESK, now, None
        existing.left_at = existing.left_reason = None
        existing.invited_by = who.user_id
    else:
        session.add(CallParty(call_id=call.id, role=DESK, user_id=target.id, invited_by=who.user_id, invited_at=now))
    call.operator_id, call.status = target.id, ACTIVE
    await audit(session, who, "call.transfer", "call", call.id, {"to": target.id})
    await announce(session, call, settings, "call_transferred", who)
    await events.emit(session, "call.ringing", {"call_id": call.id, "by": who.display_name}, scope=events.USER,
                      user_id=target.id)
    return await staff_call(session, settings, call.id, who)


async def add_party(session: AsyncSession, settings: Settings, call_id: int, user_id: int, who: Principal) -> dict:
    """Invite an officer sent to the incident, or a supervisor, into the call."""
    await events.lock_sequence(session)
    call = await get(session, call_id)
    _require_answered_by(call, who)
    user = await session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound("没有这个用户", f"No user {user_id}")
    alarm = await session.get(Alarm, call.alarm_id)
    if user.role == roles.OFFICER:
        unit_id = await dispatch.unit_of_user(session, user.id)
        if unit_id is None or unit_id not in await dispatch.units_on(session, alarm.incident_id):
            raise Invalid("只能加入已派往该警情的民警", "Only an officer dispatched to this incident can join",
                          code="officer_not_assigned")
        role = OFFICER
    elif user.role in SUPERVISORS:
        role = SUPERVISOR
    else:
        raise Invalid("只能加入出警民警或指挥长", "Only a dispatched officer or a supervisor can be added",
                      code="party_not_allowed")
    parties = (await _parties_of(session, [call.id]))[call.id]
    mine = next((p for p in parties if p.user_id == user.id), None)
    if mine is not None and mine.left_at is None:
        raise Conflict("已在通话中", f"{user.display_name} is already in the call", code="already_party")
    if sum(p.left_at is None for p in parties) >= settings.call_max_parties:
        raise Conflict(f"通话最多 {settings.call_max_parties} 方", f"A call has at most {settings.call_max_parties} parties",
                       code="call_full")
    now = utcnow()
    if mine is not None:  # invited again after leaving: the same party id, so the record reads as one
        mine.role, mine.invited_at, mine.invited_by, mine.joined_at = role, now, who.user_id, None
        mine.left_at = mine.left_reason = None
    else:
        session.add(CallParty(call_id=call.id, role=role, user_id=user.id, invited_by=who.user_id, invited_at=now))
    await audit(session, who, "call.add_party", "call", call.id, {"user_id": user.id, "role": role})
    await announce(session, call, settings, "party_invited", who)
    await events.emit(session, "call.ringing", {"call_id": call.id, "by": who.display_name}, scope=events.USER,
                      user_id=user.id)
    return await staff_call(session, settings, call.id, who)


async def _responding(session: AsyncSession, call: Call, who: Principal) -> bool:
    return who.role == roles.OFFICER and await dispatch.responds_to(session, who.user_id,
                                                                    await incident_of(session, call.id))


async def join(session: AsyncSession, settings: Settings, call_id: int, who: Principal) -> dict:
    await events.lock_sequence(session)
    call = await get(session, call_id)
    _require_open(call)
    mine = await party_of(session, call, who)
    if mine is None and call.kind == TEXT and await _responding(session, call, who):
        # An officer sent to a text alarm joins its chat unasked: the caller may not be able to
        # speak, and writing is how to reach them. Video stays by the desk's invitation.
        now = utcnow()
        session.add(CallParty(call_id=call.id, role=OFFICER, user_id=who.user_id, invited_at=now, joined_at=now))
        await audit(session, who, "call.join", "call", call.id, {"as": "responding officer"})
        await announce(session, call, settings, "party_joined", who)
        return await staff_call(session, settings, call.id, who)
    if mine is None:
        raise Forbidden("您没有被邀请加入这个通话", "You have not been invited to this call", code="not_a_party",
                        audit=(who, "call.refused", "call", call.id))
    if mine.joined_at is None:
        mine.joined_at = utcnow()
        await audit(session, who, "call.join", "call", call.id)
        await announce(session, call, settings, "party_joined", who)
    return await staff_call(session, settings, call.id, who)


async def _end(session: AsyncSession, settings: Settings, call: Call, reason: str, who: Principal | None) -> None:
    was_waiting = call.status == WAITING
    now = utcnow()
    for p in (await _parties_of(session, [call.id]))[call.id]:
        if p.left_at is None:
            p.left_at, p.left_reason = now, "call_ended"
    call.status, call.ended_at, call.end_reason = ENDED, now, reason
    await announce(session, call, settings, "call_ended", who)
    if was_waiting:
        await _queue_moved(session, settings)


async def _leave(session: AsyncSession, settings: Settings, call: Call, party: CallParty, reason: str,
                 who: Principal | None) -> None:
    """A party goes; the call follows: no caller, no call; no operator, back to the queue."""
    if party.role == CALLER:
        await _end(session, settings, call, reason if call.answered_at else "abandoned", who)
    elif party.role == DESK and call.operator_id == party.user_id:
        await _requeue(session, settings, call, reason, who)
    else:
        party.left_at, party.left_reason = utcnow(), reason
        await announce(session, call, settings, "party_left", who)


async def hangup(session: AsyncSession, settings: Settings, call_id: int, who: Principal) -> dict:
    """The caller or the desk operator ends the call; anyone else in it leaves it. A supervisor
    may end any call (one nobody can end otherwise must not stay open)."""
    await events.lock_sequence(session)
    call = await get(session, call_id)
    if who.kind == "caller" and call.device_id != who.device_id:
        raise NotFound("没有这个通话", f"No call {call_id}")
    if call.status != ENDED:
        mine = await party_of(session, call, who)
        if who.kind == "caller" and mine is not None:
            await _end(session, settings, call, "caller_hung_up", who)
        elif mine is not None and mine.role == DESK and call.operator_id == who.user_id:
            await _end(session, settings, call, "desk_hung_up", who)
        elif mine is not None:
            await _leave(session, settings, call, mine, "left", who)
        elif who.role in SUPERVISORS:
            await _end(session, settings, call, "ended_by_supervisor", who)
        else:
            raise Forbidden("您不在这个通话中", "You are not in this call", code="not_a_party",
                            audit=(who, "call.refused", "call", call.id))
        if who.kind == "staff":
            await audit(session, who, "call.hangup", "call", call.id)
    if who.kind == "caller":
        return await caller_view(session, call, settings)
    return await staff_call(session, settings, call.id, who)


async def party_gone(session: AsyncSession, settings: Settings, call_id: int, party_id: int, reason: str) -> bool:
    """Presence decided a party is gone (socket closed for too long, or never joined): act on it
    if the rows still agree."""
    await events.lock_sequence(session)
    call = await get(session, call_id)
    party = await session.get(CallParty, party_id, populate_existing=True)
    if call.status == ENDED or party is None or party.left_at is not None or party.call_id != call.id:
        return False
    await _leave(session, settings, call, party, reason, None)
    return True


async def end_for_incident(session: AsyncSession, settings: Settings, incident_id: int) -> int:
    """The incident closed: its open calls end with it."""
    await events.lock_sequence(session)
    calls = list(await session.scalars(select(Call).join(Alarm, Alarm.id == Call.alarm_id)
                                       .where(Alarm.incident_id == incident_id, Call.status.in_(OPEN))))
    for call in calls:
        await _end(session, settings, call, "incident_closed", None)
    return len(calls)


async def reannounce(session: AsyncSession, settings: Settings, call_ids: list[int]) -> None:
    """Announce calls again after something outside them changed (their incident was merged)."""
    await events.lock_sequence(session)
    for call in await session.scalars(select(Call).where(Call.id.in_(call_ids), Call.status.in_(OPEN))):
        await announce(session, call, settings, None, None)


async def set_silent(session: AsyncSession, settings: Settings, call_id: int, silent: bool, who: Principal) -> dict:
    """The caller turns silent mode on or off: the officers coming must not ring them."""
    await events.lock_sequence(session)
    call = await get(session, call_id)
    if who.kind != "caller" or call.device_id != who.device_id:
        raise NotFound("没有这个通话", f"No call {call_id}")
    _require_open(call)
    if call.silent != silent:
        call.silent = silent
        await announce(session, call, settings, "caller_silent" if silent else "caller_not_silent", who)
    return await caller_view(session, call, settings)


async def of_incident(session: AsyncSession, incident_id: int, who: Principal) -> list[dict]:
    """The calls on an incident's alarms, for an officer sent to it: what kind, silent or not,
    whether they are in its chat, and what was said and shown so far."""
    from_alarms = select(Alarm.id).where(Alarm.incident_id == incident_id)
    calls = list(await session.scalars(select(Call).where(Call.alarm_id.in_(from_alarms)).order_by(Call.id)))
    out = []
    for c in calls:
        mine = await party_of(session, c, who, joined=True)
        out.append({"id": c.id, "kind": c.kind, "silent": c.silent, "status": c.status, "alarm_id": c.alarm_id,
                    "joined": mine is not None})
    return out


async def open_views(session: AsyncSession, settings: Settings) -> list[dict]:
    calls = list(await session.scalars(select(Call).where(Call.status.in_(OPEN))))
    return await staff_views(session, calls, settings) if calls else []
