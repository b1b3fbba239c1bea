"""Console and officer routes for dispatch."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import roles
from ..auth.service import Principal
from ..deps import DbSession, require
from ..fields import Id
from ..incidents.schemas import AssignmentOut, CloseIn, IncidentOut
from ..media import service as media
from ..media.schemas import MediaOut
from ..uploadgate import upload
from . import avl, service
from .schemas import (BusyIn, DeclineIn, DispatchIn, DutyIn, FixesAck, FixesIn, NoteIn, Recommendations,
                      UnitList, UnitOut)

router = APIRouter(prefix="/api", tags=["dispatch"])
console = require(roles.CONSOLE)
officer = require(frozenset({roles.OFFICER}))


@router.get("/units", response_model=UnitList, summary="Every active unit with its status and last position")
async def units(session: AsyncSession = DbSession, who: Principal = Depends(console)):
    return await service.units_snapshot(session)


@router.get("/incidents/{incident_id}/recommendations", response_model=Recommendations,
            summary="Nearest available units first, the jurisdiction's station marked")
async def recommendations(incident_id: Id, request: Request, session: AsyncSession = DbSession,
                          who: Principal = Depends(console)):
    return await service.recommend(session, request.app.state.board, incident_id)


@router.post("/incidents/{incident_id}/dispatch", response_model=IncidentOut, summary="Send one or more units")
async def dispatch(incident_id: Id, data: DispatchIn, session: AsyncSession = DbSession,
                   who: Principal = Depends(console)):
    return await service.dispatch(session, incident_id, data.unit_ids, who)


@router.post("/assignments/{assignment_id}/cancel", response_model=AssignmentOut, summary="Call a unit back")
async def cancel(assignment_id: Id, session: AsyncSession = DbSession, who: Principal = Depends(console)):
    return await service.cancel(session, assignment_id, who)


@router.get("/officer/me", summary="The officer's unit, current assignment and its incident card")
async def officer_home(session: AsyncSession = DbSession, who: Principal = Depends(officer)):
    return await service.officer_home(session, who)


@router.post("/officer/duty", response_model=UnitOut, summary="Go on or off duty")
async def duty(data: DutyIn, session: AsyncSession = DbSession, who: Principal = Depends(officer)):
    return await service.set_duty(session, who, data.on_duty)


@router.post("/officer/busy", response_model=UnitOut, summary="Busy with other work (not recommended), or free")
async def busy(data: BusyIn, session: AsyncSession = DbSession, who: Principal = Depends(officer)):
    return await service.set_busy(session, who, data.busy)


@router.post("/officer/positions", response_model=FixesAck, status_code=202,
             summary="AVL: a batch of the unit's fixes, oldest first")
async def positions(data: FixesIn, request: Request, who: Principal = Depends(officer)):
    return avl.ingest(request.app.state.board, who, data.points)


@router.post("/assignments/{assignment_id}/accept", response_model=AssignmentOut, summary="Officer accepts")
async def accept(assignment_id: Id, session: AsyncSession = DbSession, who: Principal = Depends(officer)):
    return await service.respond(session, assignment_id, "accept", who)


@router.post("/assignments/{assignment_id}/decline", response_model=AssignmentOut, summary="Officer declines, with a reason")
async def decline(assignment_id: Id, data: DeclineIn, session: AsyncSession = DbSession,
                  who: Principal = Depends(officer)):
    return await service.respond(session, assignment_id, "decline", who, reason=data.reason)


@router.post("/assignments/{assignment_id}/en-route", response_model=AssignmentOut, summary="Officer is on the way")
async def en_route(assignment_id: Id, session: AsyncSession = DbSession, who: Principal = Depends(officer)):
    return await service.respond(session, assignment_id, "en_route", who)


@router.post("/assignments/{assignment_id}/on-scene", response_model=AssignmentOut, summary="Officer has arrived")
async def on_scene(assignment_id: Id, session: AsyncSession = DbSession, who: Principal = Depends(officer)):
    return await service.respond(session, assignment_id, "on_scene", who)


@router.post("/assignments/{assignment_id}/backup", response_model=AssignmentOut, summary="Officer needs backup")
async def backup(assignment_id: Id, data: NoteIn, session: AsyncSession = DbSession,
                 who: Principal = Depends(officer)):
    return await service.respond(session, assignment_id, "backup", who, note=data.note)


@router.post("/assignments/{assignment_id}/clear", response_model=AssignmentOut,
             summary="Officer clears the incident with a disposition")
async def clear(assignment_id: Id, data: CloseIn, session: AsyncSession = DbSession,
                who: Principal = Depends(officer)):
    return await service.respond(session, assignment_id, "clear", who, disposition=data.disposition, note=data.note)


@upload(router, "/assignments/{assignment_id}/photos", staff=True, response_model=MediaOut, status_code=201,
        summary="Officer adds a scene photo (JPEG/PNG/WebP ≤ 10 MB) to the incident's evidence")
async def photo(assignment_id: Id, request: Request,
                staged: media.Staged = Depends(media.staged_upload(service.SCENE_PHOTO_MAX_BYTES, "照片", "photo")),
                caption: str | None = Form(None, max_length=200), session: AsyncSession = DbSession,
                who: Principal = Depends(officer)):
    return await service.scene_photo(session, request.app.state.settings, assignment_id, staged, caption, who)
