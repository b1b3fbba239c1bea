from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow

CAR, MOTORBIKE, FOOT = "car", "motorbike", "foot"
UNIT_KINDS = (CAR, MOTORBIKE, FOOT)

# An assignment (unit x incident) moves forward through these; each has its own timestamp.
DISPATCHED, ACCEPTED, EN_ROUTE, ON_SCENE = "dispatched", "accepted", "en_route", "on_scene"
CLEARED, DECLINED, CANCELLED = "cleared", "declined", "cancelled"
ACTIVE = (DISPATCHED, ACCEPTED, EN_ROUTE, ON_SCENE)


class District(Base):
    """An administrative district; the outline may be approximate and says so."""

    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    # [[lat, lon], ...] in WGS-84
    outline: Mapped[list] = mapped_column(JSON)
    approximate: Mapped[bool] = mapped_column(Boolean, default=True)


class Station(Base):
    """A police station (派出所) and the area it answers for."""

    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(200))
    # [[lat, lon], ...] WGS-84 ring
    jurisdiction: Mapped[list | None] = mapped_column(JSON)


class Unit(Base):
    """A patrol unit: a car, a motorbike or officers on foot, with a call sign."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sign: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set by the officer for work outside any incident (a break, paperwork): not recommended.
    busy: Mapped[bool] = mapped_column(Boolean, default=False)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    position_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class UnitMember(Base):
    """Which officer rides in which unit."""

    __tablename__ = "unit_members"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)


class UnitPosition(Base):
    """AVL history, written in batches."""

    __tablename__ = "unit_positions"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    speed_mps: Mapped[float | None] = mapped_column(Float)
    heading: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # stale (older than the last one), or implausible_jump: kept, not drawn as movement.
    flag: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (Index("ix_unit_positions_unit_id", "unit_id", "id"),)


class Assignment(Base):
    """One unit sent to one incident. The status lives here, not on the unit."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=DISPATCHED)
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dispatched_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    en_route_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_scene_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str | None] = mapped_column(String(200))
    disposition: Mapped[str | None] = mapped_column(String(32))
    backup_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The dispatcher was told this offer went unanswered (once).
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
