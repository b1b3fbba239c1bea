"""/ws against a real uvicorn: scoped delivery, and exactly-once replay across a dropped connection."""
import asyncio
import base64
import json
import os

import httpx
import pytest
import websockets
from sqlalchemy import select

from baojing.auth import service as auth_service
from baojing.auth.models import AuditEntry
from baojing.demo import DEMO_PASSWORD
from baojing.events import Event
from baojing.live import PING
from builders import alarm_body


async def login_cookie(base: str, username: str = "calltaker") -> str:
    async with httpx.AsyncClient(base_url=base) as c:
        r = await c.post("/api/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 200
        return f"bj_session={r.cookies['bj_session']}"


async def connect(base: str, since=None, cookie=None, device_token=None):
    ws = await websockets.connect(base.replace("http", "ws") + "/ws",
                                  additional_headers={"Cookie": cookie} if cookie else None)
    await ws.send(json.dumps({"type": "hello", "since": since, "device_token": device_token}))
    ready = json.loads(await ws.recv())
    return ws, ready


async def next_event(ws, timeout=5.0) -> dict:
    while True:
        m = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if m["type"] == "event":
            return m


async def test_a_console_hears_a_new_alarm_live(live_server):
    base, _ = live_server
    ws, ready = await connect(base, cookie=await login_cookie(base))
    assert ready["type"] == "ready" and ready["principal"]["role"] == "call_taker"
    async with httpx.AsyncClient(base_url=base) as c:
        a = (await c.post("/api/alarms", json=alarm_body())).json()
    m = await next_event(ws)
    assert m["name"] == "incident.upserted" and m["data"]["alarms"][0]["id"] == a["id"]
    assert m["data"]["alarms"][0]["phone"] == "13800138000"
    await ws.close()


async def test_a_reconnecting_console_gets_every_missed_event_in_order_exactly_once(live_server):
    base, app = live_server
    cookie = await login_cookie(base)
    ws, ready = await connect(base, since=None, cookie=cookie)
    start = ready["seq"]
    seen: list[int] = []

    async with httpx.AsyncClient(base_url=base) as c:
        async def burst(n, phone_base):
            rs = await asyncio.gather(*[c.post("/api/alarms", json=alarm_body(phone=f"1390000{phone_base + i:04d}"))
                                        for i in range(n)])
            assert all(r.status_code == 201 for r in rs)

        sender = asyncio.create_task(burst(40, 0))
        # Drop the connection in the middle of the burst.
        for _ in range(10):
            seen.append((await next_event(ws))["seq"])
        await ws.close()
        await sender
        await burst(10, 100)

    ws, ready = await connect(base, since=seen[-1], cookie=cookie)
    async with app.state.sessions() as s:
        expected = list(await s.scalars(select(Event.seq).where(Event.seq > start, Event.scope == "staff")
                                        .order_by(Event.seq)))
    while len(seen) < len(expected):
        seen.append((await next_event(ws))["seq"])
    assert seen == expected, "every staff event, in order, once"
    with pytest.raises(asyncio.TimeoutError):
        await next_event(ws, timeout=0.5)
    await ws.close()


async def test_a_caller_hears_only_their_own_alarm(live_server):
    base, _ = live_server
    async with httpx.AsyncClient(base_url=base) as c:
        mine = (await c.post("/api/alarms", json=alarm_body())).json()
        ws, ready = await connect(base, since=0, device_token=mine["device_token"])
        assert ready["principal"]["kind"] == "caller"
        first = await next_event(ws)
        assert first["name"] == "alarm.updated" and first["data"]["id"] == mine["id"]
        await c.post("/api/alarms", json=alarm_body(phone="13900139000"))
        console = httpx.AsyncClient(base_url=base)
        await console.post("/api/auth/login", json={"username": "calltaker", "password": DEMO_PASSWORD})
        snap = (await console.get("/api/console/snapshot")).json()
        mine_inc = next(i for i in snap["incidents"] if i["alarms"][0]["id"] == mine["id"])
        other_inc = next(i for i in snap["incidents"] if i["alarms"][0]["id"] != mine["id"])
        await console.post(f"/api/incidents/{other_inc['id']}/claim")
        await console.post(f"/api/incidents/{mine_inc['id']}/claim")
        m = await next_event(ws)
        assert m["data"]["id"] == mine["id"] and m["data"]["status"] == "handling"
        assert "notes" not in m["data"] and "claimed_by" not in m["data"]
        await console.aclose()
    await ws.close()


async def test_no_credentials_or_a_role_without_a_feed_is_refused(live_server):
    base, app = live_server
    ws, msg = await connect(base)
    assert msg["type"] == "error" and msg["code"] == "unauthorized"
    # An officer in no unit has nothing to hear.
    async with app.state.sessions() as s, s.begin():
        await auth_service.create_user(s, "officer_no_unit", DEMO_PASSWORD, "officer", "无单元民警")
    ws, msg = await connect(base, cookie=await login_cookie(base, "officer_no_unit"))
    assert msg["type"] == "error" and msg["code"] == "forbidden"
    # A key-unit member hears the bulletins addressed to them (USER scope), and only those.
    ws, msg = await connect(base, cookie=await login_cookie(base, "keyunit"))
    assert msg["type"] == "ready" and msg["principal"]["role"] == "keyunit_member"
    # The traffic desk has its own feed (quick-handling cases), and only that one.
    ws, msg = await connect(base, cookie=await login_cookie(base, "traffic"))
    assert msg["type"] == "ready" and msg["principal"]["role"] == "traffic_officer"
    ws, msg = await connect(base, device_token="forged-token")
    assert msg["code"] == "unauthorized"


async def test_a_foreign_origin_is_refused(live_server):
    base, _ = live_server
    with pytest.raises(websockets.exceptions.InvalidStatus):
        await websockets.connect(base.replace("http", "ws") + "/ws", origin="http://evil.example")


async def test_live_pushes_of_personal_data_are_audited(live_server):
    base, app = live_server
    ws, _ = await connect(base, cookie=await login_cookie(base))
    async with httpx.AsyncClient(base_url=base) as c:
        a = (await c.post("/api/alarms", json=alarm_body())).json()
    await next_event(ws)
    await ws.close()
    await app.state.audit.flush()
    async with app.state.sessions() as s:
        rows = list(await s.scalars(select(AuditEntry).where(AuditEntry.action == "view.live")))
        seen = await auth_service.who_saw(s, a["id"])
    assert [(r.subject_id, [v["actor"].split(":")[0] for v in r.detail["viewers"]]) for r in rows] == \
        [(a["id"], ["call_taker"])]
    assert [(v["actor"].split(":")[0], v["how"]) for v in seen] == [("call_taker", "view.live")]


async def test_live_pushes_to_many_consoles_are_audited_in_one_row_naming_each(live_server):
    base, app = live_server
    cookies = [await login_cookie(base, "calltaker"), await login_cookie(base, "calltaker"),
               await login_cookie(base, "dispatcher")]
    sockets = [(await connect(base, cookie=c))[0] for c in cookies]
    app.state.audit._task.cancel()  # only the flush below: a timed one could split the pushes in two
    async with httpx.AsyncClient(base_url=base) as c:
        a = (await c.post("/api/alarms", json=alarm_body())).json()
    for ws in sockets:
        await next_event(ws)
        await ws.close()
    await app.state.audit.flush()
    async with app.state.sessions() as s:
        rows = list(await s.scalars(select(AuditEntry).where(AuditEntry.action == "view.live")))
        seen = await auth_service.who_saw(s, a["id"])
    # Two sockets of one call-taker and one dispatcher: one row, each person once.
    assert len(rows) == 1 and rows[0].subject_id == a["id"]
    assert sorted(v["actor"].split(":")[0] for v in rows[0].detail["viewers"]) == ["call_taker", "dispatcher"]
    assert sorted(v["actor"].split(":")[0] for v in seen) == ["call_taker", "dispatcher"]
    assert all(v["at"] >= rows[0].at for v in seen)


async def test_a_client_far_behind_is_told_to_resync(live_server):
    base, app = live_server
    app.state.settings.replay_limit = 3
    async with httpx.AsyncClient(base_url=base) as c:
        for i in range(4):
            await c.post("/api/alarms", json=alarm_body())
    ws, ready = await connect(base, since=0, cookie=await login_cookie(base))
    m = json.loads(await ws.recv())
    assert m == {"type": "resync", "seq": ready["seq"]}
    await ws.close()


async def test_an_acknowledged_alarm_is_already_stored_when_the_answer_arrives(live_server):
    """The 201 is sent after the commit: a reader right after it must find the alarm."""
    base, app = live_server
    from baojing.alarms.models import Alarm

    async with httpx.AsyncClient(base_url=base) as c:
        for _ in range(30):
            r = await c.post("/api/alarms", json=alarm_body())
            async with app.state.sessions() as s:
                assert await s.get(Alarm, r.json()["id"]) is not None


async def test_an_officer_sends_fixes_on_the_socket_and_consoles_see_the_unit_move(live_server):
    base, app = live_server
    officer_cookie = await login_cookie(base, "officer")
    async with httpx.AsyncClient(base_url=base, headers={"Cookie": officer_cookie}) as officer:
        assert (await officer.post("/api/officer/duty", json={"on_duty": True})).status_code == 200
    console, _ = await connect(base, cookie=await login_cookie(base, "dispatcher"))
    phone, ready = await connect(base, cookie=officer_cookie)
    assert ready["principal"]["role"] == "officer"
    await phone.send(json.dumps({"type": "positions", "id": "b1", "points": [
        {"lat": 41.5681, "lon": 120.4521, "accuracy_m": 8}]}))
    while (ack := json.loads(await asyncio.wait_for(phone.recv(), 5)))["type"] != "positions.ack":
        pass
    assert ack == {"type": "positions.ack", "id": "b1", "accepted": 1, "flagged": [None], "next_report_s": None}
    while True:
        m = json.loads(await asyncio.wait_for(console.recv(), 5))
        if m["type"] == "live" and m["name"] == "units.moved":
            break
    assert m["data"]["units"][0]["position"]["lat"] == pytest.approx(41.5681)
    await phone.send(json.dumps({"type": "positions", "points": [{"lat": 999, "lon": 0}]}))
    while (err := json.loads(await asyncio.wait_for(phone.recv(), 5)))["type"] != "error":
        pass
    assert err["code"] == "bad_positions"
    await phone.close()
    await console.close()


async def test_a_units_fixes_wait_while_an_alarm_is_in_flight_and_the_alarm_does_not(live_server):
    """Alarms first (baojing/priority.py): a position message read while a request is in flight is
    handled after it; the alarm itself is stored and answered meanwhile."""
    base, app = live_server
    officer_cookie = await login_cookie(base, "officer")
    async with httpx.AsyncClient(base_url=base, headers={"Cookie": officer_cookie}) as officer:
        assert (await officer.post("/api/officer/duty", json={"on_duty": True})).status_code == 200
    phone, _ = await connect(base, cookie=officer_cookie)
    board, priority = app.state.board, app.state.priority
    priority.patience_s = 60  # the bound on waiting is not what this test is about
    unit_id = next(u.id for u in board.units.values() if u.call_sign == "双塔21")  # the demo officer's
    async with priority.request():  # an alarm on its way, as deps.get_session marks each request
        await phone.send(json.dumps({"type": "positions", "id": "p1", "points": [
            {"lat": 41.5681, "lon": 120.4521, "accuracy_m": 8}]}))
        async with httpx.AsyncClient(base_url=base) as caller:
            assert (await caller.post("/api/alarms", json=alarm_body())).status_code == 201
        assert board.units[unit_id].lat != pytest.approx(41.5681)  # not taken yet
    while (ack := json.loads(await asyncio.wait_for(phone.recv(), 5)))["type"] != "positions.ack":
        pass
    assert ack["id"] == "p1" and board.units[unit_id].lat == pytest.approx(41.5681)
    await phone.close()


async def test_a_caller_hears_how_far_the_officers_coming_are(live_server):
    base, app = live_server
    officer_cookie = await login_cookie(base, "officer4")
    async with httpx.AsyncClient(base_url=base) as c, \
            httpx.AsyncClient(base_url=base, headers={"Cookie": officer_cookie}) as officer, \
            httpx.AsyncClient(base_url=base, headers={"Cookie": await login_cookie(base, "dispatcher")}) as desk:
        a = (await c.post("/api/alarms", json=alarm_body(location={"lat": 41.569, "lon": 120.458, "accuracy_m": 10,
                                                                    "crs": "wgs84"}))).json()
        caller, _ = await connect(base, since=None, device_token=a["device_token"])
        await officer.post("/api/officer/duty", json={"on_duty": True})
        await officer.post("/api/officer/positions", json={"points": [{"lat": 41.579, "lon": 120.458, "accuracy_m": 10}]})
        units = {u["call_sign"]: u for u in (await desk.get("/api/units")).json()["units"]}
        inc = (await desk.get("/api/console/snapshot")).json()["incidents"][0]
        await desk.post(f"/api/incidents/{inc['id']}/dispatch", json={"unit_ids": [units["双塔31"]["id"]]})
        await officer.post("/api/officer/positions", json={"points": [{"lat": 41.5785, "lon": 120.458, "accuracy_m": 10}]})
        while True:
            m = json.loads(await asyncio.wait_for(caller.recv(), 5))
            if m["type"] == "live" and m["name"] == "responder.moved":
                break
        assert m["data"]["alarm_id"] == a["id"]
        assert m["data"]["unit"]["distance_m"] == pytest.approx(1056, abs=5)
        assert "position" not in m["data"]["unit"], "where the officer is stays hidden by default"
        await caller.close()


async def test_the_hub_puts_events_published_out_of_order_back_in_order(app):
    from baojing.auth.service import Principal
    from baojing.events import Published

    hub = app.state.hub
    conn = hub.register(Principal("staff", "dispatcher", user_id=3))
    base = hub.last

    def ev(n):
        return Published(base + n, "incident.upserted", "staff", None, None, {"n": n})

    await hub._receive(ev(2))
    await hub._receive(ev(1))
    await hub._receive(ev(4))  # 3 never comes (a rolled-back sequence): 4 goes after a short wait
    got = []
    while len(got) < 3:
        item = await asyncio.wait_for(conn.queue.get(), 2)
        if item is not PING:  # a socket's first ping comes any time in its first period
            got.append(item[0].seq - base)
    assert got == [1, 2, 4]
    hub.unregister(conn)


async def test_a_console_whose_session_ends_is_disconnected(live_server):
    base, _ = live_server
    cookie = await login_cookie(base)
    ws, ready = await connect(base, cookie=cookie)
    assert ready["type"] == "ready"
    async with httpx.AsyncClient(base_url=base, headers={"Cookie": cookie}) as c:
        assert (await c.post("/api/auth/logout")).status_code == 204
    while (m := json.loads(await asyncio.wait_for(ws.recv(), 5)))["type"] != "error":
        pass
    assert m["code"] == "unauthorized"
    with pytest.raises(websockets.exceptions.ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 5)


async def test_the_hub_pings_its_sockets_a_slice_at_a_time_and_each_once_a_period(app):
    """Ten thousand officers' sockets pinged in one loop iteration held every alarm for 0.6 s every
    15 s (bench/README.md, AVL): the pings go out spread over the period."""
    from baojing.auth.service import Principal

    hub, loop = app.state.hub, asyncio.get_running_loop()
    conns = [hub.register(Principal("staff", "officer", 100_000 + i)) for i in range(1000)]
    pinged = lambda: sum(c.queue.qsize() for c in conns)  # noqa: E731 - nobody reads these queues
    most = before = 0
    until = loop.time() + 1.5 * app.state.settings.ws_ping_seconds
    while loop.time() < until:
        await asyncio.sleep(0)  # one loop iteration
        now = pinged()
        most, before = max(most, now - before), now
    for c in conns:
        hub.unregister(c)
    assert all(c.queue.qsize() >= 1 for c in conns)  # every socket heard within a period and a half
    assert most <= 20  # at most a slice or two in one iteration (1000 / live.PING_SLICES each), not all


async def test_many_sockets_logins_are_checked_a_slice_at_a_time(app):
    """After a logout every staff socket's login is checked again: ten thousand of them in one
    transaction held the loop for 0.2 s. A slice at a time, the loop serves others in between."""
    from baojing.auth.service import Principal

    hub = app.state.hub
    conns = [hub.register(Principal("staff", "call_taker", 100_000 + i)) for i in range(1200)]
    for i, c in enumerate(conns):
        c.session_hash = f"{i:064x}"  # logins nobody holds
    check = asyncio.create_task(hub.revalidate())  # all sockets, as after a logout
    most = before = 0
    while not check.done():
        await asyncio.sleep(0)  # one loop iteration
        now = sum(c.revoked for c in conns)
        most, before = max(most, now - before), now
    await check
    for c in conns:
        hub.unregister(c)
    assert all(c.revoked for c in conns)  # none of these logins is valid: every socket is told so
    # A slice (live.CHECK_SLICE, 500) per iteration, and perhaps the periodic check's dozen; not all.
    assert most <= 600


def test_a_queue_is_bounded_in_characters_as_well_as_frames():
    from baojing.auth.service import Principal
    from baojing.live import Connection

    conn = Connection(Principal("staff", "call_taker", 1), limit=100, limit_chars=1000)
    conn.offer(None, "x" * 600)
    assert not conn.overflowed
    conn.offer(None, "x" * 600)  # 1,200 characters waiting: over the bound, though only two frames
    assert conn.overflowed and conn.queue.qsize() == 2 and conn.queue.get_nowait() == (None, "x" * 600)
    assert conn.queue.get_nowait() is None  # the sender's cue to close the socket (4008)


async def test_a_console_that_stops_reading_is_let_go_after_the_send_timeout(live_server):
    base, app = live_server
    app.state.settings.ws_send_timeout_s = 0.5
    app.state.settings.ws_queue_chars = 10 ** 9  # only the timeout may end it here
    cookie = await login_cookie(base)
    # A client that reads nothing more after its hello: its buffers fill and the server's sends block.
    ws = await websockets.connect(base.replace("http", "ws") + "/ws", additional_headers={"Cookie": cookie},
                                  max_queue=1, max_size=None, ping_interval=None)
    await ws.send(json.dumps({"type": "hello", "since": None, "device_token": None}))
    hub = app.state.hub
    for _ in range(200):
        if hub.reach(("consoles",)):
            break
        await asyncio.sleep(0.05)
    (conn,) = hub.reach(("consoles",))
    blob = base64.b64encode(os.urandom(750_000)).decode()  # a megabyte that no compression shrinks
    for _ in range(40):
        hub.broadcast(("consoles",), "units.moved", {"blob": blob})
        await asyncio.sleep(0)
    for _ in range(200):
        if conn not in hub.connections:
            break
        await asyncio.sleep(0.05)
    ws.transport.abort()  # the stalled client goes away without a closing handshake
    assert conn not in hub.connections


async def next_of_type(ws, kind: str, timeout=5.0) -> dict:
    while True:
        m = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if m["type"] == kind:
            return m


async def test_every_incoming_message_is_routed_by_its_type_and_the_rest_answered_with_an_error(live_server):
    """Issue 7: parse once, dispatch on `type`; an unknown type, a frame that is not a JSON object
    with a type, or positions from a socket without a unit, get an error frame, and the socket stays."""
    base, _ = live_server
    ws, _ = await connect(base, cookie=await login_cookie(base, "dispatcher"))
    cases = [
        ({"type": "subscribe", "id": 7}, "unknown_type"),
        ("not json at all", "bad_message"),
        ([1, 2, 3], "bad_message"),
        ({"no": "type"}, "bad_message"),
        # a word inside another message used to be enough to route it (substring matching)
        ({"type": "note", "text": "\"positions\" \"signal\""}, "unknown_type"),
        ({"type": "positions", "id": "x", "points": [{"lat": 41.5, "lon": 120.4}]}, "no_unit"),
        ({"type": "hello", "since": None}, "already_started"),
        ({"type": "signal", "call_id": 999999, "to": 1, "data": {"candidate": None}}, "unknown_call"),
    ]
    for msg, code in cases:
        await ws.send(msg if isinstance(msg, str) else json.dumps(msg))
        err = await next_of_type(ws, "error")
        assert err["code"] == code, (msg, err)
        assert err["message_zh"] and err["message_en"]
    # an echoed id lets a client match the error to what it sent
    await ws.send(json.dumps({"type": "subscribe", "id": 7}))
    assert (await next_of_type(ws, "error"))["id"] == 7
    # still open and live: a new alarm still arrives
    async with httpx.AsyncClient(base_url=base) as c:
        a = (await c.post("/api/alarms", json=alarm_body(phone="13900000077"))).json()
    m = await next_event(ws)
    assert m["data"]["alarms"][0]["id"] == a["id"]
    await ws.close()
