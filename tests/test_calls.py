"""Video and text calls: intake and the service area, the desk queue, answer races, hold, transfer,
hang-up, parties, presence, signalling over /ws, chat, attachments and snapshots."""
import asyncio
import base64
import hashlib
import hmac
import json

import httpx
import pytest
from sqlalchemy import func, select

from baojing.alarms.models import Alarm
from baojing.auth.models import AuditEntry
from baojing.calls import chat
from baojing.calls.models import Call, CallMessage
from baojing.config import Settings
from baojing.errors import Invalid
from baojing.events import Event
from baojing.media.models import MediaFile
from call_helpers import BEIJING, call_body, clip, connect, jpeg, login_cookie, next_of, png


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(database_url=database_url, map_tiles="none", ws_ping_seconds=1.0, media_dir=tmp_path / "media",
                    demo=True)


async def start_call(client, kind="video", token=None, **over) -> dict:
    r = await client.post("/api/calls", json=call_body(kind, **over),
                          headers={"X-Device-Token": token} if token else {})
    assert r.status_code == 201, r.text
    return r.json()


def caller(client, call) -> dict:
    return {"X-Device-Token": call["device_token"]}


async def answered(client, staff, kind="video"):
    call = await start_call(client, kind)
    desk = await staff("calltaker")
    r = await desk.post(f"/api/calls/{call['id']}/answer")
    assert r.status_code == 200, r.text
    return call, desk, r.json()


async def names(app, *event_names) -> list[str]:
    async with app.state.sessions() as s:
        return list(await s.scalars(select(Event.name).where(Event.name.in_(event_names)).order_by(Event.seq)))


# ----------------------------------------------------------------------------- intake, area

async def test_a_video_call_is_an_alarm_in_the_desk_queue(client, staff, app):
    call = await start_call(client)
    assert call["status"] == "waiting" and call["kind"] == "video" and call["queue"] == {"position": 1, "ahead": 0}
    assert call["device_token"] and call["recording"] is True and call["ice_servers"] == []
    assert [p["role"] for p in call["parties"]] == ["caller"] and call["me"] == call["parties"][0]["id"]
    desk = await staff()
    queue = (await desk.get("/api/calls")).json()
    (c,) = queue["calls"]
    assert c["id"] == call["id"] and c["queue_position"] == 1 and c["operator"] is None
    snap = (await desk.get("/api/console/snapshot")).json()
    inc = next(i for i in snap["incidents"] if i["id"] == c["incident_id"])
    assert inc["alarms"][0]["channel"] == "video" and inc["alarms"][0]["location"] is not None
    assert await names(app, "call.upserted", "call.updated") == ["call.upserted", "call.updated"]
    mine = (await client.get("/api/me/calls", headers=caller(client, call))).json()
    assert mine["calls"][0]["id"] == call["id"]


async def test_video_outside_the_service_area_is_refused_and_nothing_is_saved(client, app):
    r = await client.post("/api/calls", json=call_body("video", location=BEIJING))
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "outside_service_area" and "110" in body["message_zh"] and "text" in body["message_en"]
    r = await client.post("/api/calls", json=call_body("video", location=None))
    assert r.status_code == 422 and r.json()["code"] == "location_required"
    async with app.state.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Alarm)) == 0
    # A text alarm is offered everywhere.
    assert (await client.post("/api/calls", json=call_body("text", location=BEIJING))).status_code == 201
    a = (await client.post("/api/calls/availability", json=BEIJING)).json()
    assert a["video"] is False and a["text"] is True and a["reason"] == "outside_service_area"
    assert (await client.post("/api/calls/availability", json=call_body()["location"])).json()["video"] is True


async def test_a_call_of_either_kind_may_be_silent_from_the_start(client):
    assert (await client.post("/api/calls", json=call_body("text", silent=True))).json()["silent"] is True
    assert (await client.post("/api/calls", json=call_body("video", silent=True))).json()["silent"] is True


