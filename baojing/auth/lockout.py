"""Login lockout: counted failures lock an account for a while, without letting a stranger lock the
whole shift out (docs/security.md).

- 5 failures of one account from one address within 10 minutes lock that account *from that
  address* for 10 minutes: the right password from any other address still works.
- 20 failures of one account from anywhere (a guesser with many addresses) lock its password-only
  logins everywhere for 10 minutes.
- Neither lock holds against the second factor: the right password together with a valid TOTP or
  backup code logs in through any lock. A stranger has no code, so a lock costs the real officer
  nothing but typing it; and while locked, a password is never checked alone, so guessing goes on
  only at one-in-a-million odds per try.

Each failure is a row here (the count, kept a day) and an entry in the audit log (kept for good),
written in their own transaction: the refused request's own transaction is rolled back. Rows older
than a day are purged for every account at each failure (an account that never fails again would
otherwise keep its rows, addresses included, for good) and by `baojing anonymise`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..config import Settings
from ..db import utcnow
from ..errors import TooMany
from .audit import append
from .models import LoginFailure

KEEP = timedelta(days=1)


@dataclass(frozen=True)
class Lock:
    retry_after_s: int
    scope: str  # "address" (this account from this address) or "account" (from anywhere)


async def lock_of(sessions: async_sessionmaker, settings: Settings, username: str, address: str) -> Lock | None:
    window = timedelta(minutes=settings.login_lock_minutes)
    since = utcnow() - window
    F = LoginFailure
    async with sessions() as s:
        pair = list(await s.scalars(select(F.at).where(F.username == username, F.address == address, F.at > since)
                                    .order_by(F.at.desc()).limit(settings.login_lock_failures)))
        account = None
        if settings.login_account_lock_failures:
            n = await s.scalar(select(func.count()).where(F.username == username, F.at > since))
            if n >= settings.login_account_lock_failures:
                account = await s.scalar(select(F.at).where(F.username == username, F.at > since)
                                         .order_by(F.at.desc()).offset(settings.login_account_lock_failures - 1).limit(1))
    now = utcnow()
    locks = []
    if len(pair) >= settings.login_lock_failures:
        locks.append(Lock(int((pair[-1] + window - now).total_seconds()) + 1, "address"))
    if account is not None:
        locks.append(Lock(int((account + window - now).total_seconds()) + 1, "account"))
    return max(locks, key=lambda lk: lk.retry_after_s) if locks else None


async def record_failure(sessions: async_sessionmaker, username: str, address: str, reason: str,
                         user_id: int | None, counted: bool = True) -> None:
    """Audit a refused login; count it towards the lock unless it was refused by the lock itself
    (those are not checked, so they say nothing about the password)."""
    async with sessions() as s, s.begin():
        if counted:
            s.add(LoginFailure(username=username, address=address))
            await purge_old(s)
        await append(s, [{"user_id": user_id, "actor": f"address:{address}"[:80], "action": "login.failed",
                          "subject_type": "user", "subject_id": user_id,
                          "detail": {"username": username, "address": address, "reason": reason}}])


async def purge_old(session: AsyncSession) -> int:
    """Forget failures older than a day, of every account (ix_login_failures_at)."""
    return (await session.execute(delete(LoginFailure).where(LoginFailure.at < utcnow() - KEEP))).rowcount


def locked_error(lock: Lock) -> TooMany:
    return TooMany("登录失败次数过多，该帐号已暂时锁定。请输入密码和动态验证码登录，或稍后再试",
                   "Too many failed logins: this account is locked for now. Log in with your password and "
                   "authenticator code, or try again later", retry_after=lock.retry_after_s, code="login_locked")
