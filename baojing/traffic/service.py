"""Quick handling for the drivers: open a case, fill in both parties, confirm both numbers, submit,
settle it themselves or follow the desk's ruling. Every change tells both drivers' phones and,
once the case is out of draft, the traffic desk."""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events, geo
from ..auth import service as auth
from ..auth.models import Device
from ..config import Settings
from ..db import utcnow
from ..errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from ..phone import mask_phone
from ..sms import service as sms
from . import checklist as checklist_mod
from . import views
from .models import (A, B, CONVERTED, DECIDED, DRAFT, MORE_PHOTOS, ROLES, RULING, SELF, SETTLED, SETTLING,
                     SUBMITTED, TrafficCase, TrafficParty, TrafficPhoto, TrafficSetting)
from .schemas import CaseEdit, CaseIn, PartyIn, SubmitIn

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
# Liability pairs that make sense between two parties (道路交通事故处理程序规定 第六十条).
PAIRS = {("full", "none"), ("none", "full"), ("main", "secondary"), ("secondary", "main"), ("equal", "equal")}
LEVELS_ZH = {"full": "全部责任", "main": "主要责任", "equal": "同等责任", "secondary": "次要责任", "none": "无责任"}
LEVELS_EN = {"full": "fully liable", "main": "mainly liable", "equal": "equally liable",
             "secondary": "secondarily liable", "none": "not liable"}


class CodeForOtherParty(DomainError):
    status, code = 401, "code_for_other_party"


def purpose(case_id: int) -> str:
    return f"traffic:{case_id}"


def check_pair(liability: dict | None) -> dict:
    if not liability or set(liability) != set(ROLES) or (liability[A], liability[B]) not in PAIRS:
        raise Invalid("责任划分不成立：应为 全部/无、主要/次要 或 同等/同等",
                      "Liability must pair up: full/none, main/secondary or equal/equal", code="bad_liability")
    return {A: liability[A], B: liability[B]}


async def current_checklist(session: AsyncSession) -> tuple[list[dict], datetime | None]:
    row = await session.get(TrafficSetting, "checklist")
    return (row.value, row.updated_at) if row else (checklist_mod.DEFAULT, None)


async def set_checklist(session: AsyncSession, items: object, who: auth.Principal) -> dict:
    clean = checklist_mod.validate(items)
    row = await session.get(TrafficSetting, "checklist")
    if row is None:
        row = TrafficSetting(key="checklist", value=clean)
        session.add(row)
    row.value, row.updated_at, row.updated_by = clean, utcnow(), who.user_id
    await auth.audit(session, who, "traffic.checklist", "traffic_setting", None, {"count": len(clean)})
    return {"items": clean, "updated_at": row.updated_at}


# ---------- loading and access ----------

async def load(session: AsyncSession, case_id: int, *, lock: bool = True) -> tuple[TrafficCase, dict[str, TrafficParty]]:
    if lock:
        await events.lock_sequence(session)
    case = await session.get(TrafficCase, case_id, populate_existing=True)
    if case is None:
        raise NotFound("没有这个事故案件", f"No accident case {case_id}")
    parties = {p.role: p for p in await session.scalars(select(TrafficParty).where(TrafficParty.case_id == case.id))}
    return case, parties


def roles_of(case: TrafficCase, parties: dict[str, TrafficParty], device: Device) -> list[str]:
    """Which parties this phone may speak for: the phone that opened the case fills in both (party
    B may be entered on A's phone); a phone that joined by code, only its own party."""
    if case.device_id == device.id:
        return list(ROLES)
    return [r for r, p in parties.items() if p.device_id == device.id]


async def for_device(session: AsyncSession, case_id: int, device: Device, *, lock: bool = True):
    case, parties = await load(session, case_id, lock=lock)
    mine = roles_of(case, parties, device)
    if not mine:
        # Not "forbidden": whether a case exists is itself not for a stranger to learn.
        raise NotFound("没有这个事故案件", f"No accident case {case_id}")
    return case, parties, mine


def may_speak(case: TrafficCase, parties: dict, role: str, device: Device) -> bool:
    return role in roles_of(case, parties, device)


def own_phone(case: TrafficCase, party: TrafficParty, device: Device) -> bool:
    """The device is this party's own phone (party A's is the one that opened the case)."""
    if party.role == A:
        return case.device_id == device.id
    return party.device_id is not None and party.device_id == device.id and party.device_id != case.device_id


