"""Issue 2 end to end: a caller with a position raises an alarm; the console shows the marker and
the queue entry and plays the alert; claiming it reaches the caller; the caller moves and the
marker follows. Real server, real Chromium, two browser contexts."""
import time
from datetime import datetime, timedelta, timezone

import httpx

from playwright.sync_api import expect

from browsing import desk_context, phone_context, shot

START = (41.5660, 120.4540)
MOVED = (41.5690, 120.4580)  # about 450 m north-east


def login_console(page, base: str, username: str = "calltaker") -> None:
    page.goto(base + "/console/")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill("baojing110")
    page.get_by_test_id("login-submit").click()
    page.wait_for_function("() => window.baojing && window.baojing.ready === true")


def marker_at(page, alarm_id: int) -> list[float] | None:
    return page.evaluate("(id) => { const m = window.baojing.markers.get(id);"
                         " if (!m) return null; const p = m.getLatLng(); return [p.lat, p.lng]; }", alarm_id)


def test_a_caller_alarm_reaches_the_console_and_the_console_reaches_the_caller(server, browser):
    desk = desk_context(browser)
    console = desk.new_page()
    login_console(console, server)
    shot(console, "e2e-console-empty")
    played_before = console.evaluate("() => window.baojing.alertsPlayed")

    phone = phone_context(browser, *START)
    caller = phone.new_page()
    caller.goto(server + "/m/")
    caller.get_by_test_id("terms-accept").click()
    caller.get_by_test_id("phone-input").fill("13800138000")
    # A name is kept to 40 characters, and the page says so rather than stopping without a word.
    caller.get_by_test_id("name-input").fill("张" * 45)
    expect(caller.get_by_test_id("name-input-count")).to_have_text("已达上限：最多 40 个字")
    assert len(caller.get_by_test_id("name-input").input_value()) == 40
    caller.get_by_test_id("name-input").fill("张三")
    expect(caller.get_by_test_id("name-input-count")).to_be_hidden()
    shot(caller, "e2e-m-form")
    tapped = time.monotonic()
    caller.get_by_test_id("call-button").click()
    expect(caller.get_by_test_id("delivery-status")).to_have_attribute("data-state", "received", timeout=10_000)
    item = caller.get_by_test_id("alarm-item").first
    alarm_id = int(item.get_attribute("data-alarm-id"))
    # The page hands over to tel:110 once the alarm is in (or after 3 s without an answer).
    caller.wait_for_function("() => window.baojing.state.dials >= 1", timeout=5_000)
    shot(caller, "e2e-m-received")

    incident_id = console.wait_for_function(
        "(id) => { for (const i of window.baojing.incidents.values())"
        " if (i.alarms.some(a => a.id === id)) return i.id; return false; }", arg=alarm_id).json_value()
    row = console.locator(f"[data-testid=queue-row][data-incident-id='{incident_id}']")
    expect(row).to_be_visible(timeout=5_000)
    seen = time.monotonic() - tapped
    console.wait_for_function("(id) => window.baojing.markers.has(id)", arg=alarm_id)
    lat, lon = marker_at(console, alarm_id)
    assert abs(lat - START[0]) < 1e-5 and abs(lon - START[1]) < 1e-5
    console.wait_for_function("(n) => window.baojing.alertsPlayed > n", arg=played_before)
    shot(console, "e2e-console-new-alarm")
    print(f"\ntap to console row: {seen:.2f} s (includes reading the position)")

    row.get_by_test_id("queue-claim").click()
    expect(row).to_have_attribute("data-status", "claimed")
    expect(caller.locator(f"[data-testid=alarm-item][data-alarm-id='{alarm_id}']")).to_have_attribute(
        "data-status", "handling", timeout=5_000)
    # Claimed is a call-taker at work, not an officer: the caller reads exactly that.
    mine = caller.locator(f"[data-testid=alarm-item][data-alarm-id='{alarm_id}'] [data-testid=alarm-status]")
    expect(mine).to_have_text("接警员正在处理")
    expect(caller.get_by_test_id("delivery-status")).to_contain_text("接警员正在处理")
    shot(caller, "e2e-m-handling")

    phone.set_geolocation({"latitude": MOVED[0], "longitude": MOVED[1], "accuracy": 15})
    console.wait_for_function(
        "([id, lat, lon]) => { const m = window.baojing.markers.get(id); if (!m) return false;"
        " const p = m.getLatLng(); return Math.abs(p.lat - lat) < 1e-5 && Math.abs(p.lng - lon) < 1e-5; }",
        arg=[alarm_id, MOVED[0], MOVED[1]], timeout=45_000)
    row.click()
    expect(console.get_by_test_id("detail-panel")).to_be_visible()
    shot(console, "e2e-console-moved")

    # Officers sent: the caller sees them coming and how far they are, live.
    officer = staff_client(server, "officer4")  # 双塔31: no other browser test moves it
    assert officer.post("/api/officer/duty", json={"on_duty": True}).status_code == 200
    earlier = (datetime.now(timezone.utc) - timedelta(seconds=100)).isoformat()
    officer.post("/api/officer/positions", json={"points": [{"lat": 41.5790, "lon": 120.4580, "accuracy_m": 10,
                                                             "at": earlier}]})
    dispatcher = staff_client(server, "dispatcher")
    units = {u["call_sign"]: u for u in dispatcher.get("/api/units").json()["units"]}
    r = dispatcher.post(f"/api/incidents/{incident_id}/dispatch", json={"unit_ids": [units["双塔31"]["id"]]})
    assert r.status_code == 200, r.text
    assignment = r.json()["assignments"][0]["id"]
    assert officer.post(f"/api/assignments/{assignment}/en-route").status_code == 200
    responders = caller.locator(f"[data-testid=alarm-item][data-alarm-id='{alarm_id}'] [data-testid=responders]")
    expect(mine).to_have_text("民警正在赶来", timeout=5_000)
    expect(responders).to_contain_text("距您约 1.1 公里")  # 41.5790 vs 41.5690: 1.1 km north
    officer.post("/api/officer/positions", json={"points": [{"lat": 41.5720, "lon": 120.4580, "accuracy_m": 10}]})
    expect(responders).to_contain_text("330 米", timeout=5_000)
    shot(caller, "e2e-m-officers-coming")
    officer.post(f"/api/assignments/{assignment}/clear", json={"disposition": "resolved"})
    officer.post("/api/officer/duty", json={"on_duty": False})
    desk.close()
    phone.close()


def staff_client(base: str, username: str) -> httpx.Client:
    c = httpx.Client(base_url=base)
    assert c.post("/api/auth/login", json={"username": username, "password": "baojing110"}).status_code == 200
    return c
