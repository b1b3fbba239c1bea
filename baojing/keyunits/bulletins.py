"""Partner bulletins (协查/预警通报): written by staff, targeted at unit types within jurisdictions
or inside a drawn area, delivered at once to every roster member of those units (their page, with a
sound, and SMS), with a receipt per member the console follows live; exported as OASIS CAP 1.2."""
from __future__ import annotations

from datetime import datetime, timedelta
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from pydantic_core import to_jsonable_python
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..alarms.schemas import LocationIn
from ..auth.models import Device
from ..auth.service import Principal, audit
from ..config import Settings
from ..db import utcnow
from ..dispatch.models import District, Station
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..geo import point_in_polygon
from ..sms import service as sms
from . import onetap, registry
from .members import Member
from .models import (CLOSED, FOUND, KINDS, OPEN, PHOTO, URGENCIES, Bulletin, BulletinRecipient, KeyUnit,
                     KeyUnitFile, MemberAccount, RosterEntry)
from .schemas import BulletinIn

LOCAL = ZoneInfo("Asia/Shanghai")
CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_SENDER = "bulletins@110.baojing"
# A member's page keeps a closed or expired bulletin this long, marked so.
KEEP_SHOWING = timedelta(hours=24)
STAGES = ("delivered", "read", "acked")


def _bad_target(zh: str, en: str, code: str) -> Invalid:
    return Invalid(zh, en, code=code, errors=[{"field": "target", "message_zh": zh, "message_en": en}])


async def _targeted_units(session: AsyncSession, b: Bulletin) -> list[KeyUnit]:
    stations = {s.id: s for s in await session.scalars(select(Station))}
    units = list(await session.scalars(select(KeyUnit).order_by(KeyUnit.id)))
    out = []
    for u in units:
        if b.target_kinds and u.kind not in b.target_kinds:
            continue
        st = stations.get(u.station_id)
        where = (
            (u.station_id in b.target_station_ids)
            or (st is not None and st.district_id in b.target_district_ids)
            or (b.target_area is not None and point_in_polygon(u.lat, u.lon, b.target_area))
        )
        if where:
            out.append(u)
    return out


def member_bulletin(b: Bulletin, photos: list[KeyUnitFile], receipt: BulletinRecipient | None) -> dict:
    zh, en = URGENCIES[b.urgency]
    return {"id": b.id, "title": b.title, "text": b.text, "subject": b.subject, "urgency": b.urgency,
            "urgency_zh": zh, "urgency_en": en, "expires_at": b.expires_at, "status": b.status,
            "created_at": b.created_at, "closed_at": b.closed_at,
            "photos": [registry.file_view(p) for p in photos],
            "receipt": None if receipt is None else _receipt(receipt)}


def _receipt(r: BulletinRecipient) -> dict:
    return {"unit_id": r.unit_id, "delivered_at": r.delivered_at, "read_at": r.read_at, "acked_at": r.acked_at,
            "found_alarm_id": r.found_alarm_id}


def receipt_view(r: BulletinRecipient) -> dict:
    return {"id": r.id, "unit_id": r.unit_id, "phone": r.phone, "name": r.name, "notified_at": r.notified_at,
            "notify_count": r.notify_count, "delivered_at": r.delivered_at, "read_at": r.read_at,
            "acked_at": r.acked_at, "found_alarm_id": r.found_alarm_id}


async def _counts(session: AsyncSession, bulletin_id: int) -> dict:
    R = BulletinRecipient
    row = (await session.execute(select(func.count(), func.count(R.delivered_at), func.count(R.read_at),
                                        func.count(R.acked_at), func.count(R.found_alarm_id))
                                 .where(R.bulletin_id == bulletin_id))).one()
    return dict(zip(("recipients", "delivered", "read", "acked", "found"), row))


async def _photos(session: AsyncSession, bulletin_id: int) -> list[KeyUnitFile]:
    return list(await session.scalars(select(KeyUnitFile).where(KeyUnitFile.bulletin_id == bulletin_id)
                                      .order_by(KeyUnitFile.id)))