async def test_a_caller_who_calls_twice_gets_the_waiting_call_back(client, app):
    first = await start_call(client)
    again = await client.post("/api/calls", json=call_body(), headers=caller(client, first))
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    # The first answer lost: the same idempotency key from a phone without a token.
    body = call_body()
    r1 = await client.post("/api/calls", json=body)
    r2 = await client.post("/api/calls", json=body)
    assert r2.status_code == 200 and r2.json()["id"] == r1.json()["id"] and r2.json()["device_token"]
    async with app.state.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Call)) == 2


async def test_turn_credentials_come_with_the_call_in_coturn_secret_form(client, app):
    app.state.settings.ice_servers = [{"urls": ["stun:stun.example.invalid:3478"]}]
    app.state.settings.turn_urls = ["turn:turn.example.invalid:3478?transport=udp"]
    app.state.settings.turn_secret = "s3cret"
    call = await start_call(client)
    stun, turn = call["ice_servers"]
    assert stun["urls"] == ["stun:stun.example.invalid:3478"]
    expected = base64.b64encode(hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()).decode()
    assert turn["credential"] == expected and int(turn["username"].split(":")[0]) > 0


# ------------------------------------------------------------------------------------ queue

async def test_the_queue_is_first_come_first_served_with_priority(client, staff):
    calls = [await start_call(client, phone=f"1380013800{i}") for i in range(3)]
    desk = await staff()
    order = [c["id"] for c in (await desk.get("/api/calls")).json()["calls"]]
    assert order == [c["id"] for c in calls]
    last = (await desk.get(f"/api/calls/{calls[2]['id']}")).json()
    assert (await desk.post(f"/api/incidents/{last['incident_id']}/classify",
                            json={"type": "fire", "priority": 1})).status_code == 200
    queue = (await desk.get("/api/calls")).json()["calls"]
    assert [c["id"] for c in queue] == [calls[2]["id"], calls[0]["id"], calls[1]["id"]]
    assert [c["queue_position"] for c in queue] == [1, 2, 3]
    mine = (await client.get("/api/me/calls", headers=caller(client, calls[1]))).json()["calls"][0]
    assert mine["queue"] == {"position": 3, "ahead": 2}


async def test_two_operators_answering_at_once_one_wins_and_the_other_is_told_who(client, staff, app):
    call = await start_call(client)
    a, b = await staff("calltaker"), await staff("calltaker2")
    r1, r2 = await asyncio.gather(a.post(f"/api/calls/{call['id']}/answer"), b.post(f"/api/calls/{call['id']}/answer"))
    assert sorted([r1.status_code, r2.status_code]) == [200, 409]
    won, lost = (r1, r2) if r1.status_code == 200 else (r2, r1)
    winner = won.json()["operator"]["display_name"]
    assert lost.json()["code"] == "already_answered" and winner in lost.json()["message_zh"]
    assert winner in lost.json()["message_en"]
    view = won.json()
    assert view["status"] == "active" and [p["role"] for p in view["parties"]] == ["caller", "desk"]
    assert view["me"] == view["parties"][1]["id"]
    incident = (await a.get(f"/api/incidents/{view['incident_id']}")).json()
    assert incident["status"] == "claimed" and incident["claimed_by"]["display_name"] == winner
    assert "call_answered" in [t["name"] for t in incident["timeline"]]
    # Answering twice is harmless for the winner.
    again = await (a if r1.status_code == 200 else b).post(f"/api/calls/{call['id']}/answer")
    assert again.status_code == 200


