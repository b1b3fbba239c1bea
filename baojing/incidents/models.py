from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow

NEW, CLAIMED, CLOSED, MERGED = "new", "claimed", "closed", "merged"
OPEN_STATUSES = (NEW, CLAIMED)


class Incident(Base):
    """What the police handle. Every alarm opens one; duplicates are merged into one survivor."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=NEW)
    priority: Mapped[int] = mapped_column(Integer, default=2)
    type: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    disposition: Mapped[str | None] = mapped_column(String(32))
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    # The station whose jurisdiction holds the first position; its consoles see it first.
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    # The case (立案) this incident became: its personal data is kept with the case, not anonymised.
    case_ref: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (Index("ix_incidents_status_received", "status", "received_at"),)


class IncidentNote(Base):
    __tablename__ = "incident_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