def _require_status(case: TrafficCase, *allowed: str) -> None:
    if case.status not in allowed:
        raise Conflict("案件当前状态不能进行此操作", f"Not possible while the case is {case.status}",
                       code="wrong_status")


# ---------- telling people ----------

async def announce(session: AsyncSession, case: TrafficCase, parties: dict, action: str | None,
                   actor: str | None = None, mine: list[str] | None = None) -> dict:
    """Each driver's phone gets its own view; the desk gets its summary once the case has left draft.
    Returns the view of a phone speaking for `mine`."""
    case.updated_at = utcnow()
    await session.flush()
    photos = await current_photos(session, case.id)
    devices = {case.device_id} | {p.device_id for p in parties.values() if p.device_id}
    for device_id in sorted(devices):
        view = views.driver(case, parties, photos, _roles_for_device_id(case, parties, device_id))
        await events.emit(session, "traffic.case", view, scope=events.DEVICE, device_id=device_id)
    if case.status != DRAFT:
        await events.emit(session, "traffic.case", views.summary(case, parties), scope=events.TRAFFIC,
                          actor=actor, action=action)
    return views.driver(case, parties, photos, list(ROLES) if mine is None else mine)


def _roles_for_device_id(case, parties, device_id: int) -> list[str]:
    if case.device_id == device_id:
        return list(ROLES)
    return [r for r, p in parties.items() if p.device_id == device_id]


async def current_photos(session: AsyncSession, case_id: int) -> dict[int, TrafficPhoto]:
    rows = await session.scalars(select(TrafficPhoto).where(TrafficPhoto.case_id == case_id,
                                                            TrafficPhoto.superseded.is_(False))
                                 .order_by(TrafficPhoto.id))
    return {p.slot: p for p in rows}


async def view_for(session: AsyncSession, case_id: int, device: Device) -> dict:
    case, parties, mine = await for_device(session, case_id, device, lock=False)
    return views.driver(case, parties, await current_photos(session, case.id), mine)


async def of_device(session: AsyncSession, device: Device) -> dict:
    seq = await events.last_seq(session)
    joined = select(TrafficParty.case_id).where(TrafficParty.device_id == device.id)
    rows = list(await session.scalars(select(TrafficCase).where(
        (TrafficCase.device_id == device.id) | TrafficCase.id.in_(joined)).order_by(TrafficCase.id.desc()).limit(20)))
    out = []
    for case in rows:
        case, parties = await load(session, case.id, lock=False)
        out.append(views.driver(case, parties, await current_photos(session, case.id), roles_of(case, parties, device)))
    return {"seq": seq, "cases": out}


# ---------- the drivers' steps ----------

def _place(case: TrafficCase, loc) -> None:
    if loc is None:
        return
    case.lat, case.lon = geo.to_wgs84(loc.lat, loc.lon, loc.crs)
    case.accuracy_m = loc.accuracy_m
    case.position_source = "picked" if loc.source == "picked" else "device"


async def open_case(session: AsyncSession, data: CaseIn, device: Device | None) -> tuple[dict, str | None]:
    await events.lock_sequence(session)
    ruled_out = data.answers.ruled_out()
    if ruled_out:
        raise Invalid("这起事故不能快处，请一键报警，民警会到现场处理",
                      "This accident cannot be handled quickly: raise an alarm and officers will come",
                      code="not_eligible", errors=[{"field": f"answers.{q}", "message_zh": "不符合快处条件",
                                                    "message_en": "Rules out quick handling"} for q in ruled_out])
    token = None
    if device is None:
        device, token = await auth.issue_device(session)
    items, _ = await current_checklist(session)
    case = TrafficCase(code=await _new_code(session), status=DRAFT, device_id=device.id,
                       answers=data.answers.model_dump(), checklist=items, place_text=data.place_text,
                       description=data.description)
    _place(case, data.location)
    session.add(case)
    await session.flush()
    a = TrafficParty(case_id=case.id, role=A, device_id=device.id)
    session.add_all([a, TrafficParty(case_id=case.id, role=B)])
    await session.flush()
    case, parties = await load(session, case.id)
    if data.party_a is not None:
        await _apply_party(session, case, parties, A, data.party_a)
    view = await announce(session, case, parties, None, mine=list(ROLES))
    return {**view, "device_token": token}, token


async def _new_code(session: AsyncSession) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
        if not await session.scalar(select(TrafficCase.id).where(TrafficCase.code == code)):
            return code


