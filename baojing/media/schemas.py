from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class MediaOut(BaseModel):
    id: int
    incident_id: int
    call_id: int | None
    kind: Literal["recording", "snapshot", "photo", "clip"]
    track: Literal["audio", "video"] | None = Field(None, description="Recordings: one file per track")
    mime: str
    size: int
    sha256: str = Field(description="SHA-256 of the bytes as stored, hex")
    duration_s: float | None
    original_name: str | None
    created_at: datetime
    started_at: datetime | None = Field(None, description="Recordings: when the first frame arrived")
    created_by: str
    url: str


class IncidentMedia(BaseModel):
    incident_id: int
    media: list[MediaOut]
