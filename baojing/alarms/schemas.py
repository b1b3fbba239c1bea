from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import bilingual
from ..fields import Number, Whole, ZonedTime
from ..phone import PHONE_PATTERN, PhoneError, normalize_phone

Crs = Literal["wgs84", "gcj02", "bd09"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)


class PointIn(Strict):
    lat: Number = Field(description="Latitude in the given crs")
    lon: Number = Field(description="Longitude in the given crs")
    crs: Crs = "wgs84"

    @field_validator("lat")
    @classmethod
    def _lat(cls, v: float) -> float:
        if not -90 <= v <= 90:
            raise bilingual("纬度必须在 -90 到 90 之间", "Latitude must be between -90 and 90")
        return v

    @field_validator("lon")
    @classmethod
    def _lon(cls, v: float) -> float:
        if not -180 <= v <= 180:
            raise bilingual("经度必须在 -180 到 180 之间", "Longitude must be between -180 and 180")
        return v


class LocationIn(PointIn):
    accuracy_m: Number | None = Field(None, description="Radius of the fix in metres")
    source: Literal["device", "picked"] = Field(
        "device", description="device: the phone's own fix; picked: the caller chose it on a map")
    recorded_at: ZonedTime | None = Field(
        None, description="When the phone took the fix (ISO 8601 with zone); an alarm that waited offline keeps its time")

    @field_validator("accuracy_m")
    @classmethod
    def _acc(cls, v: float | None) -> float | None:
        if v is not None and not 0 <= v <= 100_000:
            raise bilingual("定位精度必须在 0 到 100000 米之间", "Accuracy must be between 0 and 100000 metres")
        return v


class PositionIn(LocationIn):
    pass


class AlarmIn(Strict):
    idempotency_key: str = Field(min_length=8, max_length=100,
                                 description="Made on the phone; a repeat returns the first alarm")
    phone: str = Field(max_length=32, json_schema_extra={"pattern": PHONE_PATTERN},
                       description="Mobile (13800138000), landline with area code (0421-2345678) or +country code")
    name: str | None = Field(None, max_length=40)
    channel: Literal["phone"] = "phone"
    location: LocationIn | None = None
    place_text: str | None = Field(None, max_length=200, description="A place the caller typed")

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        try:
            return normalize_phone(v)
        except PhoneError as e:
            raise bilingual(e.message_zh, e.message_en) from None

    @field_validator("name", "place_text")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        return v or None


class PlaceIn(Strict):
    text: str = Field(min_length=1, max_length=200)


class RatingIn(Strict):
    score: Whole = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=500)


class TermsIn(Strict):
    version: str = Field(min_length=1, max_length=32)


class LocationOut(BaseModel):
    lat: float
    lon: float
    accuracy_m: float | None
    source: str
    at: datetime | None
    locked: bool = False


class RatingOut(BaseModel):
    score: int
    comment: str | None
    at: datetime


class ResponderOut(BaseModel):
    id: int = Field(description="Opaque id of this dispatch, to match live distance updates")
    status: str
    kind: str
    distance_m: int | None
    eta_s: int | None


class AlarmOut(BaseModel):
    id: int
    status: Literal["received", "handling", "dispatched", "en_route", "on_scene", "closed"] = Field(
        description="How far the police got, exactly: received (not yet taken), handling (a call-taker has it, no "
                    "officer sent), dispatched (officers sent, not yet moving), en_route, on_scene, closed")
    channel: str
    phone: str
    name: str | None
    received_at: datetime
    updated_at: datetime
    handling_at: datetime | None = Field(None, description="When an operator took it")
    closed_at: datetime | None
    location: LocationOut | None
    place_text: str | None
    rating: RatingOut | None
    responders: list[ResponderOut] = Field(default_factory=list, description="Officers on their way")
    device_token: str | None = None


class AlarmList(BaseModel):
    seq: int
    alarms: list[AlarmOut]


class PositionAck(BaseModel):
    accepted: bool
    flagged: bool
    reason: str | None = None


class TermsOut(BaseModel):
    version: str
    title_zh: str
    title_en: str
    text_zh: str
    text_en: str
    retention_days: int = Field(180, description="days after closing before a non-case alarm's personal data is removed")


class TermsAck(BaseModel):
    device_token: str
    terms_version: str
