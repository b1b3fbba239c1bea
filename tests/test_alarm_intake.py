"""POST /api/alarms and the caller's own routes."""
import csv
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from baojing.alarms.models import Alarm, AlarmPosition
from baojing.events import Event
from baojing import geo
from builders import alarm_body

PAIRS = list(csv.DictReader(open(Path(__file__).parent / "data" / "datum-pairs.csv")))


async def count(app, model) -> int:
    async with app.state.sessions() as s:
        return await s.scalar(select(func.count()).select_from(model))


async def test_it_stores_an_alarm_and_answers_201_with_a_device_token(client, app):
    r = await client.post("/api/alarms", json=alarm_body())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "received"
    assert body["device_token"]
    assert body["location"]["source"] == "gps" and body["location"]["accuracy_m"] == 15
    async with app.state.sessions() as s:
        alarm = await s.get(Alarm, body["id"])
    assert alarm.phone == "13800138000" and alarm.phone_verified is False


async def test_a_repeated_idempotency_key_returns_the_first_alarm_and_never_a_second(client, app):
    first = await client.post("/api/alarms", json=alarm_body(idempotency_key="key-repeat-0001"))
    token = first.json()["device_token"]
    again = await client.post("/api/alarms", json=alarm_body(idempotency_key="key-repeat-0001"),
                              headers={"X-Device-Token": token})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert await count(app, Alarm) == 1


async def test_a_retry_whose_first_answer_was_lost_gets_its_own_alarm_back(client):
    first = await client.post("/api/alarms", json=alarm_body(idempotency_key="key-lost-answer"))
    # The phone never saw the first answer, so it retries without a token.
    retry = await client.post("/api/alarms", json=alarm_body(idempotency_key="key-lost-answer"))
    assert retry.json()["id"] == first.json()["id"]
    mine = await client.get("/api/me/alarms", headers={"X-Device-Token": retry.json()["device_token"]})
    assert [a["id"] for a in mine.json()["alarms"]] == [first.json()["id"]]


async def test_retries_racing_each_other_store_one_alarm_while_other_alarms_go_through(client, app):
    """On PostgreSQL alarms are not serialised until their events (events.lock_key): retries of one
    alarm still are, and the event log keeps its commit order."""
    import asyncio

    same = [client.post("/api/alarms", json=alarm_body(idempotency_key="key-race-0001")) for _ in range(6)]
    others = [client.post("/api/alarms", json=alarm_body(idempotency_key=f"key-race-other-{i}")) for i in range(6)]
    answers = await asyncio.gather(*same, *others)
    assert all(r.status_code in (200, 201) for r in answers), [r.text for r in answers]
    assert sorted(r.status_code for r in answers[:6]) == [200] * 5 + [201]
    assert len({r.json()["id"] for r in answers[:6]}) == 1
    assert len({r.json()["id"] for r in answers}) == 7
    assert await count(app, Alarm) == 7
    async with app.state.sessions() as s:
        seqs = list(await s.scalars(select(Event.seq).order_by(Event.seq)))
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # none lost, none reused


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
async def test_it_stores_positions_from_chinese_map_datums_as_wgs84(client, crs):
    row = PAIRS[0]
    loc = {"lat": float(row[f"{crs}_lat"]), "lon": float(row[f"{crs}_lon"]), "accuracy_m": 30, "crs": crs}
    r = await client.post("/api/alarms", json=alarm_body(location=loc))
    got = r.json()["location"]
    assert geo.distance_m(got["lat"], got["lon"], float(row["wgs84_lat"]), float(row["wgs84_lon"])) < 1.0


async def test_an_alarm_without_a_position_still_goes_through(client):
    r = await client.post("/api/alarms", json=alarm_body(location=None, place_text="朝阳市站前广场东侧"))
    assert r.status_code == 201
    assert r.json()["location"] is None and r.json()["place_text"] == "朝阳市站前广场东侧"


@pytest.mark.parametrize("phone,canonical", [
    ("138 0013 8000", "13800138000"), ("+86 13800138000", "13800138000"),
    ("0421-2345678", "0421-2345678"), ("+44 7911 123456", "+447911123456"),
])
async def test_it_accepts_mobiles_landlines_and_international_numbers(client, phone, canonical):
    r = await client.post("/api/alarms", json=alarm_body(phone=phone))
    assert r.status_code == 201, r.text
    assert r.json()["phone"] == canonical


