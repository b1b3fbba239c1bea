"""Abuse is flagged and judged, never gated; old personal data goes, statistics stay."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update

from baojing.alarms.models import Alarm, AlarmPosition
from baojing.auth.models import AuditEntry
from baojing.config import ROOT
from baojing.db import utcnow
from baojing.events import Event
from baojing.incidents.models import Incident
from builders import alarm_body


def from_address(app, address):
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 5000)), base_url="http://testserver")


async def _incident_of(console, alarm_id):
    for inc in (await console.get("/api/console/snapshot")).json()["incidents"]:
        for a in inc["alarms"]:
            if a["id"] == alarm_id:
                return inc, a


async def test_a_flood_from_one_address_is_all_accepted_at_once_and_flagged(app, staff):
    async with from_address(app, "203.0.113.50") as c:
        answers = [await c.post("/api/alarms", json=alarm_body()) for _ in range(15)]
    assert [r.status_code for r in answers] == [201] * 15  # never refused
    console = await staff("dispatcher")
    _, first = await _incident_of(console, answers[0].json()["id"])
    inc, last = await _incident_of(console, answers[-1].json()["id"])
    assert first["abuse"]["address_alarms"] == 0 and first["abuse"]["possible"] is False
    assert last["abuse"]["address_alarms"] == 14 and last["abuse"]["possible"] is True
    assert last["abuse"]["device_alarms"] == 0  # each was a new phone
    assert inc["priority"] == 2  # flagged, not lowered: only a person's mark lowers


async def test_one_phone_sending_many_is_flagged_by_device(client, staff):
    token = None
    for _ in range(7):
        r = await client.post("/api/alarms", json=alarm_body(), headers={"X-Device-Token": token} if token else {})
        token = token or r.json()["device_token"]
    _, a = await _incident_of(await staff("dispatcher"), r.json()["id"])
    assert a["abuse"]["device_alarms"] == 6 and a["abuse"]["possible"] is True


async def test_a_marked_number_lowers_later_alarms_with_the_reason_shown_never_hides_them(client, staff, app):
    console = await staff("calltaker")
    first = (await client.post("/api/alarms", json=alarm_body(phone="13900001111"))).json()
    r = await console.post(f"/api/alarms/{first['id']}/abuse-mark", json={"target": "phone", "reason": "骚扰电话，当日 30 次"})
    assert r.status_code == 201, r.text
    mark = r.json()
    assert (await (await staff("officer")).post(f"/api/alarms/{first['id']}/abuse-mark",
                                                 json={"target": "phone", "reason": "x"})).status_code == 403
    later = await client.post("/api/alarms", json=alarm_body(phone="13900001111"))
    assert later.status_code == 201
    inc, a = await _incident_of(console, later.json()["id"])  # in the queue, like any other
    assert inc["priority"] == 3 and a["abuse"]["possible"] is True
    assert a["abuse"]["marked"] == {"id": mark["id"], "reason": "骚扰电话，当日 30 次"}
    other = await client.post("/api/alarms", json=alarm_body(phone="13900002222"))
    assert (await _incident_of(console, other.json()["id"]))[0]["priority"] == 2
    assert [m["id"] for m in (await console.get("/api/abuse/marks")).json()["marks"]] == [mark["id"]]
    assert (await console.post(f"/api/abuse/marks/{mark['id']}/lift")).status_code == 200
    again = await client.post("/api/alarms", json=alarm_body(phone="13900001111"))
    assert (await _incident_of(console, again.json()["id"]))[0]["priority"] == 2
    async with app.state.sessions() as s:
        actions = set(await s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("abuse.%"))))
    assert actions == {"abuse.mark", "abuse.lift"}


async def test_the_terms_say_how_long_data_is_kept(client):
    t = (await client.get("/api/terms")).json()
    assert t["retention_days"] == 180 and "180 天" in t["text_zh"] and "180 days" in t["text_en"]


async def _closed_alarm(client, console, days_ago: int, case_ref: str | None = None, app=None) -> int:
    a = (await client.post("/api/alarms", json=alarm_body())).json()
    await client.post(f"/api/alarms/{a['id']}/positions", json={"lat": 41.577, "lon": 120.411, "accuracy_m": 10},
                      headers={"X-Device-Token": a["device_token"]})
    inc, _ = await _incident_of(console, a["id"])
    await console.post(f"/api/incidents/{inc['id']}/claim")
    r = await console.post(f"/api/incidents/{inc['id']}/close", json={"disposition": "resolved"})
    assert r.status_code == 200, r.text
    async with app.state.sessions() as s, s.begin():
        await s.execute(update(Incident).where(Incident.id == inc["id"]).values(
            closed_at=utcnow() - timedelta(days=days_ago), case_ref=case_ref))
    return a["id"]


async def test_old_closed_alarms_lose_personal_data_and_keep_counts_and_times(client, staff, app, settings):
    console = await staff("dispatcher")
    old = await _closed_alarm(client, console, 200, app=app)
    case = await _closed_alarm(client, console, 200, case_ref="朝公(刑)立字[2026]1号", app=app)
    recent = await _closed_alarm(client, console, 10, app=app)
    out = subprocess.run([sys.executable, "-m", "baojing.cli", "anonymise"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "BAOJING_DATABASE_URL": settings.database_url})
    assert out.returncode == 0 and "anonymised 1 alarms" in out.stdout, out.stdout + out.stderr
    async with app.state.sessions() as s:
        gone = await s.get(Alarm, old)
        assert gone.phone == "" and gone.name is None and gone.lat is None and gone.source_address is None
        assert gone.anonymised_at is not None and gone.received_at is not None and gone.channel == "phone"
        assert await s.scalar(select(func.count()).where(AlarmPosition.alarm_id == old)) == 0
        for kept in (case, recent):
            a = await s.get(Alarm, kept)
            assert a.phone == "13800138000" and a.name == "张三"
            assert await s.scalar(select(func.count()).where(AlarmPosition.alarm_id == kept)) > 0
        texts = [e.data for e in await s.scalars(select(Event).where(Event.incident_id == gone.incident_id))]
        assert texts and all(d == {"anonymised": True} for d in texts)
        assert "13800138000" not in str([e.data for e in await s.scalars(select(Event).where(
            Event.incident_id == gone.incident_id))])
        run = await s.scalar(select(AuditEntry).where(AuditEntry.action == "retention.anonymise"))
        assert run.detail["alarms"] == 1 and run.detail["days"] == 180
        assert await s.scalar(select(func.count()).select_from(Alarm)) == 3  # counts kept


async def _age(app, incident_id: int, days: int) -> None:
    async with app.state.sessions() as s, s.begin():
        await s.execute(update(Incident).where(Incident.id == incident_id).values(
            closed_at=utcnow() - timedelta(days=days)))


async def _close(console, app, incident_id: int, days_ago: int = 200) -> None:
    await console.post(f"/api/incidents/{incident_id}/claim")
    r = await console.post(f"/api/incidents/{incident_id}/close", json={"disposition": "resolved"})
    assert r.status_code == 200, r.text
    await _age(app, incident_id, days_ago)


async def test_alarms_linked_to_a_case_keep_their_personal_data_and_merged_duplicates_lose_it(client, staff, app):
    from baojing.alarms.retention import anonymise
    from baojing.traffic.models import TrafficCase
    from keyunit_helpers import BANK_PHONE, key, member_client

    console = await staff("dispatcher")

    async def incident_of(alarm_id: int) -> int:
        async with app.state.sessions() as s:  # short: SQLite's one connection serves the requests too
            return await s.scalar(select(Alarm.incident_id).where(Alarm.id == alarm_id))

    if True:
        # 1. A case (立案) recorded by staff on a closed incident, audited.
        recorded = await _closed_alarm(client, console, 200, app=app)
        inc = await incident_of(recorded)
        r = await console.put(f"/api/incidents/{inc}/case", json={"case_ref": "  "})
        assert r.status_code == 422 and r.json()["errors"][0]["message_zh"] and r.json()["errors"][0]["message_en"]
        assert (await (await staff("officer")).put(f"/api/incidents/{inc}/case",
                                                   json={"case_ref": "x"})).status_code == 403
        r = await console.put(f"/api/incidents/{inc}/case", json={"case_ref": " 朝公(刑)立字[2026]7号 "})
        assert r.status_code == 200 and r.json()["case_ref"] == "朝公(刑)立字[2026]7号", r.text
        # 2. A minor-accident case of the traffic desk opened from the alarm.
        traffic = await _closed_alarm(client, console, 200, app=app)
        # 3. A key-unit member's sighting of a police bulletin.
        bank = await member_client(app, await staff("admin"), BANK_PHONE)
        b = (await console.post("/api/bulletins", json={
            "title": "寻人", "text": "一名老人走失", "subject": "男，约 80 岁", "urgency": "immediate",
            "expires_at": (utcnow() + timedelta(hours=6)).isoformat(), "target_kinds": ["bank"],
            "target_area": [[41.56, 120.44], [41.56, 120.47], [41.58, 120.47], [41.58, 120.44]]})).json()
        r = await bank.post(f"/api/member/bulletins/{b['id']}/found", json={
            "idempotency_key": key(), "location": {"lat": 41.5713, "lon": 120.4599, "accuracy_m": 10}})
        assert r.status_code == 201, r.text
        (entry,) = (await console.get("/api/keyunits/alarms")).json()["alarms"]
        await _close(console, app, entry["incident_id"])
        # 4. A duplicate merged into an incident closed long ago: closed too, and no case; and a
        # duplicate of that duplicate, merged into it first (two levels).
        dup = (await client.post("/api/alarms", json=alarm_body(phone="13800009999"))).json()["id"]
        dup_of_dup = (await client.post("/api/alarms", json=alarm_body(phone="13800007777"))).json()["id"]
        survivor = (await client.post("/api/alarms", json=alarm_body(phone="13800008888"))).json()["id"]
        r = await console.post(f"/api/incidents/{await incident_of(dup)}/merge",
                               json={"incident_ids": [await incident_of(dup_of_dup)]})
        assert r.status_code == 200, r.text
        target = await incident_of(survivor)
        await console.post(f"/api/incidents/{target}/claim")
        r = await console.post(f"/api/incidents/{target}/merge", json={"incident_ids": [await incident_of(dup)]})
        assert r.status_code == 200, r.text
        await _close(console, app, target)
        # 5. A case recorded on a duplicate before it was merged: the survivor holds its alarm now.
        with_case = (await client.post("/api/alarms", json=alarm_body(phone="13800006666"))).json()["id"]
        keeper = (await client.post("/api/alarms", json=alarm_body(phone="13800005555"))).json()["id"]
        assert (await console.put(f"/api/incidents/{await incident_of(with_case)}/case",
                                  json={"case_ref": "朝公(刑)立字[2026]9号"})).status_code == 200
        kept_target = await incident_of(keeper)
        await console.post(f"/api/incidents/{kept_target}/claim")
        r = await console.post(f"/api/incidents/{kept_target}/merge", json={"incident_ids": [await incident_of(with_case)]})
        assert r.status_code == 200, r.text
        await _close(console, app, kept_target)
    async with app.state.sessions() as s, s.begin():
        device = await s.scalar(select(Alarm.device_id).where(Alarm.id == traffic))
        s.add(TrafficCase(code="RTN0001", device_id=device, checklist=[], alarm_id=traffic))
    async with app.state.sessions() as s, s.begin():
        assert (await anonymise(s, 180))["alarms"] == 3  # the duplicates and their survivor
    async with app.state.sessions() as s:
        phones = dict((await s.execute(select(Alarm.id, Alarm.phone))).all())
        sighting = await s.scalar(select(Alarm.id).where(Alarm.incident_id == entry["incident_id"]))
        assert phones[recorded] and phones[traffic] and phones[sighting] == BANK_PHONE
        assert phones[dup] == "" and phones[dup_of_dup] == "" and phones[survivor] == ""
        assert phones[with_case] == "13800006666" and phones[keeper] == "13800005555"
        # The merged-away incidents' own history carried the duplicates' numbers too.
        history = str([e.data for e in await s.scalars(select(Event))])
        assert not {"13800009999", "13800007777", "13800008888"} & set(re.findall(r"1380000\d{4}", history))
        run = await s.scalar(select(AuditEntry).where(AuditEntry.action == "incident.case"))
        assert run.detail == {"case_ref": "朝公(刑)立字[2026]7号", "previous": None}
