"""Text alarm chat, attachments (photos, one short clip) and the desk's snapshots of the caller's
video. A file is checked (magic bytes, size, clip length by PyAV) before any row is written, and
moves into the media store only once its row commits (media/service.py)."""
from __future__ import annotations


from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..alarms.models import Alarm
from ..auth import roles
from ..auth.service import Principal, audit
from ..config import Settings
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..incidents import service as incidents
from ..media import service as media
from ..media.models import CLIP, PHOTO, SNAPSHOT, MediaFile
from .models import ACTIVE, DESK, ENDED, HELD, OFFICER, SUPERVISOR, VIDEO, Call, CallMessage, CallParty
from .service import get, may_see, party_of, people

MB = 1024 * 1024
PHOTO_MAX_BYTES, PHOTOS_PER_CALL = 5 * MB, 8
CLIP_MAX_BYTES, CLIP_MAX_SECONDS, CLIPS_PER_CALL = 20 * MB, 15.0, 1
SNAPSHOT_MAX_BYTES = 2 * MB
# A phone's recorder stops a little after the 15 s its page asked for.
CLIP_TOLERANCE_S = 0.5


async def _sender(session: AsyncSession, call: Call, who: Principal) -> CallParty:
    if who.kind == "caller" and call.device_id != who.device_id:
        raise NotFound("没有这个通话", f"No call {call.id}")
    if call.status == ENDED:
        raise Conflict("通话已结束", f"Call {call.id} has ended", code="call_ended")
    party = await party_of(session, call, who, joined=True)
    if party is None:
        raise Forbidden("您不在这个通话中，请先接听或加入", "You are not in this call: answer or join it first",
                        code="not_a_party", audit=(who, "call.refused", "call", call.id))
    return party


def _message_view(msg: CallMessage, party: CallParty, author: str | None, attachment: dict | None) -> dict:
    return {"id": msg.id, "call_id": msg.call_id, "party_id": party.id, "role": party.role, "author": author,
            "text": msg.text, "attachment": attachment, "at": msg.at}


async def _incident_of(session: AsyncSession, call: Call) -> int:
    return await session.scalar(select(Alarm.incident_id).where(Alarm.id == call.alarm_id))


async def _post(session: AsyncSession, call: Call, party: CallParty, who: Principal, text: str | None,
                m: MediaFile | None) -> dict:
    msg = CallMessage(call_id=call.id, party_id=party.id, text=text, media_id=m.id if m else None)
    session.add(msg)
    await session.flush()
    incident_id = await _incident_of(session, call)
    attachment = media.view(m) if m else None
    author = who.display_name if who.kind == "staff" else None
    staff = _message_view(msg, party, author, attachment)
    await events.emit(session, "call.message", staff, incident_id=incident_id, actor=who.label)
    officers = await session.scalars(select(CallParty.user_id).where(CallParty.call_id == call.id,
                                                                     CallParty.role == OFFICER,
                                                                     CallParty.left_at.is_(None)))
    for user_id in set(officers):
        await events.emit(session, "call.message", staff, scope=events.USER, user_id=user_id, incident_id=incident_id)
    # Officers sent to the incident read along on their card, in the chat or not yet.
    await incidents.to_responders(session, incident_id, "call.message", staff)
    # The caller never learns the staff's names from the chat, as from nowhere else.
    await events.emit(session, "call.message", {**staff, "author": None}, scope=events.DEVICE,
                      device_id=call.device_id, incident_id=incident_id)
    return staff if who.kind == "staff" else {**staff, "author": None}


async def send_text(session: AsyncSession, call_id: int, text: str, who: Principal) -> dict:
    await events.lock_sequence(session)
    call = await get(session, call_id)
    party = await _sender(session, call, who)
    return await _post(session, call, party, who, text, None)


async def attach(session: AsyncSession, settings: Settings, call_id: int, staged: media.Staged, caption: str | None,
                 who: Principal) -> dict:
    """A photo (JPEG, PNG or WebP ≤ 5 MB, at most 8 per call) or one clip (MP4/WebM ≤ 20 MB, ≤ 15 s)."""
    await events.lock_sequence(session)
    call = await get(session, call_id)
    party = await _sender(session, call, who)
    if caption is not None and len(caption) > 2000:
        raise Invalid("说明太长（最多 2000 个字符）", "The caption is too long (at most 2000 characters)")
    try:
        kind, duration = await _check_attachment(session, call, staged)
        m = await media.store(session, settings, staged, incident_id=await _incident_of(session, call), call_id=call.id,
                              kind=kind, created_by=who.label, duration_s=duration, original_name=staged.original_name)
    except BaseException:
        staged.discard()
        raise
    await media.announce(session, m, "evidence_added", who.label)
    return await _post(session, call, party, who, caption or None, m)


