"""A newcomer's first minutes: `baojing demo` leaves patrol units on duty with positions, so
"dispatch nearest" answers at once, and the simulation drives them and raises alarms through the
real services (the AVL board, the alarm intake)."""
import random

from sqlalchemy import select

from baojing.demo import PATROLS, STREETS, seed
from baojing.dispatch.models import Unit
from baojing.geo import distance_m
from baojing.incidents.models import Incident
from baojing.simulate import Driver, Simulator


async def test_the_demo_leaves_its_patrols_on_duty_where_dispatch_nearest_finds_them(app, client, staff):
    async with app.state.sessions() as s, s.begin():
        await seed(s, patrols=True)
    await app.state.board.load()
    console = await staff("dispatcher")
    units = {u["call_sign"]: u for u in (await console.get("/api/units")).json()["units"]}
    for call_sign in PATROLS:
        assert units[call_sign]["on_duty"] and units[call_sign]["position"] and not units[call_sign]["stale"]
    assert not units["双塔21"]["on_duty"]  # officers' own units wait for their officers
    lat, lon = STREETS["朝阳大街"][1]
    r = await client.post("/api/alarms", json={"idempotency_key": "demo-nearest-1", "phone": "13800138000",
                                               "location": {"lat": lat, "lon": lon, "accuracy_m": 10}})
    snap = (await console.get("/api/console/snapshot")).json()
    inc = next(i for i in snap["incidents"] if i["alarms"][0]["id"] == r.json()["id"])
    recs = (await console.get(f"/api/incidents/{inc['id']}/recommendations")).json()["units"]
    assert {u["call_sign"] for u in recs} == set(PATROLS)


def test_a_driver_follows_its_street_and_turns_round_at_the_end():
    street = [(41.0, 120.0), (41.0, 120.001), (41.0, 120.002)]  # two legs of ~84 m
    d = Driver(1, street, speed_mps=10.0)
    lat, lon = d.advance(5.0)
    assert abs(distance_m(41.0, 120.0, lat, lon) - 50) < 1
    d.advance(15.0)  # 200 m from the start: past the end (168 m), 32 m back
    assert d.step == -1
    lat, lon = d.advance(0.0)
    assert abs(distance_m(*street[-1], lat, lon) - 32) < 2


async def test_the_simulation_moves_the_patrols_and_raises_alarms_through_the_intake(app):
    async with app.state.sessions() as s, s.begin():
        await seed(s, patrols=True)
    await app.state.board.load()
    sim = Simulator(app.state, rng=random.Random(7))
    await sim.load()
    assert len(sim.drivers) == len(PATROLS)
    before = {i: (app.state.board.units[i].lat, app.state.board.units[i].lon) for i in sim.drivers}
    async with app.state.sessions() as s:
        incidents_before = len(list(await s.scalars(select(Incident.id))))
    out = await sim.step(seconds=10.0, alarm=True)
    assert out["moved"] == len(PATROLS)
    for i in sim.drivers:
        u = app.state.board.units[i]
        assert distance_m(*before[i], u.lat, u.lon) > 10
    await app.state.board.flush()
    async with app.state.sessions() as s:
        stored = {u.id: u.lat for u in await s.scalars(select(Unit).where(Unit.id.in_(list(sim.drivers))))}
        incidents_after = len(list(await s.scalars(select(Incident.id))))
    assert all(stored[i] == app.state.board.units[i].lat for i in sim.drivers)
    assert out["alarm"]["status"] == "received" and incidents_after == incidents_before + 1


async def test_a_simulated_patrol_answers_its_dispatch_drives_there_stays_and_clears(app, client, staff):
    """In the demo nobody rides in the patrols: their crews answer through the same steps, so
    "dispatch nearest" is followed on the console instead of ending in "not accepted"."""
    from baojing import simulate
    from baojing.dispatch.models import Assignment

    async with app.state.sessions() as s, s.begin():
        await seed(s, patrols=True)
    await app.state.board.load()
    sim = Simulator(app.state, rng=random.Random(3))
    await sim.load()
    console = await staff("dispatcher")
    lat, lon = STREETS["朝阳大街"][1]
    r = await client.post("/api/alarms", json={"idempotency_key": "sim-crew-1", "phone": "13800138000",
                                               "location": {"lat": lat + 0.004, "lon": lon, "accuracy_m": 10}})
    snap = (await console.get("/api/console/snapshot")).json()
    inc = next(i for i in snap["incidents"] if i["alarms"][0]["id"] == r.json()["id"])
    unit = next(u for u in (await console.get("/api/units")).json()["units"] if u["call_sign"] == "龙城21")
    r = await console.post(f"/api/incidents/{inc['id']}/dispatch", json={"unit_ids": [unit["id"]]})
    assert r.status_code in (200, 201), r.text

    async def status() -> str:
        async with app.state.sessions() as s:
            return (await s.scalar(select(Assignment).where(Assignment.unit_id == unit["id"]))).status

    steps = []
    for _ in range(600):  # 5 s of demo time a step (a longer one is a jump the board refuses)
        await sim.step(seconds=5.0, alarm=False)
        if not steps or steps[-1] != await status():
            steps.append(await status())
        if steps[-1] == "cleared":
            break
    assert steps == ["dispatched", "en_route", "on_scene", "cleared"], steps
    u = app.state.board.units[unit["id"]]
    assert u.status == "available"
    scene = (u.lat, u.lon)
    for _ in range(3):  # back to its round at driving speed, never a jump the board refuses
        await sim.step(seconds=5.0, alarm=False)
        assert 20 < distance_m(*scene, u.lat, u.lon) <= 3 * 5.0 * 30 / 3.6
        scene = (u.lat, u.lon)
    detail = (await console.get(f"/api/incidents/{inc['id']}")).json()
    crew_steps = [e for e in detail["timeline"] if e["name"].startswith("unit_")]
    assert {e["actor"] for e in crew_steps} == {"龙城21（演示）"} and simulate.ON_SCENE_S == 60.0
