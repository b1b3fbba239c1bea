from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from ..alarms.schemas import AlarmIn, LocationIn, Strict
from ..fields import Id
from ..media.schemas import MediaOut


class CallIn(AlarmIn):
    """An alarm (as for POST /api/alarms) that opens a video or text call with the 110 desk."""

    kind: Literal["video", "text"]
    silent: bool = Field(False, description="The caller must not be heard or rung: video with no audio from the "
                                            "desk; for both kinds, officers are told not to call")
    channel: Literal["video", "text"] | None = Field(None, description="Ignored: the alarm's channel is the call's kind")

    @model_validator(mode="after")
    def _channel(self):
        self.channel = self.kind
        return self


class SilentIn(Strict):
    silent: bool


class ResponderCallOut(BaseModel):
    """A call on the incident an officer is sent to."""

    id: int
    kind: Literal["video", "text"]
    silent: bool
    status: Literal["waiting", "active", "held", "ended"]
    alarm_id: int
    joined: bool = Field(description="This officer is in its chat")


class IceServer(BaseModel):
    urls: list[str] | str
    username: str | None = None
    credential: str | None = None


class QueueOut(BaseModel):
    position: int = Field(description="1 = next to be answered")
    ahead: int


class PartyOut(BaseModel):
    id: int
    role: Literal["caller", "desk", "officer", "supervisor"]
    joined: bool
    left: bool


class CallerCallOut(BaseModel):
    """What the caller sees of their own call."""

    id: int
    kind: Literal["video", "text"]
    silent: bool
    status: Literal["waiting", "active", "held", "ended"]
    alarm_id: int
    me: int = Field(description="The caller's own party id (the `from` of their signals)")
    parties: list[PartyOut]
    queue: QueueOut | None = Field(description="While waiting: place in the desk queue")
    queued_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    recording: bool = Field(description="Open a second peer connection to party \"recorder\" (video)")
    ice_servers: list[IceServer] = Field(default_factory=list, description="Only in HTTP answers, never in events")
    device_token: str | None = None


class MyCalls(BaseModel):
    seq: int
    calls: list[CallerCallOut]


class PersonOut(BaseModel):
    id: int
    display_name: str


class StaffPartyOut(BaseModel):
    id: int
    role: Literal["caller", "desk", "officer", "supervisor"]
    user: PersonOut | None
    device_id: int | None
    invited_at: datetime
    joined_at: datetime | None
    left_at: datetime | None
    left_reason: str | None


class CallOut(BaseModel):
    """What staff see of a call (event `call.upserted`)."""

    id: int
    kind: Literal["video", "text"]
    silent: bool
    status: Literal["waiting", "active", "held", "ended"]
    alarm_id: int
    incident_id: int
    priority: int
    queue_position: int | None = Field(description="While waiting, at the time of this view")
    queued_at: datetime
    created_at: datetime
    updated_at: datetime
    answered_at: datetime | None
    held_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    operator: PersonOut | None
    parties: list[StaffPartyOut]
    recording: bool
    me: int | None = Field(None, description="The asking staff member's party id, if any (HTTP answers only)")
    ice_servers: list[IceServer] = Field(default_factory=list, description="Only in HTTP answers, never in events")


class CallList(BaseModel):
    seq: int
    calls: list[CallOut] = Field(description="Waiting calls in queue order, then answered and held ones")


class TransferIn(Strict):
    to_user_id: Id | None = Field(description="Another desk operator; null puts the call back in the queue")


class PartyIn(Strict):
    user_id: Id = Field(description="An officer whose unit is assigned to the incident, or a dispatcher/admin")


class MessageIn(Strict):
    text: str = Field(min_length=1, max_length=2000)


class MessageOut(BaseModel):
    id: int
    call_id: int
    party_id: int
    role: Literal["caller", "desk", "officer", "supervisor"]
    author: str | None = Field(description="The staff member's name; null for the caller, and in the caller's own view")
    text: str | None
    attachment: MediaOut | None
    at: datetime


class MessageList(BaseModel):
    messages: list[MessageOut]


class AvailabilityIn(LocationIn):
    pass


class AvailabilityOut(BaseModel):
    video: bool
    text: bool
    reason: str | None
    message_zh: str | None
    message_en: str | None
