from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from ..alarms.schemas import LocationOut, PointIn, Strict
from ..errors import bilingual
from ..fields import Id, Number, Whole
from .catalog import DISPOSITION_CODES, TYPE_CODES


class ClassifyIn(Strict):
    type: str
    priority: Whole = Field(ge=1, le=4)

    @field_validator("type")
    @classmethod
    def _type(cls, v: str) -> str:
        if v not in TYPE_CODES:
            raise bilingual("未知的警情类型", "Unknown incident type")
        return v


class NoteIn(Strict):
    text: str = Field(min_length=1, max_length=2000)


class CaseIn(Strict):
    case_ref: str | None = Field(min_length=1, max_length=40, description="e.g. 朝公(刑)立字[2026]1号; null removes it")

    @field_validator("case_ref")
    @classmethod
    def _trim(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise bilingual("案件编号不能为空", "The case number cannot be blank")
        return v.strip() if v is not None else None


class MergeIn(Strict):
    incident_ids: list[Id] = Field(min_length=1, max_length=50)


class CloseIn(Strict):
    disposition: str
    note: str | None = Field(None, max_length=2000)

    @field_validator("disposition")
    @classmethod
    def _disp(cls, v: str) -> str:
        if v not in DISPOSITION_CODES:
            raise bilingual("未知的处置结果", "Unknown disposition")
        return v


class OperatorPositionIn(PointIn):
    accuracy_m: Number | None = Field(None, ge=0, le=100_000)


class Person(BaseModel):
    id: int
    display_name: str


class AbuseMarkRef(BaseModel):
    id: int
    reason: str | None


class AbuseOut(BaseModel):
    """Never a reason to refuse or delay: what the call-taker should know (docs/security.md)."""
    device_alarms: int = Field(description="alarms from the same phone in the window before this one")
    address_alarms: int = Field(description="alarms from the same network address in the window before this one")
    window_minutes: int
    possible: bool = Field(description="over a threshold, or from a number or device marked abusive")
    marked: AbuseMarkRef | None = Field(description="the mark that lowered this alarm's priority, with its reason")


class AlarmBrief(BaseModel):
    id: int
    phone: str
    phone_verified: bool
    name: str | None
    channel: str
    status: str
    received_at: datetime
    place_text: str | None
    location: LocationOut | None
    rating: dict | None = None
    abuse: AbuseOut | None = None


class AssignmentOut(BaseModel):
    id: int
    incident_id: int
    unit_id: int
    call_sign: str
    unit_kind: str
    status: str
    dispatched_at: datetime
    accepted_at: datetime | None
    en_route_at: datetime | None
    on_scene_at: datetime | None
    cleared_at: datetime | None
    declined_at: datetime | None
    decline_reason: str | None
    cancelled_at: datetime | None
    disposition: str | None
    backup_requested_at: datetime | None
    overdue_at: datetime | None


class IncidentOut(BaseModel):
    id: int
    status: Literal["new", "claimed", "closed", "merged"]
    priority: int
    type: str | None
    received_at: datetime
    updated_at: datetime
    claimed_at: datetime | None
    claimed_by: Person | None
    closed_at: datetime | None
    disposition: str | None
    merged_into: int | None
    notes_count: int
    station_id: int | None = None
    case_ref: str | None = Field(None, description="The case (立案) this incident became: its personal data is kept")
    alarms: list[AlarmBrief]
    assignments: list["AssignmentOut"] = []


class NoteOut(BaseModel):
    id: int
    text: str
    author: Person
    at: datetime


class PointOut(BaseModel):
    lat: float
    lon: float
    accuracy_m: float | None
    source: str
    at: datetime
    flag: str | None = None


class TimelineEntry(BaseModel):
    seq: int
    name: str
    at: datetime
    incident_id: int | None = Field(None, description="Differs from the incident's own id for steps of a merged one")
    actor: str | None = Field(None, description="role:user id, or device:id for the caller")
    actor_name: str | None = None
    detail: dict | None = Field(None, description="routed / rerouted: {from_station, to_station (each {id, name_zh, "
                                                  "name_en} or null), source (gps, network, picked, operator)}; "
                                                  "rated: {incident_id, alarm_id, score, comment, at}")


class IncidentDetail(IncidentOut):
    notes: list[NoteOut]
    trails: dict[str, list[PointOut]]
    timeline: list[TimelineEntry]


class OpenCounts(BaseModel):
    new: int
    claimed: int


class Snapshot(BaseModel):
    seq: int
    incidents: list[IncidentOut]
    open: OpenCounts = Field(description="How many open incidents wait (new) and are claimed: all of them, also when "
                                         "`first` sent only the head of the queue")
