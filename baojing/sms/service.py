"""Text messages and one-time codes: the rules. Nothing here talks to a provider (runtime.py does,
after commit), so a message is stored with whatever caused it or not at all.

One-time codes: 6 digits, valid sms_code_ttl_s (5 minutes), used once, at most sms_code_max_tries
(5) wrong tries, then a new code is needed; a number may ask once a minute and
sms_code_per_phone_hour times an hour, an address sms_code_per_address_hour times an hour."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..config import Settings
from ..db import utcnow
from ..errors import DomainError, NotFound
from ..phone import mask_phone
from .models import FAILED, PENDING, SENT, SmsCode, SmsMessage

CODE_DIGITS = 6


@dataclass(frozen=True)
class PhoneActor:
    """Who is on the audit record when nobody is logged in yet: a (masked) phone number."""

    phone: str
    user_id: int | None = None

    @property
    def label(self) -> str:
        return f"phone:{mask_phone(self.phone)}"


class CodeRefused(DomainError):
    status, code = 401, "code_refused"


class RateLimited(DomainError):
    status, code = 429, "rate_limited"


def _mark_queued(session: AsyncSession) -> None:
    # Read by the runtime's after-commit hook: wake the sender once this transaction is stored.
    session.info["sms_queued"] = True


async def queue(session: AsyncSession, phone: str, text: str, purpose: str, *, sensitive: bool = False) -> SmsMessage:
    msg = SmsMessage(phone=phone, text=text, purpose=purpose, sensitive=sensitive, status=PENDING,
                     created_at=utcnow(), next_attempt_at=utcnow())
    session.add(msg)
    await session.flush()
    _mark_queued(session)
    return msg


async def queue_many(session: AsyncSession, messages: list[tuple[str, str]], purpose: str) -> int:
    """Many messages in one statement (a bulletin to hundreds of members)."""
    if not messages:
        return 0
    now = utcnow()
    await session.execute(insert(SmsMessage), [
        {"phone": p, "text": t, "purpose": purpose, "sensitive": False, "status": PENDING, "attempts": 0,
         "created_at": now, "next_attempt_at": now} for p, t in messages])
    _mark_queued(session)
    return len(messages)


def _hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


async def issue_code(session: AsyncSession, settings: Settings, phone: str, purpose: str, address: str | None,
                     text_zh: str) -> dict:
    """Make a code for `phone` and queue its message. `text_zh` holds "{code}" and "{minutes}".
    Refusals (too soon, too many) are audited by the caller through the raised error."""
    now = utcnow()
    actor = PhoneActor(phone)
    last = await session.scalar(select(SmsCode.created_at).where(SmsCode.phone == phone, SmsCode.purpose == purpose)
                                .order_by(SmsCode.id.desc()).limit(1))
    if last is not None and (wait := settings.sms_code_interval_s - (now - last).total_seconds()) > 0:
        raise RateLimited(f"验证码已发送，请 {int(wait) + 1} 秒后再试", f"A code was just sent; try again in {int(wait) + 1} s",
                          code="code_too_soon", audit=(actor, "sms_code.refused", "sms_code", None))
    hour = now - timedelta(hours=1)
    per_phone = await session.scalar(select(func.count()).select_from(SmsCode)
                                     .where(SmsCode.phone == phone, SmsCode.created_at > hour))
    if per_phone >= settings.sms_code_per_phone_hour:
        raise RateLimited("该号码获取验证码次数过多，请一小时后再试",
                          "Too many codes for this number; try again in an hour",
                          code="too_many_codes_phone", audit=(actor, "sms_code.refused", "sms_code", None))
    if address:
        per_address = await session.scalar(select(func.count()).select_from(SmsCode)
                                           .where(SmsCode.address == address, SmsCode.created_at > hour))
        if per_address >= settings.sms_code_per_address_hour:
            raise RateLimited("此网络获取验证码次数过多，请稍后再试",
                              "Too many codes requested from this network; try again later",
                              code="too_many_codes_address", audit=(actor, "sms_code.refused", "sms_code", None))
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    minutes = max(1, settings.sms_code_ttl_s // 60)
    msg = await queue(session, phone, text_zh.format(code=code, minutes=minutes), purpose, sensitive=True)
    salt = secrets.token_hex(8)
    session.add(SmsCode(phone=phone, purpose=purpose, code_hash=_hash(salt, code), salt=salt, address=address,
                        created_at=now, expires_at=now + timedelta(seconds=settings.sms_code_ttl_s),
                        message_id=msg.id))
    await session.flush()
    return {"sent_to": mask_phone(phone), "expires_in_s": settings.sms_code_ttl_s,
            "resend_after_s": settings.sms_code_interval_s}


async def consume_code(session: AsyncSession, settings: Settings, phone: str, purpose: str, code: str) -> None:
    """Accept `code` once, or refuse it. A wrong try is counted even though the request fails: the
    error carries keep=True, so the unit of work stores the count (and only that) before answering."""
    row = await session.scalar(select(SmsCode).where(SmsCode.phone == phone, SmsCode.purpose == purpose)
                               .order_by(SmsCode.id.desc()).limit(1).with_for_update())
    actor = PhoneActor(phone)
    audit = (actor, "sms_code.refused", "sms_code", row.id if row else None)
    if row is None:
        raise CodeRefused("请先获取验证码", "Ask for a code first", code="no_code", audit=audit)
    if row.used_at is not None:
        raise CodeRefused("验证码已使用过，请重新获取", "This code has already been used; ask for a new one",
                          code="code_used", audit=audit)
    if row.expires_at <= utcnow():
        raise CodeRefused("验证码已过期，请重新获取", "The code has expired; ask for a new one",
                          code="code_expired", audit=audit)
    if row.tries >= settings.sms_code_max_tries:
        raise CodeRefused("错误次数过多，验证码已失效，请重新获取",
                          "Too many wrong tries; this code no longer works. Ask for a new one",
                          code="code_locked", status=429, audit=audit)
    if not hmac.compare_digest(row.code_hash, _hash(row.salt, code)):
        row.tries += 1
        left = settings.sms_code_max_tries - row.tries
        if left <= 0:
            raise CodeRefused("验证码错误，错误次数过多，请重新获取",
                              "Wrong code, and too many wrong tries: ask for a new one",
                              code="code_locked", status=429, audit=audit, keep=True)
        raise CodeRefused(f"验证码错误，还可尝试 {left} 次", f"Wrong code; {left} more tries",
                          code="wrong_code", audit=audit, keep=True)
    row.used_at = utcnow()


def message_view(m: SmsMessage) -> dict:
    return {"id": m.id, "phone": m.phone, "text": m.text, "purpose": m.purpose, "status": m.status,
            "gateway": m.gateway, "attempts": m.attempts, "last_error": m.last_error, "provider_id": m.provider_id,
            "created_at": m.created_at, "next_attempt_at": m.next_attempt_at if m.status == PENDING else None,
            "sent_at": m.sent_at}


async def list_messages(session: AsyncSession, *, phone: str | None = None, purpose: str | None = None,
                        status: str | None = None, before_id: int | None = None, limit: int = 100) -> dict:
    q = select(SmsMessage).order_by(SmsMessage.id.desc()).limit(limit)
    if phone:
        q = q.where(SmsMessage.phone == phone)
    if purpose:
        q = q.where(SmsMessage.purpose == purpose)
    if status:
        q = q.where(SmsMessage.status == status)
    if before_id:
        q = q.where(SmsMessage.id < before_id)
    counts = dict((await session.execute(select(SmsMessage.status, func.count()).group_by(SmsMessage.status))).all())
    return {"messages": [message_view(m) for m in await session.scalars(q)],
            "counts": {s: counts.get(s, 0) for s in (PENDING, SENT, FAILED)}}


async def retry(session: AsyncSession, message_id: int) -> dict:
    """Send a failed message again (the admin's button): it starts a fresh round of attempts."""
    m = await session.get(SmsMessage, message_id)
    if m is None:
        raise NotFound("没有这条短信", f"No message {message_id}")
    if m.status == SENT:
        raise DomainError("这条短信已发出", "This message has already been sent", code="already_sent", status=409)
    m.status, m.attempts, m.next_attempt_at = PENDING, 0, utcnow()
    _mark_queued(session)
    return message_view(m)


# ---- used by the runtime --------------------------------------------------------------------

async def due(session: AsyncSession, now: datetime, limit: int) -> list[SmsMessage]:
    return list(await session.scalars(select(SmsMessage).where(SmsMessage.status == PENDING,
                                                               SmsMessage.next_attempt_at <= now)
                                      .order_by(SmsMessage.next_attempt_at, SmsMessage.id).limit(limit)))


async def next_due_at(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(func.min(SmsMessage.next_attempt_at)).where(SmsMessage.status == PENDING))


_CODE_RUN = re.compile(r"\d{%d}" % CODE_DIGITS)


def outcome(m: SmsMessage, gateway: str, error: str | None, provider_id: str | None, settings: Settings) -> dict:
    """The row's new values after one attempt."""
    now = utcnow()
    attempts = m.attempts + 1
    if error is None:
        out = {"status": SENT, "sent_at": now, "attempts": attempts, "gateway": gateway, "provider_id": provider_id,
               "last_error": None}
        if m.sensitive and gateway != "outbox":
            # The provider has it; a copy of a live login code in our database is only a risk.
            out["text"] = _CODE_RUN.sub("*" * CODE_DIGITS, m.text)
        return out
    if attempts >= settings.sms_max_attempts:
        return {"status": FAILED, "attempts": attempts, "gateway": gateway, "last_error": error}
    delay = settings.sms_retry_base_s * 2 ** (attempts - 1)
    return {"attempts": attempts, "gateway": gateway, "last_error": error,
            "next_attempt_at": now + timedelta(seconds=delay)}


async def record(session: AsyncSession, results: list[tuple[int, dict]]) -> None:
    """Store the outcomes of one round: one executemany per shape of outcome (sent, retry, failed),
    not a statement per message. A bulletin's hundreds of messages would otherwise hold SQLite's
    one connection for hundreds of round trips while one-tap alarms wait behind them."""
    shapes: dict[tuple, list[dict]] = {}
    for message_id, values in results:
        shapes.setdefault(tuple(sorted(values)), []).append({"id": message_id, **values})
    for rows in shapes.values():
        await session.execute(update(SmsMessage), rows)
