"""The traffic desk (/traffic/): the queue, a case's full view with the history of the same plates
and numbers, and the three ways out of the queue: decide liability, ask for more photos, or send
officers (an incident on the command console, through the alarms service, with everything attached)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..alarms import repository as alarms_repo
from ..alarms import service as alarms
from ..alarms.schemas import AlarmIn, LocationIn
from ..auth import service as auth
from ..auth.models import Device
from ..auth.service import Principal
from ..config import Settings
from ..db import utcnow
from ..errors import Conflict, Invalid
from ..incidents import service as incidents
from ..media import service as media
from ..media.models import PHOTO
from ..sms import service as sms
from . import service, uploads, views
from .models import (A, B, DECIDED, DISPATCHED, MORE_PHOTOS, QUEUED, REVIEWING, ROLES, SETTLED, SETTLING,
                     SUBMITTED, TrafficCase, TrafficParty)
from .schemas import DecisionIn, RetakeIn

# The rules a simple-procedure determination cites most (道路交通安全法 and its 实施条例), and the
# general one of the procedure itself for where none of them fits.
RULES = [
    ("rear_end", "《道路交通安全法》第四十三条：同车道行驶的机动车，后车应当与前车保持足以采取紧急制动措施的安全距离",
     "Road Traffic Safety Law art. 43: keep a safe distance from the vehicle ahead in the same lane"),
    ("lane_change", "《道路交通安全法实施条例》第四十四条：变更车道的机动车，不得影响相关车道内行驶的机动车的正常行驶",
     "Implementing Regulations art. 44: a vehicle changing lanes must not hinder vehicles in that lane"),
    ("reversing", "《道路交通安全法实施条例》第五十条：机动车倒车时，应当察明车后情况，确认安全后倒车",
     "Implementing Regulations art. 50: look behind and make sure it is safe before reversing"),
    ("u_turn", "《道路交通安全法实施条例》第四十九条：机动车掉头时，不得妨碍正常行驶的其他车辆和行人的通行",
     "Implementing Regulations art. 49: a U-turn must not hinder other traffic"),
    ("signal_turn", "《道路交通安全法实施条例》第五十一条：通过有信号灯控制的交叉路口，转弯的机动车让直行的车辆、行人先行",
     "Implementing Regulations art. 51: at a signalled junction, turning vehicles give way to straight-on traffic"),
    ("junction_turn", "《道路交通安全法实施条例》第五十二条：通过没有信号灯控制的交叉路口，转弯的机动车让直行的车辆先行",
     "Implementing Regulations art. 52: at an unsignalled junction, turning vehicles give way to straight-on traffic"),
    ("signals", "《道路交通安全法》第三十八条：车辆、行人应当按照交通信号通行",
     "Road Traffic Safety Law art. 38: follow the traffic signals"),
    ("keep_right", "《道路交通安全法》第三十五条：机动车、非机动车实行右侧通行",
     "Road Traffic Safety Law art. 35: keep to the right"),
    ("general", "《道路交通事故处理程序规定》第六十条：根据当事人的行为对发生道路交通事故所起的作用以及过错的严重程度确定责任",
     "Road Traffic Accident Procedure Regulations art. 60: liability follows each party's part in the accident and the gravity of their fault"),
]
RULE_TEXT = {k: (zh, en) for k, zh, en in RULES}


def rules() -> list[dict]:
    return [{"code": k, "zh": zh, "en": en} for k, zh, en in RULES]


async def queue(session: AsyncSession, settings: Settings) -> dict:
    """Waiting cases (oldest first) and the last day's record (decided, settled, dispatched)."""
    seq = await events.last_seq(session)
    waiting = list(await session.scalars(select(TrafficCase).where(TrafficCase.status.in_(QUEUED))
                                         .order_by(TrafficCase.waiting_since)))
    recent = list(await session.scalars(
        select(TrafficCase).where(TrafficCase.status.in_((MORE_PHOTOS, DECIDED, SETTLING, SETTLED, DISPATCHED)),
                                  TrafficCase.updated_at > utcnow() - timedelta(days=1))
        .order_by(TrafficCase.updated_at.desc()).limit(200)))
    cases = waiting + recent
    parties = await _parties_of(session, [c.id for c in cases])
    return {"seq": seq, "alert_after_s": settings.traffic_alert_after_s,
            "cases": [views.summary(c, parties.get(c.id, {})) for c in cases]}


async def _parties_of(session: AsyncSession, ids: list[int]) -> dict[int, dict[str, TrafficParty]]:
    out: dict[int, dict[str, TrafficParty]] = {}
    if ids:
        for p in await session.scalars(select(TrafficParty).where(TrafficParty.case_id.in_(ids))):
            out.setdefault(p.case_id, {})[p.role] = p
    return out


