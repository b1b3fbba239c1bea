"""The staff second factor: TOTP (RFC 6238, pyotp) enrolled by QR code, and one-time backup codes
stored hashed (docs/security.md)."""
from __future__ import annotations

import hashlib
import secrets

import pyotp
import segno
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db import utcnow
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


def code_ok(secret: str, code: str) -> bool:
    # One step either side: a phone clock 30 s off still works.
    code = code.strip().replace(" ", "")
    return code.isdigit() and len(code) == 6 and pyotp.TOTP(secret).verify(code, valid_window=1)


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


async def second_factor_ok(sessions: async_sessionmaker, user: User, code: str) -> bool:
    """The authenticator's code, or a backup code, spent at once in its own transaction (a login
    holds no transaction while it checks: see auth/login.py)."""
    if user.totp_secret and code_ok(user.totp_secret, code):
        return True
    async with sessions() as s, s.begin():
        return await use_backup_code(s, user.id, code)


async def start(session: AsyncSession, user: User) -> dict:
    user.totp_pending = new_secret()
    return enrolment(user.totp_pending, user.username)


def pending_ok(user: User, code: str) -> bool:
    return bool(user.totp_pending) and code_ok(user.totp_pending, code)


async def confirm(session: AsyncSession, user: User, code: str) -> list[str] | None:
    """Turn the pending secret on when the code from the phone matches; returns the backup codes."""
    if not pending_ok(user, code):
        return None
    user.totp_secret, user.totp_pending, user.totp_enabled_at = user.totp_pending, None, utcnow()
    return await new_backup_codes(session, user.id)


async def reset(session: AsyncSession, user: User) -> None:
    """An administrator's reset for a lost phone and lost codes: the next login enrols again."""
    user.totp_secret = user.totp_pending = user.totp_enabled_at = None
    await session.execute(delete(BackupCode).where(BackupCode.user_id == user.id))
