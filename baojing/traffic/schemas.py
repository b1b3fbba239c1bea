from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from ..alarms.schemas import LocationIn, Strict
from ..errors import bilingual
from ..fields import Id, Whole
from ..phone import PhoneError, normalize_phone
from .plates import PlateError, normalize_plate

Role = Literal["A", "B"]
Level = Literal["full", "main", "equal", "secondary", "none"]
VEHICLE_TYPES = ["small_car", "small_bus", "medium_bus", "large_bus", "light_truck", "heavy_truck", "other"]
VehicleType = Literal["small_car", "small_bus", "medium_bus", "large_bus", "light_truck", "heavy_truck", "other"]

# The eligibility questions (公安部令第146号, 道路交通事故处理程序规定: the cases that may be
# handled quickly and those where the scene must be kept and the police called). The answer that
# allows quick handling is given; any other answer rules it out.
QUESTIONS = {
    "injured": False,        # anybody hurt?
    "drivable": True,        # both vehicles still drivable?
    "two_vehicles": True,    # just two motor vehicles, no pedestrian, cyclist or public property?
    "licensed_insured": True,  # both licences valid, both vehicles plated and insured?
    "drink_drugs": False,    # any sign of drink or drugs?
    "dispute": False,        # any dispute about what happened?
}


def _phone(v: str | None) -> str | None:
    if v is None or v == "":
        return None
    try:
        return normalize_phone(v)
    except PhoneError as e:
        raise bilingual(e.message_zh, e.message_en) from None


class Answers(Strict):
    injured: bool
    drivable: bool
    two_vehicles: bool
    licensed_insured: bool
    drink_drugs: bool
    dispute: bool

    def ruled_out(self) -> list[str]:
        return [q for q, ok in QUESTIONS.items() if getattr(self, q) != ok]


class PartyIn(Strict):
    phone: str | None = Field(None, max_length=32)
    name: str | None = Field(None, max_length=40)
    plate: str | None = Field(None, max_length=16)
    vehicle_type: VehicleType | None = None
    insurer: str | None = Field(None, max_length=40)

    _p = field_validator("phone")(classmethod(lambda cls, v: _phone(v)))

    @field_validator("plate")
    @classmethod
    def _plate(cls, v: str | None) -> str | None:
        if not v:
            return None
        try:
            return normalize_plate(v)[0]
        except PlateError as e:
            raise bilingual(e.message_zh, e.message_en) from None

    @field_validator("name", "insurer")
    @classmethod
    def _blank(cls, v: str | None) -> str | None:
        return v or None


class CaseIn(Strict):
    answers: Answers
    location: LocationIn | None = None
    place_text: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=500)
    party_a: PartyIn | None = None


class CaseEdit(Strict):
    location: LocationIn | None = None
    place_text: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=500)


class ToAlarmIn(Strict):
    """Not eligible: raise an ordinary alarm, carrying what was entered."""
    idempotency_key: str = Field(min_length=8, max_length=100)
    answers: Answers
    phone: str = Field(max_length=32)
    location: LocationIn | None = None
    place_text: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=500)
    plates: list[str] = Field(default_factory=list, max_length=4)
    case_id: Id | None = None

    _p = field_validator("phone")(classmethod(lambda cls, v: _phone(v)))


class CodeIn(Strict):
    code: str = Field(min_length=4, max_length=8)


class JoinIn(Strict):
    code: str = Field(min_length=4, max_length=8)


class UploadIn(Strict):
    slot: Whole = Field(ge=0, lt=12)
    size: Whole = Field(gt=0, description="Bytes of the whole photo")


class SubmitIn(Strict):
    mode: Literal["ruling", "self"] = "ruling"
    # Self-settlement: who bears what, as the submitting party proposes it.
    liability: dict[Role, Level] | None = None


class SettleAnswerIn(Strict):
    agree: bool
    code: str | None = Field(None, max_length=8, description="SMS code, when this phone is not the party's own")


class ResponseIn(Strict):
    answer: Literal["confirmed", "disputed"]
    code: str | None = Field(None, max_length=8)


class DecisionIn(Strict):
    liability: dict[Role, Level]
    rule: str = Field(min_length=1, max_length=40)
    note: str | None = Field(None, max_length=500)


class RetakeIn(Strict):
    slots: list[Whole] = Field(min_length=1, max_length=12)
    reason: str = Field(min_length=2, max_length=200)


class DispatchIn(Strict):
    reason: str | None = Field(None, max_length=200)


class ChecklistItem(BaseModel):
    key: str
    title_zh: str
    title_en: str
    hint_zh: str
    hint_en: str
    example: str = Field(description="SVG drawing")


class ChecklistOut(BaseModel):
    items: list[ChecklistItem]
    updated_at: datetime | None = None
