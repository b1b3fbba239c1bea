"""The staff second factor: TOTP (RFC 6238, pyotp) enrolled by QR code, and one-time backup codes
stored hashed (docs/security.md).

A code works once: the 30-second step of the last code accepted is kept per user
(users.totp_last_step), and a code of that step or an older one is refused (RFC 6238 §5.2), so a
code seen over a shoulder or in a proxy log cannot log in again within its window."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from datetime import datetime, timezone

import pyotp
import segno
from sqlalchemy import delete, or_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db import utcnow
from ..errors import DomainError, Invalid
from .models import BackupCode, User

ISSUER = "Baojing 报警"
BACKUP_CODES = 10
# Backup codes avoid letters people confuse (0/O, 1/l/I).
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


def new_secret() -> str:
    return pyotp.random_base32()


def enrolment(secret: str, username: str) -> dict:
    """What the enrolling page shows: the QR code (an SVG data URI, drawn here: no CDN, and the
    secret never goes to a third party) and the secret to type in by hand."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)
    return {"secret": secret, "otpauth_uri": uri, "qr_svg": segno.make(uri, error="m").svg_data_uri(scale=5, border=2)}


def code_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step (30 s) whose code this is, or None. One step either side: a phone clock 30 s
    off still works."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    t = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    step = t.timecode(datetime.fromtimestamp(now, timezone.utc))
    for s in (step - 1, step, step + 1):
        if hmac.compare_digest(t.generate_otp(s), code):
            return s
    return None


async def spend_step(session: AsyncSession, user_id: int, step: int) -> bool:
    """Accept a code's step once: a conditional update, so two requests racing with one code
    cannot both pass, and a step older than the last accepted one is refused too."""
    r = await session.execute(update(User).where(User.id == user_id, or_(User.totp_last_step.is_(None),
                                                                           User.totp_last_step < step))
                              .values(totp_last_step=step))
    return r.rowcount == 1


def code_reused(cls: type[DomainError] = Invalid) -> DomainError:
    return cls("这个动态验证码已经用过，请等手机上出现新的验证码再输入",
                   "This code has already been used: wait for the next one on your authenticator",
                   code="code_reused")


async def current_code_ok(session: AsyncSession, user: User, code: str) -> bool:
    """A code of the enrolled authenticator, spent in this session's transaction (other checks
    than login: new backup codes). Raises code_reused for a code used before."""
    step = code_step(user.totp_secret, code) if user.totp_secret else None
    if step is None:
        return False
    if not await spend_step(session, user.id, step):
        raise code_reused()
    return True


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().lower().replace("-", "").replace(" ", "").encode()).hexdigest()


async def new_backup_codes(session: AsyncSession, user_id: int) -> list[str]:
    """Ten fresh codes replace any old ones; shown once, stored only as hashes. 50 random bits
    each: a hash that fast is safe when the code itself cannot be guessed."""
    await session.execute(delete(BackupCode).where(BackupCode.user_id == user_id))
    codes = ["".join(secrets.choice(_ALPHABET) for _ in range(10)) for _ in range(BACKUP_CODES)]
    session.add_all(BackupCode(user_id=user_id, code_hash=_hash(c)) for c in codes)
    return [f"{c[:5]}-{c[5:]}" for c in codes]


async def use_backup_code(session: AsyncSession, user_id: int, code: str) -> bool:
    """Spend one backup code; a conditional update, so two logins cannot spend the same one."""
    r = await session.execute(update(BackupCode).where(BackupCode.user_id == user_id, BackupCode.code_hash == _hash(code),
                                                       BackupCode.used_at.is_(None)).values(used_at=utcnow()))
    return r.rowcount == 1


async def second_factor(sessions: async_sessionmaker, user: User, code: str) -> str:
    """The authenticator's code, or a backup code, spent at once in its own transaction (a login
    holds no transaction while it checks: see auth/login.py): "ok", "reused" or "wrong"."""
    step = code_step(user.totp_secret, code) if user.totp_secret else None
    async with sessions() as s, s.begin():
        if step is not None:
            return "ok" if await spend_step(s, user.id, step) else "reused"
        return "ok" if await use_backup_code(s, user.id, code) else "wrong"


async def start(session: AsyncSession, user: User) -> dict:
    user.totp_pending = new_secret()
    return enrolment(user.totp_pending, user.username)


def pending_ok(user: User, code: str) -> bool:
    return bool(user.totp_pending) and code_step(user.totp_pending, code) is not None


async def confirm(session: AsyncSession, user: User, code: str) -> list[str] | None:
    """Turn the pending secret on when the code from the phone matches; returns the backup codes.
    The new secret has never been used, so its first code is not checked against the old
    secret's last step; it becomes the last step (at least), so it cannot log in afterwards."""
    step = code_step(user.totp_pending, code) if user.totp_pending else None
    if step is None:
        return None
    user.totp_secret, user.totp_pending, user.totp_enabled_at = user.totp_pending, None, utcnow()
    user.totp_last_step = max(step, user.totp_last_step or 0)
    return await new_backup_codes(session, user.id)


async def reset(session: AsyncSession, user: User) -> None:
    """An administrator's reset for a lost phone and lost codes: the next login enrols again."""
    user.totp_secret = user.totp_pending = user.totp_enabled_at = user.totp_last_step = None
    await session.execute(delete(BackupCode).where(BackupCode.user_id == user.id))