async def test_hold_transfer_requeue_and_hangup(client, staff):
    call, desk, view = await answered(client, staff)
    cid = call["id"]
    assert (await desk.post(f"/api/calls/{cid}/hold")).json()["status"] == "held"
    assert (await desk.post(f"/api/calls/{cid}/resume")).json()["status"] == "active"
    other = await staff("calltaker2")
    assert (await other.post(f"/api/calls/{cid}/hold")).json()["code"] == "not_your_call"
    me = (await other.get("/api/auth/me")).json()["user"]
    r = await desk.post(f"/api/calls/{cid}/transfer", json={"to_user_id": me["id"]})
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["operator"]["id"] == me["id"]
    desk_parties = [p for p in v["parties"] if p["role"] == "desk"]
    assert desk_parties[0]["left_reason"] == "transferred" and desk_parties[1]["joined_at"] is None
    assert (await desk.post(f"/api/calls/{cid}/hold")).json()["code"] == "not_your_call"
    v = (await other.post(f"/api/calls/{cid}/join")).json()
    assert v["me"] == desk_parties[1]["id"] and [p for p in v["parties"] if p["id"] == v["me"]][0]["joined_at"]
    # Back to the queue: it keeps its place (its first arrival time).
    later = await start_call(client, phone="13900139000")
    v = (await other.post(f"/api/calls/{cid}/transfer", json={"to_user_id": None})).json()
    assert v["status"] == "waiting" and v["operator"] is None and v["queue_position"] == 1
    assert [c["id"] for c in (await desk.get("/api/calls")).json()["calls"]] == [cid, later["id"]]
    assert (await desk.post(f"/api/calls/{cid}/answer")).status_code == 200
    r = await client.post(f"/api/calls/{cid}/hangup", headers=caller(client, call))
    assert r.status_code == 200 and r.json()["status"] == "ended" and r.json()["end_reason"] == "caller_hung_up"
    assert (await desk.post(f"/api/calls/{cid}/answer")).json()["code"] == "call_ended"
    assert (await desk.post(f"/api/calls/{cid}/hold")).json()["code"] == "call_ended"
    # Another phone cannot hang up someone else's call.
    r = await client.post(f"/api/calls/{later['id']}/hangup", headers=caller(client, call))
    assert r.status_code == 404


async def test_the_desk_hanging_up_ends_the_call_and_a_supervisor_may_end_any(client, staff):
    call, desk, _ = await answered(client, staff)
    v = (await desk.post(f"/api/calls/{call['id']}/hangup")).json()
    assert v["status"] == "ended" and v["end_reason"] == "desk_hung_up"
    assert all(p["left_at"] for p in v["parties"])
    waiting = await start_call(client, phone="13900139001")
    assert (await (await staff("calltaker2")).post(f"/api/calls/{waiting['id']}/hangup")).status_code == 403
    v = (await (await staff("dispatcher")).post(f"/api/calls/{waiting['id']}/hangup")).json()
    assert v["end_reason"] == "ended_by_supervisor"


# ---------------------------------------------------------------------------------- parties

async def on_duty(staff, app, username):
    c = await staff(username)
    assert (await c.post("/api/officer/duty", json={"on_duty": True})).status_code == 200
    r = await c.post("/api/officer/positions", json={"points": [{"lat": 41.567, "lon": 120.455, "accuracy_m": 10}]})
    assert r.status_code == 202
    await app.state.board.flush()
    return c


async def user_id(c) -> int:
    return (await c.get("/api/auth/me")).json()["user"]["id"]


