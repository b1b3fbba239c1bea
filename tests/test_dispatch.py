"""Dispatch: units on duty, the nearest-unit recommendation, assignments and their steps."""
import asyncio
import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from baojing.auth.models import AuditEntry
from baojing.dispatch import service as dispatch
from baojing.dispatch.board import Board, BoardUnit
from baojing.dispatch.models import Unit
from baojing.deps import unit_of_work
from baojing.events import Event
from builders import alarm_body

SHUANGTA = (41.566, 120.454)  # inside the demo st-station jurisdiction


def now_iso(offset_s: float = 0) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=offset_s)).isoformat()


async def on_duty_at(staff, app, username: str, lat: float, lon: float):
    c = await staff(username)
    assert (await c.post("/api/officer/duty", json={"on_duty": True})).status_code == 200
    r = await c.post("/api/officer/positions", json={"points": [{"lat": lat, "lon": lon, "accuracy_m": 10}]})
    assert r.status_code == 202, r.text
    await app.state.board.flush()
    return c


async def raise_at(client, lat, lon, **over) -> dict:
    r = await client.post("/api/alarms", json=alarm_body(location={"lat": lat, "lon": lon, "accuracy_m": 10,
                                                                   "crs": "wgs84"}, **over))
    assert r.status_code == 201
    return r.json()


async def incident_of(console, alarm_id):
    snap = (await console.get("/api/console/snapshot")).json()
    return next(i for i in snap["incidents"] if any(a["id"] == alarm_id for a in i["alarms"]))


async def unit_named(console, call_sign):
    return next(u for u in (await console.get("/api/units")).json()["units"] if u["call_sign"] == call_sign)


async def test_a_new_alarm_is_routed_to_the_station_whose_jurisdiction_holds_it(client, staff):
    console = await staff()
    a = await raise_at(client, *SHUANGTA)
    inc = await incident_of(console, a["id"])
    stations = {s["code"]: s["id"] for s in (await client.get("/api/config")).json()["stations"]}
    assert inc["station_id"] == stations["st-station"]
    far = await raise_at(client, 30.0, 110.0)
    assert (await incident_of(console, far["id"]))["station_id"] is None


async def test_an_officer_on_duty_reports_positions_and_the_console_sees_the_unit(staff, app):
    await on_duty_at(staff, app, "officer", 41.570, 120.450)
    console = await staff("dispatcher")
    u = await unit_named(console, "双塔21")
    assert u["status"] == "available" and u["on_duty"] and not u["stale"]
    assert u["position"]["lat"] == pytest.approx(41.570)
    assert u["members"][0]["display_name"] == "民警 李明"


async def test_implausible_and_out_of_order_fixes_are_flagged_and_not_drawn(staff, app):
    officer = await on_duty_at(staff, app, "officer", 41.570, 120.450)
    r = await officer.post("/api/officer/positions", json={"points": [
        {"lat": 41.5705, "lon": 120.4505, "accuracy_m": 10, "at": now_iso(10)},
        {"lat": 42.5, "lon": 120.45, "accuracy_m": 10, "at": now_iso(11)},
        {"lat": 41.5706, "lon": 120.4506, "accuracy_m": 10, "at": now_iso(-300)}]})
    assert r.json()["flagged"] == [None, "implausible_jump", "out_of_order"]
    await app.state.board.flush()
    u = await unit_named(await staff("dispatcher"), "双塔21")
    assert u["position"]["lat"] == pytest.approx(41.5705)


async def test_a_fix_taken_in_beijing_time_is_kept_on_the_board_in_utc(staff, app):
    """Every time on the board has UTC's own tzinfo: a recommendation compares ten thousand units'
    times, and against pydantic's parsed offsets each comparison was 30 times slower."""
    officer = await on_duty_at(staff, app, "officer", 41.570, 120.450)
    taken = datetime.now(timezone(timedelta(hours=8))) + timedelta(seconds=5)
    r = await officer.post("/api/officer/positions", json={"points": [
        {"lat": 41.5701, "lon": 120.4501, "accuracy_m": 10, "at": taken.isoformat()}]})
    assert r.json()["flagged"] == [None]
    unit_id = app.state.board.unit_of_user[(await officer.get("/api/auth/me")).json()["user"]["id"]]
    at = app.state.board.units[unit_id].at
    assert at == taken and at.tzinfo is timezone.utc


