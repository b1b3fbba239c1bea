"""WebRTC signalling over the live socket (/ws): offers, answers and ICE candidates relayed between
the parties of a call, and to the server's recorder. Protocol in docs/api.md, "Video and text calls".

Every message is checked against an in-memory roster of open calls, kept current from the
`call.upserted` events on the bus (published after commit), so relaying costs no database
round trip: a burst of trickled candidates must not queue behind writers on SQLite.
Errors answer the sender with an error frame; nothing a client sends can break the server.
"""
from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..auth.service import Principal
from ..events import STAFF, Published
from ..fields import Id, Whole
from .models import CALLER, ENDED, VIDEO

log = logging.getLogger(__name__)

# An SDP with every candidate of four m-lines is well under this; anything bigger is not signalling.
MAX_MESSAGE_BYTES = 64 * 1024
RECORDER = "recorder"
# Calls that ended recently, to tell "ended" from "never existed" in an error.
ENDED_MEMORY = 1000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Sdp(_Strict):
    type: Literal["offer", "answer", "pranswer", "rollback"]
    sdp: str = Field("", max_length=MAX_MESSAGE_BYTES)


class Candidate(BaseModel):
    """RTCIceCandidate.toJSON() as browsers send it."""

    model_config = ConfigDict(extra="ignore")
    candidate: str = Field(max_length=1000)
    sdpMid: str | None = Field(None, max_length=64)
    sdpMLineIndex: Whole | None = Field(None, ge=0, le=64)
    usernameFragment: str | None = Field(None, max_length=256)


class SignalData(_Strict):
    """Exactly one of: a session description, or an ICE candidate (null: no more candidates)."""

    sdp: Sdp | None = None
    candidate: Candidate | None = None

    @model_validator(mode="after")
    def _one(self):
        if len(self.model_fields_set) != 1:
            raise ValueError("data must hold exactly one of sdp or candidate")
        if "sdp" in self.model_fields_set and self.sdp is None:
            raise ValueError("sdp must not be null")
        return self


class SignalIn(_Strict):
    type: Literal["signal"]
    call_id: Id
    to: Id | Literal["recorder"]
    data: SignalData
    id: Annotated[str, Field(max_length=64)] | int | None = Field(None, description="Echoed in an error")


class CallStateIn(_Strict):
    type: Literal["call.state"]
    call_id: Id
    state: Literal["reconnecting", "connected"]
    id: Annotated[str, Field(max_length=64)] | int | None = None


@dataclass
class RosterParty:
    id: int
    role: str
    user_id: int | None
    device_id: int | None
    joined: bool

    def is_(self, who: Principal) -> bool:
        if who.kind == "caller":
            return self.role == CALLER and self.device_id == who.device_id
        return self.user_id is not None and self.user_id == who.user_id

    @property
    def key(self) -> tuple:
        """Where the hub finds this party's sockets."""
        return ("device", self.device_id) if self.role == CALLER else ("user", self.user_id)


@dataclass
class RosterCall:
    id: int
    kind: str
    status: str
    incident_id: int
    seq: int
    parties: dict[int, RosterParty] = field(default_factory=dict)  # present ones only
    recording: bool = False

    def party_of(self, who: Principal) -> RosterParty | None:
        return next((p for p in self.parties.values() if p.is_(who)), None)


class Roster:
    """Open calls and their present parties, as the last committed `call.upserted` says."""

    def __init__(self) -> None:
        self.calls: dict[int, RosterCall] = {}
        self.ended: OrderedDict[int, None] = OrderedDict()

    def apply(self, view: dict, seq: int) -> RosterCall | None:
        """Take a staff call view; older views than the one applied are ignored (publishes of
        concurrent transactions may arrive out of order, their seq never does)."""
        current = self.calls.get(view["id"])
        if current is not None and current.seq >= seq:
            return current
        if view["status"] == ENDED:
            self.calls.pop(view["id"], None)
            self.ended[view["id"]] = None
            while len(self.ended) > ENDED_MEMORY:
                self.ended.popitem(last=False)
            return None
        call = RosterCall(view["id"], view["kind"], view["status"], view["incident_id"], seq,
                          recording=view.get("recording", False))
        for p in view["parties"]:
            if p["left_at"] is None:
                call.parties[p["id"]] = RosterParty(p["id"], p["role"], p["user"]["id"] if p["user"] else None,
                                                    p["device_id"], p["joined_at"] is not None)
        self.calls[call.id] = call
        return call

    def on_event(self, ev: Published) -> None:
        if ev.name == "call.upserted" and ev.scope == STAFF:
            self.apply(ev.data, ev.seq)


def error(code: str, zh: str, en: str, msg: dict | None = None) -> dict:
    out = {"type": "error", "code": code, "message_zh": zh, "message_en": en}
    if isinstance(msg, dict):
        for k in ("call_id", "id"):
            if isinstance(msg.get(k), (int, str)) and not isinstance(msg.get(k), bool):
                out[k] = msg[k]
    return out


class Relay:
    """Route one client message; reply(frame) answers the sender's own connection."""

    def __init__(self, roster: Roster, hub, recorder, settings) -> None:
        self.roster, self.hub, self.recorder, self.settings = roster, hub, recorder, settings

    async def receive(self, raw: dict, who: Principal, reply) -> None:
        """raw: the message as the socket parsed it (live.py routes "signal" and "call.state" here)."""
        try:
            out = await self._receive(raw, who, reply)
        except Exception:  # never let one message take the socket (or the server) down
            log.exception("signalling message failed")
            out = error("internal", "服务器处理该消息时出错", "The server failed on this message")
        if out is not None:
            reply(out)

    async def _receive(self, raw: dict, who: Principal, reply) -> dict | None:
        model = CallStateIn if raw.get("type") == "call.state" else SignalIn
        try:
            msg = model.model_validate(raw)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            return error("bad_signal", "信令消息格式错误", f"Bad signalling message: {where}: {first['msg']}", raw)
        call = self.roster.calls.get(msg.call_id)
        if call is None:
            if msg.call_id in self.roster.ended:
                return error("call_ended", "通话已结束", f"Call {msg.call_id} has ended", raw)
            return error("unknown_call", "没有这个通话", f"No open call {msg.call_id}", raw)
        me = call.party_of(who)
        if me is None or not me.joined:
            return error("not_a_party", "您不在这个通话中", "You are not a party of this call", raw)
        if isinstance(msg, CallStateIn):
            self._to_others(call, me, {"type": "call.state", "call_id": call.id, "from": me.id, "state": msg.state})
            return None
        data = msg.data.model_dump(mode="json", exclude_unset=True)
        if msg.to == RECORDER:
            if me.role != CALLER or call.kind != VIDEO or not call.recording:
                return error("no_recorder", "该通话没有录制端", "Only the caller of a recorded video call talks to the recorder", raw)
            await self.recorder.signal(call, me.id, data, reply)
            return None
        target = call.parties.get(msg.to)
        if target is None or target.id == me.id:
            return error("unknown_party", "对方不在这个通话中", f"Party {msg.to} is not in this call", raw)
        frame = json.dumps({"type": "signal", "call_id": call.id, "from": me.id, "data": data}, ensure_ascii=False)
        if not self.hub.send(frame, target.key, target.is_):
            return error("peer_offline", "对方暂时不在线", f"Party {msg.to} is not connected right now", raw)
        return None

    def _to_others(self, call: RosterCall, me: RosterParty, frame: dict) -> None:
        text = json.dumps(frame)
        for p in call.parties.values():
            if p.id != me.id:
                self.hub.send(text, p.key, p.is_)
