"""Video and text calls over HTTP. Signalling goes over /ws (calls/signalling.py)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Header, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from ..alarms.schemas import LocationIn
from ..auth import roles
from ..auth import service as auth
from ..auth.models import Device
from ..auth.service import Principal
from ..deps import SESSION_COOKIE, DbSession, current_device, optional_device, require
from ..fields import Id
from ..errors import Unauthorized, answers
from ..media import service as media
from ..media.schemas import MediaOut
from ..uploadgate import upload
from . import chat, service
from .schemas import (AvailabilityOut, CallerCallOut, CallIn, CallList, CallOut, MessageIn, MessageList, MessageOut,
                      MyCalls, PartyIn, SilentIn, TransferIn)

router = APIRouter(prefix="/api", tags=["calls"])
console = require(roles.CONSOLE)


@answers(401)
async def anyone_in_a_call(request: Request, session: AsyncSession = DbSession,
                           x_device_token: str | None = Header(default=None, max_length=100)) -> Principal:
    """Staff by their session cookie, or a caller by their device token."""
    who = await auth.principal_for_session(session, request.cookies.get(SESSION_COOKIE), request.app.state.settings)
    if who is not None:
        return who
    device = await auth.device_by_token(session, x_device_token)
    if device is None:
        raise Unauthorized("请先登录或提供设备标识", "Log in, or send the X-Device-Token header")
    return auth.caller_principal(device)


async def staff_only(who: Principal = Depends(anyone_in_a_call)) -> Principal:
    if who.kind != "staff":
        raise Unauthorized("请先登录", "Please log in")
    return who


def _settings(request: Request):
    return request.app.state.settings


@router.post("/calls/availability", response_model=AvailabilityOut,
             summary="Whether a video alarm is offered at this position (text alarms always are)")
async def availability(request: Request, data: LocationIn | None = None, session: AsyncSession = DbSession):
    return await service.availability(session, _settings(request), data)


@router.post("/calls", response_model=CallerCallOut, status_code=201,
             summary="Start a video or text alarm (no login): the alarm plus a call in the desk queue",
             description="A repeated idempotency_key, or a phone that already has an open call of this kind, "
                         "answers 200 with that call. Video outside the service areas: 422 `outside_service_area`.",
             responses={200: {"model": CallerCallOut, "description": "The caller's existing call"}})
async def start(data: CallIn, request: Request, response: Response, session: AsyncSession = DbSession,
                device: Device | None = Depends(optional_device)):
    view, created = await service.start(session, _settings(request), data, device)
    if not created:
        response.status_code = 200
    return {**view, "ice_servers": service.ice_servers(_settings(request), f"call{view['id']}-party{view['me']}")}


@router.get("/me/calls", response_model=MyCalls, summary="This phone's calls, newest first (with ICE servers)")
async def my_calls(request: Request, session: AsyncSession = DbSession, device: Device = Depends(current_device)):
    return await service.of_device(session, _settings(request), device)


@router.get("/calls", response_model=CallList, summary="The video desk: waiting calls in queue order, then answered ones")
async def desk(request: Request, session: AsyncSession = DbSession, who: Principal = Depends(console)):
    return await service.desk_list(session, _settings(request))


@router.get("/calls/{call_id}", response_model=CallOut, summary="One call (consoles, and the staff in it)")
async def get_call(call_id: Id, request: Request, session: AsyncSession = DbSession,
                   who: Principal = Depends(staff_only)):
    return await service.staff_call(session, _settings(request), call_id, who)


@router.post("/calls/{call_id}/answer", response_model=CallOut,
             summary="Answer a waiting call; 409 `already_answered` (naming who) if another operator was first")
async def answer(call_id: Id, request: Request, session: AsyncSession = DbSession, who: Principal = Depends(console)):
    return await service.answer(session, _settings(request), call_id, who)


@router.post("/calls/{call_id}/hold", response_model=CallOut, summary="Put the caller on hold")
async def hold(call_id: Id, request: Request, session: AsyncSession = DbSession, who: Principal = Depends(console)):
    return await service.hold(session, _settings(request), call_id, True, who)


@router.post("/calls/{call_id}/resume", response_model=CallOut, summary="Take the caller off hold")
async def resume(call_id: Id, request: Request, session: AsyncSession = DbSession, who: Principal = Depends(console)):
    return await service.hold(session, _settings(request), call_id, False, who)


@router.post("/calls/{call_id}/transfer", response_model=CallOut,
             summary="Hand the call to another desk operator, or back to the queue (to_user_id null)")
async def transfer(call_id: Id, data: TransferIn, request: Request, session: AsyncSession = DbSession,
                   who: Principal = Depends(console)):
    return await service.transfer(session, _settings(request), call_id, data.to_user_id, who)


@router.post("/calls/{call_id}/parties", response_model=CallOut,
             summary="Invite an officer dispatched to the incident, or a supervisor, into the call")
async def add_party(call_id: Id, data: PartyIn, request: Request, session: AsyncSession = DbSession,
                    who: Principal = Depends(console)):
    return await service.add_party(session, _settings(request), call_id, data.user_id, who)


@router.post("/calls/{call_id}/join", response_model=CallOut,
             summary="An invited officer, supervisor or transfer target joins the call")
async def join(call_id: Id, request: Request, session: AsyncSession = DbSession,
               who: Principal = Depends(staff_only)):
    return await service.join(session, _settings(request), call_id, who)


@router.post("/calls/{call_id}/hangup",
             summary="The caller or the desk ends the call; anyone else in it leaves",
             description="Answers `CallerCallOut` to a caller, `CallOut` to staff.")
async def hangup(call_id: Id, request: Request, session: AsyncSession = DbSession,
                 who: Principal = Depends(anyone_in_a_call)):
    return await service.hangup(session, _settings(request), call_id, who)


@router.post("/calls/{call_id}/silent", response_model=CallerCallOut,
             summary="The caller turns silent mode on or off (officers sent are told not to call)")
async def silent(call_id: Id, data: SilentIn, request: Request, session: AsyncSession = DbSession,
                 who: Principal = Depends(anyone_in_a_call)):
    return await service.set_silent(session, _settings(request), call_id, data.silent, who)


@router.get("/calls/{call_id}/messages", response_model=MessageList, summary="The call's chat, oldest first")
async def messages(call_id: Id, session: AsyncSession = DbSession, who: Principal = Depends(anyone_in_a_call)):
    return await chat.messages(session, call_id, who)


@router.post("/calls/{call_id}/messages", response_model=MessageOut, status_code=201,
             summary="Send a chat line (the caller, or staff in the call)")
async def send(call_id: Id, data: MessageIn, session: AsyncSession = DbSession,
               who: Principal = Depends(anyone_in_a_call)):
    return await chat.send_text(session, call_id, data.text, who)


@upload(router, "/calls/{call_id}/attachments", staff=True, device=True, response_model=MessageOut, status_code=201,
        summary="Send a photo (JPEG/PNG/WebP ≤ 5 MB, ≤ 8 per call) or one clip (MP4/WebM ≤ 20 MB, ≤ 15 s)")
async def attach(call_id: Id, request: Request,
                 staged: media.Staged = Depends(media.staged_upload(chat.CLIP_MAX_BYTES, "文件", "file")),
                 text: str | None = Form(None, max_length=2000), session: AsyncSession = DbSession,
                 who: Principal = Depends(anyone_in_a_call)):
    return await chat.attach(session, _settings(request), call_id, staged, text, who)


@upload(router, "/calls/{call_id}/snapshots", staff=True, response_model=MediaOut, status_code=201,
        summary="The desk keeps a frame of the caller's video (JPEG/PNG ≤ 2 MB) as evidence")
async def snapshot(call_id: Id, request: Request,
                   staged: media.Staged = Depends(media.staged_upload(chat.SNAPSHOT_MAX_BYTES, "截图", "snapshot")),
                   session: AsyncSession = DbSession, who: Principal = Depends(console)):
    return await chat.snapshot(session, _settings(request), call_id, staged, who)
