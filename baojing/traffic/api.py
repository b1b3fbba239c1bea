"""Quick handling of minor accidents (快处快赔): the drivers' routes (phone token, no login), the
traffic desk's (role traffic_officer) and the admin's checklist. Rules live in service.py, desk.py,
uploads.py; documents in documents.py."""
from __future__ import annotations

import asyncio
import io
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import roles
from ..auth.models import Device
from ..auth.service import Principal
from ..deps import DbSession, current_device, device_if_known, optional_staff, require
from ..errors import Invalid, NotFound, Unauthorized
from ..fields import Id
from ..uploadgate import upload as gated_upload
from . import desk, documents, photos, service, uploads
from .schemas import (CaseEdit, CaseIn, ChecklistOut, CodeIn, DecisionIn, DispatchIn, JoinIn, PartyIn, ResponseIn,
                      RetakeIn, Role, SettleAnswerIn, SubmitIn, ToAlarmIn, UploadIn)

router = APIRouter(prefix="/api/traffic", tags=["traffic"])
DESK = require(frozenset({roles.TRAFFIC_OFFICER}))
# Who may look at the original photos: the traffic desk, and the command console once a case has
# become an incident.
EVIDENCE = frozenset({roles.TRAFFIC_OFFICER, *roles.CONSOLE})
ADMIN = require(frozenset({roles.ADMIN}))
MAX_CHUNK = 1024 * 1024
UploadKey = Annotated[str, PathParam(pattern="^[0-9a-f]{32}$", description="The upload's random key")]


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


# ---------- drivers ----------

@router.post("/cases", status_code=201, summary="Open a quick-handling case (after the eligibility check)",
             description="Refused with `not_eligible` when any answer rules quick handling out: use `/to-alarm`. "
                         "A phone with no token gets one (`device_token`).")
async def open_case(data: CaseIn, session: AsyncSession = DbSession,
                    device: Device | None = Depends(device_if_known)):
    view, _ = await service.open_case(session, data, device)
    return view


@router.post("/to-alarm", status_code=201,
             summary="Not eligible for quick handling: raise an ordinary alarm carrying what was entered")
async def to_alarm(data: ToAlarmIn, session: AsyncSession = DbSession,
                   device: Device | None = Depends(device_if_known)):
    return await service.to_alarm(session, data, device)


@router.get("/cases/mine", summary="This phone's cases, newest first, with the event sequence to follow them live")
async def my_cases(session: AsyncSession = DbSession, device: Device = Depends(current_device)):
    return await service.of_device(session, device)


@router.get("/cases/{case_id}", summary="A case as this driver sees it")
async def get_case(case_id: Id, session: AsyncSession = DbSession, device: Device = Depends(current_device)):
    return await service.view_for(session, case_id, device)


@router.patch("/cases/{case_id}", summary="Position (from the phone or picked on a map), place, description")
async def edit_case(case_id: Id, data: CaseEdit, session: AsyncSession = DbSession,
                    device: Device = Depends(current_device)):
    return await service.edit_case(session, case_id, data, device)


@router.put("/cases/{case_id}/parties/{role}", summary="A party's phone, plate, vehicle type, insurer")
async def set_party(case_id: Id, role: Role, data: PartyIn, session: AsyncSession = DbSession,
                    device: Device = Depends(current_device)):
    return await service.set_party(session, case_id, role, data, device)


@router.post("/cases/{case_id}/parties/{role}/code", summary="Text a one-time code to the party's phone")
async def send_code(case_id: Id, role: Role, request: Request, session: AsyncSession = DbSession,
                    device: Device = Depends(current_device)):
    return await service.send_code(session, request.app.state.settings, case_id, role, device, _address(request))


@router.post("/cases/{case_id}/parties/{role}/verify", summary="Confirm the party's phone with the code it received")
async def verify(case_id: Id, role: Role, data: CodeIn, request: Request, session: AsyncSession = DbSession,
                 device: Device = Depends(current_device)):
    return await service.verify(session, request.app.state.settings, case_id, role, data.code, device)


@router.post("/join", summary="Party B joins on their own phone with the code (or QR) on party A's screen")
async def join(data: JoinIn, session: AsyncSession = DbSession, device: Device | None = Depends(device_if_known)):
    view, _ = await service.join(session, data.code, device)
    return view


@router.get("/qr/{code}.svg", summary="QR code (SVG, drawn here) of the join link for a case code",
            response_class=Response)