async def test_the_avl_flush_writes_in_short_transactions_so_alarms_need_not_wait_for_all(staff, app, monkeypatch):
    from baojing.dispatch import board as board_module
    from baojing.dispatch.models import UnitPosition

    monkeypatch.setattr(board_module, "FLUSH_SLICE", 2)
    officer = await on_duty_at(staff, app, "officer", 41.570, 120.450)
    r = await officer.post("/api/officer/positions", json={"points": [
        {"lat": 41.570 + i * 1e-4, "lon": 120.450, "accuracy_m": 10, "at": now_iso(i + 1)} for i in range(5)]})
    assert r.status_code == 202
    board, transactions = app.state.board, []
    real = board.sessions
    board.sessions = lambda: transactions.append(1) or real()
    try:
        await board.flush()
    finally:
        board.sessions = real
    assert len(transactions) == 3  # five fixes, two per transaction: the write lock is let go between
    async with real() as s:
        rows = list(await s.scalars(select(UnitPosition.lat).order_by(UnitPosition.id)))
    assert rows[-5:] == pytest.approx([41.570 + i * 1e-4 for i in range(5)])


async def test_an_alarm_in_flight_goes_before_a_pending_avl_flush(client, staff, app, monkeypatch):
    """Alarms first (bench/README.md): while a request holds or waits for the writer, the AVL flush
    writes no slice; it writes them all once the request is done."""
    from sqlalchemy import event as sa_event

    from baojing.dispatch import board as board_module

    monkeypatch.setattr(board_module, "FLUSH_SLICE", 2)
    officer = await on_duty_at(staff, app, "officer", 41.570, 120.450)
    assert (await officer.post("/api/officer/positions", json={"points": [
        {"lat": 41.570 + i * 1e-4, "lon": 120.450, "accuracy_m": 10, "at": now_iso(i + 1)}
        for i in range(6)]})).status_code == 202
    board, gate = app.state.board, app.state.priority
    gate.patience_s = 60  # the bound on waiting is not what this test is about
    written = []
    engine = app.state.engine.sync_engine

    def listen(conn, cursor, statement, *args):
        if statement.startswith("INSERT INTO"):
            written.append(statement.split()[2])
    sa_event.listen(engine, "before_cursor_execute", listen)
    try:
        async with gate.request():  # an alarm on its way to the writer, as deps.get_session marks it
            flushing = asyncio.create_task(board.flush())
            alarm = await raise_at(client, *SHUANGTA)
            assert "unit_positions" not in written and "alarms" in written
            assert not flushing.done()
        await flushing
    finally:
        sa_event.remove(engine, "before_cursor_execute", listen)
    assert written.count("unit_positions") == 3
    assert written.index("alarms") < written.index("unit_positions")
    assert alarm["id"]


async def test_a_position_answer_asks_the_unit_to_slow_down_under_load(staff, app, monkeypatch):
    from baojing.dispatch import board as board_module

    officer = await on_duty_at(staff, app, "officer", 41.570, 120.450)
    fix = lambda i: {"points": [{"lat": 41.570 + i * 1e-5, "lon": 120.450, "accuracy_m": 10, "at": now_iso(i)}]}  # noqa: E731
    assert (await officer.post("/api/officer/positions", json=fix(1))).json()["next_report_s"] is None
    monkeypatch.setattr(board_module, "BUSY_ROWS", 3)  # rows waiting for the writer: the server is behind
    r = await officer.post("/api/officer/positions", json=fix(2))
    assert r.status_code == 202 and r.json()["next_report_s"] is None  # two waiting
    assert (await officer.post("/api/officer/positions", json=fix(3))).json()["next_report_s"] == board_module.SLOW_REPORT_S
    await app.state.board.flush()
    assert (await officer.post("/api/officer/positions", json=fix(4))).json()["next_report_s"] is None
    app.state.board.note_lag(1.0)  # one pause of the event loop is not load
    assert (await officer.post("/api/officer/positions", json=fix(5))).json()["next_report_s"] is None
    app.state.board.note_lag(0.4), app.state.board.note_lag(0.3)  # late twice in a row is load
    assert (await officer.post("/api/officer/positions", json=fix(6))).json()["next_report_s"] == board_module.SLOW_REPORT_S


