"""A caller whose phone finds its position only after the page's 8 s wait: the alarm goes without
one (辖区未定), the fix follows, and the console shows the station it now belongs to, live."""
import uuid

import httpx
from playwright.sync_api import expect

from browsing import desk_context, phone_context, shot
from test_alarm_flow import login_console

SHUANGTA = (41.5660, 120.4540)  # st-station's jurisdiction

# The phone's GPS answers, but only when the test says so: a satellite fix that takes its time.
SLOW_GPS = """(() => {
  const geo = navigator.geolocation, held = [];
  let ready = false;
  const late = (ok) => (pos) => (ready ? ok(pos) : held.push(() => ok(pos)));
  const get = geo.getCurrentPosition.bind(geo), watch = geo.watchPosition.bind(geo);
  geo.getCurrentPosition = (ok, err, o) => get(late(ok), err, o);
  geo.watchPosition = (ok, err, o) => watch(late(ok), err, o);
  window.gpsFinallyFixes = () => { ready = true; held.splice(0).forEach((f) => f()); };
})();"""


def test_a_late_position_routes_the_incident_and_the_console_shows_the_station(server, browser):
    stations = {s["code"]: s for s in httpx.get(server + "/api/config").json()["stations"]}
    st = stations["st-station"]
    console = desk_context(browser).new_page()
    login_console(console, server)

    phone = phone_context(browser, *SHUANGTA)
    phone.add_init_script(SLOW_GPS)
    caller = phone.new_page()
    caller.goto(server + "/m/")
    caller.get_by_test_id("terms-accept").click()
    caller.get_by_test_id("phone-input").fill("13800138000")
    caller.get_by_test_id("call-button").click()
    expect(caller.get_by_test_id("delivery-status")).to_have_attribute("data-state", "received", timeout=20_000)
    alarm_id = int(caller.get_by_test_id("alarm-item").first.get_attribute("data-alarm-id"))

    incident_id = console.wait_for_function(
        "(id) => { for (const i of window.baojing.incidents.values())"
        " if (i.alarms.some(a => a.id === id)) return i.id; return false; }", arg=alarm_id).json_value()
    assert console.evaluate("(id) => window.baojing.incidents.get(id).station_id", incident_id) is None
    row = console.locator(f"[data-testid=queue-row][data-incident-id='{incident_id}']")
    row.click()
    station = console.get_by_test_id("detail-station")
    expect(station).to_have_attribute("data-station-id", "")
    shot(console, "e2e-console-unrouted")

    caller.evaluate("() => window.gpsFinallyFixes()")
    console.wait_for_function("([id, st]) => window.baojing.incidents.get(id).station_id === st",
                              arg=[incident_id, st["id"]], timeout=15_000)
    expect(station).to_have_attribute("data-station-id", str(st["id"]))
    expect(station).not_to_contain_text("辖区未定")
    expect(console.locator("[data-testid=timeline-item][data-name=routed]")).to_have_count(1, timeout=5_000)
    shot(console, "e2e-console-routed-late")


def test_the_nearest_units_follow_a_late_position_that_routes_nothing(server, browser):
    """A fix outside every jurisdiction changes no station (no incident.upserted), yet the open
    incident's "no position" must turn into the nearest units at once, not at the next periodic
    refresh (10 s)."""
    from test_console_dispatch import UNIT_AT, officer_on_duty

    officer_on_duty(server, "officer", *UNIT_AT)
    r = httpx.post(server + "/api/alarms", json={"idempotency_key": uuid.uuid4().hex, "phone": "13800138011",
                                                 "channel": "phone"})
    assert r.status_code == 201, r.text
    alarm_id, token = r.json()["id"], r.json()["device_token"]
    console = desk_context(browser).new_page()
    login_console(console, server)
    incident_id = console.wait_for_function(
        "(id) => { for (const i of window.baojing.incidents.values())"
        " if (i.alarms.some(a => a.id === id)) return i.id; return false; }", arg=alarm_id).json_value()
    console.locator(f"[data-testid=queue-row][data-incident-id='{incident_id}']").click()
    expect(console.get_by_test_id("rec-no-position")).to_be_visible()
    # An open incident is not asked for again and again: its own answer once scheduled the next
    # request (every 400 ms), and that loop kept putting off the recommendations' refresh.
    asked = []
    console.on("request", lambda req: req.url.endswith(f"/api/incidents/{incident_id}") and asked.append(req.url))
    console.wait_for_timeout(2_000)
    assert len(asked) <= 1, f"{len(asked)} requests for the open incident in 2 s with nothing new"

    r = httpx.post(f"{server}/api/alarms/{alarm_id}/positions", headers={"X-Device-Token": token},
                   json={"lat": 30.0, "lon": 110.0, "accuracy_m": 20, "crs": "wgs84"})
    assert r.status_code == 202, r.text
    expect(console.get_by_test_id("detail-position")).to_have_attribute("data-source", "gps")
    assert console.evaluate("(id) => window.baojing.incidents.get(id).station_id", incident_id) is None
    # Well inside the 10 s after which the open incident's units refresh anyway.
    expect(console.get_by_test_id("rec-row").first).to_be_visible(timeout=4_000)
    expect(console.get_by_test_id("rec-no-position")).to_have_count(0)
