from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from .. import proxy
from ..alarms.schemas import Strict, TermsAck, TermsIn, TermsOut
from ..deps import SESSION_COOKIE, DbSession, current_staff, optional_device, require
from ..errors import Invalid, NotFound, TooMany, answers
from ..fields import Id
from . import login as logins
from . import roles, service, totp
from .models import Device, User
from .terms import terms

router = APIRouter(prefix="/api", tags=["identity"])
admin_only = require(frozenset({roles.ADMIN}))


class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)
    # The authenticator's 6 digits or a backup code; needed once the account has a second factor.
    code: str | None = Field(default=None, max_length=20)
    # End this account's other sessions (another browser, a lost phone).
    end_other_sessions: bool = False


class EnrolIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class CodeIn(Strict):
    code: str = Field(min_length=1, max_length=20)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    station_id: int | None
    second_factor: bool = False


class Me(BaseModel):
    user: UserOut
    # Only on the login that completed an authenticator enrolment: shown once, never again.
    backup_codes: list[str] | None = None


class Enrolment(BaseModel):
    secret: str
    otpauth_uri: str
    qr_svg: str = Field(description="the QR code as an SVG data URI, for an <img>")


class BackupCodes(BaseModel):
    backup_codes: list[str]


class SessionOut(BaseModel):
    id: str
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    idle_ends_at: datetime
    address: str | None
    user_agent: str | None
    current: bool


class SessionList(BaseModel):
    sessions: list[SessionOut]


class Ended(BaseModel):
    ended: int


def _attempt(request: Request, username: str, password: str, code: str | None) -> logins.Attempt:
    settings = request.app.state.settings
    address = proxy.client_address(request.scope, settings.trusted_proxies)
    limit = request.app.state.login_limit
    if not limit.allow(address):
        raise TooMany("登录尝试过于频繁，请稍后再试", "Too many login attempts from here; try again shortly",
                      retry_after=limit.retry_after(address))
    return logins.Attempt(username, password, code, address)


def _set_cookie(request: Request, response: Response, token: str) -> None:
    settings = request.app.state.settings
    secure = settings.secure_cookies or proxy.is_https(request.scope, settings.trusted_proxies)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=secure,
                        max_age=settings.session_hours * 3600, path="/")


@router.post("/auth/login", response_model=Me,
             summary="Staff login (password, then the authenticator code); sets the session cookie")
@answers(401)
async def login(data: LoginIn, request: Request, response: Response, background: BackgroundTasks,
                session: AsyncSession = DbSession):
    settings = request.app.state.settings
    attempt = _attempt(request, data.username, data.password, data.code)
    done = await logins.authenticate(session, request.app.state.sessions, settings, attempt)
    token = await service.open_login(session, done.user, settings, attempt.address,
                                     request.headers.get("user-agent"), data.end_other_sessions)
    _set_cookie(request, response, token)
    if data.end_other_sessions:
        background.add_task(request.app.state.hub.revalidate)
    return {"user": service.user_out(done.user), "backup_codes": done.backup_codes}


@router.post("/auth/logout", status_code=204, summary="End the staff session")
async def logout(request: Request, response: Response, session: AsyncSession = DbSession):
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await service.logout(session, token)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/auth/me", response_model=Me, summary="Who is logged in")
async def me(who: service.Principal = Depends(current_staff), session: AsyncSession = DbSession):
    return {"user": service.user_out(await service.user_by_id(session, who.user_id))}


@router.post("/auth/totp/setup", response_model=Enrolment,
             summary="Start enrolling (or replacing) my authenticator: a new secret and its QR code")
async def totp_setup(session: AsyncSession = DbSession, who: service.Principal = Depends(current_staff)):
    return await totp.start(session, await session.get_one(User, who.user_id))


@router.post("/auth/totp/enrol", response_model=Enrolment,
             summary="Before the first login: start enrolling an authenticator, proven by the password; "
                     "the login that sends the first code finishes it")
async def totp_enrol(data: EnrolIn, request: Request, session: AsyncSession = DbSession):
    attempt = _attempt(request, data.username, data.password, None)
    return await logins.start_enrolment(session, request.app.state.sessions, request.app.state.settings, attempt)


@router.post("/auth/totp/confirm", response_model=BackupCodes,
             summary="Finish enrolling with the first code from the phone; returns the backup codes, once")