async def test_far_behind_the_trail_keeps_each_units_newest_fix_and_the_position_stays_exact(staff, app, monkeypatch):
    from baojing.dispatch import board as board_module
    from baojing.dispatch.models import UnitPosition

    officer = await on_duty_at(staff, app, "officer", 41.570, 120.450)
    monkeypatch.setattr(board_module, "THIN_ROWS", 2)
    r = await officer.post("/api/officer/positions", json={"points": [
        {"lat": 41.570 + i * 1e-4, "lon": 120.450, "accuracy_m": 10, "at": now_iso(i + 1)} for i in range(5)]})
    assert r.json()["accepted"] == 5 and r.json()["next_report_s"] == board_module.THIN_REPORT_S
    assert app.state.board.thinned == 2
    await app.state.board.flush()
    async with app.state.sessions() as s:
        rows = list(await s.scalars(select(UnitPosition.lat).order_by(UnitPosition.id)))
    assert rows[-3:] == pytest.approx([41.570, 41.5701, 41.5704])  # two kept, then the newest
    u = await unit_named(await staff("dispatcher"), "双塔21")
    assert u["position"]["lat"] == pytest.approx(41.5704)


def test_the_recommendation_puts_the_nearest_available_fresh_unit_first():
    board = Board(sessions=None)
    now = datetime.now(timezone.utc)
    for i, (lat, lon, status, age) in enumerate([
        (41.570, 120.450, "available", 5), (41.566, 120.455, "available", 5),  # 100 m away
        (41.5661, 120.4541, "busy", 5), (41.5662, 120.4542, "en_route", 5),  # nearer but not free
        (41.5663, 120.4543, "available", 600),  # nearer but silent for 10 minutes
        (41.600, 120.500, "available", 5)], start=1):
        board.units[i] = BoardUnit(i, f"U{i}", "car", 1, status, lat, lon, 10, now - timedelta(seconds=age))
    recs = board.recommend(*SHUANGTA, limit=3)
    assert [r["unit_id"] for r in recs] == [2, 1, 6]
    assert recs[0]["distance_m"] == pytest.approx(84, abs=2)
    assert recs[0]["eta_s"] > 0
    assert [r["unit_id"] for r in board.recommend(*SHUANGTA, limit=3, exclude={2})] == [1, 6]


async def test_recommendations_mark_the_jurisdiction_and_skip_units_already_sent(client, staff, app):
    await on_duty_at(staff, app, "officer", 41.568, 120.452)      # 双塔21, st-station
    await on_duty_at(staff, app, "officer3", 41.5655, 120.4535)   # 龙城11, lc-center, nearer
    console = await staff("dispatcher")
    inc = await incident_of(console, (await raise_at(client, *SHUANGTA))["id"])
    recs = (await console.get(f"/api/incidents/{inc['id']}/recommendations")).json()
    assert [u["call_sign"] for u in recs["units"]] == ["龙城11", "双塔21"]
    assert [u["in_jurisdiction"] for u in recs["units"]] == [False, True]
    await console.post(f"/api/incidents/{inc['id']}/dispatch", json={"unit_ids": [recs["units"][0]["unit_id"]]})
    again = (await console.get(f"/api/incidents/{inc['id']}/recommendations")).json()
    assert [u["call_sign"] for u in again["units"]] == ["双塔21"]


