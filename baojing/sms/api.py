"""Admin view of every text message (the outbox), and sending a failed one again."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import roles
from ..auth.service import Principal, audit
from ..deps import DbSession, require
from ..errors import Invalid
from ..fields import Id
from ..phone import PhoneError, normalize_phone
from . import service

router = APIRouter(prefix="/api/admin/sms", tags=["sms"])


class MessageOut(BaseModel):
    id: int
    phone: str
    text: str
    purpose: str
    status: Literal["pending", "sent", "failed"]
    gateway: str | None
    attempts: int
    last_error: str | None
    provider_id: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None


class MessageList(BaseModel):
    gateway: str
    messages: list[MessageOut]
    counts: dict[str, int]


@router.get("", response_model=MessageList,
            summary="Text messages, newest first: the outbox of the demo gateway, and every provider failure")
async def messages(request: Request, phone: str | None = Query(None, max_length=40),
                   purpose: str | None = Query(None, max_length=32),
                   status: Literal["pending", "sent", "failed"] | None = None,
                   before_id: Id | None = None, limit: int = Query(100, ge=1, le=500),
                   session: AsyncSession = DbSession, who: Principal = Depends(require(frozenset({roles.ADMIN})))):
    if phone:
        try:
            phone = normalize_phone(phone)
        except PhoneError as e:
            raise Invalid(e.message_zh, e.message_en, code="bad_number") from None
    out = await service.list_messages(session, phone=phone, purpose=purpose, status=status, before_id=before_id,
                                      limit=limit)
    return {"gateway": request.app.state.sms.gateway.name, **out}


@router.post("/{message_id}/retry", response_model=MessageOut, summary="Send a failed message again")
async def retry(message_id: Id, session: AsyncSession = DbSession,
                who: Principal = Depends(require(frozenset({roles.ADMIN})))):
    out = await service.retry(session, message_id)
    await audit(session, who, "sms.retry", "sms_message", message_id)
    return out
