"""Members: login by SMS code, the one-tap alarm, the console's siren entry and acknowledgement,
and every refusal in both languages, audited."""
from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select

from baojing.auth.models import AuditEntry
from baojing.incidents.models import Incident
from keyunit_helpers import BANK_PHONE, SCHOOL_PHONE, key, member_client, unit_id


async def audited(app, action: str) -> list[AuditEntry]:
    await app.state.audit.flush()
    async with app.state.sessions() as s:
        return list(await s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def bilingual(r: httpx.Response, code: str, status: int) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code and body["message_zh"] and body["message_en"], body
    return body


async def test_a_phone_on_no_roster_gets_no_code_and_the_refusal_is_audited(app, client, staff):
    bilingual(await client.post("/api/member/code", json={"phone": "13812345678"}), "not_on_roster", 403)
    rows = await audited(app, "member.refused")
    assert rows and rows[0].actor == "phone:138****5678"
    admin = await staff("admin")
    assert (await admin.get("/api/admin/sms", params={"phone": "13812345678"})).json()["messages"] == []


async def test_a_wrong_code_counts_and_the_sixth_try_is_refused(app, client, staff):
    await client.post("/api/member/code", json={"phone": BANK_PHONE})
    for i in range(4):
        bilingual(await client.post("/api/member/login", json={"phone": BANK_PHONE, "code": "abcdef"}), "wrong_code", 401)
    bilingual(await client.post("/api/member/login", json={"phone": BANK_PHONE, "code": "abcdef"}), "code_locked", 429)
    from keyunit_helpers import code_from_outbox
    code = await code_from_outbox(await staff("admin"), BANK_PHONE)
    bilingual(await client.post("/api/member/login", json={"phone": BANK_PHONE, "code": code}), "code_locked", 429)
    assert len(await audited(app, "sms_code.refused")) == 6
    bilingual(await client.post("/api/member/code", json={"phone": BANK_PHONE}), "code_too_soon", 429)


async def test_a_code_works_once(app, client, staff):
    admin = await staff("admin")
    await client.post("/api/member/code", json={"phone": BANK_PHONE})
    from keyunit_helpers import code_from_outbox
    code = await code_from_outbox(admin, BANK_PHONE)
    assert (await client.post("/api/member/login", json={"phone": BANK_PHONE, "code": code})).status_code == 200
    bilingual(await client.post("/api/member/login", json={"phone": BANK_PHONE, "code": code}), "code_used", 401)


async def test_a_member_sees_their_units_and_nobody_else_may_one_tap(app, client, staff):
    admin = await staff("admin")
    member = await member_client(app, admin, SCHOOL_PHONE)
    me = (await member.get("/api/member/me")).json()
    assert sorted(u["kind"] for u in me["member"]["units"]) == ["bank", "school"]
    school = await unit_id(member, "第一中学")
    body = {"idempotency_key": key(), "unit_id": school}
    bilingual(await client.post("/api/member/alarms", json=body), "unauthorized", 401)
    bilingual(await (await staff("calltaker")).post("/api/member/alarms", json=body), "not_a_member", 403)
    bank_member = await member_client(app, admin, BANK_PHONE)
    bilingual(await bank_member.post("/api/member/alarms", json=body), "not_your_unit", 403)
    assert await audited(app, "keyunit.one_tap_refused")
    async with app.state.sessions() as s:
        assert (await s.scalar(select(Incident.id).limit(1))) is None, "a refused one-tap stored something"


async def test_one_tap_reaches_the_consoles_with_the_profile_and_sounds_until_acknowledged(app, staff):
    admin = await staff("admin")
    member = await member_client(app, admin, SCHOOL_PHONE)
    school = await unit_id(member, "第一中学")
    k = key()
    r = await member.post("/api/member/alarms", json={"idempotency_key": k, "unit_id": school,
                                                      "location": {"lat": 41.5746, "lon": 120.4526, "accuracy_m": 8}})
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["alarm"]["status"] == "received" and out["alarm"]["device_token"]
    ka_id = out["keyunit_alarm"]["id"]
    again = await member.post("/api/member/alarms", json={"idempotency_key": k, "unit_id": school})
    assert again.status_code == 200 and again.json()["keyunit_alarm"]["id"] == ka_id

    desk = await staff("calltaker")
    listed = (await desk.get("/api/keyunits/alarms")).json()["alarms"]
    (entry,) = listed
    assert entry["siren"] is True and entry["position_from"] == "phone"
    unit = entry["unit"]
    assert unit["kind"] == "school" and unit["address"] and unit["contacts"][0]["phone"] == "13900000091"
    assert unit["station_name_zh"] == "双塔区站前派出所（演示）" and unit["station_id"] == entry["station_id"]
    incident = (await desk.get(f"/api/incidents/{entry['incident_id']}")).json()
    assert incident["priority"] == 1 and incident["station_id"] == unit["station_id"]
    assert incident["alarms"][0]["channel"] == "keyunit"

    # The unit's security contact is told by SMS at once.
    for _ in range(100):
        sms = (await admin.get("/api/admin/sms", params={"phone": "13900000091"})).json()["messages"]
        if sms:
            break
        await asyncio.sleep(0.05)
    assert sms and sms[0]["purpose"] == "keyunit_alarm" and "一键报警" in sms[0]["text"]

    acked = (await desk.post(f"/api/keyunits/alarms/{ka_id}/ack")).json()
    assert acked["siren"] is False and acked["acked_by"]["display_name"] == "接警员 王丽"
    again = (await (await staff("dispatcher")).post(f"/api/keyunits/alarms/{ka_id}/ack")).json()
    assert again["acked_by"]["display_name"] == "接警员 王丽", "the first acknowledgement counts"
    assert len(await audited(app, "keyunit.ack")) == 1


async def test_without_a_fix_the_units_registered_position_is_sent(app, staff):
    member = await member_client(app, await staff("admin"), BANK_PHONE)
    bank = await unit_id(member, "银行")
    out = (await member.post("/api/member/alarms", json={"idempotency_key": key(), "unit_id": bank})).json()
    assert out["keyunit_alarm"]["position_from"] == "unit"
    loc = out["alarm"]["location"]
    assert abs(loc["lat"] - 41.5712) < 1e-6 and abs(loc["lon"] - 120.4598) < 1e-6


async def test_a_new_one_tap_reads_nothing_its_own_transaction_already_knows(app, staff):
    """Ten presses at once queue for SQLite's one connection, each holding it for all its
    statements (bench/README.md, key units): a new press reads its alarm once (the idempotency
    check), and not back again, nor notes and photos it cannot have yet."""
    from sqlalchemy import event

    member = await member_client(app, await staff("admin"), BANK_PHONE)
    bank = await unit_id(member, "银行")
    selects = []

    def outer_from(statement: str) -> str | None:
        """The table a SELECT reads rows from: its own FROM, not one inside a scalar subquery
        (the sender's recent-alarm counts, alarms/abuse.py, read no alarm back)."""
        depth = 0
        for i, ch in enumerate(statement):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0 and statement.startswith("FROM ", i):
                return statement[i + 5:].split()[0].lower()
        return None

    def seen(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and outer_from(statement):
            selects.append(outer_from(statement))

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        r = await member.post("/api/member/alarms", json={"idempotency_key": key(), "unit_id": bank})
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert r.status_code == 201, r.text
    assert selects.count("alarms") == 1, selects
    assert "key_unit_alarm_notes" not in selects, selects


async def test_the_member_adds_text_and_a_photo_and_cancels_and_the_console_sees_all(app, staff):
    member = await member_client(app, await staff("admin"), BANK_PHONE)
    bank = await unit_id(member, "银行")
    ka = (await member.post("/api/member/alarms", json={"idempotency_key": key(), "unit_id": bank})).json()["keyunit_alarm"]
    assert (await member.post(f"/api/member/alarms/{ka['id']}/notes", json={"text": "两名男子持刀在大厅"})).status_code == 200
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    r = await member.post(f"/api/member/alarms/{ka['id']}/photos", files={"file": ("hall.png", png, "image/png")})
    assert r.status_code == 200, r.text
    bilingual(await member.post(f"/api/member/alarms/{ka['id']}/photos", files={"file": ("x.png", b"not an image", "image/png")}),
              "bad_file_type", 422)
    r = await member.post(f"/api/member/alarms/{ka['id']}/cancel", json={"reason": "误触"})
    assert r.json()["status"] == "cancelled"
    bilingual(await member.post(f"/api/member/alarms/{ka['id']}/cancel", json={"reason": "误触"}), "already_cancelled", 409)
    desk = await staff("calltaker")
    (entry,) = (await desk.get("/api/keyunits/alarms")).json()["alarms"]
    assert entry["status"] == "cancelled" and entry["cancel_reason"] == "误触"
    assert entry["notes"][0]["text"] == "两名男子持刀在大厅" and len(entry["photos"]) == 1
    assert (await desk.get(entry["photos"][0]["url"])).content == png
    assert entry["siren"] is True, "a cancelled alarm still needs a call-taker's acknowledgement"


async def test_a_member_taken_off_the_roster_loses_one_tap_mid_session(app, staff):
    admin = await staff("admin")
    member = await member_client(app, admin, BANK_PHONE)
    bank = await unit_id(member, "银行")
    roster = (await admin.get("/api/keyunits", params={"roster": True})).json()["units"]
    unit = next(u for u in roster if u["id"] == bank)
    keep = [{"phone": m["phone"], "name": m["name"], "role": m["role"]} for m in unit["roster"] if m["phone"] != BANK_PHONE]
    assert (await admin.put(f"/api/keyunits/{bank}/roster", json={"members": keep})).status_code == 200
    bilingual(await member.post("/api/member/alarms", json={"idempotency_key": key(), "unit_id": bank}),
              "removed_from_roster", 403)
    bilingual(await member.get("/api/member/me"), "removed_from_roster", 403)
    assert await audited(app, "member.refused")


async def test_ten_one_taps_from_ten_units_at_once_each_get_a_siren_entry(app, staff):
    admin = await staff("admin")
    phones = [f"1370000{i:04d}" for i in range(10)]
    ids = []
    for i, phone in enumerate(phones):
        r = await admin.post("/api/keyunits", json={
            "name": f"测试单位{i}", "kind": "company", "address": f"双塔区测试路 {i} 号",
            "lat": 41.57 + i * 0.001, "lon": 120.45})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
        await admin.put(f"/api/keyunits/{ids[-1]}/roster", json={"members": [{"phone": phone, "name": f"保安{i}", "role": "保安"}]})
    members = [await member_client(app, admin, p) for p in phones]
    results = await asyncio.gather(*(m.post("/api/member/alarms", json={"idempotency_key": key(), "unit_id": u})
                                     for m, u in zip(members, ids)))
    assert [r.status_code for r in results] == [201] * 10
    listed = (await (await staff("calltaker")).get("/api/keyunits/alarms")).json()["alarms"]
    assert sorted(a["unit"]["id"] for a in listed) == sorted(ids)
    assert all(a["siren"] for a in listed) and len({a["incident_id"] for a in listed}) == 10
