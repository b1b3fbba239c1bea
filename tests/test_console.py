"""The console's actions: each one changes the incident, tells every console and the caller, and
is refused to roles that may not do it."""
import asyncio

import pytest
from sqlalchemy import select

from baojing.auth.models import AuditEntry
from baojing.events import Event
from builders import alarm_body


async def raise_alarm(client, **over) -> dict:
    r = await client.post("/api/alarms", json=alarm_body(**over))
    assert r.status_code == 201, r.text
    return r.json()


async def incident_of(console, alarm_id: int) -> dict:
    snap = (await console.get("/api/console/snapshot")).json()
    return next(i for i in snap["incidents"] if any(a["id"] == alarm_id for a in i["alarms"]))


async def events_after(app, seq: int) -> list[Event]:
    async with app.state.sessions() as s:
        return list(await s.scalars(select(Event).where(Event.seq > seq).order_by(Event.seq)))


async def test_the_console_needs_a_login_and_a_console_role(client, staff):
    assert (await client.get("/api/console/snapshot")).status_code == 401
    for role_user in ("officer", "traffic", "keyunit"):
        c = await staff(role_user)
        r = await c.get("/api/console/snapshot")
        assert r.status_code == 403, role_user
        assert r.json()["message_zh"] and r.json()["message_en"]
    for role_user in ("calltaker", "dispatcher", "admin"):
        assert (await (await staff(role_user)).get("/api/console/snapshot")).status_code == 200


async def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client):
    r = await client.post("/api/auth/login", json={"username": "calltaker", "password": "nope-nope"})
    assert r.status_code == 401 and r.json()["code"] == "bad_credentials"
    r2 = await client.post("/api/auth/login", json={"username": "nobody", "password": "nope-nope"})
    assert r2.json() == r.json()


async def test_the_session_cookie_is_httponly_and_samesite(client):
    r = await client.post("/api/auth/login", json={"username": "calltaker", "password": "baojing110"})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


async def test_a_new_alarm_is_a_new_incident_in_the_snapshot(client, staff):
    a = await raise_alarm(client)
    inc = await incident_of(await staff(), a["id"])
    assert inc["status"] == "new" and inc["priority"] == 2
    assert inc["alarms"][0]["phone"] == "13800138000"
    assert inc["alarms"][0]["location"]["source"] == "gps"


async def test_claim_classify_note_close_each_reach_the_caller_and_the_consoles(client, staff, app):
    a = await raise_alarm(client)
    h = {"X-Device-Token": a["device_token"]}
    console = await staff()
    inc = await incident_of(console, a["id"])
    seq = (await console.get("/api/console/snapshot")).json()["seq"]

    claimed = (await console.post(f"/api/incidents/{inc['id']}/claim")).json()
    assert claimed["status"] == "claimed" and claimed["claimed_by"]["display_name"] == "接警员 王丽"
    assert (await client.get("/api/me/alarms", headers=h)).json()["alarms"][0]["status"] == "handling"

    r = await console.post(f"/api/incidents/{inc['id']}/classify", json={"type": "theft_robbery", "priority": 1})
    assert r.json()["priority"] == 1 and r.json()["type"] == "theft_robbery"
    assert (await console.post(f"/api/incidents/{inc['id']}/notes", json={"text": "嫌疑人穿黑色外套"})).json()["notes_count"] == 1
    closed = (await console.post(f"/api/incidents/{inc['id']}/close", json={"disposition": "resolved"})).json()
    assert closed["status"] == "closed"
    mine = (await client.get("/api/me/alarms", headers=h)).json()["alarms"][0]
    assert mine["status"] == "closed" and mine["closed_at"]

    evs = await events_after(app, seq)
    staff_actions = [e.action for e in evs if e.scope == "staff" and e.action]
    assert staff_actions == ["claimed", "classified", "note", "closed"]
    caller_statuses = [e.data["status"] for e in evs if e.scope == "device"]
    assert caller_statuses[0] == "handling" and caller_statuses[-1] == "closed"
    assert all(e.device_id == evs[-1].device_id for e in evs if e.scope == "device")

    detail = (await console.get(f"/api/incidents/{inc['id']}")).json()
    assert [t["name"] for t in detail["timeline"]] == ["received", "claimed", "classified", "note", "closed"]
    assert detail["notes"][0]["author"]["display_name"] == "接警员 王丽"


