"""Request-scoped dependencies: the one place that commits, and who is asking."""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession

from . import events
from .auth import service as auth
from .auth.models import Device
from .errors import answers, DomainError, Forbidden, Unauthorized

SESSION_COOKIE = "bj_session"


@asynccontextmanager
async def unit_of_work(state) -> AsyncIterator[AsyncSession]:
    """Commits when the block ends, then publishes the transaction's events.

    Services never commit; a block that raises rolls back and its events vanish with it."""
    async with state.sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException as e:
            if not (isinstance(e, DomainError) and e.keep):
                await session.rollback()
                events.forget_pending(session)
                raise
            # A refusal that must be remembered (DomainError.keep): store it, then refuse.
            await session.commit()
            await _publish(state, session)
            raise
    await _publish(state, session)


async def _publish(state, session: AsyncSession) -> None:
    published = events.take_pending(session)
    if published:
        await state.bus.publish(published)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work. The response is sent only after its commit, so an acknowledged
    alarm is a stored alarm. While the database is known to be gone: 503 at once (dbwatch.py)."""
    request.app.state.db_watch.check()
    # A request goes before the AVL flush and the audit at the one writer (priority.py).
    async with request.app.state.priority.request(), unit_of_work(request.app.state) as session:
        yield session


# Ends (commits) before the response is sent, not after: an answered request is a stored request.
DbSession = Depends(get_session, scope="function")


async def optional_staff(request: Request, session: AsyncSession = DbSession) -> auth.Principal | None:
    return await auth.principal_for_session(session, request.cookies.get(SESSION_COOKIE), request.app.state.settings)


@answers(401)
async def current_staff(who: auth.Principal | None = Depends(optional_staff)) -> auth.Principal:
    if who is None:
        raise Unauthorized("请先登录", "Please log in")
    return who


def wrong_role() -> Forbidden:
    return Forbidden("您的角色无权进行此操作", "Your role may not do this")


def require(allowed: frozenset[str]):
    @answers(403)
    async def _check(who: auth.Principal = Depends(current_staff)) -> auth.Principal:
        if who.role not in allowed:
            raise wrong_role()
        return who

    _check.allowed = allowed  # read by uploadgate.py, which refuses before the body is read
    return _check


@answers(401)
async def optional_device(
    session: AsyncSession = DbSession,
    x_device_token: str | None = Header(default=None, max_length=100),
) -> Device | None:
    device = await auth.device_by_token(session, x_device_token)
    if x_device_token and device is None:
        raise Unauthorized("设备标识无效，请刷新页面", "Unknown device token; reload the page",
                           code="bad_device_token")
    return device


async def device_if_known(
    session: AsyncSession = DbSession,
    x_device_token: str | None = Header(default=None, max_length=100),
) -> Device | None:
    """For raising an alarm: an unknown or stale token is no reason to refuse one; the phone is
    simply treated as new and given a fresh token."""
    return await auth.device_by_token(session, x_device_token)


async def current_device(device: Device | None = Depends(optional_device)) -> Device:
    if device is None:
        raise Unauthorized("缺少设备标识", "The X-Device-Token header is missing", code="no_device_token")
    return device
