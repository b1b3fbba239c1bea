"""The console's layout in both languages, as a review found it wanting: at 390 px the header in two
rows at most, the alerts beside the map rather than over it, and the open incident's last rows
(the note box, "Merge duplicates…") not under the bulletins button; at 1366×768 each queue row
readable in English; the video desk's waits said as durations. Screenshots in
var/screenshots/layout-*.png, to be looked at."""
import re
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from browsing import SHOTS, desk_context, phone_context, shot
from call_helpers import call_body
from test_console_dispatch import open_console as logged_in_console

PASSWORD = "baojing110"
START = (41.566, 120.454)

# How many rows the header's visible items stand in (an item starting below the bottom of every
# item of the row before opens a new row).
HEADER_ROWS = """() => {
  const boxes = [...document.querySelector('.topbar').children].filter((e) => e.offsetParent !== null)
    .map((e) => e.getBoundingClientRect()).sort((a, b) => a.top - b.top);
  let rows = 0, bottom = -Infinity;
  for (const r of boxes) {
    if (r.top >= bottom - 1) { rows += 1; bottom = r.bottom; } else bottom = Math.max(bottom, r.bottom);
  }
  return rows;
}"""

# The points of an element (centre, and near its right end, where a corner button would stand)
# at which something else is on top of it.
COVERED = """(el) => {
  const r = el.getBoundingClientRect();
  const pts = [[r.left + r.width / 2, r.top + r.height / 2], [r.right - 6, r.top + r.height / 2], [r.right - 6, r.bottom - 4]];
  return pts.filter(([x, y]) => { const hit = document.elementFromPoint(x, y); return !hit || !(hit === el || el.contains(hit)); })
    .map(([x, y]) => { const hit = document.elementFromPoint(x, y); return [x, y, hit ? hit.outerHTML.slice(0, 80) : null]; });
}"""

OVERLAP = """([a, b]) => { const r = a.getBoundingClientRect(), s = b.getBoundingClientRect();
  return Math.max(0, Math.min(r.right, s.right) - Math.max(r.left, s.left)) * Math.max(0, Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top)); }"""

# An incident seen only by this console (fed through its test hook): claimed, one offer unanswered.
OVERDUE = """(at) => {
  window.baojing.feed("incident.upserted", {id: 990101, status: "claimed", priority: 1, type: null, station_id: null,
    received_at: at, updated_at: at, claimed_by: null,
    alarms: [{id: 990101, phone: "13800990101", name: null, received_at: at, location: null}],
    assignments: [{id: 990101, incident_id: 990101, unit_id: 1, call_sign: "测试01", unit_kind: "car", status: "dispatched",
      dispatched_at: at, overdue_at: at}]}, 0);
  window.baojing.feed("assignment.overdue", {incident_id: 990101, assignment: {id: 990101, overdue_at: at},
    proposal: {unit_id: 2, call_sign: "测试02", distance_m: 800, eta_s: 120}}, 0);
}"""


def open_console(browser, server, lang, size="390", user="dispatcher"):
    ctx = phone_context(browser, *START) if size == "390" else desk_context(browser)
    ctx.add_init_script(f"try {{ localStorage.setItem('baojing.lang', '{lang}') }} catch (e) {{}}")
    ctx, page, errors = logged_in_console(browser, server, user, ctx)
    expect(page.get_by_test_id("ku-bulletins-open")).to_be_visible()
    return ctx, page, errors