async def staff_view(session: AsyncSession, b: Bulletin, *, receipts: bool = False) -> dict:
    out = {"id": b.id, "title": b.title, "text": b.text, "subject": b.subject, "urgency": b.urgency,
           "expires_at": b.expires_at, "status": b.status, "target_kinds": b.target_kinds,
           "target_station_ids": b.target_station_ids, "target_district_ids": b.target_district_ids,
           "target_area": b.target_area, "created_by": b.created_by, "created_at": b.created_at,
           "closed_at": b.closed_at, "photos": [registry.file_view(p) for p in await _photos(session, b.id)],
           "counts": await _counts(session, b.id)}
    if receipts:
        rows = await session.execute(select(BulletinRecipient, KeyUnit.name).join(KeyUnit, KeyUnit.id == BulletinRecipient.unit_id)
                                     .where(BulletinRecipient.bulletin_id == b.id).order_by(KeyUnit.name, BulletinRecipient.id))
        out["receipts"] = [{**receipt_view(r), "unit_name": name} for r, name in rows.all()]
    return out


async def get(session: AsyncSession, bulletin_id: int) -> Bulletin:
    b = await session.get(Bulletin, bulletin_id, populate_existing=True)
    if b is None:
        raise NotFound("没有这条通报", f"No bulletin {bulletin_id}")
    return b


def _sms_text(b: Bulletin) -> str:
    zh, _ = URGENCIES[b.urgency]
    return f"【{zh}协查通报】{b.title}：{b.subject[:80]}。请登录重点单位页面查看并确认收到；发现目标请立即点“发现目标”或拨打110。"


async def _notify(session: AsyncSession, b: Bulletin, recipients: list[BulletinRecipient]) -> None:
    """Page (live event per member) and SMS per phone, in this transaction; delivered after commit.
    The bulletin's part of the event is built and made JSON-ready once for all of them: only the
    receipt differs from member to member (hundreds, while the transaction holds the connection)."""
    base = to_jsonable_python(member_bulletin(b, await _photos(session, b.id), None))
    told: set[int] = set()
    for r in recipients:
        if r.user_id is not None and r.user_id not in told:
            told.add(r.user_id)
            await events.emit(session, "bulletin.received", {**base, "receipt": _receipt(r)}, scope=events.USER,
                              user_id=r.user_id)
    phones = sorted({r.phone for r in recipients})
    await sms.queue_many(session, [(p, _sms_text(b)) for p in phones], "bulletin")


async def create(session: AsyncSession, data: BulletinIn, who: Principal) -> dict:
    await events.lock_sequence(session)
    if not (data.target_station_ids or data.target_district_ids or data.target_area):
        raise _bad_target("请选择通报范围：辖区（派出所或城区）或在地图上画出区域",
                          "Choose whom to send it to: jurisdictions (stations or districts) or an area drawn on the map",
                          "empty_target")
    if data.expires_at <= utcnow():
        raise Invalid("有效期已过，请选择将来的时间", "The expiry is in the past", code="expired",
                      errors=[{"field": "expires_at", "message_zh": "有效期已过", "message_en": "In the past"}])
    known = set(await session.scalars(select(Station.id)))
    unknown = [i for i in data.target_station_ids if i not in known]
    known_d = set(await session.scalars(select(District.id)))
    unknown += [i for i in data.target_district_ids if i not in known_d]
    if unknown:
        raise _bad_target("所选辖区不存在", f"Unknown jurisdictions: {unknown}", "unknown_target")
    b = Bulletin(title=data.title, text=data.text, subject=data.subject, urgency=data.urgency,
                 expires_at=data.expires_at, target_kinds=list(data.target_kinds),
                 target_station_ids=list(data.target_station_ids), target_district_ids=list(data.target_district_ids),
                 target_area=data.target_area, status=OPEN, created_by=who.user_id, station_id=who.station_id,
                 created_at=utcnow())
    session.add(b)
    await session.flush()
    units = await _targeted_units(session, b)
    rows = []
    if units:
        accounts = dict((await session.execute(select(MemberAccount.phone, MemberAccount.user_id))).all())
        entries = await session.scalars(select(RosterEntry).where(RosterEntry.unit_id.in_([u.id for u in units])))
        now = utcnow()
        rows = [{"bulletin_id": b.id, "unit_id": e.unit_id, "phone": e.phone, "name": e.name,
                 "user_id": accounts.get(e.phone), "notified_at": now, "notify_count": 1} for e in entries]
    if not rows:
        kinds = "、".join(KINDS[k][0] for k in data.target_kinds) or "重点单位"
        raise _bad_target(f"所选范围内没有{kinds}的登记人员，未发送", "No registered member of such units in that area; nothing was sent",
                          "no_recipients")
    await session.execute(insert(BulletinRecipient), rows)
    recipients = list(await session.scalars(select(BulletinRecipient).where(BulletinRecipient.bulletin_id == b.id)))
    await _notify(session, b, recipients)
    await audit(session, who, "bulletin.create", "bulletin", b.id, {"units": len(units), "recipients": len(rows)})
    view = await staff_view(session, b, receipts=True)
    await events.emit(session, "bulletin.updated", {k: v for k, v in view.items() if k != "receipts"}, actor=who.label)
    return view


