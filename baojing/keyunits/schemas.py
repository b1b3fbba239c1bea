"""API shapes of the key-unit routes."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from ..alarms.schemas import LocationIn, Strict
from ..errors import bilingual
from ..fields import Id, ZonedTime
from ..phone import PhoneError, normalize_phone
from .models import KINDS, URGENCIES

Kind = Literal["school", "kindergarten", "company", "bank", "hospital", "market"]
Urgency = Literal["immediate", "urgent", "normal"]
assert set(Kind.__args__) == set(KINDS) and set(Urgency.__args__) == set(URGENCIES)


def _phone(v: str) -> str:
    try:
        return normalize_phone(v)
    except PhoneError as e:
        raise bilingual(e.message_zh, e.message_en) from None


def _ring(v: list | None) -> list | None:
    if v is None:
        return None
    for lat, lon in v:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise bilingual("边界点的经纬度超出范围", "A boundary point is out of range")
    if len(v) > 3 and tuple(v[0]) == tuple(v[-1]):
        v = v[:-1]  # drawn closed: keep it open, as every ring here is stored
    if len(v) < 3:
        raise bilingual("区域至少需要 3 个点", "An area needs at least 3 points")
    return [list(p) for p in v]


class ContactIn(Strict):
    name: str = Field(min_length=1, max_length=40)
    phone: str = Field(max_length=40)
    title: str | None = Field(None, max_length=40)

    _p = field_validator("phone")(classmethod(lambda cls, v: _phone(v)))


class KeyUnitIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    kind: Kind
    address: str = Field(min_length=1, max_length=200)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    boundary: list[tuple[float, float]] | None = Field(None, max_length=500, description="[[lat, lon], ...] WGS-84")
    station_id: Id | None = Field(None, description="Leave empty to take the station whose jurisdiction holds the position")
    contacts: list[ContactIn] = Field(default_factory=list, max_length=10)
    opening_hours: str | None = Field(None, max_length=200)

    _b = field_validator("boundary")(classmethod(lambda cls, v: _ring(v)))


class RosterEntryIn(Strict):
    phone: str = Field(max_length=40)
    name: str = Field(min_length=1, max_length=40)
    role: str = Field(min_length=1, max_length=40, description="The person's role in the unit, e.g. 保卫处长")

    _p = field_validator("phone")(classmethod(lambda cls, v: _phone(v)))


class RosterIn(Strict):
    members: list[RosterEntryIn] = Field(max_length=500)


class FileOut(BaseModel):
    id: int
    kind: str
    mime: str
    size: int
    name: str | None
    url: str


class RosterEntryOut(BaseModel):
    id: int
    phone: str
    name: str
    role: str


class ContactOut(BaseModel):
    name: str
    phone: str
    title: str | None = None


class KeyUnitOut(BaseModel):
    id: int
    name: str
    kind: str
    kind_zh: str
    kind_en: str
    address: str
    lat: float
    lon: float
    boundary: list[list[float]] | None
    station_id: int | None
    station_name_zh: str | None
    station_name_en: str | None
    station_overridden: bool
    contacts: list[ContactOut]
    opening_hours: str | None
    files: list[FileOut] = []
    roster: list[RosterEntryOut] | None = None
    updated_at: datetime


class KeyUnitList(BaseModel):
    units: list[KeyUnitOut]


class ImportReportRow(BaseModel):
    line: int
    ok: bool
    action: str | None = Field(None, description="created | updated | added (roster)")
    name: str | None = None


class ImportReport(BaseModel):
    imported: int
    rows: list[ImportReportRow]


# ---- members ------------------------------------------------------------------------------------

class MemberCodeIn(Strict):
    phone: str = Field(max_length=40)
    _p = field_validator("phone")(classmethod(lambda cls, v: _phone(v)))


class MemberCodeOut(BaseModel):
    sent_to: str
    expires_in_s: int
    resend_after_s: int


class MemberLoginIn(Strict):
    phone: str = Field(max_length=40)
    code: str = Field(min_length=1, max_length=12)
    _p = field_validator("phone")(classmethod(lambda cls, v: _phone(v)))


class OneTapIn(Strict):
    idempotency_key: str = Field(min_length=8, max_length=100)
    unit_id: Id
    location: LocationIn | None = None


class FoundIn(Strict):
    idempotency_key: str = Field(min_length=8, max_length=100)
    location: LocationIn | None = None
    text: str | None = Field(None, max_length=500)


class AlarmNoteIn(Strict):
    text: str = Field(min_length=1, max_length=500)


class CancelIn(Strict):
    reason: str = Field(min_length=1, max_length=200)


# ---- bulletins ---------------------------------------------------------------------------------

class BulletinIn(Strict):
    title: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=4000)
    subject: str = Field(min_length=1, max_length=2000, description="Whom to look for, or what to stop")
    urgency: Urgency
    expires_at: ZonedTime
    target_kinds: list[Kind] = Field(default_factory=list, max_length=6,
                                     description="Unit types; empty: every type (an area or jurisdiction is then required)")
    target_station_ids: list[Id] = Field(default_factory=list, max_length=100)
    target_district_ids: list[Id] = Field(default_factory=list, max_length=50)
    target_area: list[tuple[float, float]] | None = Field(None, max_length=500)

    _a = field_validator("target_area")(classmethod(lambda cls, v: _ring(v)))
