"""Staff accounts and sessions, caller devices, and the audit log."""
from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db import utcnow
from ..errors import Conflict, Invalid, NotFound, Unauthorized
from . import roles
from .audit import AuditBuffer, audit, who_saw  # noqa: F401  (re-exported: every domain audits through here)
from .models import Device, DeviceToken, LoginSession, User

log = logging.getLogger(__name__)
_hasher = PasswordHasher()
# Verifying against a real hash for unknown users keeps the answer time the same: no username probing.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class Principal:
    kind: str  # "staff" (any login account) or "caller"
    role: str
    user_id: int | None = None
    device_id: int | None = None
    display_name: str = ""
    station_id: int | None = None
    # The patrol unit an officer rides in, when the caller of this knows it (see live.py).
    unit_id: int | None = None

    @property
    def label(self) -> str:
        return f"{self.role}:{self.user_id}" if self.user_id else f"device:{self.device_id}"

    @property
    def console(self) -> bool:
        return self.kind == "staff" and self.role in roles.CONSOLE


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_out(u: User) -> dict:
    return {"id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
            "station_id": u.station_id, "second_factor": u.totp_secret is not None}


async def create_user(session: AsyncSession, username: str, password: str, role: str,
                      display_name: str, station_id: int | None = None) -> User:
    if role not in roles.ACCOUNT_ROLES:
        raise Invalid("未知的角色", f"Unknown role {role!r}")
    if len(password) < 8:
        raise Invalid("密码至少 8 个字符", "The password needs at least 8 characters")
    if await session.scalar(select(User.id).where(User.username == username)):
        raise Conflict("用户名已存在", f"User {username!r} already exists")
    user = User(username=username, password_hash=_hasher.hash(password), role=role,
                display_name=display_name, station_id=station_id)
    session.add(user)
    await session.flush()
    return user


async def check_password(sessions: async_sessionmaker, username: str, password: str) -> User:
    """Argon2 takes ~0.1 s on purpose: it runs in a thread, with no transaction open, so a shift
    change of logins never holds up an alarm."""
    async with sessions() as s:
        user = await s.scalar(select(User).where(User.username == username, User.active.is_(True)))
    try:
        await asyncio.to_thread(_hasher.verify, user.password_hash if user else _DUMMY_HASH, password)
    except (VerifyMismatchError, InvalidHashError):
        user = None
    if user is None:
        raise Unauthorized("用户名或密码错误", "Wrong username or password", code="bad_credentials")
    return user


def idle_limit(settings, role: str) -> timedelta:
    return timedelta(minutes=settings.session_idle_minutes_by_role.get(role, settings.session_idle_minutes))


async def open_login(session: AsyncSession, user: User, settings, address: str | None = None,
                     user_agent: str | None = None, end_others: bool = False) -> str:
    token = secrets.token_urlsafe(32)
    who = Principal("staff", user.role, user.id, display_name=user.display_name)
    detail: dict = {"address": address}
    if end_others:
        detail["ended_sessions"] = (await session.execute(
            delete(LoginSession).where(LoginSession.user_id == user.id))).rowcount
    session.add(LoginSession(token_hash=token_hash(token), sid=secrets.token_urlsafe(12), user_id=user.id,
                             expires_at=utcnow() + timedelta(hours=settings.session_hours), address=address,
                             user_agent=(user_agent or "")[:200] or None))
    await audit(session, who, "login", "user", user.id, detail)
    return token


async def logout(session: AsyncSession, token: str) -> None:
    await session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash(token)))


# An active session's last_seen_at is written at most this often: not a write per request.
TOUCH_EVERY = timedelta(seconds=60)


async def live_sessions(session: AsyncSession, hashes: set[str]) -> dict[str, str]:
    """Of these hashed session tokens, those still valid, with their account's current role. An
    open live socket is use: they are marked seen (the caller commits)."""
    hashes = list(hashes)
    valid: dict[str, str] = {}
    now = utcnow()
    for i in range(0, len(hashes), 500):
        chunk = hashes[i:i + 500]
        rows = await session.execute(
            select(LoginSession.token_hash, User.role).join(User, User.id == LoginSession.user_id)
            .where(LoginSession.token_hash.in_(chunk), LoginSession.expires_at > now, User.active.is_(True)))
        valid.update((h, role) for h, role in rows.all())
        await session.execute(update(LoginSession).where(LoginSession.token_hash.in_(chunk)).values(last_seen_at=now))
    return valid


