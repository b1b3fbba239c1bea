from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow

# Where a position came from; shown with a distinct marker on the console.
GPS, NETWORK, PICKED, OPERATOR = "gps", "network", "picked", "operator"
# A fix reported by the phone itself is one of these; people's choices outrank them.
AUTOMATIC = (GPS, NETWORK)


class Alarm(Base):
    """One caller's alarm, as received. The caller's number is never verified before an alarm."""

    __tablename__ = "alarms"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str] = mapped_column(String(32), index=True)
    phone_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str | None] = mapped_column(String(40))
    place_text: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The current position (WGS-84); the whole trail is in alarm_positions.
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    position_source: Mapped[str | None] = mapped_column(String(16))
    position_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating_score: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(String(500))
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Abuse flags (never a reason to refuse or delay): where it came from, how many alarms that
    # device and that address sent in the window before it, and the mark that lowered its priority.
    source_address: Mapped[str | None] = mapped_column(String(64))
    recent_from_device: Mapped[int] = mapped_column(Integer, default=0)
    recent_from_address: Mapped[int] = mapped_column(Integer, default=0)
    abuse_mark_id: Mapped[int | None] = mapped_column(Integer)
    abuse_reason: Mapped[str | None] = mapped_column(String(200))
    # Personal data removed after the retention period (alarms/retention.py).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_alarms_device_received", "device_id", "received_at"),
        Index("ix_alarms_address_received", "source_address", "received_at"),
    )


class AbuseMark(Base):
    """A number or device a call-taker marked as abusive (e.g. repeated malicious calls, 菏泽's
    blacklist). Later alarms from it are lowered one priority step with this reason shown; they
    are never hidden, refused or delayed."""

    __tablename__ = "abuse_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # "phone" or "device"
    value: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(200))
    marked_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lifted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_abuse_marks_kind_value", "kind", "value"),)


class AlarmPosition(Base):
    __tablename__ = "alarm_positions"

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id"))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))
    # What the client sent, before conversion to WGS-84.
    crs: Mapped[str] = mapped_column(String(8))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Out of order or an implausible jump: kept as evidence, not drawn as movement.
    flag: Mapped[str | None] = mapped_column(String(32))
    set_by: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_alarm_positions_alarm_id", "alarm_id", "id"),)