async def test_an_assignment_moves_through_its_steps_and_each_is_timestamped(client, staff, app):
    officer = await on_duty_at(staff, app, "officer", 41.568, 120.452)
    console = await staff("dispatcher")
    a = await raise_at(client, *SHUANGTA)
    inc = await incident_of(console, a["id"])
    unit = await unit_named(console, "双塔21")
    r = await console.post(f"/api/incidents/{inc['id']}/dispatch", json={"unit_ids": [unit["id"]]})
    assert r.status_code == 200, r.text
    asg = r.json()["assignments"][0]
    assert asg["status"] == "dispatched" and r.json()["status"] == "claimed"

    home = (await officer.get("/api/officer/me")).json()
    assert home["assignment"]["id"] == asg["id"]
    assert home["incident"]["alarms"][0]["phone"] == "13800138000"

    for path, status in [("accept", "accepted"), ("en-route", "en_route"), ("on-scene", "on_scene")]:
        r = await officer.post(f"/api/assignments/{asg['id']}/{path}")
        assert r.status_code == 200 and r.json()["status"] == status, r.text
        assert (await unit_named(console, "双塔21"))["status"] == {"accepted": "dispatched"}.get(status, status)
    caller = (await client.get("/api/me/alarms", headers={"X-Device-Token": a["device_token"]})).json()["alarms"][0]
    assert caller["responders"][0]["status"] == "on_scene" and caller["responders"][0]["distance_m"] < 500
    r = await officer.post(f"/api/assignments/{asg['id']}/clear", json={"disposition": "resolved", "note": "已调解"})
    done = r.json()
    assert done["status"] == "cleared"
    for stamp in ("dispatched_at", "accepted_at", "en_route_at", "on_scene_at", "cleared_at"):
        assert done[stamp], stamp
    assert (await unit_named(console, "双塔21"))["status"] == "available"
    async with app.state.sessions() as s:
        steps = list(await s.scalars(select(Event.action).where(Event.incident_id == inc["id"], Event.scope == "staff",
                                                                Event.action.is_not(None)).order_by(Event.seq)))
    assert steps == ["received", "claimed", "dispatched", "unit_accept", "unit_en_route", "unit_on_scene", "note",
                     "unit_clear"]


async def test_sending_units_to_a_new_incident_claims_it_by_the_claims_rules_with_its_audit(client, staff, app):
    await on_duty_at(staff, app, "officer", 41.568, 120.452)
    console = await staff("dispatcher")
    inc = await incident_of(console, (await raise_at(client, *SHUANGTA))["id"])
    unit = await unit_named(console, "双塔21")
    r = await console.post(f"/api/incidents/{inc['id']}/dispatch", json={"unit_ids": [unit["id"]]})
    assert r.json()["status"] == "claimed" and r.json()["claimed_by"]["display_name"] == "指挥长 赵强"
    async with app.state.sessions() as s:
        actions = list(await s.scalars(select(AuditEntry.action).where(AuditEntry.subject_type == "incident",
                                                                       AuditEntry.subject_id == inc["id"])
                                       .order_by(AuditEntry.id)))
    assert actions[:2] == ["incident.claim", "incident.dispatch"]


async def test_a_unit_sent_to_a_second_incident_does_not_carry_the_old_status(client, staff, app):
    officer = await on_duty_at(staff, app, "officer", 41.568, 120.452)
    console = await staff("dispatcher")
    unit = await unit_named(console, "双塔21")
    first = await incident_of(console, (await raise_at(client, *SHUANGTA))["id"])
    asg = (await console.post(f"/api/incidents/{first['id']}/dispatch", json={"unit_ids": [unit["id"]]})).json()["assignments"][0]
    await officer.post(f"/api/assignments/{asg['id']}/on-scene")
    busy = await console.post(f"/api/incidents/{first['id']}/dispatch", json={"unit_ids": [unit["id"]]})
    assert busy.status_code == 409 and busy.json()["code"] == "unit_busy"
    await officer.post(f"/api/assignments/{asg['id']}/clear", json={"disposition": "resolved"})
    second = await incident_of(console, (await raise_at(client, 41.567, 120.455, phone="13900139000"))["id"])
    new = (await console.post(f"/api/incidents/{second['id']}/dispatch", json={"unit_ids": [unit["id"]]})).json()
    assert new["assignments"][0]["status"] == "dispatched"
    assert new["assignments"][0]["on_scene_at"] is None
    assert (await unit_named(console, "双塔21"))["status"] == "dispatched"


