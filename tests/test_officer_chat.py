"""The officer sent to a text or silent alarm: sees the calls on the incident, reads what the caller
wrote and showed (live, before joining too), joins the text chat unasked, and may see its photos.
Nobody else gets in: not an officer of another unit, not one whose assignment is over."""
from sqlalchemy import select

from baojing.auth.models import AuditEntry
from baojing.events import Event
from call_helpers import call_body, jpeg

HERE = {"lat": 41.567, "lon": 120.455, "accuracy_m": 10}


async def on_duty(staff, app, username):
    c = await staff(username)
    assert (await c.post("/api/officer/duty", json={"on_duty": True})).status_code == 200
    assert (await c.post("/api/officer/positions", json={"points": [HERE]})).status_code == 202
    await app.state.board.flush()
    return c


async def text_alarm_with_officer(client, staff, app, **over):
    r = await client.post("/api/calls", json=call_body("text", **over))
    assert r.status_code == 201, r.text
    call = r.json()
    me = {"X-Device-Token": call["device_token"]}
    desk = await staff("calltaker")
    view = (await desk.post(f"/api/calls/{call['id']}/answer")).json()
    officer = await on_duty(staff, app, "officer")
    units = (await desk.get("/api/units")).json()["units"]
    unit = next(u for u in units if u["call_sign"] == "双塔21")
    r = await desk.post(f"/api/incidents/{view['incident_id']}/dispatch", json={"unit_ids": [unit["id"]]})
    assert r.status_code == 200, r.text
    return call, me, desk, officer, view["incident_id"], r.json()["assignments"][0]


async def test_the_officer_reads_the_callers_chat_and_photos_and_joins_it_unasked(client, staff, app):
    call, me, desk, officer, incident_id, asg = await text_alarm_with_officer(client, staff, app, silent=True)
    await client.post(f"/api/calls/{call['id']}/messages", json={"text": "他在门外，我躲在卧室"}, headers=me)
    r = await client.post(f"/api/calls/{call['id']}/attachments", headers=me,
                          files={"file": ("door.jpg", jpeg(), "image/jpeg")})
    assert r.status_code == 201, r.text
    photo_url = r.json()["attachment"]["url"]

    home = (await officer.get("/api/officer/me")).json()
    assert home["incident"]["alarms"][0]["channel"] == "text"
    (c,) = home["calls"]
    assert (c["id"], c["kind"], c["silent"], c["joined"]) == (call["id"], "text", True, False)
    texts = [m["text"] for m in (await officer.get(f"/api/calls/{call['id']}/messages")).json()["messages"]]
    assert texts == ["他在门外，我躲在卧室", None]
    assert (await officer.get(photo_url)).status_code == 200

    # Before joining, the officer cannot write; after, both ways, and the join is audited.
    assert (await officer.post(f"/api/calls/{call['id']}/messages", json={"text": "到了"})).status_code == 403
    r = await officer.post(f"/api/calls/{call['id']}/join")
    assert r.status_code == 200, r.text
    assert any(p["role"] == "officer" and p["joined_at"] for p in r.json()["parties"])
    assert (await officer.get("/api/officer/me")).json()["calls"][0]["joined"] is True
    r = await officer.post(f"/api/calls/{call['id']}/messages", json={"text": "民警已到楼下，请保持安静"})
    assert r.status_code == 201 and r.json()["role"] == "officer"
    mine = (await client.get(f"/api/calls/{call['id']}/messages", headers=me)).json()["messages"]
    assert mine[-1]["text"] == "民警已到楼下，请保持安静" and mine[-1]["author"] is None
    async with app.state.sessions() as s:
        audit = await s.scalar(select(AuditEntry).where(AuditEntry.action == "call.join",
                                                        AuditEntry.subject_id == call["id"]))
        # The caller's messages reached the unit live, before it joined.
        unit_msgs = list(await s.scalars(select(Event).where(Event.scope == "unit", Event.name == "call.message",
                                                             Event.unit_id == asg["unit_id"])))
    assert audit is not None and audit.actor.startswith("officer:")
    assert [e.data["text"] for e in unit_msgs][:2] == ["他在门外，我躲在卧室", None]


async def test_nobody_else_reads_or_joins_the_chat(client, staff, app):
    call, me, desk, officer, incident_id, asg = await text_alarm_with_officer(client, staff, app)
    await client.post(f"/api/calls/{call['id']}/messages", json={"text": "救命"}, headers=me)
    r = await client.post(f"/api/calls/{call['id']}/attachments", headers=me,
                          files={"file": ("x.jpg", jpeg(), "image/jpeg")})
    photo_url = r.json()["attachment"]["url"]
    other = await on_duty(staff, app, "officer2")  # 双塔22, not sent
    for r in (await other.get(f"/api/calls/{call['id']}/messages"), await other.post(f"/api/calls/{call['id']}/join"),
              await other.get(photo_url)):
        assert r.status_code == 403, r.text
    # Stood down: the officer is out of it.
    await desk.post(f"/api/assignments/{asg['id']}/cancel")
    assert (await officer.post(f"/api/calls/{call['id']}/join")).status_code == 403
    assert (await officer.get(f"/api/calls/{call['id']}/messages")).status_code == 403


async def test_a_video_call_is_joined_only_by_the_desks_invitation(client, staff, app):
    r = await client.post("/api/calls", json=call_body("video"))
    call = r.json()
    desk = await staff("calltaker")
    view = (await desk.post(f"/api/calls/{call['id']}/answer")).json()
    await on_duty(staff, app, "officer")
    officer = await staff("officer")
    unit = next(u for u in (await desk.get("/api/units")).json()["units"] if u["call_sign"] == "双塔21")
    await desk.post(f"/api/incidents/{view['incident_id']}/dispatch", json={"unit_ids": [unit["id"]]})
    assert (await officer.post(f"/api/calls/{call['id']}/join")).status_code == 403
    assert (await officer.get(f"/api/calls/{call['id']}/messages")).status_code == 200


async def test_the_caller_turns_silent_mode_on_and_the_officer_hears_of_it(client, staff, app):
    call, me, desk, officer, incident_id, asg = await text_alarm_with_officer(client, staff, app)
    assert (await officer.get("/api/officer/me")).json()["calls"][0]["silent"] is False
    r = await client.post(f"/api/calls/{call['id']}/silent", json={"silent": True}, headers=me)
    assert r.status_code == 200 and r.json()["silent"] is True
    assert (await officer.get("/api/officer/me")).json()["calls"][0]["silent"] is True
    async with app.state.sessions() as s:
        pushed = list(await s.scalars(select(Event).where(Event.scope == "unit", Event.name == "call.upserted",
                                                          Event.unit_id == asg["unit_id"]).order_by(Event.seq)))
    assert pushed[-1].data["silent"] is True
    # Only the caller may say so.
    assert (await desk.post(f"/api/calls/{call['id']}/silent", json={"silent": False})).status_code == 404