async def test_the_snapshot_plus_its_events_equals_the_next_snapshot(client, staff, app):
    """verify_action: whatever happens, applying the events to the old view gives the new view."""
    console = await staff()
    await raise_alarm(client)
    before = (await console.get("/api/console/snapshot")).json()
    a2 = await raise_alarm(client, phone="13900139000")
    inc = await incident_of(console, a2["id"])
    await console.post(f"/api/incidents/{inc['id']}/claim")
    await console.post(f"/api/incidents/{inc['id']}/classify", json={"type": "fire", "priority": 1})
    after = (await console.get("/api/console/snapshot")).json()
    view = {i["id"]: i for i in before["incidents"]}
    for e in await events_after(app, before["seq"]):
        if e.scope == "staff" and e.name == "incident.upserted":
            view[e.data["id"]] = e.data
    assert view == {i["id"]: i for i in after["incidents"]}


async def test_two_operators_claiming_at_once_one_wins_and_the_other_is_told_who(client, staff):
    a = await raise_alarm(client)
    c1, c2 = await staff("calltaker"), await staff("calltaker2")
    inc = await incident_of(c1, a["id"])
    r1, r2 = await asyncio.gather(c1.post(f"/api/incidents/{inc['id']}/claim"),
                                  c2.post(f"/api/incidents/{inc['id']}/claim"))
    codes = sorted([r1.status_code, r2.status_code])
    assert codes == [200, 409]
    loser = r1 if r1.status_code == 409 else r2
    assert loser.json()["code"] == "already_claimed"
    assert "接警员" in loser.json()["message_zh"]


async def test_merging_duplicates_moves_every_caller_into_the_survivor(client, staff):
    console = await staff()
    a1 = await raise_alarm(client)
    a2 = await raise_alarm(client, phone="13900139000")
    a3 = await raise_alarm(client, phone="0421-2345678")
    i1, i2, i3 = [await incident_of(console, a["id"]) for a in (a1, a2, a3)]
    await console.post(f"/api/incidents/{i2['id']}/classify", json={"type": "fire", "priority": 1})
    r = await console.post(f"/api/incidents/{i1['id']}/merge", json={"incident_ids": [i2["id"], i3["id"]]})
    merged = r.json()
    assert sorted(a["id"] for a in merged["alarms"]) == sorted([a1["id"], a2["id"], a3["id"]])
    assert merged["priority"] == 1
    snap = (await console.get("/api/console/snapshot")).json()
    assert [i["id"] for i in snap["incidents"] if i["status"] != "closed"] == [i1["id"]]
    await console.post(f"/api/incidents/{i1['id']}/claim")
    for a in (a2, a3):
        mine = (await client.get("/api/me/alarms", headers={"X-Device-Token": a["device_token"]})).json()
        assert mine["alarms"][0]["status"] == "handling"
    self_merge = await console.post(f"/api/incidents/{i1['id']}/merge", json={"incident_ids": [i1["id"]]})
    assert self_merge.status_code == 422
    again = await console.post(f"/api/incidents/{i1['id']}/merge", json={"incident_ids": [i2["id"]]})
    assert again.status_code == 409


async def test_a_duplicate_merged_twice_shows_its_history_on_the_last_survivor(client, staff):
    console = await staff()
    a1, a2, a3 = [await raise_alarm(client, phone=p) for p in ("13900139001", "13900139002", "13900139003")]
    i1, i2, i3 = [(await incident_of(console, a["id"]))["id"] for a in (a1, a2, a3)]
    assert (await console.post(f"/api/incidents/{i2}/merge", json={"incident_ids": [i3]})).status_code == 200
    assert (await console.post(f"/api/incidents/{i1}/merge", json={"incident_ids": [i2]})).status_code == 200
    first = (await console.get(f"/api/incidents/{i3}")).json()
    assert first["status"] == "merged" and first["merged_into"] == i1
    survivor = (await console.get(f"/api/incidents/{i1}")).json()
    assert sorted(a["id"] for a in survivor["alarms"]) == sorted(a["id"] for a in (a1, a2, a3))
    # Each duplicate's own steps, the first one's too: when it came in, and when it was merged away.
    steps = {(e["incident_id"], e["name"]) for e in survivor["timeline"]}
    assert {(i3, "received"), (i3, "merged_away"), (i2, "received"), (i2, "merged_away")} <= steps


