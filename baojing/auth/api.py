from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from ..alarms.schemas import Strict, TermsAck, TermsIn, TermsOut
from ..deps import SESSION_COOKIE, DbSession, current_staff, optional_device, require
from ..errors import Invalid
from . import roles, service
from .models import Device
from .terms import terms

router = APIRouter(prefix="/api", tags=["identity"])


class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    station_id: int | None


class Me(BaseModel):
    user: UserOut


@router.post("/auth/login", response_model=Me, summary="Staff login; sets the session cookie")
async def login(data: LoginIn, request: Request, response: Response, session: AsyncSession = DbSession):
    settings = request.app.state.settings
    user = await service.check_password(request.app.state.sessions, data.username, data.password)
    token = await service.open_login(session, user, settings.session_hours)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=settings.secure_cookies,
                        max_age=settings.session_hours * 3600, path="/")
    return {"user": service.user_out(user)}


@router.post("/auth/logout", status_code=204, summary="End the staff session")
async def logout(request: Request, response: Response, session: AsyncSession = DbSession):
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await service.logout(session, token)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/auth/me", response_model=Me, summary="Who is logged in")
async def me(who: service.Principal = Depends(current_staff), session: AsyncSession = DbSession):
    return {"user": service.user_out(await service.user_by_id(session, who.user_id))}


class UserList(BaseModel):
    users: list[UserOut]


@router.get("/admin/users", response_model=UserList, tags=["admin"],
            summary="Active accounts, optionally of one role (e.g. officers to put in a unit)")
async def users(role: str | None = None, session: AsyncSession = DbSession,
                who: service.Principal = Depends(require(frozenset({roles.ADMIN})))):
    return {"users": await service.list_users(session, role)}


@router.get("/terms", response_model=TermsOut, summary="The alarm terms (报警须知) to accept on first use")
async def get_terms(request: Request):
    return terms(request.app.state.settings.terms_version)


@router.post("/device/terms", response_model=TermsAck,
             summary="Record that this phone accepted the terms; issues a device token on first contact")
async def accept_terms(data: TermsIn, request: Request, session: AsyncSession = DbSession,
                       device: Device | None = Depends(optional_device)):
    current = request.app.state.settings.terms_version
    if data.version != current:
        raise Invalid("须知已更新，请重新阅读", "The terms have changed; please read them again", code="terms_outdated")
    token = None
    if device is None:
        device, token = await service.issue_device(session)
    await service.accept_terms(session, device, data.version)
    return {"device_token": token or request.headers["x-device-token"], "terms_version": data.version}