async def edit_case(session: AsyncSession, case_id: int, data: CaseEdit, device: Device) -> dict:
    case, parties, mine = await for_device(session, case_id, device)
    _require_status(case, DRAFT, MORE_PHOTOS)
    fields = data.model_fields_set
    if "location" in fields:
        _place(case, data.location)
    if "place_text" in fields:
        case.place_text = data.place_text or None
    if "description" in fields:
        case.description = data.description or None
    return await announce(session, case, parties, None, mine=mine)


async def _apply_party(session: AsyncSession, case: TrafficCase, parties: dict, role: str, data: PartyIn) -> None:
    party, other = parties[role], parties[B if role == A else A]
    fields = data.model_fields_set
    if "phone" in fields and data.phone != party.phone:
        if data.phone and data.phone == other.phone:
            raise Invalid("双方不能使用同一个手机号", "The two parties cannot use the same phone number",
                          code="same_phone", errors=[{"field": "phone", "message_zh": "与另一方的手机号相同",
                                                      "message_en": "Same number as the other party"}])
        party.phone, party.verified_at = data.phone, None
    for f in ("name", "plate", "vehicle_type", "insurer"):
        if f in fields:
            setattr(party, f, getattr(data, f))
    if "plate" in fields and data.plate and data.plate == other.plate:
        raise Invalid("双方车牌号相同，请检查", "Both parties have the same plate; check it", code="same_plate")


async def set_party(session: AsyncSession, case_id: int, role: str, data: PartyIn, device: Device) -> dict:
    case, parties, mine = await for_device(session, case_id, device)
    if role not in mine:
        raise Forbidden("只能填写本方信息", "You can only fill in your own party", code="not_your_party")
    _require_status(case, DRAFT)
    await _apply_party(session, case, parties, role, data)
    return await announce(session, case, parties, None, mine=mine)


async def join(session: AsyncSession, code: str, device: Device | None) -> tuple[dict, str | None]:
    """Party B opens the case on their own phone with the code (or QR) on party A's screen."""
    await events.lock_sequence(session)
    case = await session.scalar(select(TrafficCase).where(TrafficCase.code == code.strip().upper()))
    if case is None or case.status != DRAFT:
        raise NotFound("没有找到这个案件码，或案件已提交", "No open case with this code", code="bad_join_code")
    token = None
    if device is None:
        device, token = await auth.issue_device(session)
    case, parties = await load(session, case.id)
    b = parties[B]
    if case.device_id == device.id:
        raise Invalid("这是甲方的手机，请用乙方自己的手机扫码", "This is party A's phone: scan with party B's own phone",
                      code="own_case")
    if b.device_id not in (None, device.id) and b.verified_at is not None:
        raise Conflict("乙方已在另一部手机上加入", "Party B has already joined on another phone", code="already_joined")
    b.device_id = device.id
    await announce(session, case, parties, None)
    view = views.driver(case, parties, await current_photos(session, case.id), [B])
    return {**view, "device_token": token}, token


async def send_code(session: AsyncSession, settings: Settings, case_id: int, role: str, device: Device,
                    address: str | None) -> dict:
    case, parties, mine = await for_device(session, case_id, device)
    if role not in mine:
        raise Forbidden("只能验证本方手机号", "You can only confirm your own party's number", code="not_your_party")
    party = parties[role]
    if not party.phone:
        raise Invalid("请先填写手机号", "Enter the phone number first", code="no_phone")
    label = "甲方" if role == A else "乙方"
    return await sms.issue_code(session, settings, party.phone, purpose(case.id), address,
                                f"交通事故快处{label}验证码 {{code}}，{{minutes}} 分钟内有效。如非本人操作请忽略。")


async def _consume(session: AsyncSession, settings: Settings, case: TrafficCase, parties: dict, role: str,
                   code: str) -> None:
    """Accept the code sent to this party's phone. A code sent to the other party is named as such
    (a driver typing the other's code into their own field is the common slip), and stays usable."""
    party, other = parties[role], parties[B if role == A else A]
    try:
        await sms.consume_code(session, settings, party.phone, purpose(case.id), code)
    except sms.CodeRefused as e:
        if e.code == "wrong_code" and other.phone:
            nested = await session.begin_nested()
            try:
                await sms.consume_code(session, settings, other.phone, purpose(case.id), code)
                matched = True
            except sms.CodeRefused:
                matched = False
            await nested.rollback()
            if matched:
                raise CodeForOtherParty(
                    "这是发给另一方手机的验证码，请输入发给本方手机的验证码",
                    "That code was sent to the other party's phone: enter the one sent to this party's phone",
                    keep=True) from None
        raise


