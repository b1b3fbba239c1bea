"""Staff accounts and sessions, caller devices, and the audit log."""
from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db import utcnow
from ..errors import Conflict, Invalid, Unauthorized
from . import roles
from .models import AuditEntry, Device, DeviceToken, LoginSession, User

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
            "station_id": u.station_id}


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


async def open_login(session: AsyncSession, user: User, hours: int) -> str:
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(token_hash=token_hash(token), user_id=user.id,
                             expires_at=utcnow() + timedelta(hours=hours)))
    await audit(session, Principal("staff", user.role, user.id, display_name=user.display_name),
                "login", "user", user.id)
    return token


async def logout(session: AsyncSession, token: str) -> None:
    await session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash(token)))


async def valid_session_hashes(session: AsyncSession, hashes: set[str]) -> set[str]:
    """Which of these hashed session tokens still belong to an active account."""
    hashes = list(hashes)
    valid: set[str] = set()
    for i in range(0, len(hashes), 500):
        rows = await session.scalars(
            select(LoginSession.token_hash).join(User, User.id == LoginSession.user_id)
            .where(LoginSession.token_hash.in_(hashes[i:i + 500]), LoginSession.expires_at > utcnow(),
                   User.active.is_(True)))
        valid.update(rows)
    return valid


async def principal_for_session(session: AsyncSession, token: str | None) -> Principal | None:
    if not token:
        return None
    row = (await session.execute(
        select(User, LoginSession.expires_at)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.token_hash == token_hash(token), User.active.is_(True))
    )).first()
    if row is None or row.expires_at <= utcnow():
        return None
    u = row.User
    return Principal("staff", u.role, u.id, display_name=u.display_name, station_id=u.station_id)


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
    device = Device()
    session.add(device)
    await session.flush()
    return device, await issue_token(session, device.id)


async def issue_token(session: AsyncSession, device_id: int) -> str:
    token = secrets.token_urlsafe(24)
    session.add(DeviceToken(token_hash=token_hash(token), device_id=device_id))
    await session.flush()
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


async def audit(session: AsyncSession, who: Principal, action: str, subject_type: str,
                subject_id: int | None, detail: dict | None = None) -> None:
    session.add(AuditEntry(user_id=who.user_id, actor=who.label, action=action,
                           subject_type=subject_type, subject_id=subject_id, detail=detail))


class AuditBuffer:
    """Audit rows written in batches, flushed every second and on shutdown, rather than one
    transaction per WebSocket frame.

    Live pushes of callers' data (`saw`) are gathered into one row per subject per flush: action
    `view.live`, actor `live`, and `detail.viewers` = [{user_id, actor, at}], each staff member
    once, at the time of the first push to them in that second. So "who saw this caller's data,
    when" is answered by the rows of the caller's alarms (see `who_saw`), at a cost per alarm per
    second instead of per console per push (bench/README.md, fan-out)."""

    def __init__(self, sessions: async_sessionmaker, interval: float = 1.0) -> None:
        self._sessions = sessions
        self._interval = interval
        self._rows: list[dict] = []
        self._seen: dict[tuple[str, str, int], dict] = {}
        self._task: asyncio.Task | None = None

    def add(self, who: Principal, action: str, subject_type: str, subject_id: int, detail: dict | None = None):
        self._rows.append({"at": utcnow(), "user_id": who.user_id, "actor": who.label, "action": action,
                           "subject_type": subject_type, "subject_id": subject_id, "detail": detail})

    def saw(self, who: Principal, subject_type: str, subject_id: int, action: str = "view.live") -> None:
        viewers = self._seen.setdefault((action, subject_type, subject_id), {})
        if who.label not in viewers:
            viewers[who.label] = (who.user_id, time.time())

    def _gather_seen(self) -> None:
        seen, self._seen = self._seen, {}
        for (action, subject_type, subject_id), viewers in seen.items():
            first = min(at for _, at in viewers.values())
            self._rows.append({
                "at": datetime.fromtimestamp(first, timezone.utc), "user_id": None, "actor": "live",
                "action": action, "subject_type": subject_type, "subject_id": subject_id,
                "detail": {"viewers": [
                    {"user_id": uid, "actor": label,
                     "at": datetime.fromtimestamp(at, timezone.utc).isoformat()}
                    for label, (uid, at) in viewers.items()]}})

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except Exception:  # keep the rows and try again; the buffer must not die
                log.exception("audit flush failed")

    async def flush(self) -> None:
        self._gather_seen()
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        try:
            async with self._sessions() as s, s.begin():
                await s.execute(insert(AuditEntry), rows)
        except Exception:
            self._rows[:0] = rows
            raise

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
        await self.flush()


async def who_saw(session: AsyncSession, alarm_id: int) -> list[dict]:
    """Every staff view of one alarm's caller data, oldest first: [{user_id, actor, at, how}],
    `how` being the audit action (view.live, view.snapshot, view.incident)."""
    out = []
    rows = await session.scalars(select(AuditEntry).where(
        AuditEntry.action.in_(("view.live", "view.snapshot", "view.incident"))).order_by(AuditEntry.id))
    for r in rows:
        detail = r.detail or {}
        if r.action == "view.live":
            if r.subject_type == "alarm" and r.subject_id == alarm_id:
                out += [{"user_id": v["user_id"], "actor": v["actor"], "at": datetime.fromisoformat(v["at"]),
                         "how": r.action} for v in detail.get("viewers", ())]
        elif alarm_id in detail.get("alarm_ids", ()):
            out.append({"user_id": r.user_id, "actor": r.actor, "at": r.at, "how": r.action})
    return sorted(out, key=lambda v: v["at"])