async def qr(code: str, request: Request):
    import segno

    if not code.isalnum() or len(code) > 8:
        raise NotFound("没有这个案件码", "No such code")
    url = f"{str(request.base_url).rstrip('/')}/m/traffic/?join={code.upper()}"
    # A file with its SVG namespace: an <img> draws nothing without it (svg_inline leaves it out, being
    # meant for markup inside an HTML page), and party A's phone showed a broken picture for the QR.
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", xmldecl=False, scale=6, border=2, dark="#111", light="#fff")
    return Response(out.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=3600"})


@router.post("/cases/{case_id}/uploads", status_code=201,
             summary="Start a resumable photo upload for one checklist slot (then PATCH the bytes)")
async def start_upload(case_id: Id, data: UploadIn, request: Request, session: AsyncSession = DbSession,
                       device: Device = Depends(current_device)):
    return await uploads.start(session, request.app.state.settings, case_id, data.slot, data.size, device)


@router.get("/uploads/{upload}", summary="How many bytes of an upload the server holds: resume from there")
async def upload_status(upload: UploadKey, request: Request, session: AsyncSession = DbSession,
                        device: Device = Depends(current_device)):
    return await uploads.status(session, request.app.state.settings, upload, device)


@gated_upload(router, "/uploads/{upload}", device=True, method="PATCH",
              summary="Send bytes from Upload-Offset on (application/offset+octet-stream)",
              description="409 `offset_mismatch` names the offset the server holds. The last chunk checks the "
                          "photo and stores it: the answer then carries `photo` and the case.")
async def upload_chunk(upload: UploadKey, request: Request, upload_offset: int = Header(ge=0),
                       x_device_token: str | None = Header(default=None, max_length=100)):
    # The body first, with no transaction open: on a slow link a chunk takes seconds to arrive.
    parts, n = [], 0
    async for part in request.stream():
        n += len(part)
        if n > MAX_CHUNK:
            raise Invalid("单次上传的数据过大", "Chunk too large", code="chunk_too_large", status=413)
        parts.append(part)
    if not x_device_token:
        raise Unauthorized("缺少设备标识", "The X-Device-Token header is missing", code="no_device_token")
    return await uploads.write_chunk(request.app.state, upload, upload_offset, b"".join(parts), x_device_token)


@router.post("/cases/{case_id}/submit",
             summary="Submit: all photos stored and both numbers confirmed; mode ruling (the desk decides) or self")
async def submit(case_id: Id, data: SubmitIn, session: AsyncSession = DbSession,
                 device: Device = Depends(current_device)):
    return await service.submit(session, case_id, data, device)


@router.post("/cases/{case_id}/parties/{role}/settlement",
             summary="A party agrees (or not) to the proposed self-settlement; a code when not on their own phone")
async def settle(case_id: Id, role: Role, data: SettleAnswerIn, request: Request, session: AsyncSession = DbSession,
                 device: Device = Depends(current_device)):
    return await service.settle_answer(session, request.app.state.settings, case_id, role, data.agree, data.code,
                                       device)


@router.post("/cases/{case_id}/parties/{role}/response", summary="A party confirms or disputes the desk's decision")
async def respond(case_id: Id, role: Role, data: ResponseIn, request: Request, session: AsyncSession = DbSession,
                  device: Device = Depends(current_device)):
    return await service.respond(session, request.app.state.settings, case_id, role, data.answer, data.code, device)


@router.post("/cases/{case_id}/resubmit", summary="Back to the desk after the photos asked for are retaken")
async def resubmit(case_id: Id, session: AsyncSession = DbSession, device: Device = Depends(current_device)):
    return await service.resubmit(session, case_id, device)


async def _driver_or_staff(request: Request, session: AsyncSession = DbSession,
                           staff: Principal | None = Depends(optional_staff),
                           device: Device | None = Depends(device_if_known)):
    if staff is not None and staff.role in EVIDENCE:
        return staff
    if device is not None:
        return device
    raise Unauthorized("请先登录", "Log in or send the phone's token")


@router.get("/photos/{photo_id}/copy", response_class=FileResponse,
            summary="A photo re-encoded without EXIF (no location), for a driver of the case or the desk")
async def photo_copy(photo_id: Id, request: Request, size: Literal["full", "thumb"] = "full",
                     session: AsyncSession = DbSession, who=Depends(_driver_or_staff)):
    kw = {"who": who} if isinstance(who, Principal) else {"device": who}
    path = await photos.copy_for(session, request.app.state.settings, photo_id, size, **kw)
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


@router.get("/photos/{photo_id}", response_class=FileResponse,
            summary="The original photo, byte for byte, with its SHA-256 (desk and console; audited)")
async def photo_original(photo_id: Id, request: Request, session: AsyncSession = DbSession,
                         who: Principal = Depends(require(EVIDENCE))):
    p, path = await photos.original(session, request.app.state.settings, photo_id, who)
    return FileResponse(path, media_type=p.mime, headers={"X-Content-SHA256": p.sha256,
                                                          "Cache-Control": "private, no-store"})


async def _document(kind: str, case_id: Id, request: Request, session: AsyncSession, who) -> Response:
    settings = request.app.state.settings
    if isinstance(who, Principal):
        case, parties = await service.load(session, case_id, lock=False)
    else:
        case, parties, _ = await service.for_device(session, case_id, who, lock=False)
    if kind == "determination" and not case.decision:
        raise NotFound("案件尚未认定", "The case has not been decided yet", code="not_decided")
    if kind == "agreement" and not case.settled_at:
        raise NotFound("双方尚未达成协议", "The parties have not settled yet", code="not_settled")
    shots = await service.current_photos(session, case.id)
    make = documents.determination if kind == "determination" else documents.agreement
    started = time.perf_counter()
    pdf = await asyncio.to_thread(make, settings, case, parties, shots)
    ms = (time.perf_counter() - started) * 1000
    name = f"{'认定书' if kind == 'determination' else '协议书'}-{case.id}.pdf"
    from urllib.parse import quote

    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=\"{kind}-{case.id}.pdf\"; filename*=UTF-8''{quote(name)}",
        "Server-Timing": f"pdf;dur={ms:.0f}", "Cache-Control": "private, no-store"})