async def verify(session: AsyncSession, settings: Settings, case_id: int, role: str, code: str,
                 device: Device) -> dict:
    case, parties, mine = await for_device(session, case_id, device)
    if role not in mine:
        raise Forbidden("只能验证本方手机号", "You can only confirm your own party's number", code="not_your_party")
    party = parties[role]
    if not party.phone:
        raise Invalid("请先填写手机号", "Enter the phone number first", code="no_phone")
    await _consume(session, settings, case, parties, role, code.strip())
    party.verified_at = utcnow()
    if role == B and case.device_id != device.id:
        party.device_id = device.id
    return await announce(session, case, parties, "number_confirmed", mine=mine)


def missing(case: TrafficCase, parties: dict, photos: dict) -> list[dict]:
    """What still stands between the drivers and submitting, each in both languages."""
    out = []
    for i, item in enumerate(case.checklist):
        if i not in photos:
            out.append({"field": f"photos.{i}", "message_zh": f"缺少照片：{item['title_zh']}",
                        "message_en": f"Missing photo: {item['title_en']}"})
    for role in ROLES:
        p, zh = parties[role], "甲方" if role == A else "乙方"
        en = f"Party {role}"
        if not p.phone or p.verified_at is None:
            out.append({"field": f"parties.{role}.phone", "message_zh": f"{zh}手机号未验证",
                        "message_en": f"{en}'s phone number is not confirmed"})
        for f, fzh, fen in (("plate", "车牌号", "plate"), ("vehicle_type", "车辆类型", "vehicle type"),
                            ("insurer", "保险公司", "insurer")):
            if not getattr(p, f):
                out.append({"field": f"parties.{role}.{f}", "message_zh": f"{zh}缺少{fzh}",
                            "message_en": f"{en}'s {fen} is missing"})
    if case.lat is None:
        out.append({"field": "location", "message_zh": "缺少事故位置，请在地图上选择",
                    "message_en": "The position is missing: pick it on the map"})
    return out


async def submit(session: AsyncSession, case_id: int, data: SubmitIn, device: Device) -> dict:
    case, parties, mine = await for_device(session, case_id, device)
    _require_status(case, DRAFT)
    photos = await current_photos(session, case.id)
    gaps = missing(case, parties, photos)
    if len(photos) < len(case.checklist):
        raise Invalid(f"需要全部 {len(case.checklist)} 张照片才能提交（已有 {len(photos)} 张）",
                      f"All {len(case.checklist)} photos are needed to submit ({len(photos)} so far)",
                      code="photos_missing", errors=gaps)
    if gaps:
        raise Invalid("还有内容未完成，未提交", "Some things are still missing; nothing was submitted",
                      code="incomplete", errors=gaps)
    now = utcnow()
    case.submitted_at, case.mode = now, data.mode
    if data.mode == SELF:
        proposer = A if A in mine else B
        case.settlement = {"liability": check_pair(data.liability), "by": proposer, "at": now.isoformat()}
        case.status = SETTLING
        for p in parties.values():
            p.settle_answer, p.settle_at = None, None
        if own_phone(case, parties[proposer], device):
            parties[proposer].settle_answer, parties[proposer].settle_at = "agree", now
    else:
        case.status, case.waiting_since = SUBMITTED, now
    return await announce(session, case, parties, "submitted", mine=mine)


async def _speaks_for(session, settings, case, parties, role: str, device: Device, code: str | None) -> None:
    """A party's own answer (settlement, decision): on their own phone, or with an SMS code sent to
    their number when the answer is given on the other party's phone."""
    party = parties[role]
    if own_phone(case, party, device):
        return
    if not may_speak(case, parties, role, device):
        raise Forbidden("只能由本方作答", "Only this party may answer", code="not_your_party")
    if not code:
        raise Invalid(f"请输入发到 {mask_phone(party.phone)} 的验证码", f"Enter the code sent to {mask_phone(party.phone)}",
                      code="code_required")
    await _consume(session, settings, case, parties, role, code.strip())


