"""Key units (重点单位): the registry, their people, their one-tap alarms, and police bulletins
(协查/预警通报) to them with a receipt per recipient."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow

KINDS = {
    "school": ("学校", "School"),
    "kindergarten": ("幼儿园", "Kindergarten"),
    "company": ("企业", "Company"),
    "bank": ("银行网点", "Bank branch"),
    "hospital": ("医院", "Hospital"),
    "market": ("市场", "Market"),
}
FLOOR_PLAN, PHOTO = "floor_plan", "photo"
ONE_TAP, FOUND = "one_tap", "found"
ACTIVE, CANCELLED = "active", "cancelled"
OPEN, CLOSED = "open", "closed"
URGENCIES = {
    "immediate": ("特急", "Immediate"),
    "urgent": ("紧急", "Urgent"),
    "normal": ("一般", "Normal"),
}


class KeyUnit(Base):
    __tablename__ = "key_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    address: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    # [[lat, lon], ...] WGS-84, not closed (the first point is not repeated).
    boundary: Mapped[list | None] = mapped_column(JSON)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"), index=True)
    # True when an admin chose the station; otherwise it follows the jurisdiction of the position.
    station_overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    # [{name, phone, title}]: told by SMS at once of every one-tap alarm.
    contacts: Mapped[list] = mapped_column(JSON, default=list)
    opening_hours: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RosterEntry(Base):
    """A phone number on a unit's roster, with the person's role in the unit."""

    __tablename__ = "key_unit_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("key_units.id"))
    phone: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("unit_id", "phone", name="uq_key_unit_members_unit_phone"),)


class MemberAccount(Base):
    """The login account (users row, role keyunit_member) behind a roster phone, made at first login."""

    __tablename__ = "key_unit_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KeyUnitFile(Base):
    """A floor plan or photo of a unit, a bulletin's photo, or a photo a member added to an alarm.
    Stored by content (SHA-256) under media_dir/keyunits/."""

    __tablename__ = "key_unit_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("key_units.id"), index=True)
    bulletin_id: Mapped[int | None] = mapped_column(ForeignKey("bulletins.id"), index=True)
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("key_unit_alarms.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    mime: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))


class KeyUnitAlarm(Base):
    """A one-tap alarm from a unit, or a "found" reply to a bulletin: an ordinary alarm (alarms
    table) at top priority, with the siren entry every console keeps until a call-taker
    acknowledges it. Cancelled ones stay."""

    __tablename__ = "key_unit_alarms"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    unit_id: Mapped[int] = mapped_column(ForeignKey("key_units.id"), index=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id"), unique=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    bulletin_id: Mapped[int | None] = mapped_column(ForeignKey("bulletins.id"), index=True)
    member_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    member_phone: Mapped[str] = mapped_column(String(32))
    member_name: Mapped[str] = mapped_column(String(40))
    # "phone": the phone's own fix; "unit": the unit's registered position (the phone had none).
    position_from: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_key_unit_alarms_acked", "acked_at", "id"),)


class KeyUnitAlarmNote(Base):
    """Text a member adds after the alarm."""

    __tablename__ = "key_unit_alarm_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("key_unit_alarms.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Bulletin(Base):
    __tablename__ = "bulletins"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    # Whom to look for or what to stop (e.g. a transfer to a given account).
    subject: Mapped[str] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    target_kinds: Mapped[list] = mapped_column(JSON, default=list)
    target_station_ids: Mapped[list] = mapped_column(JSON, default=list)
    target_district_ids: Mapped[list] = mapped_column(JSON, default=list)
    # [[lat, lon], ...] drawn on the map; units inside it are targeted (with target_kinds, if any).
    target_area: Mapped[list | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(8), default=OPEN)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class BulletinRecipient(Base):
    """One roster phone of one targeted unit: when it was told, when its page got the bulletin,
    when the member read and acknowledged it, and whether they replied "found"."""

    __tablename__ = "bulletin_recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("key_units.id"))
    phone: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notify_count: Mapped[int] = mapped_column(Integer, default=1)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    found_alarm_id: Mapped[int | None] = mapped_column(ForeignKey("key_unit_alarms.id"))

    __table_args__ = (
        UniqueConstraint("bulletin_id", "unit_id", "phone", name="uq_bulletin_recipients_bulletin_unit_phone"),
        Index("ix_bulletin_recipients_phone", "phone", "bulletin_id"),
    )
