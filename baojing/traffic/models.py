"""Quick-handling accident cases (快处快赔): the case, its two parties, their photos, the uploads
in flight, and the desk's settings. This package owns these tables."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow

# A case's life. draft: the drivers are filling it in; submitted: in the desk's queue;
# reviewing: an officer has it open; more_photos: the officer asked for retakes; decided: liability
# ruled; settling: the drivers chose to settle themselves and are confirming; settled: both agreed
# (on the desk's record); dispatched: turned into an on-scene incident; converted: not eligible for
# quick handling, raised as an ordinary alarm.
DRAFT, SUBMITTED, REVIEWING, MORE_PHOTOS = "draft", "submitted", "reviewing", "more_photos"
DECIDED, SETTLING, SETTLED, DISPATCHED, CONVERTED = "decided", "settling", "settled", "dispatched", "converted"
QUEUED = (SUBMITTED, REVIEWING)
# Modes chosen at submission: the desk rules, or the drivers settle it themselves (自行协商).
RULING, SELF = "ruling", "self"
A, B = "A", "B"
ROLES = (A, B)


class TrafficCase(Base):
    __tablename__ = "traffic_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Shown on party A's screen (and in the QR) for party B to join on their own phone.
    code: Mapped[str] = mapped_column(String(8), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    mode: Mapped[str | None] = mapped_column(String(8))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When it (last) entered the desk's queue: the waiting time the desk sees ticking.
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # WGS-84; source "device" (the phone's fix) or "picked" (on a map).
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    position_source: Mapped[str | None] = mapped_column(String(8))
    place_text: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(500))
    # The eligibility answers, as given ({question: bool}).
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    # The photo checklist as it was when the case was opened: a later change by an admin does not
    # move the goalposts of a case already on the road.
    checklist: Mapped[list] = mapped_column(JSON)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # More photos asked for: which slots and why.
    retake_slots: Mapped[list | None] = mapped_column(JSON)
    retake_reason: Mapped[str | None] = mapped_column(String(200))
    # {rule, liability: {A, B}, note, officer: {id, name}, at}; the last decision made.
    decision: Mapped[dict | None] = mapped_column(JSON)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Self-settlement: {liability: {A, B}, by} as proposed; each party's answer is on the party.
    settlement: Mapped[dict | None] = mapped_column(JSON)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("alarms.id"))

    __table_args__ = (Index("ix_traffic_cases_status_waiting", "status", "waiting_since"),)


class TrafficParty(Base):
    __tablename__ = "traffic_parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("traffic_cases.id"))
    role: Mapped[str] = mapped_column(String(1))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The phone this party follows the case on (party A's own, or B's after joining by code).
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(40))
    plate: Mapped[str | None] = mapped_column(String(12), index=True)
    vehicle_type: Mapped[str | None] = mapped_column(String(16))
    insurer: Mapped[str | None] = mapped_column(String(40))
    # Answer to the desk's decision: confirmed | disputed.
    response: Mapped[str | None] = mapped_column(String(10))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Answer to a self-settlement proposal: agree | disagree.
    settle_answer: Mapped[str | None] = mapped_column(String(10))
    settle_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("case_id", "role"),)


class TrafficPhoto(Base):
    """One stored photo of a checklist slot, byte for byte as the phone sent it, with its hash.
    A retake supersedes the earlier photo of the slot; the earlier one stays as evidence."""

    __tablename__ = "traffic_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("traffic_cases.id"))
    slot: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    # Relative to media_dir.
    path: Mapped[str] = mapped_column(String(200), unique=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_traffic_photos_case_slot", "case_id", "slot", "id"),)


class TrafficUpload(Base):
    """A photo upload in flight. Its bytes so far are a file under media_dir/tmp; the file's length
    is the offset to resume from (no row update per chunk)."""

    __tablename__ = "traffic_uploads"

    # Random and unguessable: the upload's address.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("traffic_cases.id"), index=True)
    slot: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("traffic_photos.id"))


class TrafficSetting(Base):
    """Settings an admin changes at run time (the photo checklist)."""

    __tablename__ = "traffic_settings"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[dict | list] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