async def history(session: AsyncSession, case: TrafficCase, parties: dict) -> list[dict]:
    """Earlier cases of the same plates or numbers: a driver with a pattern is worth a look."""
    plates = [p.plate for p in parties.values() if p.plate]
    phones = [p.phone for p in parties.values() if p.phone]
    if not plates and not phones:
        return []
    conds = []
    if plates:
        conds.append(TrafficParty.plate.in_(plates))
    if phones:
        conds.append(TrafficParty.phone.in_(phones))
    ids = set(await session.scalars(select(TrafficParty.case_id).where(or_(*conds), TrafficParty.case_id != case.id)))
    if not ids:
        return []
    rows = list(await session.scalars(select(TrafficCase).where(TrafficCase.id.in_(ids), TrafficCase.status != "draft")
                                      .order_by(TrafficCase.created_at.desc()).limit(50)))
    others = await _parties_of(session, [c.id for c in rows])
    out = []
    for c in rows:
        ps = others.get(c.id, {})
        matched = sorted({v for p in ps.values() for v in (p.plate, p.phone) if v and (v in plates or v in phones)})
        out.append({"id": c.id, "status": c.status, "created_at": c.created_at, "matched": matched,
                    "decision": c.decision, "settlement": c.settlement,
                    "parties": {r: {"plate": p.plate, "phone": p.phone} for r, p in ps.items()}})
    return out


async def detail(session: AsyncSession, case_id: int, who: Principal) -> dict:
    case, parties = await service.load(session, case_id, lock=False)
    if not views.is_public(case):
        raise Invalid("案件尚未提交", "The case has not been submitted yet", code="not_submitted")
    photos = await service.current_photos(session, case.id)
    await auth.audit(session, who, "traffic.view", "traffic_case", case.id)
    return {**views.staff(case, parties, photos, await uploads.superseded(session, case.id)),
            "history": await history(session, case, parties)}


async def _staff_view(session: AsyncSession, case: TrafficCase, parties: dict) -> dict:
    photos = await service.current_photos(session, case.id)
    return {**views.staff(case, parties, photos, await uploads.superseded(session, case.id)),
            "history": await history(session, case, parties)}


async def claim(session: AsyncSession, case_id: int, who: Principal) -> dict:
    """An officer opens a waiting case: the others see it is being looked at. The conditional update
    settles two officers opening it at once."""
    await events.lock_sequence(session)
    done = await session.execute(update(TrafficCase).where(TrafficCase.id == case_id, TrafficCase.status == SUBMITTED)
                                 .values(status=REVIEWING, reviewer_id=who.user_id))
    case, parties = await service.load(session, case_id)
    if done.rowcount:
        await auth.audit(session, who, "traffic.claim", "traffic_case", case.id)
        await service.announce(session, case, parties, "reviewing", who.label)
    return await _staff_view(session, case, parties)


def _decidable(case: TrafficCase) -> None:
    # A decided case may be decided again (a party disputed it, or the officer corrects it).
    if case.status not in (*QUEUED, DECIDED):
        raise Conflict("案件当前状态不能认定", f"A case that is {case.status} cannot be decided", code="wrong_status")


async def _text_both(session: AsyncSession, parties: dict, text: str, purpose: str) -> None:
    for p in parties.values():
        if p.phone:
            await sms.queue(session, p.phone, text, purpose)


def level_zh(level: str) -> str:
    return service.LEVELS_ZH[level]


async def decide(session: AsyncSession, case_id: int, data: DecisionIn, who: Principal) -> dict:
    case, parties = await service.load(session, case_id)
    _decidable(case)
    liability = service.check_pair(data.liability)
    if data.rule not in RULE_TEXT:
        raise Invalid("请从列表中选择适用的条款", "Pick the rule applied from the list", code="bad_rule")
    now = utcnow()
    zh, en = RULE_TEXT[data.rule]
    case.decision = {"liability": liability, "rule": data.rule, "rule_zh": zh, "rule_en": en, "note": data.note,
                     "officer": {"id": who.user_id, "name": who.display_name}, "at": now.isoformat()}
    case.status, case.decided_at, case.reviewer_id = DECIDED, now, who.user_id
    for p in parties.values():
        p.response, p.responded_at = None, None
    await auth.audit(session, who, "traffic.decide", "traffic_case", case.id, {"liability": liability, "rule": data.rule})
    await _text_both(session, parties,
                     f"您的交通事故快处案件（编号 {case.id}）已认定：甲方 {parties[A].plate} {level_zh(liability[A])}，"
                     f"乙方 {parties[B].plate} {level_zh(liability[B])}。请在快处页面确认并下载认定书。",
                     "traffic_decision")
    await service.announce(session, case, parties, "decided", who.label)
    return await _staff_view(session, case, parties)