async def test_an_officer_acting_on_another_units_assignment_gets_403_and_an_audit_entry(client, staff, app):
    await on_duty_at(staff, app, "officer", 41.568, 120.452)
    intruder = await staff("officer2")
    console = await staff("dispatcher")
    inc = await incident_of(console, (await raise_at(client, *SHUANGTA))["id"])
    unit = await unit_named(console, "双塔21")
    asg = (await console.post(f"/api/incidents/{inc['id']}/dispatch", json={"unit_ids": [unit["id"]]})).json()["assignments"][0]
    r = await intruder.post(f"/api/assignments/{asg['id']}/accept")
    assert r.status_code == 403 and r.json()["code"] == "not_your_assignment"
    await app.state.audit.flush()
    async with app.state.sessions() as s:
        row = await s.scalar(select(AuditEntry).where(AuditEntry.action == "assignment.refused"))
    assert row is not None and row.subject_id == asg["id"] and row.actor.startswith("officer:")
    assert (await intruder.get("/api/console/snapshot")).status_code == 403


async def test_decline_needs_a_reason_and_an_unanswered_offer_alerts_with_the_next_unit(client, staff, app):
    officer = await on_duty_at(staff, app, "officer", 41.568, 120.452)
    await on_duty_at(staff, app, "officer2", 41.569, 120.453)
    console = await staff("dispatcher")
    inc = await incident_of(console, (await raise_at(client, *SHUANGTA))["id"])
    unit = await unit_named(console, "双塔21")
    asg = (await console.post(f"/api/incidents/{inc['id']}/dispatch", json={"unit_ids": [unit["id"]]})).json()["assignments"][0]
    assert (await officer.post(f"/api/assignments/{asg['id']}/decline", json={"reason": ""})).status_code == 422
    async with unit_of_work(app.state) as s:
        assert await dispatch.overdue_sweep(s, app.state.board, timeout_s=-1) == 1
    async with app.state.sessions() as s:
        ev = await s.scalar(select(Event).where(Event.name == "assignment.overdue"))
    assert ev.data["assignment"]["id"] == asg["id"]
    assert ev.data["proposal"]["call_sign"] == "双塔22"
    async with unit_of_work(app.state) as s:
        assert await dispatch.overdue_sweep(s, app.state.board, timeout_s=-1) == 0, "alert once"
    r = await officer.post(f"/api/assignments/{asg['id']}/decline", json={"reason": "车辆故障"})
    assert r.json()["status"] == "declined" and r.json()["decline_reason"] == "车辆故障"


async def test_an_officer_cannot_go_off_duty_with_an_open_assignment(client, staff, app):
    officer = await on_duty_at(staff, app, "officer", 41.568, 120.452)
    console = await staff("dispatcher")
    inc = await incident_of(console, (await raise_at(client, *SHUANGTA))["id"])
    unit = await unit_named(console, "双塔21")
    await console.post(f"/api/incidents/{inc['id']}/dispatch", json={"unit_ids": [unit["id"]]})
    r = await officer.post("/api/officer/duty", json={"on_duty": False})
    assert r.status_code == 409 and r.json()["code"] == "assignment_open"


async def test_a_unit_silent_for_two_minutes_is_stale(staff, app):
    await on_duty_at(staff, app, "officer", 41.568, 120.452)
    async with app.state.sessions() as s, s.begin():
        unit = await s.scalar(select(Unit).where(Unit.call_sign == "双塔21"))
        unit.position_at = datetime.now(timezone.utc) - timedelta(minutes=3)
    assert (await unit_named(await staff("dispatcher"), "双塔21"))["stale"] is True