async def test_only_an_officer_dispatched_to_the_incident_joins_and_four_parties_fit(client, staff, app):
    call, desk, view = await answered(client, staff)
    cid, incident_id = call["id"], view["incident_id"]
    officer, officer2 = await on_duty(staff, app, "officer"), await on_duty(staff, app, "officer2")
    oid, o2id = await user_id(officer), await user_id(officer2)
    r = await desk.post(f"/api/calls/{cid}/parties", json={"user_id": oid})
    assert r.status_code == 422 and r.json()["code"] == "officer_not_assigned"
    units = {u["call_sign"]: u["id"] for u in (await desk.get("/api/units")).json()["units"]}
    r = await desk.post(f"/api/incidents/{incident_id}/dispatch", json={"unit_ids": [units["双塔21"]]})
    assert r.status_code == 200, r.text
    # Sent to its incident, the officer sees the video call, but joins it only when invited; an
    # officer of another unit sees nothing of it.
    assert (await officer.get(f"/api/calls/{cid}")).status_code == 200
    assert (await officer2.get(f"/api/calls/{cid}")).status_code == 403
    assert (await officer.post(f"/api/calls/{cid}/join")).json()["code"] == "not_a_party"
    v = (await desk.post(f"/api/calls/{cid}/parties", json={"user_id": oid})).json()
    assert [p["role"] for p in v["parties"]] == ["caller", "desk", "officer"]
    v = (await officer.post(f"/api/calls/{cid}/join")).json()
    assert v["me"] == v["parties"][2]["id"] and v["parties"][2]["joined_at"]
    assert (await desk.post(f"/api/calls/{cid}/parties", json={"user_id": oid})).json()["code"] == "already_party"
    sup = await staff("dispatcher")
    v = (await desk.post(f"/api/calls/{cid}/parties", json={"user_id": await user_id(sup)})).json()
    assert [p["role"] for p in v["parties"]] == ["caller", "desk", "officer", "supervisor"]
    r = await desk.post(f"/api/calls/{cid}/parties", json={"user_id": await user_id(await staff("calltaker2"))})
    assert r.json()["code"] == "party_not_allowed"
    await desk.post(f"/api/incidents/{incident_id}/dispatch", json={"unit_ids": [units["双塔22"]]})
    r = await desk.post(f"/api/calls/{cid}/parties", json={"user_id": o2id})
    assert r.status_code == 409 and r.json()["code"] == "call_full"
    # The officer leaves; the call goes on, and a place is free again.
    v = (await officer.post(f"/api/calls/{cid}/hangup")).json()
    assert v["status"] == "active" and v["parties"][2]["left_reason"] == "left"
    assert (await desk.post(f"/api/calls/{cid}/parties", json={"user_id": o2id})).status_code == 200
    # Officers hear of the call by name, as they are not on the consoles' feed.
    async with app.state.sessions() as s:
        mine = list(await s.scalars(select(Event.name).where(Event.scope == "user", Event.user_id == oid)))
    assert "call.ringing" in mine and "call.upserted" in mine


# --------------------------------------------------------------------------------- presence

def own_clock(rt):
    """The test's sweeps, on the test's clock: stop the runtime's own sweeps (real loop time), which
    would otherwise note absences first, at times the test's clock never reaches."""
    rt._task.cancel()
    rt.absent_since.clear()
    rt.invited_since.clear()
    return rt


async def test_a_desk_that_vanishes_puts_the_call_back_in_the_queue(client, staff, app, monkeypatch):
    rt = own_clock(app.state.calls)
    call, desk, view = await answered(client, staff)
    device_id = view["parties"][0]["device_id"]
    monkeypatch.setattr(rt, "present", lambda: {("device", device_id)})  # only the caller's socket is open
    grace = app.state.settings.call_party_grace_s
    assert await rt.sweep(now=1000.0) == 0
    assert await rt.sweep(now=1000.0 + grace - 1) == 0
    assert await rt.sweep(now=1000.0 + grace) == 1
    v = (await desk.get(f"/api/calls/{call['id']}")).json()
    assert v["status"] == "waiting" and v["operator"] is None
    assert v["parties"][1]["left_reason"] == "vanished"


async def test_a_caller_who_vanishes_ends_the_call_and_a_waiting_one_is_abandoned(client, staff, app, monkeypatch):
    rt = own_clock(app.state.calls)
    call, desk, view = await answered(client, staff)
    waiting = await start_call(client, phone="13900139002")
    desk_id = await user_id(desk)
    monkeypatch.setattr(rt, "present", lambda: {("user", desk_id)})
    await rt.sweep(now=0.0)
    assert await rt.sweep(now=100.0) == 2
    v = (await desk.get(f"/api/calls/{call['id']}")).json()
    assert v["status"] == "ended" and v["end_reason"] == "vanished"
    v = (await desk.get(f"/api/calls/{waiting['id']}")).json()
    assert v["status"] == "ended" and v["end_reason"] == "abandoned"
    assert (await desk.get("/api/calls")).json()["calls"] == []


