from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow

# What a file is evidence of.
RECORDING, SNAPSHOT, PHOTO, CLIP = "recording", "snapshot", "photo", "clip"


class MediaFile(Base):
    """One evidence file on disk under settings.media_dir, with the hash taken as it was stored: a
    later copy can be shown to be the same bytes."""

    __tablename__ = "media_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Recordings: "audio" or "video" (one file per track).
    track: Mapped[str | None] = mapped_column(String(8))
    mime: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    duration_s: Mapped[float | None] = mapped_column(Float)
    # Relative to media_dir.
    path: Mapped[str] = mapped_column(String(200), unique=True)
    original_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # For recordings: when the first frame of the track arrived (to line tracks up).
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Principal label of whoever supplied it; "recorder" for the server's own recordings.
    created_by: Mapped[str] = mapped_column(String(80))

    __table_args__ = (Index("ix_media_files_incident_created", "incident_id", "id"),)