async def _check_attachment(session: AsyncSession, call: Call, staged: media.Staged) -> tuple[str, float | None]:
    if staged.mime in media.IMAGES:
        if staged.size > PHOTO_MAX_BYTES:
            raise Invalid("照片过大（上限 5 MB）", "The photo is too large (limit 5 MB)", code="file_too_large")
        if await media.count_of_call(session, call.id, PHOTO) >= PHOTOS_PER_CALL:
            raise Invalid(f"每次报警最多 {PHOTOS_PER_CALL} 张照片", f"At most {PHOTOS_PER_CALL} photos per alarm",
                           code="too_many_photos")
        return PHOTO, None
    if staged.mime in media.CLIPS:
        if await media.count_of_call(session, call.id, CLIP) >= CLIPS_PER_CALL:
            raise Invalid("每次报警只能发送一段视频", "Only one video clip per alarm", code="too_many_clips")
        duration = staged.duration_s  # probed while staging, before the transaction
        if duration is None:
            raise Invalid("无法读取这段视频，请换一段重试", "This video could not be read; try another one",
                          code="bad_clip")
        if duration > CLIP_MAX_SECONDS + CLIP_TOLERANCE_S:
            raise Invalid(f"视频不能超过 {CLIP_MAX_SECONDS:g} 秒（这段 {duration:.1f} 秒）",
                          f"A clip may be at most {CLIP_MAX_SECONDS:g} s (this one is {duration:.1f} s)",
                          code="clip_too_long")
        return CLIP, round(duration, 2)
    raise Invalid("只能发送 JPEG、PNG、WebP 照片或 MP4、WebM 视频", "Send a JPEG, PNG or WebP photo, or an MP4 or WebM video",
                  code="unsupported_file")


async def snapshot(session: AsyncSession, settings: Settings, call_id: int, staged: media.Staged,
                   who: Principal) -> dict:
    """A frame the desk took from the caller's video (JPEG or PNG ≤ 2 MB), kept as evidence."""
    await events.lock_sequence(session)
    call = await get(session, call_id)
    party = await _sender(session, call, who)
    if party.role not in (DESK, SUPERVISOR) or who.role not in roles.CONSOLE:
        raise Forbidden("只有接警席可以截图", "Only the desk can take snapshots", code="not_desk")
    if call.kind != VIDEO or call.status not in (ACTIVE, HELD):
        raise Conflict("只能在视频通话中截图", "Snapshots are taken during a video call", code="not_in_video")
    try:
        if staged.mime not in (media.JPEG, media.PNG):
            raise Invalid("截图必须是 JPEG 或 PNG 图片", "A snapshot must be a JPEG or PNG image", code="unsupported_file")
        m = await media.store(session, settings, staged, incident_id=await _incident_of(session, call), call_id=call.id,
                              kind=SNAPSHOT, created_by=who.label, original_name=staged.original_name)
    except BaseException:
        staged.discard()
        raise
    await audit(session, who, "call.snapshot", "call", call.id, {"media_id": m.id})
    return await media.announce(session, m, "snapshot", who.label)


async def messages(session: AsyncSession, call_id: int, who: Principal) -> dict:
    call = await get(session, call_id)
    if who.kind == "caller":
        if call.device_id != who.device_id:
            raise NotFound("没有这个通话", f"No call {call_id}")
    else:
        await may_see(session, call, who)
    rows = (await session.execute(
        select(CallMessage, CallParty, MediaFile).join(CallParty, CallParty.id == CallMessage.party_id)
        .outerjoin(MediaFile, MediaFile.id == CallMessage.media_id)
        .where(CallMessage.call_id == call.id).order_by(CallMessage.id))).all()
    names = await people(session, {p.user_id for _, p, _ in rows if p.user_id}) if who.kind == "staff" else {}
    return {"messages": [_message_view(msg, p, names.get(p.user_id, {}).get("display_name"),
                                       media.view(m) if m else None) for msg, p, m in rows]}
