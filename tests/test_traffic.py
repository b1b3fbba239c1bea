"""Traffic quick handling (快处快赔) over the API: the drivers' flow, every refusal (bilingual, nothing
half-submitted), the resumable upload, the desk's three ways out, documents, evidence."""
from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from PIL import Image

from traffic_helpers import (ANSWERS, PHONE_A, PHONE_B, PLATE_A, PLATE_B, WHERE, Driver, confirm, jpeg,
                             latest_code, png_bomb, ready_case, sms_to)


def bilingual(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code, body
    assert body["message_zh"] and body["message_en"], body
    return body


@pytest.fixture
async def admin(staff):
    return await staff("admin")


@pytest.fixture
async def desk(staff):
    return await staff("traffic")


# ---------- eligibility ----------

async def test_an_ineligible_answer_cannot_open_a_case(client):
    r = await client.post("/api/traffic/cases", json={"answers": {**ANSWERS, "injured": True}, "location": WHERE})
    body = bilingual(r, 422, "not_eligible")
    assert body["errors"][0]["field"] == "answers.injured"


async def test_an_ineligible_answer_becomes_an_ordinary_alarm_carrying_what_was_entered(client, staff):
    r = await client.post("/api/traffic/to-alarm", json={
        "idempotency_key": "traffic-test-0001", "answers": {**ANSWERS, "injured": True, "drivable": False},
        "phone": PHONE_A, "location": WHERE, "plates": [PLATE_A], "description": "两车相撞，一人受伤"})
    assert r.status_code == 201, r.text
    alarm = r.json()
    assert alarm["device_token"] and alarm["ruled_out"] == ["injured", "drivable"]
    console = await staff("calltaker")
    snap = (await console.get("/api/console/snapshot")).json()["incidents"]
    incident = next(i for i in snap if any(a["id"] == alarm["id"] for a in i["alarms"]))
    assert incident["type"] == "traffic"
    a = incident["alarms"][0]
    assert a["phone"] == PHONE_A and a["location"]["lat"] == pytest.approx(WHERE["lat"])
    assert "有人受伤" in a["place_text"] and PLATE_A in a["place_text"] and "一人受伤" in a["place_text"]


# ---------- the drivers' refusals ----------

async def test_a_plate_that_is_not_a_plate_is_refused_in_both_languages(client):
    a = Driver(client)
    case = await a.open()
    r = await a.req("PUT", f"/api/traffic/cases/{case['id']}/parties/A", json={"plate": "ABC123"})
    body = bilingual(r, 422, "validation_error")
    assert body["errors"][0]["field"] == "plate" and "车牌" in body["errors"][0]["message_zh"]
    r = await a.req("PUT", f"/api/traffic/cases/{case['id']}/parties/A", json={"plate": "辽n d·12345"})
    assert r.status_code == 200 and r.json()["parties"]["A"]["plate"] == "辽ND12345"


async def test_the_same_phone_for_both_parties_is_refused(client):
    a = Driver(client)
    case = await a.open()
    cid = case["id"]
    assert (await a.req("PUT", f"/api/traffic/cases/{cid}/parties/A", json={"phone": PHONE_A})).status_code == 200
    r = await a.req("PUT", f"/api/traffic/cases/{cid}/parties/B", json={"phone": "138-0013-8001"})
    bilingual(r, 422, "same_phone")
    assert (await a.req("GET", f"/api/traffic/cases/{cid}")).json()["parties"]["B"]["phone"] is None


async def test_a_code_for_the_other_party_is_named_as_such_and_stays_usable(client, admin):
    a = Driver(client)
    case = await a.open()
    cid = case["id"]
    await a.req("PUT", f"/api/traffic/cases/{cid}/parties/A", json={"phone": PHONE_A})
    await a.req("PUT", f"/api/traffic/cases/{cid}/parties/B", json={"phone": PHONE_B})
    assert (await a.req("POST", f"/api/traffic/cases/{cid}/parties/A/code")).status_code == 200
    assert (await a.req("POST", f"/api/traffic/cases/{cid}/parties/B/code")).status_code == 200
    code_a, code_b = await latest_code(admin, PHONE_A), await latest_code(admin, PHONE_B)
    r = await a.req("POST", f"/api/traffic/cases/{cid}/parties/B/verify", json={"code": code_a})
    bilingual(r, 401, "code_for_other_party")
    assert (await a.req("GET", f"/api/traffic/cases/{cid}")).json()["parties"]["B"]["verified"] is False
    # A's code was not spent by the slip, and each party's own code works.
    r = await a.req("POST", f"/api/traffic/cases/{cid}/parties/A/verify", json={"code": code_a})
    assert r.status_code == 200 and r.json()["parties"]["A"]["verified"]
    r = await a.req("POST", f"/api/traffic/cases/{cid}/parties/B/verify", json={"code": code_b})
    assert r.status_code == 200 and r.json()["parties"]["B"]["verified"]


async def test_fewer_than_all_photos_submits_nothing(client, admin):
    a, b, case = await ready_case(client, admin, photos=False)
    cid = case["id"]
    for slot in range(5):
        assert (await a.upload(cid, slot, jpeg(seed=slot))).status_code == 200
    r = await a.req("POST", f"/api/traffic/cases/{cid}/submit", json={"mode": "ruling"})
    body = bilingual(r, 422, "photos_missing")
    assert body["errors"] == [{"field": "photos.5", "message_zh": "缺少照片：路面标线或标志",
                               "message_en": "Missing photo: Road markings or signs"}]
    assert (await a.req("GET", f"/api/traffic/cases/{cid}")).json()["status"] == "draft"


async def test_unconfirmed_numbers_submit_nothing(client):
    a = Driver(client)
    case = await a.open()
    cid = case["id"]
    await a.req("PUT", f"/api/traffic/cases/{cid}/parties/A", json={"phone": PHONE_A, "plate": PLATE_A,
                                                                    "vehicle_type": "small_car", "insurer": "人保"})
    for slot in range(6):
        await a.upload(cid, slot, jpeg(seed=slot))
    body = bilingual(await a.req("POST", f"/api/traffic/cases/{cid}/submit", json={}), 422, "incomplete")
    fields = {e["field"] for e in body["errors"]}
    assert {"parties.A.phone", "parties.B.phone", "parties.B.plate"} <= fields


async def test_a_file_that_is_not_an_image_is_refused_whatever_its_name(client, app):
    a = Driver(client)
    case = await a.open()
    fake = b"%PDF-1.4 this is not a photo at all" * 100
    tmp = app.state.settings.media_dir / "tmp"
    before = set(tmp.glob("*.upload"))
    r = await a.upload(case["id"], 0, fake)
    bilingual(r, 422, "not_an_image")
    view = (await a.req("GET", f"/api/traffic/cases/{case['id']}")).json()
    assert view["photos"] == {}
    assert set(tmp.glob("*.upload")) == before  # nothing half-kept


async def test_an_oversized_photo_is_refused_before_any_byte(client, app):
    a = Driver(client)
    case = await a.open()
    r = await a.req("POST", f"/api/traffic/cases/{case['id']}/uploads",
                    json={"slot": 0, "size": app.state.settings.traffic_photo_max_bytes + 1})
    bilingual(r, 422, "file_too_large")


async def test_a_decompression_bomb_is_refused_before_decoding(client):
    a = Driver(client)
    case = await a.open()
    bomb = png_bomb()
    assert len(bomb) < 200_000
    r = await a.upload(case["id"], 0, bomb)
    body = bilingual(r, 422, "too_many_pixels")
    assert "10000" in body["message_en"]
    assert (await a.req("GET", f"/api/traffic/cases/{case['id']}")).json()["photos"] == {}


async def test_more_bytes_than_declared_are_refused(client):
    a = Driver(client)
    case = await a.open()
    r = await a.req("POST", f"/api/traffic/cases/{case['id']}/uploads", json={"slot": 0, "size": 10})
    r = await a.req("PATCH", f"/api/traffic/uploads/{r.json()['id']}", content=b"x" * 11,
                    headers={"Upload-Offset": "0"})
    bilingual(r, 422, "too_many_bytes")


async def test_a_stranger_cannot_see_or_touch_a_case(client):
    a = Driver(client)
    case = await a.open()
    stranger = Driver(client)
    await stranger.open()
    r = await stranger.req("GET", f"/api/traffic/cases/{case['id']}")
    bilingual(r, 404, "not_found")
    r = await stranger.req("POST", f"/api/traffic/cases/{case['id']}/uploads", json={"slot": 0, "size": 100})
    bilingual(r, 404, "not_found")


# ---------- the resumable upload ----------

async def test_an_interrupted_upload_resumes_from_the_offset_the_server_holds(client, app):
    a = Driver(client)
    case = await a.open()
    data = jpeg(1600, 1200, seed=3, quality=95)
    assert len(data) > 4 * 64 * 1024
    stopped = await a.upload(case["id"], 2, data, stop_after=3)
    assert stopped["stopped"]
    r = await a.req("GET", f"/api/traffic/uploads/{stopped['id']}")
    assert r.json() == {"id": stopped["id"], "offset": 3 * 64 * 1024, "size": len(data), "done": False}
    # A retry of a chunk the server already has is told where to go on from.
    r = await a.req("PATCH", f"/api/traffic/uploads/{stopped['id']}", content=data[:1000], headers={"Upload-Offset": "0"})
    body = bilingual(r, 409, "offset_mismatch")
    assert body["errors"][0]["offset"] == 3 * 64 * 1024
    r = await a.send(stopped["id"], data, offset=r.json()["errors"][0]["offset"])
    assert r.status_code == 200 and r.json()["done"], r.text
    photo = r.json()["photo"]
    import hashlib
    assert photo["sha256"] == hashlib.sha256(data).hexdigest() and photo["size"] == len(data)


# ---------- evidence ----------

async def test_originals_are_kept_byte_for_byte_and_drivers_get_copies_without_location(client, admin, desk):
    a, b, case = await ready_case(client, admin, photos=False)
    cid = case["id"]
    data = jpeg(800, 600, gps=True)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the test photo has a location
    r = await a.upload(cid, 0, data)
    photo = r.json()["photo"]
    copy = await a.req("GET", photo["url"])
    assert copy.status_code == 200 and copy.headers["content-type"] == "image/jpeg"
    im = Image.open(io.BytesIO(copy.content))
    assert not im.getexif() and "exif" not in im.info and im.size == (800, 600)
    # The desk sees the original bytes (once the case is submitted; the URL is the same).
    r = await desk.get(f"/api/traffic/photos/{photo['id']}")
    assert r.content == data and r.headers["x-content-sha256"] == photo["sha256"]
    # A driver never gets the original.
    assert (await a.req("GET", f"/api/traffic/photos/{photo['id']}")).status_code == 401


# ---------- submit, decide, documents ----------

def _render(pdf: bytes, tmp_path, name: str) -> str:
    assert pdf.startswith(b"%PDF")
    src = tmp_path / "doc.pdf"
    src.write_bytes(pdf)
    assert shutil.which("pdftoppm"), "poppler-utils missing: make test installs it"
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", str(src), str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    dark = sum(Image.open(png).convert("L").histogram()[:128])
    assert dark > 2000, "the page rendered blank"
    from browsing import SHOTS  # kept with the screenshots, to look at
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(png, SHOTS / f"traffic-{name}.png")
    return subprocess.run(["pdftotext", str(src), "-"], check=True, capture_output=True, text=True).stdout


async def test_the_desk_decides_and_both_drivers_get_the_decision_and_the_document(client, admin, desk, tmp_path):
    a, b, case = await ready_case(client, admin)
    cid = case["id"]
    r = await a.req("POST", f"/api/traffic/cases/{cid}/submit", json={"mode": "ruling"})
    assert r.status_code == 200 and r.json()["status"] == "submitted", r.text
    queue = (await desk.get("/api/traffic/desk/cases")).json()
    assert queue["alert_after_s"] == 600
    assert [c["id"] for c in queue["cases"] if c["status"] == "submitted"] == [cid]
    r = await desk.post(f"/api/traffic/desk/cases/{cid}/claim")
    assert r.json()["status"] == "reviewing" and len(r.json()["photos"]) == 6
    bad = await desk.post(f"/api/traffic/desk/cases/{cid}/decision",
                          json={"liability": {"A": "full", "B": "main"}, "rule": "rear_end"})
    bilingual(bad, 422, "bad_liability")
    r = await desk.post(f"/api/traffic/desk/cases/{cid}/decision",
                        json={"liability": {"A": "full", "B": "none"}, "rule": "rear_end", "note": "甲车未保持安全距离"})
    assert r.status_code == 200, r.text
    for driver, role in ((a, "A"), (b, "B")):
        view = (await driver.req("GET", f"/api/traffic/cases/{cid}")).json()
        assert view["status"] == "decided" and view["decision"]["liability"] == {"A": "full", "B": "none"}
        assert view["documents"]["determination"]
    for phone in (PHONE_A, PHONE_B):
        assert any(m["purpose"] == "traffic_decision" and "全部责任" in m["text"] for m in await sms_to(admin, phone))
    pdf = await b.req("GET", f"/api/traffic/cases/{cid}/determination.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = _render(pdf.content, tmp_path, "determination")
    assert "道路交通事故认定书" in text and PLATE_A in text and "全部责任" in text and "陈刚" in text
    shas = [p["sha256"] for p in r.json()["photos"].values()]
    assert all(s[:32] in text for s in shas)
    # B confirms on their own phone (no code needed); A disputes.
    r = await b.req("POST", f"/api/traffic/cases/{cid}/parties/B/response", json={"answer": "confirmed"})
    assert r.status_code == 200 and r.json()["parties"]["B"]["response"] == "confirmed"
    r = await a.req("POST", f"/api/traffic/cases/{cid}/parties/A/response", json={"answer": "disputed"})
    assert r.json()["parties"]["A"]["response"] == "disputed"
    # A cannot answer for B.
    r = await b.req("POST", f"/api/traffic/cases/{cid}/parties/A/response", json={"answer": "confirmed"})
    bilingual(r, 403, "not_your_party")


async def test_the_drivers_settle_it_themselves_and_both_get_the_agreement(client, admin, desk, tmp_path):
    a, b, case = await ready_case(client, admin)
    cid = case["id"]
    r = await a.req("POST", f"/api/traffic/cases/{cid}/submit",
                    json={"mode": "self", "liability": {"A": "main", "B": "secondary"}})
    assert r.status_code == 200 and r.json()["status"] == "settling", r.text
    assert r.json()["parties"]["A"]["settle_answer"] == "agree"
    r = await b.req("POST", f"/api/traffic/cases/{cid}/parties/B/settlement", json={"agree": True})
    assert r.status_code == 200 and r.json()["status"] == "settled", r.text
    for driver in (a, b):
        pdf = await driver.req("GET", f"/api/traffic/cases/{cid}/agreement.pdf")
        assert pdf.status_code == 200
    text = _render(pdf.content, tmp_path, "agreement")
    assert "自行协商协议书" in text and "主要责任" in text and "次要责任" in text
    # On the desk's record, not in its queue.
    queue = (await desk.get("/api/traffic/desk/cases")).json()["cases"]
    assert [c["status"] for c in queue if c["id"] == cid] == ["settled"]


async def test_a_refused_settlement_goes_to_the_desk_for_a_ruling(client, admin, desk):
    a, b, case = await ready_case(client, admin)
    cid = case["id"]
    await a.req("POST", f"/api/traffic/cases/{cid}/submit", json={"mode": "self", "liability": {"A": "none", "B": "full"}})
    r = await b.req("POST", f"/api/traffic/cases/{cid}/parties/B/settlement", json={"agree": False})
    assert r.json()["status"] == "submitted" and r.json()["mode"] == "ruling"
    queue = (await desk.get("/api/traffic/desk/cases")).json()["cases"]
    assert [c["status"] for c in queue if c["id"] == cid] == ["submitted"]


async def test_party_b_entered_on_a_phone_answers_with_a_code(client, admin):
    a = Driver(client)
    case = await a.open()
    cid = case["id"]
    for role, phone, plate in (("A", PHONE_A, PLATE_A), ("B", PHONE_B, PLATE_B)):
        r = await a.req("PUT", f"/api/traffic/cases/{cid}/parties/{role}",
                        json={"phone": phone, "plate": plate, "vehicle_type": "small_car", "insurer": "人保财险"})
        assert r.status_code == 200
        await confirm(a, admin, cid, role, phone)
    for slot in range(6):
        await a.upload(cid, slot, jpeg(seed=slot))
    r = await a.req("POST", f"/api/traffic/cases/{cid}/submit", json={"mode": "self", "liability": {"A": "equal", "B": "equal"}})
    assert r.json()["status"] == "settling"
    r = await a.req("POST", f"/api/traffic/cases/{cid}/parties/B/settlement", json={"agree": True})
    bilingual(r, 422, "code_required")
    # B's confirmation text was sent over a minute ago in real life; here the rate limit is lifted.
    from sqlalchemy import update
    from baojing.sms.models import SmsCode
    from baojing.db import utcnow
    from datetime import timedelta
    async with client._transport.app.state.sessions() as s, s.begin():
        await s.execute(update(SmsCode).values(created_at=utcnow() - timedelta(minutes=2)))
    await a.req("POST", f"/api/traffic/cases/{cid}/parties/B/code")
    r = await a.req("POST", f"/api/traffic/cases/{cid}/parties/B/settlement",
                    json={"agree": True, "code": await latest_code(admin, PHONE_B)})
    assert r.status_code == 200 and r.json()["status"] == "settled", r.text


async def test_the_desk_asks_for_a_retake_and_the_case_comes_back(client, admin, desk):
    a, b, case = await ready_case(client, admin)
    cid = case["id"]
    await a.req("POST", f"/api/traffic/cases/{cid}/submit", json={"mode": "ruling"})
    r = await desk.post(f"/api/traffic/desk/cases/{cid}/retake", json={"slots": [2], "reason": "碰撞部位看不清"})
    assert r.json()["status"] == "more_photos"
    view = (await b.req("GET", f"/api/traffic/cases/{cid}")).json()
    assert view["retake"]["slots"] == [2] and view["retake"]["reason"] == "碰撞部位看不清"
    bilingual(await a.req("POST", f"/api/traffic/cases/{cid}/uploads", json={"slot": 1, "size": 100}), 422, "not_asked")
    bilingual(await a.req("POST", f"/api/traffic/cases/{cid}/resubmit"), 422, "retakes_missing")
    r = await b.upload(cid, 2, jpeg(seed=9))
    assert r.status_code == 200
    r = await a.req("POST", f"/api/traffic/cases/{cid}/resubmit")
    assert r.json()["status"] == "submitted"
    detail = (await desk.get(f"/api/traffic/desk/cases/{cid}")).json()
    assert len(detail["earlier_photos"]) == 1 and detail["earlier_photos"][0]["slot"] == 2


async def test_dispatch_makes_an_incident_on_the_console_with_everything_attached(client, admin, desk, staff):
    a, b, case = await ready_case(client, admin)
    cid = case["id"]
    await a.req("POST", f"/api/traffic/cases/{cid}/submit", json={"mode": "ruling"})
    r = await desk.post(f"/api/traffic/desk/cases/{cid}/dispatch", json={"reason": "双方争执，需民警到场"})
    assert r.status_code == 200, r.text
    incident_id = r.json()["incident_id"]
    assert r.json()["status"] == "dispatched" and incident_id
    console = await staff("dispatcher")
    detail = (await console.get(f"/api/incidents/{incident_id}")).json()
    assert detail["type"] == "traffic" and detail["alarms"][0]["phone"] == PHONE_A
    assert PLATE_B in detail["notes"][0]["text"] and "双方争执" in detail["notes"][0]["text"]
    media = (await console.get(f"/api/incidents/{incident_id}/media")).json()["media"]
    photos = r.json()["photos"]
    assert sorted(m["sha256"] for m in media) == sorted(p["sha256"] for p in photos.values())
    one = await console.get(media[0]["url"])
    import hashlib
    assert hashlib.sha256(one.content).hexdigest() == media[0]["sha256"]
    # A's phone now follows an ordinary alarm.
    mine = (await a.req("GET", "/api/me/alarms")).json()["alarms"]
    assert [x["id"] for x in mine] == [r.json()["alarm_id"]]


async def test_history_shows_earlier_cases_of_the_same_plates_and_numbers(client, admin, desk):
    a, b, first = await ready_case(client, admin)
    await a.req("POST", f"/api/traffic/cases/{first['id']}/submit", json={"mode": "ruling"})
    c = Driver(client)
    second = await c.open()
    await c.req("PUT", f"/api/traffic/cases/{second['id']}/parties/A", json={"plate": PLATE_B})
    # Not visible before it is submitted; look at the first case instead, which the second names.
    detail = (await desk.get(f"/api/traffic/desk/cases/{first['id']}")).json()
    assert detail["history"] == []
    from sqlalchemy import update
    from baojing.traffic.models import TrafficCase
    async with client._transport.app.state.sessions() as s, s.begin():
        await s.execute(update(TrafficCase).where(TrafficCase.id == second["id"]).values(status="submitted"))
    detail = (await desk.get(f"/api/traffic/desk/cases/{first['id']}")).json()
    assert [(h["id"], h["matched"]) for h in detail["history"]] == [(second["id"], [PLATE_B])]


async def test_only_the_traffic_desk_decides(client, admin, staff):
    a, b, case = await ready_case(client, admin)
    await a.req("POST", f"/api/traffic/cases/{case['id']}/submit", json={"mode": "ruling"})
    console = await staff("calltaker")
    r = await console.post(f"/api/traffic/desk/cases/{case['id']}/decision",
                           json={"liability": {"A": "full", "B": "none"}, "rule": "rear_end"})
    bilingual(r, 403, "forbidden")


# ---------- the checklist ----------

async def test_an_admin_changes_the_checklist_and_new_cases_follow_it(client, admin):
    items = (await client.get("/api/traffic/checklist")).json()["items"]
    assert len(items) == 6 and items[0]["example"].startswith("<svg")
    evil = [dict(i) for i in items]
    evil[0]["example"] = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    body = bilingual(await admin.put("/api/traffic/checklist", json={"items": evil}), 422, "bad_checklist")
    assert body["errors"][0]["field"] == "0.example"
    four = items[:3] + [{**items[5], "title_zh": "路口全景", "title_en": "The junction"}]
    r = await admin.put("/api/traffic/checklist", json={"items": four})
    assert r.status_code == 200, r.text
    case = await Driver(client).open()
    assert [c["title_zh"] for c in case["checklist"]] == ["车前方全景", "车后方全景", "碰撞部位", "路口全景"]
    r = await client.put("/api/traffic/checklist", json={"items": four})
    assert r.status_code == 401


async def test_the_join_qr_is_an_svg_drawn_here(client):
    case = await Driver(client).open()
    r = await client.get(f"/api/traffic/qr/{case['code']}.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert r.text.startswith("<svg") and "http" not in r.text.split(">", 1)[1]
    # Shown by an <img>, which draws an SVG only with its namespace.
    assert 'xmlns="http://www.w3.org/2000/svg"' in r.text.split(">", 1)[0]


# ---------- live ----------

async def test_each_driver_and_the_desk_hear_the_case_live_and_the_console_does_not(live_server):
    """Events are addressed: party B's phone gets its own view (A's number masked), the desk its
    summary once the case is submitted, the command console nothing of a quick-handling case."""
    import asyncio
    import json

    import httpx

    from test_live import connect, login_cookie

    base, _ = live_server
    sockets = []
    admin = httpx.AsyncClient(base_url=base, timeout=20)
    client = httpx.AsyncClient(base_url=base, timeout=20)
    try:
        await admin.post("/api/auth/login", json={"username": "admin", "password": "baojing110"})
        desk_ws, ready = await connect(base, cookie=await login_cookie(base, "traffic"))
        sockets.append(desk_ws)
        assert ready["type"] == "ready", ready
        console_ws, _ = await connect(base, cookie=await login_cookie(base, "calltaker"))
        sockets.append(console_ws)
        a, b, case = await ready_case(client, admin)
        b_ws, _ = await connect(base, device_token=b.token)
        sockets.append(b_ws)
        r = await a.req("POST", f"/api/traffic/cases/{case['id']}/submit", json={"mode": "ruling"})
        assert r.status_code == 200, r.text

        async def first_case_event(ws):
            while True:
                m = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if m["type"] == "event" and m["name"] == "traffic.case" and m["data"]["status"] == "submitted":
                    return m["data"]

        mine = await first_case_event(b_ws)
        assert mine["my_roles"] == ["B"] and mine["parties"]["B"]["phone"] == PHONE_B
        assert mine["parties"]["A"]["phone"] != PHONE_A and mine["parties"]["A"]["phone"].endswith(PHONE_A[-4:])
        desk_view = await first_case_event(desk_ws)
        assert desk_view["id"] == case["id"] and desk_view["parties"]["A"]["plate"] == PLATE_A
        # The console hears pings, never a traffic case (2 s: the desk and B heard theirs already).
        heard = []
        deadline = asyncio.get_running_loop().time() + 2
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                heard.append(json.loads(await asyncio.wait_for(console_ws.recv(), left)))
            except asyncio.TimeoutError:
                break
        assert not [m for m in heard if m["type"] == "event" and m["name"].startswith("traffic")], heard
    finally:
        for ws in sockets:
            await ws.close()
        await admin.aclose()
        await client.aclose()
