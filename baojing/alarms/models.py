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