BAD = {
    "bad phone": (alarm_body(phone="12345"), "phone"),
    "letters in phone": (alarm_body(phone="call me"), "phone"),
    "latitude out of range": (alarm_body(location={"lat": 91, "lon": 120, "accuracy_m": 5, "crs": "wgs84"}), "location.lat"),
    "longitude out of range": (alarm_body(location={"lat": 41, "lon": -181, "accuracy_m": 5, "crs": "wgs84"}), "location.lon"),
    "negative accuracy": (alarm_body(location={"lat": 41, "lon": 120, "accuracy_m": -1, "crs": "wgs84"}), "location.accuracy_m"),
    "unknown crs": (alarm_body(location={"lat": 41, "lon": 120, "accuracy_m": 5, "crs": "utm"}), "location.crs"),
    "unknown field": (alarm_body(extra="x"), "extra"),
    "unknown channel": (alarm_body(channel="carrier-pigeon"), "channel"),
    "missing phone": ({"idempotency_key": "k" * 12, "channel": "phone"}, "phone"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
async def test_bad_input_gets_a_bilingual_422_and_saves_nothing(client, app, case):
    payload, field = BAD[case]
    r = await client.post("/api/alarms", json=payload)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation_error"
    fields = {e["field"]: e for e in body["errors"]}
    assert field in fields, body
    assert fields[field]["message_zh"] and fields[field]["message_en"]
    assert fields[field]["message_zh"] != fields[field]["message_en"]
    assert await count(app, Alarm) == 0 and await count(app, Event) == 0


async def test_an_oversized_body_is_refused_with_413(client, app):
    r = await client.post("/api/alarms", json=alarm_body(name="x" * 100_000))
    assert r.status_code == 413
    assert r.json()["message_zh"] and r.json()["message_en"]
    assert await count(app, Alarm) == 0


async def test_malformed_json_is_refused(client, app):
    r = await client.post("/api/alarms", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert await count(app, Alarm) == 0


async def test_a_caller_sees_only_their_own_alarms(client):
    mine = (await client.post("/api/alarms", json=alarm_body())).json()
    theirs = (await client.post("/api/alarms", json=alarm_body(phone="13900139000"))).json()
    r = await client.get("/api/me/alarms", headers={"X-Device-Token": mine["device_token"]})
    assert [a["id"] for a in r.json()["alarms"]] == [mine["id"]]
    stolen = await client.post(f"/api/alarms/{theirs['id']}/positions", headers={"X-Device-Token": mine["device_token"]},
                               json={"lat": 41.5, "lon": 120.4, "accuracy_m": 5, "crs": "wgs84"})
    assert stolen.status_code == 404
    assert (await client.get("/api/me/alarms")).status_code == 401
    assert (await client.get("/api/me/alarms", headers={"X-Device-Token": "forged"})).status_code == 401


async def test_a_moving_caller_is_tracked_and_impossible_jumps_are_flagged(client, app):
    a = (await client.post("/api/alarms", json=alarm_body())).json()
    h = {"X-Device-Token": a["device_token"]}
    soon = lambda s: (datetime.now(timezone.utc) + timedelta(seconds=s)).isoformat()  # noqa: E731
    # 111 m in 20 s: a caller walking fast.
    moved = await client.post(f"/api/alarms/{a['id']}/positions", headers=h, json={
        "lat": 41.5770, "lon": 120.4100, "accuracy_m": 10, "crs": "wgs84", "recorded_at": soon(20)})
    assert moved.status_code == 202 and moved.json() == {"accepted": True, "flagged": False, "reason": None}
    # 47 km in the next second is a bad fix, not a caller running.
    jump = await client.post(f"/api/alarms/{a['id']}/positions", headers=h, json={
        "lat": 42.0, "lon": 120.41, "accuracy_m": 10, "crs": "wgs84", "recorded_at": soon(21)})
    assert jump.json()["flagged"] is True and jump.json()["reason"] == "implausible_jump"
    late = await client.post(f"/api/alarms/{a['id']}/positions", headers=h, json={
        "lat": 41.5771, "lon": 120.4100, "accuracy_m": 10, "crs": "wgs84", "recorded_at": soon(-60)})
    assert late.json()["reason"] == "out_of_order"
    mine = (await client.get("/api/me/alarms", headers=h)).json()["alarms"][0]
    assert mine["location"]["lat"] == pytest.approx(41.5770)
    assert await count(app, AlarmPosition) == 4


async def test_a_picked_position_is_not_replaced_by_a_later_automatic_fix(client):
    a = (await client.post("/api/alarms", json=alarm_body(location=None))).json()
    h = {"X-Device-Token": a["device_token"]}
    await client.post(f"/api/alarms/{a['id']}/positions", headers=h,
                      json={"lat": 41.57, "lon": 120.45, "crs": "wgs84", "source": "picked"})
    await client.post(f"/api/alarms/{a['id']}/positions", headers=h,
                      json={"lat": 41.58, "lon": 120.40, "accuracy_m": 900, "crs": "wgs84"})
    loc = (await client.get("/api/me/alarms", headers=h)).json()["alarms"][0]["location"]
    assert loc["source"] == "picked" and loc["lat"] == pytest.approx(41.57)


async def test_a_typed_place_reaches_the_alarm(client):
    a = (await client.post("/api/alarms", json=alarm_body(location=None))).json()
    r = await client.post(f"/api/alarms/{a['id']}/place", headers={"X-Device-Token": a["device_token"]},
                          json={"text": "凌河大桥南侧"})
    assert r.json()["place_text"] == "凌河大桥南侧"


async def test_terms_acceptance_is_stored_and_issues_a_token(client):
    terms = (await client.get("/api/terms")).json()
    r = await client.post("/api/device/terms", json={"version": terms["version"]})
    assert r.status_code == 200 and r.json()["device_token"]
    old = await client.post("/api/device/terms", json={"version": "1999-01"})
    assert old.status_code == 422 and old.json()["code"] == "terms_outdated"


async def test_health_is_200_with_a_database_and_503_without(client, app):
    assert (await client.get("/healthz")).status_code == 200
    from baojing.db import make_engine

    real = app.state.engine
    app.state.engine = make_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        r = await client.get("/healthz")
    finally:
        await app.state.engine.dispose()
        app.state.engine = real
    assert r.status_code == 503


async def test_the_openapi_schema_describes_every_route(client, app):
    schema = (await client.get("/openapi.json")).json()
    paths = schema["paths"]
    for route in app.routes:
        if getattr(route, "include_in_schema", False) and hasattr(route, "methods"):
            assert route.path in paths, route.path
    assert "post" in paths["/api/alarms"]


async def test_an_unknown_device_token_never_stops_an_alarm(client):
    r = await client.post("/api/alarms", json=alarm_body(), headers={"X-Device-Token": "from-an-old-database"})
    assert r.status_code == 201
    assert r.json()["device_token"] and r.json()["device_token"] != "from-an-old-database"


async def test_an_alarm_that_waited_offline_keeps_the_time_of_its_fix(client):
    taken = datetime.now(timezone.utc) - timedelta(minutes=3)
    loc = {"lat": 41.576, "lon": 120.41, "accuracy_m": 12, "crs": "wgs84", "recorded_at": taken.isoformat()}
    a = (await client.post("/api/alarms", json=alarm_body(location=loc))).json()
    got = datetime.fromisoformat(a["location"]["at"].replace("Z", "+00:00"))
    assert abs((got - taken).total_seconds()) < 0.01
    # A fix a walking pace later is movement, not a jump.
    later = {"lat": 41.5765, "lon": 120.41, "accuracy_m": 12, "crs": "wgs84",
             "recorded_at": (taken + timedelta(seconds=40)).isoformat()}
    ack = await client.post(f"/api/alarms/{a['id']}/positions", headers={"X-Device-Token": a["device_token"]}, json=later)
    assert ack.json()["flagged"] is False


async def test_pages_and_answers_carry_security_headers(client):
    page = await client.get("/m/")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    api = await client.get("/api/terms")
    assert api.headers["cache-control"] == "no-store"


async def test_a_name_over_40_characters_is_refused_saying_so_in_both_languages(client):
    r = await client.post("/api/alarms", json=alarm_body(name="张" * 41))
    assert r.status_code == 422
    (e,) = r.json()["errors"]
    assert e == {"field": "name", "message_zh": "太长（最多 40 个字符）", "message_en": "Too long (at most 40 characters)"}
