from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow

VIDEO, TEXT = "video", "text"
# A call waits in the desk queue, is answered (active), may be put on hold, and ends.
WAITING, ACTIVE, HELD, ENDED = "waiting", "active", "held", "ended"
OPEN = (WAITING, ACTIVE, HELD)
# Who a party is in the call.
CALLER, DESK, OFFICER, SUPERVISOR = "caller", "desk", "officer", "supervisor"


class Call(Base):
    """A video or text session on one alarm (channel "video" or "text"). The alarm carries the
    caller, the position and the incident; this row carries who talks to whom and when."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id"), unique=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    kind: Mapped[str] = mapped_column(String(8))
    # A muted video alarm: the caller's camera is on, the desk's audio is never played to them.
    silent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(8), default=WAITING)
    # The desk operator who has the call (null while it waits).
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Arrival order in the queue; kept when a call goes back to the queue, so it keeps its place.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_calls_status_queued", "status", "queued_at"),
        Index("ix_calls_device_status", "device_id", "status"),
    )


class CallParty(Base):
    """Someone in a call. Invited parties (officers, supervisors) have no joined_at until they join;
    a party that leaves keeps its row (left_at, left_reason) as the record of who saw what."""

    __tablename__ = "call_parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    left_reason: Mapped[str | None] = mapped_column(String(32))


class CallMessage(Base):
    """One line of a text alarm's chat (also usable during a video call), or one attachment."""

    __tablename__ = "call_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    party_id: Mapped[int] = mapped_column(ForeignKey("call_parties.id"))
    text: Mapped[str | None] = mapped_column(Text)
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media_files.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_call_messages_call_id", "call_id", "id"),)
