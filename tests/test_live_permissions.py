"""An open socket follows today's rights: an officer moved to another unit stops hearing the old
unit at once, while the phone stays connected and busy."""
from __future__ import annotations

import asyncio
import json

import httpx
import uvicorn

from baojing.app import create_app
from builders import alarm_body
from test_live import connect, login_cookie


async def _server(settings):
    # Pings once a minute: the socket's old idle-time re-check cannot be what moves the officer.
    app = create_app(settings.model_copy(update={"ws_ping_seconds": 60.0}))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    return f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}", server, task


async def test_an_officer_moved_to_another_unit_stops_hearing_the_old_one_while_the_socket_stays_open(settings):
    base, server, task = await _server(settings)
    officer_cookie = await login_cookie(base, "officer")
    try:
        async with httpx.AsyncClient(base_url=base, headers={"Cookie": officer_cookie}) as officer, \
                httpx.AsyncClient(base_url=base, headers={"Cookie": await login_cookie(base, "admin")}) as admin, \
                httpx.AsyncClient(base_url=base, headers={"Cookie": await login_cookie(base, "dispatcher")}) as desk, \
                httpx.AsyncClient(base_url=base) as caller:
            assert (await officer.post("/api/officer/duty", json={"on_duty": True})).status_code == 200
            me = (await officer.get("/api/auth/me")).json()["user"]["id"]
            units = {u["call_sign"]: u for u in (await admin.get("/api/admin/units")).json()["units"]}
            old, new = units["双塔21"], units["龙城12"]
            phone, _ = await connect(base, cookie=officer_cookie)
            heard: list[dict] = []

            async def drive():  # position reports keep the socket busy the whole time
                n = 0
                while True:
                    n += 1
                    await phone.send(json.dumps({"type": "positions", "id": f"p{n}", "points": [
                        {"lat": 41.5681 + n * 1e-5, "lon": 120.4521, "accuracy_m": 8}]}))
                    await asyncio.sleep(0.1)

            async def listen():
                while True:
                    heard.append(json.loads(await phone.recv()))

            tasks = [asyncio.create_task(drive()), asyncio.create_task(listen())]
            await asyncio.sleep(0.5)
            r = await admin.put(f"/api/admin/units/{new['id']}", json={
                "call_sign": new["call_sign"], "kind": new["kind"], "station_id": new["station_id"], "member_ids": [me]})
            assert r.status_code == 200, r.text
            for _ in range(2):
                await caller.post("/api/alarms", json=alarm_body(location={"lat": 41.569, "lon": 120.458,
                                                                           "accuracy_m": 10, "crs": "wgs84"}))
            first, second = [i["id"] for i in (await desk.get("/api/console/snapshot")).json()["incidents"]][:2]
            r = await desk.post(f"/api/incidents/{first}/dispatch", json={"unit_ids": [old["id"]]})
            assert r.status_code == 200, r.text
            assert (await officer.post("/api/officer/duty", json={"on_duty": True})).status_code == 200
            assert (await desk.post(f"/api/incidents/{second}/dispatch", json={"unit_ids": [new["id"]]})).status_code == 200
            for _ in range(50):
                if any(m.get("name") == "dispatch.offer" for m in heard):
                    break
                await asyncio.sleep(0.1)
            for t in tasks:
                t.cancel()
            await phone.close()
            assert not any(m["type"] == "ping" for m in heard)  # never idle: the old path never ran
            offers = [m["data"]["incident_id"] for m in heard if m.get("name") == "dispatch.offer"]
            assert offers == [second]  # the old unit's dispatch never reached the moved officer
            old_unit_news = [m for m in heard if m.get("name") in ("unit.upserted", "assignment.updated")
                             and m["data"].get("id", m["data"].get("unit_id")) == old["id"]]
            assert old_unit_news == []
    finally:
        server.should_exit = True
        await task


async def test_a_socket_flooding_call_signalling_is_cut_off_message_by_message(live_server):
    base, _ = live_server
    async with httpx.AsyncClient(base_url=base) as c:
        token = (await c.post("/api/alarms", json=alarm_body())).json()["device_token"]
    ws, _ = await connect(base, device_token=token)
    for i in range(300):
        await ws.send(json.dumps({"type": "signal", "call_id": 1, "to": "x", "data": {"n": i}}))
    codes = []
    try:
        while len(codes) < 300:
            m = json.loads(await asyncio.wait_for(ws.recv(), 3))
            if m["type"] == "error":
                codes.append(m["code"])
    except asyncio.TimeoutError:
        pass
    await ws.close()
    assert 1 <= codes.count("rate_limited") <= 100  # a burst of 200 passed, then 20 a second


def test_a_rate_limit_refills_with_time():
    from baojing.ratelimit import RateLimit

    now = [0.0]
    limit = RateLimit(per_second=1, burst=2, max_keys=2, clock=lambda: now[0])
    assert [limit.allow("a") for _ in range(3)] == [True, True, False]
    assert limit.retry_after("a") == 1
    now[0] += 1.0
    assert limit.allow("a") and not limit.allow("a")
    limit.allow("b"), limit.allow("c")  # the table stays bounded: "a" is forgotten first
    assert "a" not in limit._buckets and len(limit._buckets) == 2