def raise_alarm(server) -> int:
    r = httpx.post(server + "/api/alarms", json={"idempotency_key": uuid.uuid4().hex, "phone": "13700003900",
                                                 "name": "张三", "channel": "phone",
                                                 "location": {"lat": START[0], "lon": START[1], "accuracy_m": 12,
                                                              "crs": "wgs84"}})
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_phone_width_console_covers_nothing_it_needs(server, browser, lang):
    alarm_id = raise_alarm(server)
    ctx, page, errors = open_console(browser, server, lang)
    try:
        assert page.evaluate(HEADER_ROWS) <= 2, f"{lang}: the header takes more than two rows"
        assert page.evaluate("() => document.documentElement.scrollWidth - innerWidth") <= 1

        # An offer nobody accepted: its alert stands above the map, not over it, and all of it
        # (its buttons too) is on the screen.
        page.evaluate(f"({OVERDUE})(new Date().toISOString())")
        alert = page.locator("[data-testid=overdue-alert][data-assignment-id='990101']")
        expect(alert).to_be_visible()
        page.wait_for_timeout(300)  # the map takes what the alert leaves
        shot(page, f"layout-console-alert-{lang}-390")
        stack, map_ = page.get_by_test_id("alert-stack"), page.get_by_test_id("map")
        assert page.evaluate(OVERLAP, [stack.element_handle(), map_.element_handle()]) == 0
        assert map_.bounding_box()["height"] > 150
        for button in (alert.get_by_test_id("overdue-alert-dispatch"), alert.get_by_test_id("overdue-dismiss")):
            assert page.evaluate(COVERED, button.element_handle()) == []
            assert button.bounding_box()["y"] + button.bounding_box()["height"] <= 844

        # The open incident fills the window: its note box and "Merge duplicates…" are not under
        # the bulletins button, wherever the panel is scrolled to.
        page.evaluate("(id) => { for (const i of window.baojing.incidents.values())"
                      " if (i.alarms.some(a => a.id === id)) window.baojing.select(i.id); }", alarm_id)
        note = page.get_by_test_id("note-input")
        expect(note).to_be_visible()
        page.wait_for_timeout(300)
        shot(page, f"layout-console-detail-{lang}-390")
        for testid in ("note-input", "merge-open"):
            el = page.get_by_test_id(testid)
            for block in ("end", "center"):
                el.evaluate(f"(e) => e.scrollIntoView({{block: '{block}'}})")
                assert page.evaluate(COVERED, el.element_handle()) == [], (testid, block)
        shot(page, f"layout-console-detail-end-{lang}-390")

        # Closed again, the bulletins are one tap away and open over everything.
        page.get_by_test_id("detail-close").click()
        opener = page.get_by_test_id("ku-bulletins-open")
        expect(opener).to_be_visible()
        assert page.evaluate(COVERED, opener.element_handle()) == []
        opener.click()
        expect(page.get_by_test_id("ku-bulletin-form")).to_be_visible()
        assert errors == []
    finally:
        ctx.close()


# The words of a queue row that say what, who and where (not the caller's own name and place,
# which give way with their full text in their title): each whole, inside its row, at 12 px or more.
ROW_WORDS = """() => [...document.querySelectorAll('[data-testid=queue-row]')].flatMap((row) => {
  const box = row.getBoundingClientRect();
  return [...row.querySelectorAll('.q1 > *, .qholder, .q3 > .tag, .qtype, .qloc, .qtimer, .achip')]
    .filter((el) => el.offsetParent !== null)
    .filter((el) => { const r = el.getBoundingClientRect();
      return el.scrollWidth > el.clientWidth + 1 || r.right > box.right + 1 || r.bottom > box.bottom + 1
        || parseFloat(getComputedStyle(el).fontSize) < 12; })
    .map((el) => `#${row.dataset.incidentId} ${el.className}: ${el.textContent.trim()}`);
})"""

# Fed through the console's test hook: the longest words a row shows (priority 1, my station, a
# call-taker's name, an abuse flag beside a long type and a network position, an unanswered offer
# with its clock).
LONG_ROW = """([at, station]) => window.baojing.feed("incident.upserted", {id: 990102, status: "claimed", priority: 1,
  type: "disturbance", station_id: station, received_at: at, updated_at: at,
  claimed_by: {id: 990102, display_name: "接警员 王芳"},
  alarms: [{id: 990102, phone: "13800990102", name: null, received_at: at, place_text: "新华路 88 号火车站对面",
    location: {lat: 41.566, lon: 120.454, accuracy_m: 1500, source: "network", recorded_at: at},
    abuse: {device_alarms: 6, address_alarms: 12, window_minutes: 60, possible: true, marked: null}}],
  assignments: [{id: 990102, incident_id: 990102, unit_id: 1, call_sign: "双塔22", unit_kind: "car", status: "on_scene",
    dispatched_at: at, on_scene_at: at}, {id: 990103, incident_id: 990102, unit_id: 2, call_sign: "测试01", unit_kind: "car",
    status: "dispatched", dispatched_at: at, overdue_at: at}]}, 0)"""
