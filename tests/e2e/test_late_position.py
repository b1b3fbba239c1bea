"""A caller whose phone finds its position only after the page's 8 s wait: the alarm goes without
one (辖区未定), the fix follows, and the console shows the station it now belongs to, live."""
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