@router.get("/cases/{case_id}/determination.pdf", response_class=Response,
            summary="The determination (道路交通事故认定书（简易程序）) as PDF, for both drivers and the desk")
async def determination(case_id: Id, request: Request, session: AsyncSession = DbSession,
                        who=Depends(_driver_or_staff)):
    return await _document("determination", case_id, request, session, who)


@router.get("/cases/{case_id}/agreement.pdf", response_class=Response,
            summary="The self-settlement agreement (协议书) as PDF, for both drivers and the desk")
async def agreement(case_id: Id, request: Request, session: AsyncSession = DbSession,
                    who=Depends(_driver_or_staff)):
    return await _document("agreement", case_id, request, session, who)


# ---------- the traffic desk ----------

@router.get("/rules", summary="The rules a decision cites, to pick from")
async def rule_list(_: Principal = Depends(DESK)):
    return {"rules": desk.rules()}


@router.get("/desk/cases", summary="Waiting cases, oldest first, and the last day's record")
async def queue(request: Request, session: AsyncSession = DbSession, _: Principal = Depends(DESK)):
    return await desk.queue(session, request.app.state.settings)


@router.get("/desk/cases/{case_id}", summary="A case in full: photos, map, parties, history of the same plates and numbers")
async def case_detail(case_id: Id, session: AsyncSession = DbSession, who: Principal = Depends(DESK)):
    return await desk.detail(session, case_id, who)


@router.post("/desk/cases/{case_id}/claim", summary="Open a waiting case for review (others see it taken)")
async def claim(case_id: Id, session: AsyncSession = DbSession, who: Principal = Depends(DESK)):
    return await desk.claim(session, case_id, who)


@router.post("/desk/cases/{case_id}/decision", summary="Decide liability with the rule applied; both drivers are told at once")
async def decide(case_id: Id, data: DecisionIn, session: AsyncSession = DbSession, who: Principal = Depends(DESK)):
    return await desk.decide(session, case_id, data, who)


@router.post("/desk/cases/{case_id}/retake", summary="Ask the drivers for more photos, with a reason")
async def retake(case_id: Id, data: RetakeIn, session: AsyncSession = DbSession, who: Principal = Depends(DESK)):
    return await desk.ask_retake(session, case_id, data, who)


@router.post("/desk/cases/{case_id}/dispatch",
             summary="Send officers: the case becomes an incident on the command console with everything attached")
async def dispatch(case_id: Id, data: DispatchIn, request: Request, session: AsyncSession = DbSession,
                   who: Principal = Depends(DESK)):
    return await desk.dispatch(session, request.app.state.settings, case_id, data.reason, who)


# ---------- the checklist (admin) ----------

@router.get("/checklist", response_model=ChecklistOut, summary="The photo checklist new cases get")
async def get_checklist(session: AsyncSession = DbSession):
    items, at = await service.current_checklist(session)
    return {"items": items, "updated_at": at}


@router.put("/checklist", response_model=ChecklistOut, tags=["admin"],
            summary="Change the photo checklist (count, titles, hints, example SVG drawings); open cases keep theirs")
async def put_checklist(request: Request, session: AsyncSession = DbSession, who: Principal = Depends(ADMIN)):
    try:
        body = await request.json()
    except ValueError:
        raise Invalid("请求体不是有效的 JSON", "The body is not valid JSON", code="bad_json") from None
    items = body.get("items") if isinstance(body, dict) else body
    return await service.set_checklist(session, items, who)