async def test_cti_pops_the_callers_recent_alarm_on_the_answering_call_takers_console(client, staff, app):
    app.state.settings.cti_api_key = "cti-secret"
    a = await raise_at(client, *SHUANGTA)
    body = {"caller_number": "+86 138-0013-8000", "call_id": "c-1", "agent": "calltaker"}
    assert (await client.post("/api/cti/calls", json=body)).status_code == 403
    assert (await client.post("/api/cti/calls", json=body, headers={"X-Api-Key": "wrong"})).status_code == 403
    r = await client.post("/api/cti/calls", json=body, headers={"X-Api-Key": "cti-secret"})
    assert r.json()["matched"] is True and r.json()["alarm_id"] == a["id"]
    async with app.state.sessions() as s:
        ev = await s.scalar(select(Event).where(Event.name == "cti.call"))
    assert ev.scope == "user" and ev.data["alarm_id"] == a["id"]
    miss = await client.post("/api/cti/calls", json={**body, "caller_number": "13700137000"},
                             headers={"X-Api-Key": "cti-secret"})
    assert miss.json()["matched"] is False
    bad = await client.post("/api/cti/calls", json={**body, "caller_number": "abc"}, headers={"X-Api-Key": "cti-secret"})
    assert bad.status_code == 422


async def test_admin_imports_units_from_csv_and_a_bad_file_changes_nothing(staff):
    admin = await staff("admin")
    good = "call_sign,kind,station_code,members\n凌河01,car,st-north,\n凌河02,foot,st-north,officer4\n"
    r = await admin.post("/api/admin/units/import", content=good.encode(), headers={"content-type": "text/csv"})
    assert r.status_code == 200 and r.json() == {"imported": 2, "keys": ["凌河01", "凌河02"]}
    units = {u["call_sign"]: u for u in (await admin.get("/api/admin/units")).json()["units"]}
    assert units["凌河02"]["members"][0]["display_name"] == "民警 吴刚"
    bad = "call_sign,kind,station_code,members\n凌河03,car,st-north,\n凌河04,tank,nowhere,ghost\n"
    r = await admin.post("/api/admin/units/import", content=bad.encode(), headers={"content-type": "text/csv"})
    assert r.status_code == 422 and "line 3" in r.json()["message_en"] and "第 3 行" in r.json()["message_zh"]
    assert "凌河03" not in {u["call_sign"] for u in (await admin.get("/api/admin/units")).json()["units"]}
    assert (await (await staff("dispatcher")).post("/api/admin/units/import", content=good.encode(),
                                                  headers={"content-type": "text/csv"})).status_code == 403


async def test_admin_imports_stations_with_jurisdictions(staff):
    admin = await staff("admin")
    csv = ("code,name_zh,name_en,lat,lon,address,jurisdiction\n"
           "st-east,双塔区东区派出所,Shuangta East,41.58,120.52,,41.56 120.50;41.60 120.50;41.60 120.55;41.56 120.55\n")
    r = await admin.post("/api/admin/stations/import", content=csv.encode(), headers={"content-type": "text/csv"})
    assert r.json() == {"imported": 1, "keys": ["st-east"]}
    st = next(s for s in (await admin.get("/api/admin/stations")).json()["stations"] if s["code"] == "st-east")
    assert st["jurisdiction"][0] == [41.56, 120.50]


async def test_closing_an_incident_stands_its_units_down_and_merging_moves_them(client, staff, app):
    officer = await on_duty_at(staff, app, "officer", 41.568, 120.452)
    console = await staff("dispatcher")
    unit = await unit_named(console, "双塔21")
    dup = await incident_of(console, (await raise_at(client, *SHUANGTA))["id"])
    main = await incident_of(console, (await raise_at(client, 41.5661, 120.4541, phone="13900139000"))["id"])
    asg = (await console.post(f"/api/incidents/{dup['id']}/dispatch", json={"unit_ids": [unit["id"]]})).json()["assignments"][0]
    merged = (await console.post(f"/api/incidents/{main['id']}/merge", json={"incident_ids": [dup["id"]]})).json()
    assert [a["id"] for a in merged["assignments"]] == [asg["id"]]
    assert (await officer.get("/api/officer/me")).json()["incident"]["id"] == main["id"]
    await console.post(f"/api/incidents/{main['id']}/close", json={"disposition": "resolved"})
    home = (await officer.get("/api/officer/me")).json()
    assert home["assignment"] is None and home["unit"]["status"] == "available"
    assert isinstance(home["seq"], int)
    async with app.state.sessions() as s:
        told = list(await s.scalars(select(Event.data).where(Event.scope == "unit", Event.name == "assignment.updated")))
    assert told[-1]["status"] == "cancelled"