async def test_a_returning_party_is_not_marked_gone_and_an_invitee_who_never_joins_is(client, staff, app, monkeypatch):
    rt = own_clock(app.state.calls)
    call, desk, view = await answered(client, staff)
    sup = await staff("dispatcher")
    await desk.post(f"/api/calls/{call['id']}/parties", json={"user_id": await user_id(sup)})
    device_id, desk_id = view["parties"][0]["device_id"], await user_id(desk)
    present = {("device", device_id)}
    monkeypatch.setattr(rt, "present", lambda: present)
    await rt.sweep(now=0.0)
    present.add(("user", desk_id))  # the desk's socket came back in time
    assert await rt.sweep(now=10.0) == 0
    assert await rt.sweep(now=1000.0) == 1  # the supervisor never joined
    v = (await desk.get(f"/api/calls/{call['id']}")).json()
    assert v["status"] == "active" and v["parties"][2]["left_reason"] == "no_answer"


async def test_a_text_chat_outlives_the_callers_closed_page(client, staff, app, monkeypatch):
    rt = own_clock(app.state.calls)
    call, desk, view = await answered(client, staff, kind="text")
    desk_id = await user_id(desk)
    monkeypatch.setattr(rt, "present", lambda: {("user", desk_id)})
    await rt.sweep(now=0.0)
    assert await rt.sweep(now=1000.0) == 0


async def test_closing_the_incident_ends_its_calls(client, staff, app):
    call, desk, view = await answered(client, staff)
    r = await desk.post(f"/api/incidents/{view['incident_id']}/close", json={"disposition": "resolved"})
    assert r.status_code == 200, r.text
    for _ in range(50):
        if (await desk.get(f"/api/calls/{call['id']}")).json()["status"] == "ended":
            break
        await asyncio.sleep(0.05)
    v = (await desk.get(f"/api/calls/{call['id']}")).json()
    assert v["status"] == "ended" and v["end_reason"] == "incident_closed"


async def test_a_call_follows_its_alarm_when_the_incident_is_merged(client, staff, app):
    call, desk, view = await answered(client, staff)
    other = await start_call(client, "text", phone="13900139004")
    target = (await desk.get(f"/api/calls/{other['id']}")).json()["incident_id"]
    r = await desk.post(f"/api/incidents/{target}/merge", json={"incident_ids": [view["incident_id"]]})
    assert r.status_code == 200, r.text
    assert (await desk.get(f"/api/calls/{call['id']}")).json()["incident_id"] == target
    for _ in range(50):
        if app.state.calls.roster.calls[call["id"]].incident_id == target:
            break
        await asyncio.sleep(0.05)
    assert app.state.calls.roster.calls[call["id"]].incident_id == target


# ------------------------------------------------------------------------------- signalling

