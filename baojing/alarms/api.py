from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Header, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import roles
from ..auth.models import Device
from ..auth.service import Principal
from ..deps import DbSession, current_device, device_if_known, require
from ..fields import Id
from ..dispatch.schemas import CtiCallIn, CtiCallOut
from ..errors import Forbidden, answers
from ..phone import PhoneError, normalize_phone
from ..errors import Invalid
from ..incidents.schemas import IncidentOut, OperatorPositionIn
from .. import proxy
from . import service
from .schemas import AlarmIn, AlarmList, AlarmOut, PlaceIn, PositionAck, PositionIn, RatingIn

router = APIRouter(prefix="/api", tags=["alarms"])


@router.post("/alarms", response_model=AlarmOut, status_code=201,
             summary="Raise an alarm (no login); a repeated idempotency_key answers 200 with the first alarm",
             responses={200: {"model": AlarmOut, "description": "Repeat of an earlier submission"}})
async def raise_alarm(data: AlarmIn, request: Request, response: Response, session: AsyncSession = DbSession,
                      device: Device | None = Depends(device_if_known)):
    address = proxy.client_address(request.scope, request.app.state.settings.trusted_proxies)
    view, created = await service.raise_alarm(session, data, device, address)
    if not created:
        response.status_code = 200
    return view


@router.get("/me/alarms", response_model=AlarmList, summary="This phone's own alarms, newest first")
async def my_alarms(session: AsyncSession = DbSession, device: Device = Depends(current_device)):
    return await service.of_device(session, device)


@router.post("/alarms/{alarm_id}/positions", response_model=PositionAck, status_code=202,
             summary="A new position from the caller's phone while the alarm is open")
async def add_position(alarm_id: Id, data: PositionIn, session: AsyncSession = DbSession,
                       device: Device = Depends(current_device)):
    return await service.add_position(session, alarm_id, data, device)


@router.post("/alarms/{alarm_id}/place", response_model=AlarmOut, summary="A place the caller typed")
async def set_place(alarm_id: Id, data: PlaceIn, session: AsyncSession = DbSession,
                    device: Device = Depends(current_device)):
    return await service.set_place(session, alarm_id, data.text, device)


@router.post("/alarms/{alarm_id}/rating", response_model=AlarmOut, summary="The caller rates a closed alarm (满意度)")
async def rate(alarm_id: Id, data: RatingIn, session: AsyncSession = DbSession,
               device: Device = Depends(current_device)):
    return await service.rate(session, alarm_id, data.score, data.comment, device)


@router.post("/alarms/{alarm_id}/operator-position", response_model=IncidentOut,
             summary="The operator sets or corrects the caller's position; later automatic fixes never replace it")
async def operator_position(alarm_id: Id, data: OperatorPositionIn, session: AsyncSession = DbSession,
                            who: Principal = Depends(require(roles.CONSOLE))):
    return await service.operator_position(session, alarm_id, data, who)


@answers(403)
def telephony(request: Request, x_api_key: str = Header(default="", max_length=200)) -> None:
    expected = request.app.state.settings.cti_api_key
    if not expected or not hmac.compare_digest(x_api_key.encode(), expected.encode()):
        raise Forbidden("API 密钥无效", "Missing or wrong X-Api-Key", code="bad_api_key")


@router.post("/cti/calls", response_model=CtiCallOut, tags=["cti"],
             summary="A 110 call rings (from the telephony system, X-Api-Key): pop the caller's recent phone alarm",
             description="The console of the call-taker named in `agent` (or every console when `agent` is absent) "
                         "receives a `cti.call` live event with the matching alarm and incident, if any: a phone "
                         "alarm from the same number, still open, raised in the last 30 minutes.")
async def cti_call(data: CtiCallIn, session: AsyncSession = DbSession, _: None = Depends(telephony)):
    try:
        number = normalize_phone(data.caller_number)
    except PhoneError as e:
        raise Invalid(e.message_zh, e.message_en, code="bad_number") from None
    return await service.match_call(session, number, data.call_id, data.agent)
