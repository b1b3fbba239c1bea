from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import roles
from ..auth.models import Device
from ..auth.service import Principal
from ..deps import current_device, get_session, optional_device, require
from ..incidents.schemas import IncidentOut, OperatorPositionIn
from . import service
from .schemas import AlarmIn, AlarmList, AlarmOut, PlaceIn, PositionAck, PositionIn, RatingIn

router = APIRouter(prefix="/api", tags=["alarms"])


@router.post("/alarms", response_model=AlarmOut, status_code=201,
             summary="Raise an alarm (no login); a repeated idempotency_key answers 200 with the first alarm",
             responses={200: {"model": AlarmOut, "description": "Repeat of an earlier submission"}})
async def raise_alarm(data: AlarmIn, response: Response, session: AsyncSession = Depends(get_session),
                      device: Device | None = Depends(optional_device)):
    view, created = await service.raise_alarm(session, data, device)
    if not created:
        response.status_code = 200
    return view


@router.get("/me/alarms", response_model=AlarmList, summary="This phone's own alarms, newest first")
async def my_alarms(session: AsyncSession = Depends(get_session), device: Device = Depends(current_device)):
    return await service.of_device(session, device)


@router.post("/alarms/{alarm_id}/positions", response_model=PositionAck, status_code=202,
             summary="A new position from the caller's phone while the alarm is open")
async def add_position(alarm_id: int, data: PositionIn, session: AsyncSession = Depends(get_session),
                       device: Device = Depends(current_device)):
    return await service.add_position(session, alarm_id, data, device)


@router.post("/alarms/{alarm_id}/place", response_model=AlarmOut, summary="A place the caller typed")
async def set_place(alarm_id: int, data: PlaceIn, session: AsyncSession = Depends(get_session),
                    device: Device = Depends(current_device)):
    return await service.set_place(session, alarm_id, data.text, device)


@router.post("/alarms/{alarm_id}/rating", response_model=AlarmOut, summary="The caller rates a closed alarm (满意度)")
async def rate(alarm_id: int, data: RatingIn, session: AsyncSession = Depends(get_session),
               device: Device = Depends(current_device)):
    return await service.rate(session, alarm_id, data.score, data.comment, device)


@router.post("/alarms/{alarm_id}/operator-position", response_model=IncidentOut,
             summary="The operator sets or corrects the caller's position; later automatic fixes never replace it")
async def operator_position(alarm_id: int, data: OperatorPositionIn, session: AsyncSession = Depends(get_session),
                            who: Principal = Depends(require(roles.CONSOLE))):
    return await service.operator_position(session, alarm_id, data, who)