async def totp_confirm(data: CodeIn, session: AsyncSession = DbSession,
                       who: service.Principal = Depends(current_staff)):
    codes = await totp.confirm(session, await session.get_one(User, who.user_id), data.code)
    if codes is None:
        raise Invalid("动态验证码不正确或已过期，请看手机上的最新验证码", "The code is wrong or has expired; use the newest one",
                      code="bad_code")
    await service.audit(session, who, "totp.enrol", "user", who.user_id)
    return {"backup_codes": codes}


@router.post("/auth/backup-codes", response_model=BackupCodes,
             summary="Ten new backup codes (the old ones stop working); needs a current code")
async def new_backup_codes(data: CodeIn, session: AsyncSession = DbSession,
                           who: service.Principal = Depends(current_staff)):
    user = await session.get_one(User, who.user_id)
    if not await totp.current_code_ok(session, user, data.code):
        raise Invalid("动态验证码不正确或已过期", "The code is wrong or has expired", code="bad_code")
    await service.audit(session, who, "totp.backup_codes", "user", who.user_id)
    return {"backup_codes": await totp.new_backup_codes(session, user.id)}


@router.get("/auth/sessions", response_model=SessionList, summary="My open sessions")
async def my_sessions(request: Request, session: AsyncSession = DbSession,
                      who: service.Principal = Depends(current_staff)):
    return {"sessions": await service.sessions_of(session, who.user_id, request.app.state.settings,
                                                  request.cookies.get(SESSION_COOKIE))}


@router.post("/auth/sessions/{sid}/end", status_code=204,
             summary="End one session: my own, or anyone's for an administrator")
async def end_session(sid: Annotated[str, Path(max_length=32)], request: Request, background: BackgroundTasks, session: AsyncSession = DbSession,
                      who: service.Principal = Depends(current_staff)):
    await service.end_session(session, who, sid)
    background.add_task(request.app.state.hub.revalidate)


@router.post("/auth/sessions/end-others", response_model=Ended, summary="End all my sessions but this one")
async def end_other_sessions(request: Request, background: BackgroundTasks, session: AsyncSession = DbSession,
                             who: service.Principal = Depends(current_staff)):
    n = await service.end_sessions_of(session, who, who.user_id, keep_token=request.cookies.get(SESSION_COOKIE))
    background.add_task(request.app.state.hub.revalidate)
    return {"ended": n}


class UserList(BaseModel):
    users: list[UserOut]


@router.get("/admin/users", response_model=UserList, tags=["admin"],
            summary="Active accounts, optionally of one role (e.g. officers to put in a unit)")
async def users(role: str | None = None, session: AsyncSession = DbSession,
                who: service.Principal = Depends(admin_only)):
    return {"users": await service.list_users(session, role)}


@router.get("/admin/users/{user_id}/sessions", response_model=SessionList, tags=["admin"],
            summary="Someone's open sessions")
async def user_sessions(user_id: Id, request: Request, session: AsyncSession = DbSession,
                        who: service.Principal = Depends(admin_only)):
    return {"sessions": await service.sessions_of(session, user_id, request.app.state.settings)}


@router.post("/admin/users/{user_id}/sessions/end", response_model=Ended, tags=["admin"],
             summary="End every session of an account")
async def end_user_sessions(user_id: Id, request: Request, background: BackgroundTasks,
                            session: AsyncSession = DbSession, who: service.Principal = Depends(admin_only)):
    if await session.get(User, user_id) is None:
        raise NotFound("没有这个用户", f"No user {user_id}")
    n = await service.end_sessions_of(session, who, user_id)
    background.add_task(request.app.state.hub.revalidate)
    return {"ended": n}


@router.post("/admin/users/{user_id}/totp/reset", status_code=204, tags=["admin"],
             summary="Clear an account's authenticator and backup codes (lost phone); it enrols again")
async def reset_totp(user_id: Id, session: AsyncSession = DbSession, who: service.Principal = Depends(admin_only)):
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("没有这个用户", f"No user {user_id}")
    await totp.reset(session, user)
    await service.audit(session, who, "totp.reset", "user", user_id)


@router.get("/terms", response_model=TermsOut, summary="The alarm terms (报警须知) to accept on first use")
async def get_terms(request: Request):
    settings = request.app.state.settings
    return terms(settings.terms_version, settings.retention_days)


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
