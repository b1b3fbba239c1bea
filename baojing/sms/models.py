"""Text messages (every one, whatever the gateway) and one-time codes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow

# pending: waiting for (another) attempt; sent: the gateway took it (for the outbox gateway: it is
# in the outbox, to be read on the admin page); failed: every attempt failed, shown to the admin,
# who may send it again. Nothing is ever deleted.
PENDING, SENT, FAILED = "pending", "sent", "failed"


class SmsMessage(Base):
    __tablename__ = "sms_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    # Why it was sent (login_code, keyunit_alarm, bulletin, ...), for the admin list and the tests.
    purpose: Mapped[str] = mapped_column(String(32))
    # A message holding a login code; once a real provider has taken it, the stored copy is masked.
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(8), default=PENDING)
    gateway: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    provider_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_sms_messages_status_next", "status", "next_attempt_at"),
        Index("ix_sms_messages_phone_id", "phone", "id"),
    )


class SmsCode(Base):
    """A one-time code: only its salted hash is kept here (the text went out in an SmsMessage)."""

    __tablename__ = "sms_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    salt: Mapped[str] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("sms_messages.id"))

    __table_args__ = (
        Index("ix_sms_codes_phone_purpose", "phone", "purpose", "id"),
        Index("ix_sms_codes_address_created", "address", "created_at"),
    )