async def add_photo(session: AsyncSession, settings: Settings, bulletin_id: int, data: bytes, name: str | None,
                    who: Principal) -> dict:
    await events.lock_sequence(session)
    b = await get(session, bulletin_id)
    if b.status != OPEN:
        raise Conflict("通报已关闭", "The bulletin is closed", code="bulletin_closed")
    await registry.store_file(session, settings, data, name, PHOTO, who.label, bulletin_id=b.id, images_only=True)
    recipients = list(await session.scalars(select(BulletinRecipient).where(BulletinRecipient.bulletin_id == b.id)))
    photos = await _photos(session, b.id)
    for uid in {r.user_id for r in recipients if r.user_id}:
        r = next(x for x in recipients if x.user_id == uid)
        await events.emit(session, "bulletin.received", member_bulletin(b, photos, r), scope=events.USER, user_id=uid)
    view = await staff_view(session, b)
    await events.emit(session, "bulletin.updated", view, actor=who.label)
    return view


async def renotify(session: AsyncSession, bulletin_id: int, who: Principal) -> dict:
    """Everyone who has not acknowledged yet is told again (page and SMS)."""
    await events.lock_sequence(session)
    b = await get(session, bulletin_id)
    if b.status != OPEN:
        raise Conflict("通报已关闭", "The bulletin is closed", code="bulletin_closed")
    rest = list(await session.scalars(select(BulletinRecipient).where(BulletinRecipient.bulletin_id == b.id,
                                                                       BulletinRecipient.acked_at.is_(None))))
    if rest:
        await session.execute(update(BulletinRecipient).where(BulletinRecipient.id.in_([r.id for r in rest]))
                              .values(notified_at=utcnow(), notify_count=BulletinRecipient.notify_count + 1))
        await _notify(session, b, rest)
    await audit(session, who, "bulletin.renotify", "bulletin", b.id, {"recipients": len(rest)})
    view = await staff_view(session, b, receipts=True)
    await events.emit(session, "bulletin.updated", {k: v for k, v in view.items() if k != "receipts"}, actor=who.label)
    return {**view, "renotified": len(rest)}


async def close(session: AsyncSession, bulletin_id: int, who: Principal) -> dict:
    await events.lock_sequence(session)
    b = await get(session, bulletin_id)
    if b.status == CLOSED:
        raise Conflict("通报已关闭", "The bulletin is already closed", code="bulletin_closed")
    b.status, b.closed_at, b.closed_by = CLOSED, utcnow(), who.user_id
    recipients = list(await session.scalars(select(BulletinRecipient).where(BulletinRecipient.bulletin_id == b.id)))
    photos = await _photos(session, b.id)
    for uid in {r.user_id for r in recipients if r.user_id}:
        r = next(x for x in recipients if x.user_id == uid)
        await events.emit(session, "bulletin.closed", member_bulletin(b, photos, r), scope=events.USER, user_id=uid)
    await sms.queue_many(session, [(p, f"【通报解除】“{b.title}”已解除，感谢配合。") for p in sorted({r.phone for r in recipients})],
                         "bulletin_closed")
    await audit(session, who, "bulletin.close", "bulletin", b.id)
    view = await staff_view(session, b)
    await events.emit(session, "bulletin.updated", view, actor=who.label)
    return view