async def test_admin_edits_refuse_a_code_or_call_sign_already_taken(staff):
    admin = await staff("admin")
    units = {u["call_sign"]: u for u in (await admin.get("/api/admin/units")).json()["units"]}
    body = {"call_sign": "双塔22", "kind": "car", "station_id": units["双塔21"]["station_id"], "member_ids": []}
    r = await admin.put(f"/api/admin/units/{units['双塔21']['id']}", json=body)
    assert r.status_code == 409 and r.json()["code"] == "duplicate_call_sign"
    assert (await admin.post("/api/admin/units", json=body)).status_code == 409
    st = {"code": "st-north", "name_zh": "重复", "name_en": "Dup", "lat": 41.6, "lon": 120.48}
    assert (await admin.post("/api/admin/stations", json=st)).json()["code"] == "duplicate_code"


async def test_a_bad_csv_names_every_bad_line_in_both_languages(staff):
    admin = await staff("admin")
    bad = "call_sign,kind,station_code,members\n\n凌河05,car,nowhere,\n凌河05,car,st-north,\n凌河06,tank,st-north,\n"
    r = await admin.post("/api/admin/units/import", content=bad.encode(), headers={"content-type": "text/csv"})
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert sorted({e["line"] for e in errors}) == [3, 4, 5], errors  # the blank line 2 counts
    by_line = {e["line"]: e for e in errors}
    assert by_line[3] == {"line": 3, "field": "station_code", "message_zh": "没有代码为“nowhere”的派出所",
                          "message_en": "no station with code 'nowhere'"}
    assert by_line[4]["field"] == "call_sign" and "第 3 行和第 4 行" in by_line[4]["message_zh"]
    # Pydantic's complaint arrives as a sentence in each language, not English twice.
    assert by_line[5]["field"] == "kind" and by_line[5]["message_zh"].startswith("只能是")
    assert all(e["message_zh"] != e["message_en"] for e in errors)


async def test_a_code_repeated_within_one_csv_is_refused_naming_both_lines(staff):
    admin = await staff("admin")
    before = (await admin.get("/api/admin/stations")).json()["stations"]
    csv = ("code,name_zh,name_en,lat,lon,address,jurisdiction\n"
           "dup-1,甲所,Station A,41.58,120.52,,\n"
           "dup-2,乙所,Station B,41.59,120.52,,\n"
           "dup-1,丙所,Station C,41.60,120.52,,\n")
    r = await admin.post("/api/admin/stations/import", content=csv.encode(), headers={"content-type": "text/csv"})
    assert r.status_code == 422, r.text
    (e,) = r.json()["errors"]
    assert (e["line"], e["field"]) == (4, "code")
    assert "第 2 行和第 4 行" in e["message_zh"] and "lines 2 and 4" in e["message_en"]
    assert len((await admin.get("/api/admin/stations")).json()["stations"]) == len(before)


async def test_bad_numbers_in_a_station_csv_name_their_column_and_point(staff):
    admin = await staff("admin")
    csv = ("code,name_zh,name_en,lat,lon,address,jurisdiction\n"
           "x-1,甲所,Station A,north,120.52,,41.56 120.50;41.60;41.60 120.55\n")
    r = await admin.post("/api/admin/stations/import", content=csv.encode(), headers={"content-type": "text/csv"})
    errors = {e["field"]: e for e in r.json()["errors"]}
    assert errors["lat"]["message_zh"] == "“north”不是数字"
    assert set(errors) == {"lat"}  # the first bad cell of a row is named; fix it and the next shows
    csv = csv.replace("north", "41.58")
    r = await admin.post("/api/admin/stations/import", content=csv.encode(), headers={"content-type": "text/csv"})
    (e,) = r.json()["errors"]
    assert e["field"] == "jurisdiction.1" and "第 2 个点" in e["message_zh"]