async def ask_retake(session: AsyncSession, case_id: int, data: RetakeIn, who: Principal) -> dict:
    case, parties = await service.load(session, case_id)
    if case.status not in QUEUED:
        raise Conflict("只有待处理的案件可以要求补拍", "Only a waiting case can be sent back for photos", code="wrong_status")
    slots = sorted(set(data.slots))
    if any(not 0 <= s < len(case.checklist) for s in slots):
        raise Invalid("没有这一项照片", "No such photo slot", code="bad_slot")
    case.status, case.retake_slots, case.retake_reason = MORE_PHOTOS, slots, data.reason
    case.reviewed_at, case.reviewer_id = utcnow(), who.user_id
    await auth.audit(session, who, "traffic.retake", "traffic_case", case.id, {"slots": slots, "reason": data.reason})
    titles = "、".join(case.checklist[s]["title_zh"] for s in slots)
    await _text_both(session, parties, f"交警请您补拍事故照片（编号 {case.id}）：{titles}。原因：{data.reason}。请在快处页面重拍。",
                     "traffic_retake")
    await service.announce(session, case, parties, "more_photos", who.label)
    return await _staff_view(session, case, parties)


async def dispatch(session: AsyncSession, settings: Settings, case_id: int, reason: str | None,
                   who: Principal) -> dict:
    """Officers must go: an alarm on party A's phone (so A sees them coming on /m/) opens an incident
    on the command console, classified as a traffic accident, with a note of everything the drivers
    entered and every photo attached as evidence."""
    case, parties = await service.load(session, case_id)
    if case.status not in (*QUEUED, MORE_PHOTOS, DECIDED, SETTLING, SETTLED):
        raise Conflict("案件当前状态不能转为现场处置", f"A case that is {case.status} cannot be dispatched",
                       code="wrong_status")
    a = parties[A]
    location = None
    if case.lat is not None:
        location = LocationIn(lat=case.lat, lon=case.lon, accuracy_m=case.accuracy_m,
                              source="picked" if case.position_source == "picked" else "device")
    alarm_in = AlarmIn(idempotency_key=f"traffic-case-{case.id}", phone=a.phone, location=location,
                       place_text=(case.place_text or service.summary_text(case, parties))[:200])
    device = await session.get_one(Device, case.device_id)
    view, _ = await alarms.raise_alarm(session, alarm_in, device)
    incident_id = (await alarms_repo.by_key(session, alarm_in.idempotency_key)).incident_id
    await incidents.classify(session, incident_id, "traffic", 2, who)
    note = _dispatch_note(case, parties, reason)
    await incidents.add_note(session, incident_id, note, who)
    photos = await service.current_photos(session, case.id)
    for slot, p in sorted(photos.items()):
        m = await media.adopt(session, settings, settings.media_dir / p.path, incident_id=incident_id, kind=PHOTO,
                              mime=p.mime, size=p.size, sha256=p.sha256, created_by=who.label,
                              original_name=f"{case.checklist[slot]['title_zh']}.{p.mime.split('/')[-1]}")
        await media.announce(session, m, "traffic_photo", who.label)
    case.status, case.incident_id, case.alarm_id = DISPATCHED, incident_id, view["id"]
    await auth.audit(session, who, "traffic.dispatch", "traffic_case", case.id, {"incident_id": incident_id})
    await _text_both(session, parties, f"您的交通事故快处案件（编号 {case.id}）需民警到现场处理，请在安全处等候。",
                     "traffic_dispatch")
    await service.announce(session, case, parties, "dispatched", who.label)
    return await _staff_view(session, case, parties)


def _dispatch_note(case: TrafficCase, parties: dict, reason: str | None) -> str:
    lines = [f"交通事故快处案件 {case.id} 转现场处置" + (f"：{reason}" if reason else "")]
    for r in ROLES:
        p = parties[r]
        lines.append(f"{'甲' if r == A else '乙'}方：{p.plate or '-'}，{p.phone or '-'}，{p.vehicle_type or '-'}，{p.insurer or '-'}")
    if case.description:
        lines.append(f"描述：{case.description}")
    if case.decision:
        lia = case.decision["liability"]
        lines.append(f"已认定：甲方{level_zh(lia[A])}，乙方{level_zh(lia[B])}")
    return "\n".join(lines)
