"""Thin routes: the registry (admin), members (/api/member, login by SMS code), one-tap alarms,
bulletins (staff) and the consoles' siren list. Rules live in registry, members, onetap, bulletins."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import roles
from ..auth.models import Device
from ..auth.service import Principal, logout as end_login
from ..deps import SESSION_COOKIE, DbSession, current_staff, device_if_known, require
from ..errors import Forbidden, Invalid
from ..fields import Id
from ..uploadgate import upload
from . import bulletins, members, onetap, registry
from .schemas import (BulletinIn, CancelIn, MemberCodeIn, MemberCodeOut, FoundIn, ImportReport, KeyUnitIn, KeyUnitList,
                      KeyUnitOut, MemberLoginIn, AlarmNoteIn, OneTapIn, RosterIn)

router = APIRouter(prefix="/api", tags=["key units"])
admin = require(frozenset({roles.ADMIN}))
console = require(roles.CONSOLE)
STAFF_READ = frozenset(roles.CONSOLE | {roles.ADMIN})


async def current_member(session: AsyncSession = DbSession, who: Principal = Depends(current_staff)) -> members.Member:
    return await members.member_for(session, who)


async def _read(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise Invalid(f"文件太大（上限 {limit // 1024 // 1024} MB）", f"The file is too large (limit {limit // 1024 // 1024} MB)",
                      code="file_too_large")
    return data


# ---- registry --------------------------------------------------------------------------------

@router.get("/keyunits", response_model=KeyUnitList, summary="Key units (a map layer); admins may ask for rosters")
async def list_units(roster: bool = False, session: AsyncSession = DbSession,
                     who: Principal = Depends(require(STAFF_READ))):
    if roster and who.role != roles.ADMIN:
        raise Forbidden("只有管理员可查看人员名单", "Only administrators see rosters")
    return await registry.list_units(session, roster=roster)


@router.post("/keyunits", response_model=KeyUnitOut, status_code=201, summary="Register a key unit")
async def create_unit(data: KeyUnitIn, session: AsyncSession = DbSession, who: Principal = Depends(admin)):
    unit, _ = await registry.save_unit(session, data, who)
    return (await registry.views(session, [unit], roster=True))[0]


@router.put("/keyunits/{unit_id}", response_model=KeyUnitOut, summary="Change a key unit")
async def update_unit(unit_id: Id, data: KeyUnitIn, session: AsyncSession = DbSession, who: Principal = Depends(admin)):
    unit, _ = await registry.save_unit(session, data, who, unit_id)
    return (await registry.views(session, [unit], roster=True))[0]


@router.put("/keyunits/{unit_id}/roster", response_model=KeyUnitOut,
            summary="Replace a unit's roster; people taken off it lose one-tap at their next request")
async def set_roster(unit_id: Id, data: RosterIn, session: AsyncSession = DbSession, who: Principal = Depends(admin)):
    await registry.set_roster(session, unit_id, data.members, who)
    return (await registry.views(session, [await registry.get_unit(session, unit_id)], roster=True))[0]


@upload(router, "/keyunits/{unit_id}/files", staff=True, response_model=KeyUnitOut, status_code=201,
        summary="Add a floor plan or photo (JPEG, PNG, WebP or PDF, up to 10 MB)")
async def add_file(unit_id: Id, request: Request, kind: Literal["floor_plan", "photo"] = Form(...),
                   file: UploadFile = File(...), session: AsyncSession = DbSession, who: Principal = Depends(admin)):
    unit = await registry.get_unit(session, unit_id)
    await registry.store_file(session, request.app.state.settings, await _read(file, registry.MAX_FILE_BYTES),
                              file.filename, kind, who.label, unit_id=unit.id)
    return (await registry.views(session, [unit], roster=True))[0]


@router.delete("/keyunits/files/{file_id}", status_code=204, summary="Remove a floor plan or photo")
async def remove_file(file_id: Id, session: AsyncSession = DbSession, who: Principal = Depends(admin)):
    await registry.remove_file(session, file_id, who)


@router.get("/keyunits/files/{file_id}", response_class=FileResponse,
            summary="A unit's floor plan or photo, a bulletin's photo, or a photo added to a key-unit alarm")
async def get_file(file_id: Id, request: Request, session: AsyncSession = DbSession,
                   who: Principal = Depends(current_staff)):
    path, f = await registry.file_for(session, request.app.state.settings, file_id)
    if who.role not in STAFF_READ:
        member = await members.member_for(session, who)
        if f.bulletin_id is None or not await bulletins._receipts_of(session, member, f.bulletin_id):
            raise Forbidden("无权查看该文件", "You may not see this file")
    return FileResponse(path, media_type=f.mime, headers={"Cache-Control": "private, max-age=3600",
                                                          "X-Content-SHA256": f.sha256})


@upload(router, "/keyunits/import", staff=True, response_model=ImportReport,
        summary="Import units from CSV or XLSX: every row or none, with a row-by-row report")
async def import_units(file: UploadFile = File(...), session: AsyncSession = DbSession, who: Principal = Depends(admin)):
    return await registry.import_units(session, await _read(file, registry.MAX_IMPORT_BYTES), file.filename or "", who)


@upload(router, "/keyunits/roster/import", staff=True, response_model=ImportReport,
        summary="Import roster rows (unit, phone, name, role) from CSV or XLSX: every row or none")
async def import_rosters(file: UploadFile = File(...), session: AsyncSession = DbSession, who: Principal = Depends(admin)):
    return await registry.import_rosters(session, await _read(file, registry.MAX_IMPORT_BYTES), file.filename or "", who)


# ---- consoles: sirens ------------------------------------------------------------------------

@router.get("/keyunits/alarms", summary="Key-unit alarms: every one not yet acknowledged, and the last 12 hours'")
async def console_alarms(request: Request, session: AsyncSession = DbSession, who: Principal = Depends(console)):
    return await onetap.console_list(session, request.app.state.board)


@router.post("/keyunits/alarms/{ka_id}/ack",
             summary="A call-taker acknowledges a key-unit alarm: its siren stops on every console")
async def acknowledge(ka_id: Id, request: Request, session: AsyncSession = DbSession, who: Principal = Depends(console)):
    return await onetap.acknowledge(session, ka_id, who, request.app.state.board)


# ---- members ---------------------------------------------------------------------------------

@router.post("/member/code", response_model=MemberCodeOut, tags=["members"],
             summary="Send a login code to a roster phone (rate-limited per number and per address)")
async def member_code(data: MemberCodeIn, request: Request, session: AsyncSession = DbSession):
    address = request.client.host if request.client else None
    return await members.request_code(session, request.app.state.settings, data.phone, address)


@router.post("/member/login", tags=["members"], summary="Log in with phone and code; the session lasts until logout")
async def member_login(data: MemberLoginIn, request: Request, response: Response, session: AsyncSession = DbSession):
    settings = request.app.state.settings
    user, token = await members.login(session, settings, data.phone, data.code,
                                      request.client.host if request.client else None)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=settings.secure_cookies,
                        max_age=members.SESSION_HOURS * 3600, path="/")
    member = await members.member_for(session, Principal("staff", user.role, user.id, display_name=user.display_name))
    return {"member": members.member_out(member)}


@router.post("/member/logout", status_code=204, tags=["members"], summary="End the member's session")
async def member_logout(request: Request, response: Response, session: AsyncSession = DbSession):
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await end_login(session, token)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/member/me", tags=["members"],
            summary="The member, their units (one-tap), open bulletins and recent one-tap alarms")
async def member_me(session: AsyncSession = DbSession, member: members.Member = Depends(current_member)):
    from .. import events

    return {"seq": await events.last_seq(session), "member": members.member_out(member),
            "bulletins": await bulletins.of_member(session, member),
            "alarms": await onetap.of_member(session, member)}


@router.post("/member/alarms", status_code=201, tags=["members"],
             summary="One-tap alarm for one of the member's units; a repeated idempotency_key answers 200")
async def one_tap(data: OneTapIn, request: Request, response: Response, session: AsyncSession = DbSession,
                  device: Device | None = Depends(device_if_known), member: members.Member = Depends(current_member)):
    caller, ka, created = await onetap.one_tap(session, member, data.unit_id, data.idempotency_key, data.location,
                                               device, request.app.state.board)
    if not created:
        response.status_code = 200
    return {"alarm": caller, "keyunit_alarm": onetap.member_view(ka)}


@router.post("/member/alarms/{ka_id}/notes", tags=["members"], summary="Add text to one's own one-tap alarm")
async def alarm_note(ka_id: Id, data: AlarmNoteIn, request: Request, session: AsyncSession = DbSession,
                     member: members.Member = Depends(current_member)):
    return await onetap.add_note(session, member, ka_id, data.text, request.app.state.board)


@upload(router, "/member/alarms/{ka_id}/photos", staff=True, tags=["members"],
        summary="Add a photo (JPEG, PNG, WebP) to one's own alarm")
async def alarm_photo(ka_id: Id, request: Request, file: UploadFile = File(...), session: AsyncSession = DbSession,
                      member: members.Member = Depends(current_member)):
    return await onetap.add_photo(session, request.app.state.settings, member, ka_id,
                                  await _read(file, registry.MAX_FILE_BYTES), file.filename, request.app.state.board)


@router.post("/member/alarms/{ka_id}/cancel", tags=["members"],
             summary="Cancel a false alarm with a reason (kept on record, the console is told)")
async def alarm_cancel(ka_id: Id, data: CancelIn, request: Request, session: AsyncSession = DbSession,
                       member: members.Member = Depends(current_member)):
    return await onetap.cancel(session, member, ka_id, data.reason, request.app.state.board)


@router.post("/member/bulletins/{bulletin_id}/found", status_code=201, tags=["members"],
             summary="发现目标: raise a top-priority alarm linked to the bulletin, with position (and text)")
async def bulletin_found(bulletin_id: Id, data: FoundIn, request: Request, response: Response,
                         session: AsyncSession = DbSession, device: Device | None = Depends(device_if_known),
                         member: members.Member = Depends(current_member)):
    caller, ka, created = await bulletins.found(session, member, bulletin_id, data.idempotency_key, data.location,
                                                data.text, device, request.app.state.board)
    if not created:
        response.status_code = 200
    return {"alarm": caller, "keyunit_alarm": onetap.member_view(ka)}


@router.post("/member/bulletins/{bulletin_id}/{stage}", tags=["members"],
             summary="Receipt: delivered (the page got it), read (shown), ack (the member confirmed)")
async def bulletin_receipt(bulletin_id: Id, stage: Literal["delivered", "read", "ack"], session: AsyncSession = DbSession,
                           member: members.Member = Depends(current_member)):
    return await bulletins.mark(session, member, bulletin_id, "acked" if stage == "ack" else stage)


# ---- bulletins (staff) -----------------------------------------------------------------------

bulletin_staff = require(STAFF_READ)


@router.post("/bulletins", status_code=201, tags=["bulletins"],
             summary="Send a bulletin to the members of the targeted units (page with sound, and SMS)")
async def create_bulletin(data: BulletinIn, session: AsyncSession = DbSession, who: Principal = Depends(bulletin_staff)):
    return await bulletins.create(session, data, who)


@router.get("/bulletins", tags=["bulletins"], summary="The latest bulletins with their receipt counts")
async def list_bulletins(session: AsyncSession = DbSession, who: Principal = Depends(bulletin_staff)):
    return await bulletins.list_staff(session)


@router.get("/bulletins/{bulletin_id}", tags=["bulletins"], summary="A bulletin with every recipient's receipt")
async def bulletin_detail(bulletin_id: Id, session: AsyncSession = DbSession, who: Principal = Depends(bulletin_staff)):
    return await bulletins.detail(session, bulletin_id)


@upload(router, "/bulletins/{bulletin_id}/photos", staff=True, status_code=201, tags=["bulletins"], summary="Add a photo")
async def bulletin_photo(bulletin_id: Id, request: Request, file: UploadFile = File(...),
                         session: AsyncSession = DbSession, who: Principal = Depends(bulletin_staff)):
    return await bulletins.add_photo(session, request.app.state.settings, bulletin_id,
                                     await _read(file, registry.MAX_FILE_BYTES), file.filename, who)


@router.post("/bulletins/{bulletin_id}/renotify", tags=["bulletins"],
             summary="Tell again everyone who has not acknowledged (page and SMS)")
async def bulletin_renotify(bulletin_id: Id, session: AsyncSession = DbSession, who: Principal = Depends(bulletin_staff)):
    return await bulletins.renotify(session, bulletin_id, who)


@router.post("/bulletins/{bulletin_id}/close", tags=["bulletins"], summary="Close it; every recipient is told")
async def bulletin_close(bulletin_id: Id, session: AsyncSession = DbSession, who: Principal = Depends(bulletin_staff)):
    return await bulletins.close(session, bulletin_id, who)


@router.get("/bulletins/{bulletin_id}/cap.xml", tags=["bulletins"], summary="The bulletin as OASIS CAP 1.2 XML",
            response_class=Response)
async def bulletin_cap(bulletin_id: Id, session: AsyncSession = DbSession, who: Principal = Depends(bulletin_staff)):
    xml = await bulletins.cap_xml(session, bulletin_id)
    return Response(xml, media_type="application/cap+xml",
                    headers={"Content-Disposition": f'attachment; filename="bulletin-{bulletin_id}.cap.xml"'})