async def test_an_operator_position_is_never_overwritten_by_a_later_automatic_fix(client, staff):
    a = await raise_alarm(client)
    console = await staff()
    r = await console.post(f"/api/alarms/{a['id']}/operator-position",
                           json={"lat": 41.5682776, "lon": 120.4596676, "crs": "gcj02"})
    loc = r.json()["alarms"][0]["location"]
    assert loc["source"] == "operator" and loc["locked"] is True
    assert loc["lat"] == pytest.approx(41.566, abs=1e-5)
    ack = await client.post(f"/api/alarms/{a['id']}/positions", headers={"X-Device-Token": a["device_token"]},
                            json={"lat": 41.5765, "lon": 120.4105, "accuracy_m": 8, "crs": "wgs84"})
    assert ack.json()["accepted"] is True
    inc = await incident_of(console, a["id"])
    assert inc["alarms"][0]["location"]["source"] == "operator"
    detail = (await console.get(f"/api/incidents/{inc['id']}")).json()
    assert [p["source"] for p in detail["trails"][str(a["id"])]] == ["gps", "operator", "gps"]


async def test_rating_is_for_closed_alarms_and_only_once(client, staff):
    a = await raise_alarm(client)
    h = {"X-Device-Token": a["device_token"]}
    early = await client.post(f"/api/alarms/{a['id']}/rating", headers=h, json={"score": 5})
    assert early.status_code == 422 and early.json()["code"] == "not_closed"
    console = await staff()
    inc = await incident_of(console, a["id"])
    await console.post(f"/api/incidents/{inc['id']}/close", json={"disposition": "resolved"})
    r = await client.post(f"/api/alarms/{a['id']}/rating", headers=h, json={"score": 4, "comment": "来得很快"})
    assert r.json()["rating"]["score"] == 4
    assert (await client.post(f"/api/alarms/{a['id']}/rating", headers=h, json={"score": 1})).status_code == 409
    assert (await client.post(f"/api/alarms/{a['id']}/rating", headers=h, json={"score": 6})).status_code == 422


async def test_the_callers_rating_reaches_the_command_centre(client, staff, app):
    """Issue 7: stars and comment on the timeline, in the snapshot's closed list, and live."""
    a = await raise_alarm(client)
    console = await staff()
    inc = await incident_of(console, a["id"])
    await console.post(f"/api/incidents/{inc['id']}/close", json={"disposition": "resolved"})
    seq = (await console.get("/api/console/snapshot")).json()["seq"]
    r = await client.post(f"/api/alarms/{a['id']}/rating", headers={"X-Device-Token": a["device_token"]},
                          json={"score": 2, "comment": "等了很久"})
    assert r.status_code == 200, r.text

    live = [e for e in await events_after(app, seq) if e.scope == "staff"]
    rated = [e for e in live if e.name == "incident.rated"]
    assert len(rated) == 1 and rated[0].data["score"] == 2 and rated[0].data["comment"] == "等了很久"
    assert rated[0].data["incident_id"] == inc["id"] and rated[0].data["alarm_id"] == a["id"]
    snap = (await console.get("/api/console/snapshot")).json()
    closed = next(i for i in snap["incidents"] if i["id"] == inc["id"])
    assert closed["alarms"][0]["rating"]["score"] == 2 and closed["alarms"][0]["rating"]["comment"] == "等了很久"
    timeline = (await console.get(f"/api/incidents/{inc['id']}")).json()["timeline"]
    steps = [e for e in timeline if e["name"] == "rated"]
    assert len(steps) == 1, timeline
    detail = steps[0]["detail"]
    assert (detail["alarm_id"], detail["score"], detail["comment"]) == (a["id"], 2, "等了很久")