async def list_staff(session: AsyncSession) -> dict:
    seq = await events.last_seq(session)
    rows = await session.scalars(select(Bulletin).order_by(Bulletin.id.desc()).limit(100))
    return {"seq": seq, "bulletins": [await staff_view(session, b) for b in rows]}


async def detail(session: AsyncSession, bulletin_id: int) -> dict:
    return await staff_view(session, await get(session, bulletin_id), receipts=True)


# ---- members ---------------------------------------------------------------------------------

async def of_member(session: AsyncSession, member: Member) -> list[dict]:
    since = utcnow() - KEEP_SHOWING
    rows = await session.execute(select(Bulletin, BulletinRecipient)
                                 .join(BulletinRecipient, BulletinRecipient.bulletin_id == Bulletin.id)
                                 .where(BulletinRecipient.phone == member.phone,
                                        BulletinRecipient.unit_id.in_(member.unit_ids),
                                        (Bulletin.status == OPEN) | (Bulletin.closed_at > since))
                                 .order_by(Bulletin.id.desc()))
    out, seen = [], set()
    for b, r in rows.all():
        if b.id not in seen and (b.status == OPEN or b.closed_at) and b.expires_at > since:
            seen.add(b.id)
            out.append(member_bulletin(b, await _photos(session, b.id), r))
    return out


async def _receipts_of(session: AsyncSession, member: Member, bulletin_id: int) -> list[BulletinRecipient]:
    rows = list(await session.scalars(select(BulletinRecipient).where(
        BulletinRecipient.bulletin_id == bulletin_id, BulletinRecipient.phone == member.phone,
        BulletinRecipient.unit_id.in_(member.unit_ids)).order_by(BulletinRecipient.id)))
    if not rows:
        raise Forbidden("这条通报不是发给您的", "This bulletin was not sent to you", code="not_a_recipient",
                        audit=(member.principal, "bulletin.refused", "bulletin", bulletin_id))
    return rows


async def mark(session: AsyncSession, member: Member, bulletin_id: int, stage: str) -> dict:
    """delivered (the page got it), read (shown on screen), acked (the member pressed 确认收到).
    Each later stage implies the earlier ones; repeating one changes nothing."""
    await events.lock_sequence(session)
    b = await get(session, bulletin_id)
    rows = await _receipts_of(session, member, bulletin_id)
    now = utcnow()
    changed = False
    for r in rows:
        for s in STAGES[:STAGES.index(stage) + 1]:
            if getattr(r, f"{s}_at") is None:
                setattr(r, f"{s}_at", now)
                changed = True
    await session.flush()
    if changed:
        counts = await _counts(session, b.id)
        for r in rows:
            await events.emit(session, "bulletin.receipt", {"bulletin_id": b.id, "receipt": receipt_view(r),
                                                            "counts": counts}, actor=member.principal.label)
        if stage == "acked":
            await audit(session, member.principal, "bulletin.ack", "bulletin", b.id)
    return member_bulletin(b, await _photos(session, b.id), rows[0])


async def found(session: AsyncSession, member: Member, bulletin_id: int, key: str, location: LocationIn | None,
                text: str | None, device: Device | None, board) -> tuple[dict, dict, bool]:
    """"发现目标": a top-priority alarm linked to the bulletin, from the member's unit and position."""
    await events.lock_sequence(session)
    b = await get(session, bulletin_id)
    rows = await _receipts_of(session, member, bulletin_id)
    if b.status != OPEN:
        raise Conflict("该通报已解除，如有警情请直接报警", "This bulletin is closed; raise an ordinary alarm if needed",
                       code="bulletin_closed")
    unit = await registry.get_unit(session, rows[0].unit_id)
    place = f"【发现目标】{b.title} · {unit.name}（{unit.address}）"
    caller, v, created = await onetap.raise_for(session, member, unit, key, location, device, kind=FOUND, board=board,
                                                bulletin_id=b.id, place_text=place)
    if created:
        if text:
            await onetap.add_note(session, member, v["id"], text, board)
        now = utcnow()
        for r in rows:
            r.found_alarm_id = v["id"]
            for s in STAGES:
                if getattr(r, f"{s}_at") is None:
                    setattr(r, f"{s}_at", now)
        await session.flush()
        counts = await _counts(session, b.id)
        for r in rows:
            await events.emit(session, "bulletin.receipt", {"bulletin_id": b.id, "receipt": receipt_view(r),
                                                            "counts": counts}, actor=member.principal.label)
    return caller, v, created


