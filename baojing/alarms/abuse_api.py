from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import roles
from ..auth.service import Principal
from ..deps import DbSession, require
from ..fields import Id
from . import abuse
from .schemas import Strict

router = APIRouter(prefix="/api", tags=["abuse"])
console = require(roles.CONSOLE)


class MarkIn(Strict):
    target: Literal["phone", "device"] = Field(description="the alarm's number, or the phone (device) it came from")
    reason: str = Field(min_length=1, max_length=200)


class MarkOut(BaseModel):
    id: int
    kind: str
    value: str
    reason: str
    marked_by: int
    marked_at: datetime
    lifted_at: datetime | None


class MarkList(BaseModel):
    marks: list[MarkOut]


@router.post("/alarms/{alarm_id}/abuse-mark", response_model=MarkOut, status_code=201,
             summary="Mark this alarm's number or device abusive: later alarms from it are lowered one priority "
                     "step with the reason shown, never hidden or delayed")
async def mark(alarm_id: Id, data: MarkIn, session: AsyncSession = DbSession, who: Principal = Depends(console)):
    return await abuse.mark(session, alarm_id, data.target, data.reason.strip(), who)


@router.get("/abuse/marks", response_model=MarkList, summary="Numbers and devices marked abusive, standing")
async def marks(session: AsyncSession = DbSession, who: Principal = Depends(console)):
    return {"marks": await abuse.standing(session)}


@router.post("/abuse/marks/{mark_id}/lift", response_model=MarkOut, summary="Lift a mark: later alarms are no longer lowered")
async def lift(mark_id: Id, session: AsyncSession = DbSession, who: Principal = Depends(console)):
    return await abuse.lift(session, mark_id, who)