async def test_signals_are_relayed_between_parties_and_bad_ones_get_an_error_frame(live_server):
    base, app = live_server
    async with httpx.AsyncClient(base_url=base) as c:
        call = await start_call(c)
        cookie = await login_cookie(base)
        view = (await c.post(f"/api/calls/{call['id']}/answer", headers={"Cookie": cookie})).json()
    cid, me, desk_party = call["id"], call["me"], view["me"]
    phone = await connect(base, device_token=call["device_token"])
    desk = await connect(base, cookie=cookie)
    offer = {"sdp": {"type": "offer", "sdp": "v=0\r\n"}}
    await desk.send(json.dumps({"type": "signal", "call_id": cid, "to": me, "data": offer}))
    m = await next_of(phone, "signal")
    assert m == {"type": "signal", "call_id": cid, "from": desk_party, "data": offer}
    cand = {"candidate": {"candidate": "candidate:1 1 udp 2130706431 127.0.0.2 5000 typ host", "sdpMid": "0",
                          "sdpMLineIndex": 0}}
    await phone.send(json.dumps({"type": "signal", "call_id": cid, "to": desk_party, "data": cand}))
    m = await next_of(desk, "signal")
    assert m["from"] == me and m["data"]["candidate"]["candidate"].startswith("candidate:1")
    await phone.send(json.dumps({"type": "call.state", "call_id": cid, "state": "reconnecting"}))
    assert await next_of(desk, "call.state") == {"type": "call.state", "call_id": cid, "from": me,
                                                  "state": "reconnecting"}

    async def refused(ws, message) -> str:
        await ws.send(message if isinstance(message, str) else json.dumps(message))
        return (await next_of(ws, "error"))["code"]

    assert await refused(phone, '{"type": "signal", "call_id": ') == "bad_message"
    assert await refused(phone, '["signal"]') == "bad_message"
    assert await refused(phone, {"type": "signal", "call_id": cid, "to": desk_party}) == "bad_signal"
    assert await refused(phone, {"type": "signal", "call_id": cid, "to": desk_party,
                                 "data": {"sdp": {"type": "offer", "sdp": ""}, "candidate": None}}) == "bad_signal"
    assert await refused(phone, {"type": "signal", "call_id": cid, "to": desk_party,
                                 "data": {"sdp": {"type": "bogus", "sdp": ""}}}) == "bad_signal"
    assert await refused(phone, {"type": "call.state", "call_id": cid, "state": "dancing"}) == "bad_signal"
    assert await refused(phone, {"type": "signal", "call_id": 999999, "to": 1, "data": offer}) == "unknown_call"
    assert await refused(phone, {"type": "signal", "call_id": cid, "to": 999999, "data": offer}) == "unknown_party"
    assert await refused(phone, {"type": "signal", "call_id": cid, "to": me, "data": offer}) == "unknown_party"
    assert await refused(desk, {"type": "signal", "call_id": cid, "to": "recorder", "data": offer}) == "no_recorder"
    huge = {"type": "signal", "call_id": cid, "to": desk_party, "data": {"sdp": {"type": "offer", "sdp": "x" * 70_000}}}
    assert await refused(phone, huge) == "too_big"
    err = await refused(phone, {"type": "signal", "call_id": "seven", "to": desk_party, "data": offer, "id": "m1"})
    assert err == "bad_signal"
    # Someone on another desk, not in this call, may not talk into it.
    other = await connect(base, cookie=await login_cookie(base, "calltaker2"))
    assert await refused(other, {"type": "signal", "call_id": cid, "to": me, "data": offer}) == "not_a_party"
    # The caller's page is gone: the desk is told, not left waiting.
    await phone.close()
    for _ in range(100):
        if not any(c.who.kind == "caller" for c in app.state.hub.connections):
            break
        await asyncio.sleep(0.02)
    assert await refused(desk, {"type": "signal", "call_id": cid, "to": me, "data": offer}) == "peer_offline"
    async with httpx.AsyncClient(base_url=base) as c:
        await c.post(f"/api/calls/{cid}/hangup", headers={"Cookie": cookie})  # published before it answers
    assert await refused(desk, {"type": "signal", "call_id": cid, "to": me, "data": offer}) == "call_ended"
    # After all that the socket still works, and so does the rest of the server.
    await desk.send(json.dumps({"type": "positions", "points": []}))
    async with httpx.AsyncClient(base_url=base) as c:
        assert (await c.get("/healthz")).status_code == 200
    await desk.close()
    await other.close()


# ------------------------------------------------------------------------------------- chat

async def test_a_text_alarm_chat_round_trips_between_caller_and_desk(client, staff, app):
    call = await start_call(client, "text")
    r = await client.post(f"/api/calls/{call['id']}/messages", json={"text": "有人跟踪我，我不能说话"},
                          headers=caller(client, call))
    assert r.status_code == 201 and r.json()["role"] == "caller" and r.json()["author"] is None
    desk = await staff()
    r = await desk.post(f"/api/calls/{call['id']}/messages", json={"text": "您在哪里？"})
    assert r.status_code == 403 and r.json()["code"] == "not_a_party"
    await desk.post(f"/api/calls/{call['id']}/answer")
    r = await desk.post(f"/api/calls/{call['id']}/messages", json={"text": "您在哪里？"})
    assert r.status_code == 201 and r.json()["author"] == "接警员 王丽"
    mine = (await client.get(f"/api/calls/{call['id']}/messages", headers=caller(client, call))).json()["messages"]
    assert [(m["role"], m["text"], m["author"]) for m in mine] == [("caller", "有人跟踪我，我不能说话", None),
                                                                   ("desk", "您在哪里？", None)]
    theirs = (await desk.get(f"/api/calls/{call['id']}/messages")).json()["messages"]
    assert theirs[1]["author"] == "接警员 王丽"
    async with app.state.sessions() as s:
        scopes = list(await s.scalars(select(Event.scope).where(Event.name == "call.message")))
    assert sorted(scopes) == ["device", "device", "staff", "staff"]
    assert (await client.post(f"/api/calls/{call['id']}/messages", json={"text": ""},
                              headers=caller(client, call))).status_code == 422