async def principal_for_session(session: AsyncSession, token: str | None, settings=None) -> Principal | None:
    """The staff member behind a session cookie; None once it expired or, given settings, sat idle
    past its role's limit (docs/security.md: a request or an open live socket is use). A request
    with settings counts as use."""
    if not token:
        return None
    row = (await session.execute(
        select(User, LoginSession.expires_at, LoginSession.last_seen_at)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.token_hash == token_hash(token), User.active.is_(True))
    )).first()
    now = utcnow()
    if row is None or row.expires_at <= now:
        return None
    u = row.User
    if settings is not None:
        if now - row.last_seen_at > idle_limit(settings, u.role):
            return None
        if now - row.last_seen_at > TOUCH_EVERY:
            await session.execute(update(LoginSession).where(LoginSession.token_hash == token_hash(token))
                                  .values(last_seen_at=now))
    return Principal("staff", u.role, u.id, display_name=u.display_name, station_id=u.station_id)


async def sessions_of(session: AsyncSession, user_id: int, settings, current_token: str | None = None) -> list[dict]:
    """A staff member's open sessions, most recently used first."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("没有这个用户", f"No user {user_id}")
    limit, now = idle_limit(settings, user.role), utcnow()
    current = token_hash(current_token) if current_token else None
    rows = await session.scalars(select(LoginSession).where(LoginSession.user_id == user_id)
                                 .order_by(LoginSession.last_seen_at.desc()))
    return [{"id": s.sid, "user_id": s.user_id, "created_at": s.created_at, "last_seen_at": s.last_seen_at,
             "expires_at": s.expires_at, "idle_ends_at": s.last_seen_at + limit, "address": s.address,
             "user_agent": s.user_agent, "current": s.token_hash == current}
            for s in rows if s.expires_at > now and now - s.last_seen_at <= limit]


async def end_session(session: AsyncSession, who: Principal, sid: str) -> None:
    """Its owner, or an administrator, ends a session; its live socket closes at once."""
    row = await session.scalar(select(LoginSession).where(LoginSession.sid == sid))
    if row is None or (row.user_id != who.user_id and who.role != roles.ADMIN):
        raise NotFound("没有这个登录会话", "No such session", code="no_session")
    await session.delete(row)
    await audit(session, who, "session.end", "user", row.user_id, {"session": sid})


async def end_sessions_of(session: AsyncSession, who: Principal, user_id: int, keep_token: str | None = None) -> int:
    """End every session of an account (all but the caller's own, with keep_token)."""
    q = delete(LoginSession).where(LoginSession.user_id == user_id)
    if keep_token:
        q = q.where(LoginSession.token_hash != token_hash(keep_token))
    n = (await session.execute(q)).rowcount
    await audit(session, who, "session.end_all", "user", user_id, {"ended": n, "kept_current": bool(keep_token)})
    return n


async def list_users(session: AsyncSession, role: str | None = None) -> list[dict]:
    q = select(User).where(User.active.is_(True)).order_by(User.role, User.username)
    if role:
        q = q.where(User.role == role)
    return [user_out(u) for u in await session.scalars(q)]


async def user_id_by_username(session: AsyncSession, username: str) -> int | None:
    return await session.scalar(select(User.id).where(User.username == username, User.active.is_(True)))


async def user_by_id(session: AsyncSession, user_id: int) -> User:
    return await session.get_one(User, user_id)


async def issue_device(session: AsyncSession) -> tuple[Device, str]:
    device = new_device(session)
    await session.flush()
    return device, await issue_token(session, device.id)


def new_device(session: AsyncSession) -> Device:
    """A new caller's phone, stored with the session's next flush."""
    device = Device()
    session.add(device)
    return device


async def issue_token(session: AsyncSession, device_id: int) -> str:
    """A token for the device; the row goes out with the transaction's next flush."""
    token = secrets.token_urlsafe(24)
    session.add(DeviceToken(token_hash=token_hash(token), device_id=device_id))
    return token


async def device_by_token(session: AsyncSession, token: str | None) -> Device | None:
    if not token:
        return None
    return await session.scalar(
        select(Device).join(DeviceToken, DeviceToken.device_id == Device.id)
        .where(DeviceToken.token_hash == token_hash(token)))


async def accept_terms(session: AsyncSession, device: Device, version: str) -> None:
    device.terms_version = version
    device.terms_accepted_at = utcnow()


def caller_principal(device: Device) -> Principal:
    return Principal("caller", roles.CALLER, device_id=device.id)