# A 1-Critical alarm of my station waiting ten minutes: its claim button must be whole.
WAITING_ROW = """([at, station]) => window.baojing.feed("incident.upserted", {id: 990104, status: "new", priority: 1,
  type: null, station_id: station, received_at: at, updated_at: at, claimed_by: null, assignments: [],
  alarms: [{id: 990104, phone: "13800990104", name: null, received_at: at, location: null}]}, 0)"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_queue_row_reads_whole_at_1366(server, browser, lang):
    # A real one: from the network's position, classified, claimed by another call-taker.
    alarm_id = httpx.post(server + "/api/alarms", json={
        "idempotency_key": uuid.uuid4().hex, "phone": "13700001367", "channel": "phone",
        "place_text": "Chaoyang Department Store, north entrance",
        "location": {"lat": START[0], "lon": START[1], "accuracy_m": 1500, "crs": "wgs84"}}).json()["id"]
    other = httpx.Client(base_url=server, timeout=10)
    assert other.post("/api/auth/login", json={"username": "calltaker2", "password": PASSWORD}).status_code == 200
    incident = next(i for i in other.get("/api/console/snapshot").json()["incidents"]
                    if any(a["id"] == alarm_id for a in i["alarms"]))
    assert other.post(f"/api/incidents/{incident['id']}/claim").status_code == 200
    assert other.post(f"/api/incidents/{incident['id']}/classify",
                      json={"type": "disturbance", "priority": 2}).status_code == 200

    ctx, page, errors = open_console(browser, server, lang, size="1366", user="calltaker")
    try:
        station = page.evaluate("() => window.baojing.myStationId ?? null")
        st = station if station is not None else "null"
        page.evaluate(f"({LONG_ROW})([new Date().toISOString(), {st}])")
        page.evaluate(f"({WAITING_ROW})([new Date(Date.now() - 642e3).toISOString(), {st}])")
        expect(page.locator("[data-testid=queue-row][data-incident-id='990104'] [data-testid=queue-claim]")).to_be_visible()
        for inc_id in (incident["id"], 990102):
            expect(page.locator(f"[data-testid=queue-row][data-incident-id='{inc_id}']")).to_be_visible()
        expect(page.locator(f"[data-testid=queue-row][data-incident-id='{incident['id']}'] [data-testid=queue-status]"))\
            .to_contain_text("接警员")
        page.wait_for_timeout(300)
        page.locator(".queue-col").screenshot(path=str(SHOTS / f"layout-console-queue-{lang}-1366.png"))
        assert page.evaluate(ROW_WORDS) == []
        assert errors == []
    finally:
        ctx.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_video_desk_says_how_long_a_call_has_waited_not_a_clock_time(server, browser, lang):
    phone = "13700002390" if lang == "zh" else "13700002391"
    r = httpx.post(server + "/api/calls", json=call_body("text", phone=phone,
                                                         location={"lat": START[0], "lon": START[1]}))
    assert r.status_code == 201, r.text
    call_id = r.json()["id"]
    ctx, page, errors = open_console(browser, server, lang, size="1366", user="dispatcher")
    try:
        page.get_by_test_id("calls-tab").click()
        wait = page.locator(f"[data-testid=call-row][data-call-id='{call_id}'] [data-testid=call-wait]")
        first = {"zh": r"^等待 \d{1,2} 秒$", "en": r"^waiting \d{1,2} s$"}[lang]
        expect(wait).to_have_text(re.compile(first))
        text = wait.inner_text()
        expect(wait).not_to_have_text(text, timeout=3000)  # it ticks
        # Ten minutes on (the browser's own clock moved, the call's queue time the server's):
        # minutes and seconds, in words.
        page.clock.install()
        page.clock.fast_forward(642_000)
        later = {"zh": r"^等待 1\d 分 \d\d 秒$", "en": r"^waiting 1\d min \d\d s$"}[lang]
        expect(wait).to_have_text(re.compile(later))
        # Its place in the queue is said as one, not as another "waiting" number.
        place = page.locator(f"[data-testid=call-row][data-call-id='{call_id}'] [data-testid=call-place]")
        expect(place).to_have_text(re.compile({"zh": r"^排队第 \d+ 位$", "en": r"^in line: \d+$"}[lang]))
        page.get_by_test_id("calls-pane").screenshot(path=str(SHOTS / f"layout-video-desk-{lang}-1366.png"))
        assert wait.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1")
        # The answer button whole inside its row, however long the words beside it.
        row = page.locator(f"[data-testid=call-row][data-call-id='{call_id}']")
        answer = row.get_by_test_id("call-answer")
        assert answer.bounding_box()["x"] + answer.bounding_box()["width"] <= \
            row.bounding_box()["x"] + row.bounding_box()["width"] + 1, (answer.bounding_box(), row.bounding_box())
        assert answer.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1")
        assert errors == []
    finally:
        ctx.close()
        desk = httpx.Client(base_url=server, timeout=10)
        desk.post("/api/auth/login", json={"username": "dispatcher", "password": PASSWORD})
        if desk.post(f"/api/calls/{call_id}/answer").status_code == 200:
            desk.post(f"/api/calls/{call_id}/hangup")