async def settle_answer(session: AsyncSession, settings: Settings, case_id: int, role: str, agree: bool,
                        code: str | None, device: Device) -> dict:
    case, parties, mine = await for_device(session, case_id, device)
    _require_status(case, SETTLING)
    await _speaks_for(session, settings, case, parties, role, device, code)
    now = utcnow()
    parties[role].settle_answer, parties[role].settle_at = ("agree" if agree else "disagree"), now
    if not agree:
        # No agreement: the desk rules on it (online, no one has to wait on the road).
        case.mode, case.status, case.waiting_since = RULING, SUBMITTED, now
        return await announce(session, case, parties, "settlement_refused", mine=mine)
    if all(p.settle_answer == "agree" for p in parties.values()):
        case.status, case.settled_at = SETTLED, now
        return await announce(session, case, parties, "settled", mine=mine)
    return await announce(session, case, parties, None, mine=mine)


async def respond(session: AsyncSession, settings: Settings, case_id: int, role: str, answer: str,
                  code: str | None, device: Device) -> dict:
    case, parties, mine = await for_device(session, case_id, device)
    _require_status(case, DECIDED)
    await _speaks_for(session, settings, case, parties, role, device, code)
    parties[role].response, parties[role].responded_at = answer, utcnow()
    return await announce(session, case, parties, "disputed" if answer == "disputed" else "confirmed", mine=mine)


async def resubmit(session: AsyncSession, case_id: int, device: Device) -> dict:
    """After retakes: back into the queue once every slot asked for has a new photo."""
    case, parties, mine = await for_device(session, case_id, device)
    _require_status(case, MORE_PHOTOS)
    photos = await current_photos(session, case.id)
    asked_at = case.reviewed_at
    stale = [i for i in case.retake_slots or [] if i not in photos or (asked_at and photos[i].created_at < asked_at)]
    if stale:
        raise Invalid("还有要求重拍的照片未上传", "Some photos asked for are not retaken yet", code="retakes_missing",
                      errors=[{"field": f"photos.{i}", "message_zh": f"请重拍：{case.checklist[i]['title_zh']}",
                               "message_en": f"Retake: {case.checklist[i]['title_en']}"} for i in stale])
    case.status, case.waiting_since, case.retake_slots = SUBMITTED, utcnow(), None
    return await announce(session, case, parties, "resubmitted", mine=mine)


def summary_text(case: TrafficCase, parties: dict, ruled_out: list[str] | None = None) -> str:
    """One line for an alarm or an incident note: what the drivers entered."""
    bits = []
    for role in ROLES:
        p = parties.get(role)
        if p and (p.plate or p.phone):
            bits.append(f"{'甲' if role == A else '乙'}方 {p.plate or '?'} {p.phone or ''}".strip())
    if case.description:
        bits.append(case.description)
    return "；".join(bits)


async def mark_converted(session: AsyncSession, case_id: int, device: Device, alarm_id: int) -> None:
    case, parties, _ = await for_device(session, case_id, device)
    _require_status(case, DRAFT)
    case.status, case.alarm_id = CONVERTED, alarm_id
    await announce(session, case, parties, "converted")


RULED_OUT_ZH = {"injured": "有人受伤", "drivable": "车辆不能移动", "two_vehicles": "不止两车或涉及行人、设施",
                "licensed_insured": "证件或保险不全", "drink_drugs": "疑似酒驾或毒驾", "dispute": "对事实有争议"}


async def to_alarm(session: AsyncSession, data, device: Device | None) -> dict:
    """Not a case for quick handling: one tap raises an ordinary alarm with the position (dispatch as
    usual), classified as a traffic accident, carrying what the driver entered in its text."""
    from ..alarms import repository as alarms_repo
    from ..alarms import service as alarms
    from ..alarms.schemas import AlarmIn
    from ..incidents import service as incidents

    await events.lock_sequence(session)
    why = "、".join(RULED_OUT_ZH[q] for q in data.answers.ruled_out()) or "驾驶人要求民警到场"
    plates = "/".join(data.plates)
    text = "；".join(x for x in (f"交通事故（不能快处：{why}）", plates and f"车牌 {plates}", data.place_text,
                                 data.description) if x)
    alarm_in = AlarmIn(idempotency_key=data.idempotency_key, phone=data.phone, location=data.location,
                       place_text=text[:200])
    view, created = await alarms.raise_alarm(session, alarm_in, device)
    alarm = await alarms_repo.by_key(session, data.idempotency_key)
    if created:
        caller = auth.caller_principal(await session.get_one(Device, alarm.device_id))
        await incidents.classify(session, alarm.incident_id, "traffic", 2, caller)
        if data.case_id is not None and device is not None:
            await mark_converted(session, data.case_id, device, alarm.id)
    return {**view, "ruled_out": data.answers.ruled_out()}