async def test_an_officer_adds_scene_photos_to_the_incidents_evidence(client, staff, app):
    from call_helpers import jpeg

    officer = await on_duty_at(staff, app, "officer", 41.568, 120.452)
    console = await staff("dispatcher")
    inc = await incident_of(console, (await raise_at(client, *SHUANGTA))["id"])
    unit = await unit_named(console, "双塔21")
    asg = (await console.post(f"/api/incidents/{inc['id']}/dispatch", json={"unit_ids": [unit["id"]]})).json()["assignments"][0]
    r = await officer.post(f"/api/assignments/{asg['id']}/photos", files={"file": ("scene.jpg", jpeg(), "image/jpeg")},
                           data={"caption": "车辆受损情况"})
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "photo" and r.json()["incident_id"] == inc["id"] and len(r.json()["sha256"]) == 64
    bad = await officer.post(f"/api/assignments/{asg['id']}/photos", files={"file": ("x.jpg", b"not a photo", "image/jpeg")})
    assert bad.status_code == 422 and bad.json()["code"] == "unsupported_file"
    other = await staff("officer2")
    assert (await other.post(f"/api/assignments/{asg['id']}/photos",
                             files={"file": ("s.jpg", jpeg(), "image/jpeg")})).status_code == 403
    listed = (await console.get(f"/api/incidents/{inc['id']}/media")).json()["media"]
    assert [m["kind"] for m in listed] == ["photo"]
    got = await console.get(listed[0]["url"])
    assert hashlib.sha256(got.content).hexdigest() == listed[0]["sha256"]


async def test_the_caller_reads_exactly_how_far_it_went_from_received_to_closed(client, staff, app):
    officer = await on_duty_at(staff, app, "officer", 41.568, 120.452)
    console = await staff("dispatcher")
    a = await raise_at(client, *SHUANGTA)
    h = {"X-Device-Token": a["device_token"]}

    async def caller_status():
        return (await client.get("/api/me/alarms", headers=h)).json()["alarms"][0]["status"]

    inc = await incident_of(console, a["id"])
    assert await caller_status() == "received"
    await console.post(f"/api/incidents/{inc['id']}/claim")
    assert await caller_status() == "handling"  # the desk has it; no officer is sent yet
    unit = await unit_named(console, "双塔21")
    asg = (await console.post(f"/api/incidents/{inc['id']}/dispatch", json={"unit_ids": [unit["id"]]})).json()
    asg = asg["assignments"][0]
    assert await caller_status() == "dispatched"
    await officer.post(f"/api/assignments/{asg['id']}/accept")
    assert await caller_status() == "dispatched"
    await officer.post(f"/api/assignments/{asg['id']}/en-route")
    assert await caller_status() == "en_route"
    await officer.post(f"/api/assignments/{asg['id']}/on-scene")
    assert await caller_status() == "on_scene"
    await officer.post(f"/api/assignments/{asg['id']}/clear", json={"disposition": "resolved"})
    assert await caller_status() == "handling"  # officers done, the desk still has it open
    await console.post(f"/api/incidents/{inc['id']}/close", json={"disposition": "resolved"})
    assert await caller_status() == "closed"
    # The live events said the same, in the same order; the consoles' copy of the alarm agrees.
    async with app.state.sessions() as s:
        pushed = [e.data["status"] for e in await s.scalars(
            select(Event).where(Event.scope == "device", Event.name == "alarm.updated",
                                Event.incident_id == inc["id"]).order_by(Event.seq))]
    steps = [x for i, x in enumerate(pushed) if i == 0 or pushed[i - 1] != x]
    assert steps == ["received", "handling", "dispatched", "en_route", "on_scene", "handling", "closed"]
    assert (await incident_of(console, a["id"]))["alarms"][0]["status"] == "closed"
