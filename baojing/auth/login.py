"""Staff login: password, lockout and second factor, in that order (docs/security.md).

Every check runs before the login's own transaction is touched, and each refusal is recorded in a
short transaction of its own: on SQLite there is one connection, and a transaction held open
while another waits for it would wait forever."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..config import Settings
from ..errors import Conflict, Unauthorized
from . import lockout, totp
from .models import User
from .service import check_password


@dataclass
class Attempt:
    username: str
    password: str
    code: str | None
    address: str


@dataclass
class LoggedIn:
    user: User
    backup_codes: list[str] | None = None  # shown once, when this login completed an enrolment


def _bad_credentials() -> Unauthorized:
    return Unauthorized("用户名或密码错误", "Wrong username or password", code="bad_credentials")


async def _password(sessions: async_sessionmaker, settings: Settings, a: Attempt) -> tuple[User, lockout.Lock | None]:
    """The account, once its password is right. While a lock holds, a password is checked only
    together with a code: a password alone is refused unchecked, so it tells a guesser nothing."""
    lock = await lockout.lock_of(sessions, settings, a.username, a.address)
    if lock and not a.code:
        await lockout.record_failure(sessions, a.username, a.address, "locked", None, counted=False)
        raise lockout.locked_error(lock)
    try:
        user = await check_password(sessions, a.username, a.password)
    except Unauthorized:
        await lockout.record_failure(sessions, a.username, a.address, "password", None)
        raise lockout.locked_error(lock) if lock else _bad_credentials()
    return user, lock


async def authenticate(session: AsyncSession, sessions: async_sessionmaker, settings: Settings, a: Attempt) -> LoggedIn:
    user, lock = await _password(sessions, settings, a)
    if user.totp_secret:
        if not a.code:
            raise Unauthorized("请输入手机验证器上的 6 位动态验证码（或一个备用码）",
                               "Enter the 6-digit code from your authenticator app (or a backup code)",
                               code="totp_required")
        checked = await totp.second_factor(sessions, user, a.code)
        if checked != "ok":
            # A replayed code counts as a failure: it may be someone who saw it being typed.
            await lockout.record_failure(sessions, a.username, a.address, "code_reused" if checked == "reused" else "code",
                                         user.id)
            if lock:
                raise lockout.locked_error(lock)
            if checked == "reused":
                raise totp.code_reused(Unauthorized)
            raise Unauthorized("动态验证码不正确或已过期", "The code is wrong or has expired", code="bad_code")
        return LoggedIn(user)
    if lock:  # no second factor to get through the lock with
        await lockout.record_failure(sessions, a.username, a.address, "locked", user.id, counted=False)
        raise lockout.locked_error(lock)
    if user.totp_pending and a.code:
        if not totp.pending_ok(user, a.code):
            await lockout.record_failure(sessions, a.username, a.address, "code", user.id)
            raise Unauthorized("动态验证码不正确或已过期", "The code is wrong or has expired", code="bad_code")
        user = await session.get_one(User, user.id)
        return LoggedIn(user, await totp.confirm(session, user, a.code))
    if not settings.demo:
        raise Unauthorized("请先绑定手机验证器（动态验证码）才能登录",
                           "Set up an authenticator app (second factor) before logging in",
                           code="totp_enrolment_required")
    return LoggedIn(user)


async def start_enrolment(session: AsyncSession, sessions: async_sessionmaker, settings: Settings, a: Attempt) -> dict:
    """Enrolment before the first login: the password proves who it is; the code that confirms
    it is then sent with the login itself."""
    user, _ = await _password(sessions, settings, a)  # no code: a lock has refused already
    if user.totp_secret:
        raise Conflict("该帐号已绑定验证器；更换手机请登录后重新绑定，或请管理员重置",
                       "This account already has an authenticator; to change phones log in and enrol again, "
                       "or ask an administrator to reset it", code="totp_enrolled")
    return await totp.start(session, await session.get_one(User, user.id))
