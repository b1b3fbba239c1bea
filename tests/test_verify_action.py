"""verify_action for every step that emits events: what a console, an officer and a caller hold
before, plus the events the step sent them, equals what each reads after a reload. So the live
views can never drift from the truth."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select

from baojing.events import Event
from builders import alarm_body

SHUANGTA = (41.566, 120.454)


ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def norm(x):
    """One instant written two ways ("…Z" in events, "…+00:00" from a route without a response
    model) is the same instant: compare times as times."""
    if isinstance(x, dict):
        return {k: norm(v) for k, v in x.items()}
    if isinstance(x, list):
        return [norm(v) for v in x]
    if isinstance(x, str) and ISO.match(x):
        return datetime.fromisoformat(x.replace("Z", "+00:00"))
    return x


async def events_since(app, seq: int) -> list[Event]:
    async with app.state.sessions() as s:
        return list(await s.scalars(select(Event).where(Event.seq > seq).order_by(Event.seq)))


async def console_state(console) -> dict:
    snap = (await console.get("/api/console/snapshot")).json()
    units = (await console.get("/api/units")).json()
    return {"seq": min(snap["seq"], units["seq"]), "incidents": {i["id"]: i for i in snap["incidents"]},
            "units": {u["id"]: u for u in units["units"]}}


def console_apply(state: dict, evs: list[Event]) -> dict:
    incidents, units = dict(state["incidents"]), dict(state["units"])
    for e in evs:
        if e.scope != "staff":
            continue
        if e.name == "incident.upserted":
            # The snapshot holds open incidents and those closed lately; a merged one leaves the board.
            if e.data["status"] == "merged":
                incidents.pop(e.data["id"], None)
            else:
                incidents[e.data["id"]] = e.data
        elif e.name == "unit.upserted":
            units[e.data["id"]] = e.data
    return {"incidents": incidents, "units": units}


INCIDENT_OUT = ("id", "status", "priority", "type", "received_at", "updated_at", "claimed_at", "claimed_by",
                "closed_at", "disposition", "merged_into", "notes_count", "station_id", "alarms", "assignments")


async def officer_state(officer) -> dict:
    me = (await officer.get("/api/officer/me")).json()
    inc = me["incident"]
    return {"seq": me["seq"], "unit": me["unit"], "assignment": me["assignment"],
            "incident": {k: inc[k] for k in INCIDENT_OUT} if inc else None}


def officer_apply(state: dict, evs: list[Event], unit_id: int) -> dict:
    out = {k: state[k] for k in ("unit", "assignment", "incident")}
    for e in evs:
        if e.scope != "unit" or e.unit_id != unit_id:
            continue
        if e.name == "unit.upserted":
            out["unit"] = e.data
        elif e.name == "dispatch.offer":
            out["assignment"] = e.data["assignment"]
        elif e.name == "assignment.updated" and (out["assignment"] or {}).get("id") == e.data["id"]:
            # The card holds the unit's current assignment: one that ended leaves it.
            out["assignment"] = e.data if e.data["status"] in ("dispatched", "accepted", "en_route", "on_scene") else None
        elif e.name == "incident.upserted" and out["assignment"] and e.data["id"] == out["assignment"]["incident_id"]:
            out["incident"] = {k: e.data[k] for k in INCIDENT_OUT}
    if out["assignment"] is None:
        out["incident"] = None
    return out


async def caller_state(client, token) -> dict:
    mine = (await client.get("/api/me/alarms", headers={"X-Device-Token": token})).json()
    return {"seq": mine["seq"], "alarms": {a["id"]: {k: v for k, v in a.items() if k != "device_token"}
                                           for a in mine["alarms"]}}


def caller_apply(state: dict, evs: list[Event], device_id: int) -> dict:
    alarms = dict(state["alarms"])
    for e in evs:
        if e.scope == "device" and e.device_id == device_id and e.name == "alarm.updated":
            alarms[e.data["id"]] = e.data
    return {"alarms": alarms}


async def on_duty(staff, app, username="officer"):
    c = await staff(username)
    assert (await c.post("/api/officer/duty", json={"on_duty": True})).status_code == 200
    assert (await c.post("/api/officer/positions", json={"points": [{"lat": 41.568, "lon": 120.452,
                                                                     "accuracy_m": 10}]})).status_code == 202
    await app.state.board.flush()
    return c


async def raise_at(client, phone="13800138000"):
    r = await client.post("/api/alarms", json=alarm_body(phone=phone, location={
        "lat": SHUANGTA[0], "lon": SHUANGTA[1], "accuracy_m": 10, "crs": "wgs84"}))
    assert r.status_code == 201
    return r.json()


async def device_of(app, alarm_id: int) -> int:
    from baojing.alarms.models import Alarm

    async with app.state.sessions() as s:
        return (await s.get(Alarm, alarm_id)).device_id


class World:
    """A console, an officer on duty and two callers, and the ids the steps need."""

    async def build(self, client, staff, app):
        self.app, self.client = app, client
        self.console = await staff("dispatcher")
        self.officer = await on_duty(staff, app)
        self.a1, self.a2 = await raise_at(client), await raise_at(client, phone="13900139000")
        snap = (await self.console.get("/api/console/snapshot")).json()["incidents"]
        self.i1, self.i2 = [next(i["id"] for i in snap if i["alarms"][0]["id"] == a["id"]) for a in (self.a1, self.a2)]
        units = (await self.console.get("/api/units")).json()["units"]
        self.unit = next(u["id"] for u in units if u["call_sign"] == "双塔21")
        self.device = await device_of(app, self.a1["id"])
        return self

    async def dispatch(self):
        r = await self.console.post(f"/api/incidents/{self.i1}/dispatch", json={"unit_ids": [self.unit]})
        assert r.status_code == 200, r.text
        self.asg = r.json()["assignments"][0]["id"]

    async def step(self, path, body=None):
        r = await self.officer.post(f"/api/assignments/{self.asg}/{path}", json=body or {})
        assert r.status_code == 200, r.text


STEPS = {
    "dispatch": lambda w: w.dispatch(),
    "claim": lambda w: w.console.post(f"/api/incidents/{w.i1}/claim"),
    "classify": lambda w: w.console.post(f"/api/incidents/{w.i1}/classify", json={"type": "fire", "priority": 1}),
    "note": lambda w: w.console.post(f"/api/incidents/{w.i1}/notes", json={"text": "其中一人持棍"}),
    "merge": lambda w: w.console.post(f"/api/incidents/{w.i1}/merge", json={"incident_ids": [w.i2]}),
    "close": lambda w: w.console.post(f"/api/incidents/{w.i1}/close", json={"disposition": "resolved"}),
}
# steps that need units out first: (what to do first, the step)
WITH_UNIT = {
    "cancel": ([], lambda w: w.console.post(f"/api/assignments/{w.asg}/cancel")),
    "accept": ([], lambda w: w.step("accept")),
    "decline": ([], lambda w: w.step("decline", {"reason": "车辆故障"})),
    "en_route": (["accept"], lambda w: w.step("en-route")),
    "on_scene": (["accept", "en-route"], lambda w: w.step("on-scene")),
    "backup": (["accept", "en-route", "on-scene"], lambda w: w.step("backup", {"note": "对方人多"})),
    "clear": (["accept", "en-route", "on-scene"], lambda w: w.step("clear", {"disposition": "resolved"})),
    "close_with_units_out": (["accept"], lambda w: w.console.post(f"/api/incidents/{w.i1}/close",
                                                                  json={"disposition": "resolved"})),
    "merge_with_units_out": (["accept"], lambda w: w.console.post(f"/api/incidents/{w.i2}/merge",
                                                                  json={"incident_ids": [w.i1]})),
}


@pytest.mark.parametrize("name", [*STEPS, *WITH_UNIT])
async def test_state_before_plus_events_equals_state_after(name, client, staff, app):
    w = await World().build(client, staff, app)
    if name in WITH_UNIT:
        await w.dispatch()
        first, step = WITH_UNIT[name]
        for p in first:
            await w.step(p)
    else:
        step = STEPS[name]
    c0, o0, k0 = await console_state(w.console), await officer_state(w.officer), await caller_state(client, w.a1["device_token"])
    r = await step(w)
    if r is not None:
        assert r.status_code == 200, r.text
    evs = await events_since(app, min(c0["seq"], o0["seq"], k0["seq"]))
    assert evs, "the step told nobody"
    c1, o1, k1 = await console_state(w.console), await officer_state(w.officer), await caller_state(client, w.a1["device_token"])
    assert console_apply(c0, [e for e in evs if e.seq > c0["seq"]]) == {k: c1[k] for k in ("incidents", "units")}
    assert norm(officer_apply(o0, [e for e in evs if e.seq > o0["seq"]], w.unit)) == \
        norm({k: o1[k] for k in ("unit", "assignment", "incident")})
    # device_token is only ever in the answer to the POST that made the alarm.
    mine = {i: {k: v for k, v in a.items() if k != "device_token"} for i, a in k1["alarms"].items()}
    assert caller_apply(k0, [e for e in evs if e.seq > k0["seq"]], w.device) == {"alarms": mine}
