"""An incident goes to the station whose jurisdiction holds the first usable position, whenever it
arrives: with the alarm, later from the phone, picked on a map, or set by an operator. An operator
correcting the position into another jurisdiction re-routes it, audited, on the timeline."""

from sqlalchemy import select

from baojing.auth.models import AuditEntry
from baojing.events import Event
from builders import alarm_body

SHUANGTA = (41.566, 120.454)     # st-station
LONGCHENG = (41.5772, 120.4035)  # lc-center
OUTSIDE = (30.0, 110.0)          # no station's jurisdiction


async def stations(client) -> dict[str, int]:
    return {s["code"]: s["id"] for s in (await client.get("/api/config")).json()["stations"]}


async def no_position_alarm(client) -> dict:
    r = await client.post("/api/alarms", json=alarm_body(location=None))
    assert r.status_code == 201, r.text
    return r.json()


async def incident_of(console, alarm_id: int) -> dict:
    snap = (await console.get("/api/console/snapshot")).json()
    return next(i for i in snap["incidents"] if any(a["id"] == alarm_id for a in i["alarms"]))


def fix(lat, lon, **over) -> dict:
    return {"lat": lat, "lon": lon, "accuracy_m": 20, "crs": "wgs84", **over}


async def routed_events(app, incident_id: int) -> list[Event]:
    async with app.state.sessions() as s:
        return list(await s.scalars(select(Event).where(Event.incident_id == incident_id,
                                                        Event.name == "incident.routed").order_by(Event.seq)))


async def test_a_late_device_fix_routes_the_incident_and_tells_the_consoles(client, staff, app):
    console = await staff()
    a = await no_position_alarm(client)
    inc = await incident_of(console, a["id"])
    assert inc["station_id"] is None
    seq = (await console.get("/api/console/snapshot")).json()["seq"]

    r = await client.post(f"/api/alarms/{a['id']}/positions", json=fix(*SHUANGTA),
                          headers={"X-Device-Token": a["device_token"]})
    assert r.status_code == 202 and r.json()["accepted"]
    st = (await stations(client))["st-station"]
    assert (await incident_of(console, a["id"]))["station_id"] == st
    async with app.state.sessions() as s:
        upserts = list(await s.scalars(select(Event).where(Event.seq > seq, Event.scope == "staff",
                                                           Event.name == "incident.upserted")))
    assert upserts[-1].data["station_id"] == st
    (routed,) = await routed_events(app, inc["id"])
    assert routed.action == "routed"
    assert routed.data["from_station"] is None and routed.data["to_station"]["id"] == st
    assert routed.data["source"] == "gps"


async def test_a_second_device_fix_elsewhere_does_not_move_the_incident(client, staff):
    console = await staff()
    a = await no_position_alarm(client)
    h = {"X-Device-Token": a["device_token"]}
    await client.post(f"/api/alarms/{a['id']}/positions", json=fix(*SHUANGTA), headers=h)
    # Minutes later (no implausible jump), the caller is driven away: the incident stays put.
    await client.post(f"/api/alarms/{a['id']}/positions",
                      json=fix(*LONGCHENG, recorded_at="2099-01-01T00:00:00+00:00"), headers=h)
    assert (await incident_of(console, a["id"]))["station_id"] == (await stations(client))["st-station"]


async def test_a_place_picked_on_the_map_routes_an_unrouted_incident(client, staff, app):
    console = await staff()
    a = await no_position_alarm(client)
    r = await client.post(f"/api/alarms/{a['id']}/positions", json=fix(*LONGCHENG, source="picked"),
                          headers={"X-Device-Token": a["device_token"]})
    assert r.status_code == 202
    inc = await incident_of(console, a["id"])
    assert inc["station_id"] == (await stations(client))["lc-center"]
    assert [e.data["source"] for e in await routed_events(app, inc["id"])] == ["picked"]


async def test_a_fix_outside_every_jurisdiction_leaves_it_unrouted_without_a_timeline_step(client, staff, app):
    console = await staff()
    a = await no_position_alarm(client)
    await client.post(f"/api/alarms/{a['id']}/positions", json=fix(*OUTSIDE),
                      headers={"X-Device-Token": a["device_token"]})
    inc = await incident_of(console, a["id"])
    assert inc["station_id"] is None and await routed_events(app, inc["id"]) == []


async def test_an_operator_position_routes_and_a_correction_into_another_jurisdiction_reroutes(client, staff, app):
    console = await staff()
    a = await no_position_alarm(client)
    inc = await incident_of(console, a["id"])
    ids = await stations(client)

    r = await console.post(f"/api/alarms/{a['id']}/operator-position", json={"lat": SHUANGTA[0], "lon": SHUANGTA[1]})
    assert r.status_code == 200, r.text
    assert r.json()["station_id"] == ids["st-station"]
    r = await console.post(f"/api/alarms/{a['id']}/operator-position",
                           json={"lat": LONGCHENG[0], "lon": LONGCHENG[1]})
    assert r.json()["station_id"] == ids["lc-center"]
    # Set again inside the same jurisdiction: nothing to re-route.
    await console.post(f"/api/alarms/{a['id']}/operator-position", json={"lat": LONGCHENG[0] + 0.001,
                                                                         "lon": LONGCHENG[1]})

    routed = await routed_events(app, inc["id"])
    assert [e.action for e in routed] == ["routed", "rerouted"]
    assert routed[1].data["from_station"]["id"] == ids["st-station"]
    assert routed[1].data["to_station"]["id"] == ids["lc-center"]
    assert routed[1].data["to_station"]["name_zh"] == "龙城区城区派出所（演示）"
    assert routed[1].actor.startswith("call_taker:")

    async with app.state.sessions() as s:
        audits = list(await s.scalars(select(AuditEntry).where(AuditEntry.action == "incident.route",
                                                               AuditEntry.subject_id == inc["id"])
                                      .order_by(AuditEntry.id)))
    assert [(x.detail["from_station_id"], x.detail["to_station_id"]) for x in audits] == [
        (None, ids["st-station"]), (ids["st-station"], ids["lc-center"])]

    detail = (await console.get(f"/api/incidents/{inc['id']}")).json()
    steps = [t for t in detail["timeline"] if t["name"] in ("routed", "rerouted")]
    assert [t["name"] for t in steps] == ["routed", "rerouted"]
    assert steps[1]["detail"]["from_station"]["id"] == ids["st-station"]
    assert steps[1]["detail"]["to_station"]["id"] == ids["lc-center"]


async def test_a_place_the_caller_picks_reroutes_but_never_overrides_the_operator(client, staff, app):
    """A person's choice of place outranks the phone's fix, and the operator's outranks the caller's
    (as for the position itself): the station follows the place shown on the console."""
    console = await staff()
    ids = await stations(client)
    a = (await client.post("/api/alarms", json=alarm_body(location=fix(*SHUANGTA)))).json()
    h = {"X-Device-Token": a["device_token"]}
    await client.post(f"/api/alarms/{a['id']}/positions", json=fix(*LONGCHENG, source="picked"), headers=h)
    inc = await incident_of(console, a["id"])
    assert inc["station_id"] == ids["lc-center"]
    assert [(e.action, e.data["source"]) for e in await routed_events(app, inc["id"])] == [("rerouted", "picked")]

    await console.post(f"/api/alarms/{a['id']}/operator-position", json={"lat": SHUANGTA[0], "lon": SHUANGTA[1]})
    await client.post(f"/api/alarms/{a['id']}/positions", json=fix(*LONGCHENG, source="picked"), headers=h)
    assert (await incident_of(console, a["id"]))["station_id"] == ids["st-station"]