def files_in(settings) -> list:
    return sorted(p for p in settings.media_dir.rglob("*") if p.is_file()) if settings.media_dir.exists() else []


async def test_photos_and_a_clip_are_kept_as_evidence_and_bad_files_are_refused_whole(client, staff, app):
    settings = app.state.settings
    call = await start_call(client, "text")
    url, who = f"/api/calls/{call['id']}/attachments", caller(client, call)
    photo = jpeg(4096)
    r = await client.post(url, files={"file": ("a.jpg", photo, "image/jpeg")}, data={"text": "车牌"}, headers=who)
    assert r.status_code == 201, r.text
    att = r.json()["attachment"]
    assert att["kind"] == "photo" and att["mime"] == "image/jpeg" and r.json()["text"] == "车牌"
    assert att["sha256"] == hashlib.sha256(photo).hexdigest() and att["size"] == 4096
    (stored,) = files_in(settings)
    assert stored.read_bytes() == photo and stored.relative_to(settings.media_dir).parts[0] != "tmp"

    def refused(r, code):
        assert r.status_code == 422, r.text
        assert r.json()["code"] == code and r.json()["message_zh"] and r.json()["message_en"]

    refused(await client.post(url, files={"file": ("a.jpg", b"GIF89a" + b"\0" * 100, "image/jpeg")}, headers=who),
            "unsupported_file")
    refused(await client.post(url, files={"file": ("big.jpg", jpeg(5 * 1024 * 1024 + 1), "image/jpeg")}, headers=who),
            "file_too_large")
    refused(await client.post(url, files={"file": ("e.png", b"", "image/png")}, headers=who), "empty_file")
    refused(await client.post(url, files={"file": ("x.mp4", b"\0\0\0\x18ftypmp42" + b"\1" * 500, "video/mp4")},
                              headers=who), "bad_clip")
    refused(await client.post(url, files={"file": ("long.mp4", clip(20, fps=5), "video/mp4")}, headers=who),
            "clip_too_long")
    ok = clip(2)
    r = await client.post(url, files={"file": ("c.mp4", ok, "video/mp4")}, headers=who)
    assert r.status_code == 201, r.text
    assert r.json()["attachment"]["kind"] == "clip" and r.json()["attachment"]["duration_s"] == pytest.approx(2, abs=0.2)
    refused(await client.post(url, files={"file": ("d.webm", clip(1, fmt="webm"), "video/webm")}, headers=who),
            "too_many_clips")
    for i in range(7):
        assert (await client.post(url, files={"file": (f"{i}.png", png(), "image/png")}, headers=who)).status_code == 201
    refused(await client.post(url, files={"file": ("9.png", png(), "image/png")}, headers=who), "too_many_photos")
    assert len(files_in(settings)) == 9  # 8 photos and 1 clip: nothing of the refused ones stayed
    async with app.state.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(MediaFile)) == 9
        assert await s.scalar(select(func.count()).select_from(CallMessage)) == 9
    r = await client.post(url, content=b"x" * (22 * 1024 * 1024), headers={**who, "Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 413
    # A phone's WebM clip (no duration in its header, as browsers record them) is read from its packets.
    other = await start_call(client, "text", phone="13900139003")
    r = await client.post(f"/api/calls/{other['id']}/attachments", files={"file": ("c.webm", clip(3, fmt="webm"), "video/webm")},
                          headers=caller(client, other))
    assert r.status_code == 201, r.text
    assert r.json()["attachment"]["mime"] == "video/webm" and r.json()["attachment"]["duration_s"] == pytest.approx(3, abs=0.3)


async def test_a_failure_after_the_file_is_written_leaves_neither_file_nor_row(client, app, monkeypatch):
    call = await start_call(client, "text")

    async def broken(*a, **k):
        raise Invalid("测试", "simulated failure after the row was written", code="simulated")

    monkeypatch.setattr(chat, "_post", broken)
    r = await client.post(f"/api/calls/{call['id']}/attachments", files={"file": ("a.jpg", jpeg(), "image/jpeg")},
                          headers=caller(client, call))
    assert r.status_code == 422 and r.json()["code"] == "simulated"
    assert files_in(app.state.settings) == []
    async with app.state.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(MediaFile)) == 0


async def test_the_desk_keeps_snapshots_and_each_playback_is_audited(client, staff, app):
    call, desk, view = await answered(client, staff)
    frame = png(10_000)
    r = await desk.post(f"/api/calls/{call['id']}/snapshots", files={"file": ("f.png", frame, "image/png")})
    assert r.status_code == 201, r.text
    snap = r.json()
    assert snap["kind"] == "snapshot" and snap["incident_id"] == view["incident_id"]
    r = await desk.post(f"/api/calls/{call['id']}/snapshots", files={"file": ("f.webp", b"RIFF\0\0\0\0WEBPVP8 ", "image/webp")})
    assert r.status_code == 422 and r.json()["code"] == "unsupported_file"
    r = await desk.post(f"/api/calls/{call['id']}/snapshots", files={"file": ("f.jpg", jpeg(2 * 1024 * 1024 + 1), "image/jpeg")})
    assert r.status_code == 422 and r.json()["code"] == "file_too_large"
    listed = (await desk.get(f"/api/incidents/{view['incident_id']}/media")).json()["media"]
    assert [m["id"] for m in listed] == [snap["id"]]
    other = await staff("dispatcher")
    for c in (desk, other):
        r = await c.get(snap["url"])
        assert r.status_code == 200 and r.content == frame and r.headers["content-type"] == "image/png"
        assert r.headers["x-content-sha256"] == hashlib.sha256(frame).hexdigest()
    r = await desk.get(snap["url"], headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and r.content == frame[100:200]
    assert (await client.get(snap["url"])).status_code == 401
    assert (await (await staff("officer")).get(snap["url"])).status_code == 403
    async with app.state.sessions() as s:
        plays = list(await s.scalars(select(AuditEntry.actor).where(AuditEntry.action == "media.play")))
    assert sorted(a.split(":")[0] for a in plays) == ["call_taker", "dispatcher"]  # the range fetch is the same playback
    officer_snap = await (await staff("calltaker2")).post(f"/api/calls/{call['id']}/snapshots",
                                                          files={"file": ("f.png", frame, "image/png")})
    assert officer_snap.status_code == 403


async def test_an_alarm_is_stored_while_an_upload_is_still_being_copied(client, app, monkeypatch):
    """Staging (copying, hashing, probing) happens before the upload's transaction: an alarm that
    arrives meanwhile does not wait behind the database lock for it."""
    import threading

    from baojing.media import service as media
    from builders import alarm_body

    call = await start_call(client, "text")
    copying, release = threading.Event(), threading.Event()
    real = media._stage

    def slow_stage(*a, **k):
        copying.set()
        release.wait(30)  # a 20 MB clip on a slow disk
        return real(*a, **k)

    monkeypatch.setattr(media, "_stage", slow_stage)
    upload = asyncio.create_task(client.post(f"/api/calls/{call['id']}/attachments",
                                             files={"file": ("a.jpg", jpeg(), "image/jpeg")}, headers=caller(client, call)))
    try:
        while not copying.is_set():
            await asyncio.sleep(0.01)
        r = await asyncio.wait_for(client.post("/api/alarms", json=alarm_body()), 10)
        assert r.status_code == 201, r.text
    finally:
        release.set()
    assert (await upload).status_code == 201
