"""Key-unit members: login by phone and SMS code, and who a logged-in member is.

A member's login is an ordinary session (users row with role keyunit_member, made at first login),
so the live socket and the audit log know them like any account. It lasts until logout; and it is
worth nothing once the phone is off every roster: each request asks the roster again."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import roles
from ..auth import service as auth
from ..auth.models import User
from ..auth.service import Principal
from ..config import Settings
from ..errors import Forbidden
from ..phone import mask_phone
from ..sms import service as sms
from ..sms.service import PhoneActor
from .models import KeyUnit, MemberAccount, RosterEntry

LOGIN_PURPOSE = "member_login"
CODE_TEXT = "您的重点单位一键报警登录验证码为 {code}，{minutes} 分钟内有效。请勿告诉他人。"
# "Until logout": a session this long is, for a phone, forever; removal from the roster ends it sooner.
SESSION_HOURS = 24 * 365 * 5


@dataclass(frozen=True)
class Member:
    principal: Principal
    phone: str
    name: str
    units: list[dict]  # [{id, name, kind, address, lat, lon, station_id, role}]

    @property
    def unit_ids(self) -> set[int]:
        return {u["id"] for u in self.units}


def not_on_roster(actor, phone: str) -> Forbidden:
    return Forbidden("该号码不在任何重点单位的人员名单中，请联系所在单位或辖区派出所",
                     "This number is not on any key unit's roster; ask your unit or the local police station",
                     code="not_on_roster", audit=(actor, "member.refused", "member", None))


async def roster_of(session: AsyncSession, phone: str) -> list[dict]:
    rows = await session.execute(select(RosterEntry, KeyUnit).join(KeyUnit, KeyUnit.id == RosterEntry.unit_id)
                                 .where(RosterEntry.phone == phone).order_by(KeyUnit.name))
    return [{"id": u.id, "name": u.name, "kind": u.kind, "address": u.address, "lat": u.lat, "lon": u.lon,
             "station_id": u.station_id, "role": r.role, "member_name": r.name} for r, u in rows.all()]


async def request_code(session: AsyncSession, settings: Settings, phone: str, address: str | None) -> dict:
    if not await roster_of(session, phone):
        raise not_on_roster(PhoneActor(phone), phone)
    return await sms.issue_code(session, settings, phone, LOGIN_PURPOSE, address, CODE_TEXT)


async def login(session: AsyncSession, settings: Settings, phone: str, code: str,
                address: str | None = None) -> tuple[User, str]:
    # The code first: a wrong one is counted (and stored) before anything else is written.
    await sms.consume_code(session, settings, phone, LOGIN_PURPOSE, code)
    units = await roster_of(session, phone)
    if not units:
        raise not_on_roster(PhoneActor(phone), phone)
    account = await session.scalar(select(MemberAccount).where(MemberAccount.phone == phone))
    if account is None:
        # The account may outlive its link (e.g. the link table restored from an older backup).
        user = await session.scalar(select(User).where(User.username == f"m{phone}"))
        if user is None:
            user = User(username=f"m{phone}", display_name=units[0]["member_name"], role=roles.KEYUNIT_MEMBER,
                        password_hash="!sms-login-only", active=True)
            session.add(user)
            await session.flush()
        session.add(MemberAccount(phone=phone, user_id=user.id))
    else:
        user = await session.get_one(User, account.user_id)
        user.display_name, user.active = units[0]["member_name"], True
    token = await auth.open_login(session, user, settings.model_copy(update={"session_hours": SESSION_HOURS}), address)
    return user, token


async def link_account(session: AsyncSession, user_id: int, phone: str) -> None:
    """Give a password account (the demo's `keyunit`) a roster phone."""
    if await session.scalar(select(MemberAccount.id).where(MemberAccount.phone == phone)) is None:
        session.add(MemberAccount(phone=phone, user_id=user_id))
        await session.flush()


async def member_for(session: AsyncSession, who: Principal) -> Member:
    """The logged-in member and their units now; 403 (audited) once the phone is off every roster."""
    if who.role != roles.KEYUNIT_MEMBER:
        raise Forbidden("仅限重点单位人员", "For key-unit members only", code="not_a_member",
                        audit=(who, "member.refused", "member", None))
    phone = await session.scalar(select(MemberAccount.phone).where(MemberAccount.user_id == who.user_id))
    units = await roster_of(session, phone) if phone else []
    if not units:
        raise Forbidden("您已不在重点单位人员名单中，一键报警已停用。普通报警仍可使用。",
                        "You are no longer on a key unit's roster; one-tap is off. Ordinary alarms still work.",
                        code="removed_from_roster", audit=(who, "member.refused", "member", who.user_id))
    return Member(who, phone, units[0]["member_name"], units)


def member_out(m: Member) -> dict:
    return {"phone": m.phone, "phone_masked": mask_phone(m.phone), "name": m.name,
            "units": [{k: u[k] for k in ("id", "name", "kind", "address", "lat", "lon", "role")} for u in m.units]}


def new_key() -> str:
    return secrets.token_hex(16)