async def test_bad_console_input_is_refused_and_changes_nothing(client, staff, app):
    a = await raise_alarm(client)
    console = await staff()
    inc = await incident_of(console, a["id"])
    seq = (await console.get("/api/console/snapshot")).json()["seq"]
    for path, body in [("classify", {"type": "alien", "priority": 1}), ("classify", {"type": "fire", "priority": 9}),
                       ("close", {"disposition": "shrug"}), ("notes", {"text": ""}), ("merge", {"incident_ids": []})]:
        r = await console.post(f"/api/incidents/{inc['id']}/{path}", json=body)
        assert r.status_code == 422, (path, r.text)
        assert r.json()["errors"][0]["message_zh"]
    assert (await console.post("/api/incidents/999999/claim")).status_code == 404
    assert await events_after(app, seq) == []


async def test_every_staff_view_of_personal_data_is_audited(client, staff, app):
    a = await raise_alarm(client)
    console = await staff()
    inc = await incident_of(console, a["id"])
    await console.get(f"/api/incidents/{inc['id']}")
    async with app.state.sessions() as s:
        rows = list(await s.scalars(select(AuditEntry).where(AuditEntry.action.like("view.%"))))
    actions = {r.action for r in rows}
    assert {"view.snapshot", "view.incident"} <= actions
    assert all(r.actor.startswith("call_taker:") and r.user_id for r in rows)
    snap = next(r for r in rows if r.action == "view.snapshot")
    assert a["id"] in snap.detail["alarm_ids"]


async def test_the_admin_lists_officer_accounts_and_nobody_else_may(staff):
    r = await (await staff("admin")).get("/api/admin/users", params={"role": "officer"})
    assert {u["username"] for u in r.json()["users"]} >= {"officer", "officer2"}
    assert all(u["role"] == "officer" for u in r.json()["users"])
    assert (await (await staff("dispatcher")).get("/api/admin/users")).status_code == 403


async def test_the_timeline_survives_steps_taken_by_the_system_rather_than_a_person(client, staff, app):
    from baojing import events
    from baojing.deps import unit_of_work

    a = await raise_alarm(client)
    console = await staff()
    inc = await incident_of(console, a["id"])
    async with unit_of_work(app.state) as s:
        await events.emit(s, "media.added", {"id": 1}, incident_id=inc["id"], actor="recorder", action="recording")
    detail = await console.get(f"/api/incidents/{inc['id']}")
    assert detail.status_code == 200
    step = detail.json()["timeline"][-1]
    assert step["name"] == "recording" and step["actor"] == "recorder" and step["actor_name"] is None


async def test_the_snapshot_head_is_the_queue_s_first_incidents_with_the_counts_of_all(client, staff):
    """Issue 10: the console paints the head of the queue while the whole snapshot (seconds at
    10,000 incidents) loads; the head must be what the whole one puts first, and the counts all."""
    for i in range(4):
        await raise_alarm(client, phone=f"1380013800{i}", idempotency_key=f"snapshot-head-{i}")
    console = await staff()
    whole = (await console.get("/api/console/snapshot")).json()
    opened = [i for i in whole["incidents"] if i["status"] in ("new", "claimed")]
    await console.post(f"/api/incidents/{opened[-1]['id']}/claim")
    whole = (await console.get("/api/console/snapshot")).json()
    station = (await console.get("/api/auth/me")).json()["user"].get("station_id")
    opened = sorted((i for i in whole["incidents"] if i["status"] in ("new", "claimed")),
                    key=lambda i: (i["priority"], 0 if station is not None and i["station_id"] == station else 1,
                                   i["received_at"], i["id"]))
    head = (await console.get("/api/console/snapshot", params={"first": 2})).json()
    assert [i["id"] for i in head["incidents"]] == [i["id"] for i in opened[:2]]
    assert head["seq"] == whole["seq"]
    assert head["open"] == whole["open"] == {"new": sum(i["status"] == "new" for i in opened),
                                             "claimed": sum(i["status"] == "claimed" for i in opened)}
    assert whole["open"]["claimed"] == 1
    assert (await console.get("/api/console/snapshot", params={"first": 0})).status_code == 422
