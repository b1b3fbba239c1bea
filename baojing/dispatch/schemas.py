from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from ..alarms.schemas import PointIn, Strict
from ..fields import Id, Number, ZonedTime
from ..phone import PHONE_PATTERN


class Position(BaseModel):
    lat: float
    lon: float
    accuracy_m: float | None
    at: datetime | None


class Member(BaseModel):
    id: int
    display_name: str


class UnitOut(BaseModel):
    id: int
    call_sign: str
    kind: str
    station_id: int
    on_duty: bool
    busy: bool
    status: str = Field(description="off_duty, available, busy, dispatched, en_route, on_scene")
    incident_id: int | None
    assignment_id: int | None
    position: Position | None
    stale: bool = Field(description="On duty but silent for 2 minutes")
    members: list[Member]


class UnitList(BaseModel):
    seq: int
    units: list[UnitOut]


class Recommendation(BaseModel):
    unit_id: int
    call_sign: str
    kind: str
    station_id: int
    distance_m: int
    eta_s: int
    in_jurisdiction: bool
    position: Position


class Recommendations(BaseModel):
    incident_id: int
    station_id: int | None = Field(description="The station whose jurisdiction holds the incident")
    position: dict | None
    units: list[Recommendation]


class DispatchIn(Strict):
    unit_ids: list[Id] = Field(min_length=1, max_length=20)


class DutyIn(Strict):
    on_duty: bool


class BusyIn(Strict):
    busy: bool


class FixIn(PointIn):
    accuracy_m: Number | None = Field(None, ge=0, le=100_000)
    speed_mps: Number | None = Field(None, ge=0, le=150)
    heading: Number | None = Field(None, ge=0, le=360)
    at: ZonedTime | None = Field(None, description="When the phone took the fix (ISO 8601 with zone)")


class FixesIn(Strict):
    points: list[FixIn] = Field(min_length=1, max_length=200, description="Oldest first")


class PositionsMessage(Strict):
    """AVL over the officer's WebSocket: {"type": "positions", "id": <batch id>, "points": [...]}."""
    type: Literal["positions"]
    id: str | int | None = None
    points: list[FixIn] = Field(min_length=1, max_length=200)


class FixesAck(BaseModel):
    accepted: int
    flagged: list[str | None]
    next_report_s: int | None = Field(None, description="Under load: wait at least this long before the next "
                                      "report (null: report as usual). Alarms are never slowed.")


class DeclineIn(Strict):
    reason: str = Field(min_length=1, max_length=200)


class NoteIn(Strict):
    note: str | None = Field(None, max_length=2000)


class StationIn(Strict):
    code: str = Field(min_length=1, max_length=32)
    name_zh: str = Field(min_length=1, max_length=80)
    name_en: str = Field(min_length=1, max_length=80)
    lat: Number = Field(ge=-90, le=90)
    lon: Number = Field(ge=-180, le=180)
    address: str | None = Field(None, max_length=200)
    jurisdiction: list[tuple[Number, Number]] | None = Field(None, min_length=3, max_length=2000,
                                                           description="[[lat, lon], ...] WGS-84")


class UnitIn(Strict):
    call_sign: str = Field(min_length=1, max_length=32)
    kind: Literal["car", "motorbike", "foot"]
    station_id: Id
    member_ids: list[Id] = Field(default_factory=list, max_length=6)


class ImportOut(BaseModel):
    """A CSV import that went in whole (one bad row and nothing is saved: 422 `csv_invalid`, with
    `errors: [{line, field, message_zh, message_en}]`)."""

    imported: int
    keys: list[str] = Field(description="The codes or call signs saved (added or changed), in file order")


class CtiCallIn(Strict):
    caller_number: str = Field(max_length=32, json_schema_extra={"pattern": PHONE_PATTERN},
                               description="The number that is calling 110")
    call_id: str = Field(min_length=1, max_length=100, description="The telephony system's id for the call")
    agent: str | None = Field(None, max_length=64, description="Username of the call-taker who answered, if known")


class CtiCallOut(BaseModel):
    matched: bool
    alarm_id: int | None
    incident_id: int | None