# ---- CAP 1.2 ---------------------------------------------------------------------------------

def _cap_time(t: datetime) -> str:
    # CAP's pattern: seconds, and a numeric offset ("Z" is not allowed).
    return t.astimezone(LOCAL).replace(microsecond=0).isoformat()


def _cap_polygon(ring: list) -> str:
    points = [list(p) for p in ring]
    if points[0] != points[-1]:
        points.append(points[0])  # CAP: the first and last pairs are the same
    return " ".join(f"{lat:.6f},{lon:.6f}" for lat, lon in points)


CAP_URGENCY = {"immediate": ("Immediate", "Extreme"), "urgent": ("Immediate", "Severe"), "normal": ("Expected", "Moderate")}


async def cap_xml(session: AsyncSession, bulletin_id: int) -> str:
    b = await get(session, bulletin_id)
    stations = {s.id: s for s in await session.scalars(select(Station))}
    districts = {d.id: d for d in await session.scalars(select(District))}
    q = ET.QName
    ET.register_namespace("", CAP_NS)
    alert = ET.Element(q(CAP_NS, "alert"))

    def sub(parent, tag, text=None):
        el = ET.SubElement(parent, q(CAP_NS, tag))
        if text is not None:
            el.text = str(text)
        return el

    identifier = f"baojing-bulletin-{b.id}"
    sub(alert, "identifier", identifier + ("-cancel" if b.status == CLOSED else ""))
    sub(alert, "sender", CAP_SENDER)
    sub(alert, "sent", _cap_time(b.closed_at if b.status == CLOSED else b.created_at))
    sub(alert, "status", "Actual")
    sub(alert, "msgType", "Cancel" if b.status == CLOSED else "Alert")
    sub(alert, "scope", "Restricted")
    sub(alert, "restriction", "仅限登记的重点单位人员 / Registered key-unit members only")
    if b.status == CLOSED:
        sub(alert, "references", f"{CAP_SENDER},{identifier},{_cap_time(b.created_at)}")
    info = sub(alert, "info")
    sub(info, "language", "zh-CN")
    sub(info, "category", "Security")
    sub(info, "event", b.title)
    urgency, severity = CAP_URGENCY[b.urgency]
    sub(info, "responseType", "Monitor")
    sub(info, "urgency", urgency)
    sub(info, "severity", severity)
    sub(info, "certainty", "Likely")
    sub(info, "audience", "、".join(KINDS[k][0] for k in b.target_kinds) or "重点单位")
    sub(info, "effective", _cap_time(b.created_at))
    sub(info, "expires", _cap_time(b.expires_at))
    st = stations.get(b.station_id) if b.station_id else None
    sub(info, "senderName", st.name_zh if st else "朝阳市公安局110指挥中心")
    sub(info, "headline", b.title[:160])
    sub(info, "description", b.text)
    sub(info, "instruction", b.subject)
    sub(info, "contact", "110")
    area = sub(info, "area")
    names = []
    rings = []
    if b.target_area:
        names.append("地图划定区域")
        rings.append(b.target_area)
    for sid in b.target_station_ids:
        s = stations.get(sid)
        if s:
            names.append(s.name_zh)
            if s.jurisdiction:
                rings.append(s.jurisdiction)
    for did in b.target_district_ids:
        d = districts.get(did)
        if d:
            names.append(d.name_zh)
            if d.outline:
                rings.append(d.outline)
    sub(area, "areaDesc", "、".join(names))
    for ring in rings:
        sub(area, "polygon", _cap_polygon(ring))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(alert, encoding="unicode")
