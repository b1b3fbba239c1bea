"""Input the server must refuse cleanly, never with a 500: ids past 64 bits, oversized chunked
bodies, booleans posing as numbers, a method a route does not have. SQLite and PostgreSQL."""
import re

import pytest

from baojing.fields import ID_MAX
from builders import alarm_body

TOO_BIG = ID_MAX + 1  # 2^63: the driver's OverflowError before ids were bounded
ID_PARAM = re.compile(r"\{(\w+_id)\}")


def id_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every API route that takes an id in its path."""
    paths = app.openapi()["paths"]
    return [(m.upper(), p) for p in paths if ID_PARAM.search(p) for m in paths[p]]


async def device_token(client) -> str:
    r = await client.post("/api/alarms", json=alarm_body())
    return r.json()["device_token"]


async def test_every_route_answers_an_id_past_64_bits_with_a_422_never_a_500(client, app, staff):
    routes = id_routes(app)
    assert len(routes) >= 17, routes
    token = await device_token(client)
    callers = {"device": (client, {"X-Device-Token": token}), "calltaker": (await staff("calltaker"), {}),
               "officer": (await staff("officer"), {}), "admin": (await staff("admin"), {})}
    bodies = {"place": {"text": "x"}, "rating": {"score": 3}, "classify": {"type": "other", "priority": 2},
              "positions": {"lat": 41.5, "lon": 120.4}, "notes": {"text": "x"}, "messages": {"text": "x"}}
    for method, path in routes:
        url = ID_PARAM.sub(str(TOO_BIG), path)
        for name, (c, headers) in callers.items():
            body = bodies.get(path.rsplit("/", 1)[-1])
            r = await c.request(method, url, headers=headers, json=body)
            assert r.status_code in (401, 403, 404, 422), (method, path, name, r.status_code, r.text)
            if r.status_code == 422:
                assert r.json()["code"] == "validation_error"
                assert any(e["message_en"].startswith("Must be at most") for e in r.json()["errors"]), r.text


async def test_the_alarm_a_device_places_with_a_huge_id_is_refused_and_the_connection_kept(client):
    token = await device_token(client)
    r = await client.post(f"/api/alarms/{TOO_BIG}/place", json={"text": "门口"}, headers={"X-Device-Token": token})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "alarm_id"
    # The same client goes on working: nothing crashed under it.
    assert (await client.get("/api/me/alarms", headers={"X-Device-Token": token})).status_code == 200


@pytest.mark.parametrize("path,body", [
    ("/api/incidents/1/merge", {"incident_ids": [TOO_BIG]}),
    ("/api/incidents/1/dispatch", {"unit_ids": [TOO_BIG]}),
    ("/api/calls/1/transfer", {"to_user_id": TOO_BIG}),
    ("/api/calls/1/parties", {"user_id": TOO_BIG}),
])
async def test_an_id_past_64_bits_in_a_body_list_is_a_422(staff, path, body):
    c = await staff("calltaker")
    r = await c.post(path, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["message_en"].startswith("Must be at most")


async def test_an_admin_unit_with_huge_station_and_member_ids_is_a_422(staff):
    admin = await staff("admin")
    r = await admin.post("/api/admin/units", json={"call_sign": "X1", "kind": "car", "station_id": TOO_BIG,
                                                    "member_ids": [TOO_BIG]})
    assert r.status_code == 422, r.text
    assert {e["field"] for e in r.json()["errors"]} == {"station_id", "member_ids.0"}


@pytest.mark.parametrize("point", [{"lat": 41.5, "lon": False}, {"lat": True, "lon": 120.4},
                                   {"lat": "41.5", "lon": 120.4}])
async def test_booleans_and_strings_are_not_coordinates(client, point):
    r = await client.post("/api/calls/availability", json=point)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["message_en"] == "Must be a number"
    r = await client.post("/api/alarms", json=alarm_body(location=point))
    assert r.status_code == 422, r.text


async def test_an_integer_coordinate_is_still_a_number(client):
    r = await client.post("/api/calls/availability", json={"lat": 41, "lon": 120})
    assert r.status_code == 200, r.text


async def test_booleans_are_not_ids_priorities_or_scores(staff):
    c = await staff("calltaker")
    r = await c.post("/api/incidents/1/merge", json={"incident_ids": [True]})
    assert r.status_code == 422 and r.json()["errors"][0]["message_en"] == "Must be a whole number"
    r = await c.post("/api/incidents/1/classify", json={"type": "other", "priority": True})
    assert r.status_code == 422, r.text


async def test_a_chunked_body_over_the_limit_is_a_413_body_too_large(client, app):
    limit = app.state.settings.max_body_bytes

    async def chunks():
        for _ in range(limit // 4096 + 2):
            yield b" " * 4096

    r = await client.post("/api/alarms", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "body_too_large" and r.json()["message_zh"]


async def test_a_chunked_body_under_the_limit_still_goes_through(client):
    import json

    raw = json.dumps(alarm_body()).encode()

    async def chunks():
        yield raw[:10]
        yield raw[10:]

    r = await client.post("/api/alarms", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text


async def test_a_method_a_route_lacks_is_a_405_with_allow(client):
    r = await client.delete("/api/alarms")
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
    assert r.json()["code"] == "http_405" and r.json()["message_zh"]


async def test_input_a_service_validates_again_is_a_422_not_a_500(client):
    # Found by schemathesis: an empty phone passed the traffic form's own check, then failed when the
    # service built an alarm from it.
    no = {q: False for q in ("dispute", "drink_drugs", "drivable", "injured", "licensed_insured", "two_vehicles")}
    r = await client.post("/api/traffic/to-alarm", json={"idempotency_key": "to-alarm-0001", "answers": no,
                                                         "phone": "", "plates": []})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "phone"


async def test_a_time_without_a_zone_is_a_422_in_both_languages_not_a_500(client, staff):
    # A fix's time is compared with the server's clock (UTC): without a zone it cannot be, and it
    # used to reach that comparison and fail there.
    body = alarm_body()
    body["location"]["recorded_at"] = "2026-12-01T10:00:00"
    r = await client.post("/api/alarms", json=body)
    assert r.status_code == 422, r.text
    (err,) = r.json()["errors"]
    assert err["field"] == "location.recorded_at" and err["message_zh"] and err["message_en"]
    officer = await staff("officer")
    r = await officer.post("/api/officer/positions", json={"points": [
        {"lat": 41.567, "lon": 120.455, "accuracy_m": 10, "at": "2026-12-01T10:00:00"}]})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "points.0.at"
