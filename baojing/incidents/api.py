from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import roles
from ..auth.service import Principal
from ..deps import DbSession, require
from ..fields import Id
from . import service
from .schemas import CaseIn, ClassifyIn, CloseIn, IncidentDetail, IncidentOut, MergeIn, NoteIn, Snapshot

router = APIRouter(prefix="/api", tags=["console"])
console = require(roles.CONSOLE)


@router.get("/console/snapshot", response_model=Snapshot,
            summary="Open incidents and those closed in the last 2 h, with the event seq to resume from")
async def snapshot(first: int | None = Query(None, ge=1, le=1000, description=(
                       "Only the first N open incidents in queue order (priority, the caller's station first, "
                       "oldest), for a first paint while the whole snapshot loads (10,000 take seconds)")),
                   session: AsyncSession = DbSession, who: Principal = Depends(console)):
    return await service.snapshot(session, who, first)


@router.get("/incidents/{incident_id}", response_model=IncidentDetail, summary="One incident with trails, notes, timeline")
async def detail(incident_id: Id, session: AsyncSession = DbSession, who: Principal = Depends(console)):
    return await service.detail(session, incident_id, who)


@router.post("/incidents/{incident_id}/claim", response_model=IncidentOut, summary="Take the incident (接警)")
async def claim(incident_id: Id, session: AsyncSession = DbSession, who: Principal = Depends(console)):
    return await service.claim(session, incident_id, who)


@router.post("/incidents/{incident_id}/classify", response_model=IncidentOut, summary="Set type and priority")
async def classify(incident_id: Id, data: ClassifyIn, session: AsyncSession = DbSession,
                   who: Principal = Depends(console)):
    return await service.classify(session, incident_id, data.type, data.priority, who)


@router.put("/incidents/{incident_id}/case", response_model=IncidentOut,
            summary="Record the case (立案) the incident became, or null to remove it; its personal data is then kept")
async def set_case(incident_id: Id, data: CaseIn, session: AsyncSession = DbSession,
                   who: Principal = Depends(console)):
    return await service.set_case(session, incident_id, data.case_ref, who)


@router.post("/incidents/{incident_id}/notes", response_model=IncidentOut, summary="Add an operator's note")
async def add_note(incident_id: Id, data: NoteIn, session: AsyncSession = DbSession,
                   who: Principal = Depends(console)):
    return await service.add_note(session, incident_id, data.text, who)


@router.post("/incidents/{incident_id}/merge", response_model=IncidentOut,
             summary="Merge duplicate incidents into this one")
async def merge(incident_id: Id, data: MergeIn, session: AsyncSession = DbSession,
                who: Principal = Depends(console)):
    return await service.merge(session, incident_id, data.incident_ids, who)


@router.post("/incidents/{incident_id}/close", response_model=IncidentOut, summary="Close with a disposition")
async def close(incident_id: Id, data: CloseIn, session: AsyncSession = DbSession,
                who: Principal = Depends(console)):
    return await service.close(session, incident_id, data.disposition, data.note, who)
