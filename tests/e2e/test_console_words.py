"""The console at 1366×768 in both languages (issue 7): nothing an operator needs is clipped or
wrapped in English, a language switch says everything again (an open call view included), the
legend starts collapsed and stays as each operator left it, and the caller's rating reaches the
console (closed list and timeline)."""
from __future__ import annotations

import uuid

import httpx
from playwright.sync_api import expect

from browsing import desk_context, shot
from call_helpers import call_body

PASSWORD = "baojing110"
SHUANGTA = (41.566, 120.454)

# True when the element's text fits on one line inside the element and inside its container.
FITS = """([el, box]) => {
  const r = el.getBoundingClientRect(), b = (box || el.parentElement).getBoundingClientRect();
  const line = parseFloat(getComputedStyle(el).lineHeight) || parseFloat(getComputedStyle(el).fontSize) * 1.5;
  return el.scrollWidth <= el.clientWidth + 1 && r.left >= b.left - 1 && r.right <= b.right + 1
    && r.height < 2 * line && el.getClientRects().length === 1;
}"""


def staff(server: str, username: str) -> httpx.Client:
    c = httpx.Client(base_url=server, timeout=10)
    assert c.post("/api/auth/login", json={"username": username, "password": PASSWORD}).status_code == 200
    return c


def login(page, server: str, username: str, lang: str = "zh") -> None:
    page.add_init_script(f"localStorage.setItem('baojing.lang', '{lang}')")
    page.goto(server + "/console/")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_function("() => window.baojing && window.baojing.ready === true", timeout=15000)


def fits(page, locator, box=None) -> bool:
    return page.evaluate(FITS, [locator.element_handle(), box.element_handle() if box else None])


def test_english_fits_and_a_switch_relabels_the_open_call_view(server, browser):
    officer = staff(server, "officer2")  # 双塔22, near the alarm below, inside its jurisdiction
    assert officer.post("/api/officer/duty", json={"on_duty": True}).status_code == 200
    officer.post("/api/officer/positions", json={"points": [{"lat": 41.5665, "lon": 120.4535, "accuracy_m": 10}]})
    phone = httpx.Client(base_url=server, timeout=10)
    ctx = desk_context(browser)
    try:
        r = phone.post("/api/calls", json=call_body("text", phone="13700002222",
                                                       location={"lat": SHUANGTA[0], "lon": SHUANGTA[1]}))
        assert r.status_code == 201, r.text
        call = r.json()
        incident_id = next(c for c in staff(server, "calltaker").get("/api/calls").json()["calls"]
                           if c["id"] == call["id"])["incident_id"]
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        login(page, server, "calltaker", "en")

        # The tabs and their counts fit on one line.
        for tab in ("tab-queue", "tab-units", "calls-tab"):
            assert fits(page, page.get_by_test_id(tab)), tab
        expect(page.get_by_test_id("calls-tab-n")).not_to_have_text("0")
        assert fits(page, page.get_by_test_id("calls-tab-n"), page.get_by_test_id("calls-tab"))

        # The incident's detail: the "✓ jurisdiction" badge and "4 Low" fit.
        row = page.locator(f"[data-testid=queue-row][data-incident-id='{incident_id}']")
        row.click()
        rec = page.locator("[data-testid=rec-row]").first
        expect(rec.get_by_test_id("rec-juris")).to_be_visible(timeout=10000)
        assert fits(page, rec.get_by_test_id("rec-juris"), rec)
        low = page.locator(".prio-opt.p4 span")
        expect(low).to_have_text("4 Low")
        assert fits(page, low, page.get_by_test_id("classify-priority"))
        shot(page, "console-en-detail")

        # Answer the text alarm: the call view is English; a switch to Chinese relabels it.
        page.get_by_test_id("calls-tab").click()
        page.locator(f"[data-testid=call-row][data-call-id='{call['id']}'] [data-testid=call-answer]").click()
        view = page.get_by_test_id("call-view")
        expect(view.get_by_test_id("chat-send")).to_have_text("Send")
        expect(view.get_by_test_id("call-hangup")).to_have_text("Hang up")
        expect(view.get_by_test_id("call-state")).to_have_text("Text alarm")
        shot(page, "console-en-call")
        page.get_by_test_id("lang-toggle").click()
        expect(view.get_by_test_id("chat-send")).to_have_text("发送")
        expect(view.get_by_test_id("call-hangup")).to_have_text("挂断")
        expect(view.get_by_test_id("call-state")).to_have_text("文字报警")
        expect(page.get_by_test_id("calls-tab")).to_contain_text("视频/文字")
        page.get_by_test_id("lang-toggle").click()
        expect(view.get_by_test_id("chat-send")).to_have_text("Send")

        # Reloaded, the call is still mine: its row offers "Open", which fits.
        page.reload()
        page.wait_for_function("() => window.baojing && window.baojing.ready === true", timeout=15000)
        page.get_by_test_id("calls-tab").click()
        open_btn = page.locator(f"[data-testid=call-row][data-call-id='{call['id']}'] [data-testid=call-open]")
        expect(open_btn).to_have_text("Open")
        assert fits(page, open_btn)
        shot(page, "console-en-calls")
        assert not errors, errors
    finally:
        desk = staff(server, "calltaker")
        desk.post(f"/api/calls/{call['id']}/hangup")
        officer.post("/api/officer/duty", json={"on_duty": False})
        ctx.close()


def test_the_legend_starts_collapsed_and_each_operator_keeps_their_choice(server, browser):
    ctx = desk_context(browser)
    try:
        page = ctx.new_page()
        login(page, server, "calltaker")
        legend = page.get_by_test_id("map-legend")
        expect(legend).to_have_attribute("data-state", "collapsed")
        page.get_by_test_id("map-legend-toggle").click()
        expect(legend).to_have_attribute("data-state", "open")
        page.reload()
        page.wait_for_function("() => window.baojing && window.baojing.ready === true", timeout=15000)
        expect(legend).to_have_attribute("data-state", "open")
        # Another operator on the same machine starts with it collapsed.
        page.get_by_test_id("logout").click()
        page.get_by_test_id("login-username").fill("calltaker2")
        page.get_by_test_id("login-password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        page.wait_for_function("() => window.baojing && window.baojing.ready === true", timeout=15000)
        expect(legend).to_have_attribute("data-state", "collapsed")
    finally:
        ctx.close()


def test_the_callers_rating_shows_on_the_console(server, browser):
    phone = httpx.Client(base_url=server, timeout=10)
    r = phone.post("/api/alarms", json={"idempotency_key": uuid.uuid4().hex, "phone": "13600006666", "name": "评价",
                                        "channel": "phone", "location": {"lat": SHUANGTA[0], "lon": SHUANGTA[1],
                                                                         "accuracy_m": 10, "crs": "wgs84"}})
    assert r.status_code == 201, r.text
    alarm = r.json()
    desk = staff(server, "calltaker")
    inc = next(i for i in desk.get("/api/console/snapshot").json()["incidents"]
               if any(a["id"] == alarm["id"] for a in i["alarms"]))
    assert desk.post(f"/api/incidents/{inc['id']}/close", json={"disposition": "resolved"}).status_code == 200
    ctx = desk_context(browser)
    try:
        page = ctx.new_page()
        login(page, server, "calltaker")
        page.locator("#closed-toggle").click()
        crow = page.locator(f"[data-testid=closed-row][data-incident-id='{inc['id']}']")
        expect(crow).to_be_visible()
        expect(crow.get_by_test_id("closed-rating")).to_have_count(0)
        # The caller rates: the console hears it live.
        r = phone.post(f"/api/alarms/{alarm['id']}/rating", headers={"X-Device-Token": alarm["device_token"]},
                       json={"score": 4, "comment": "来得很快"})
        assert r.status_code == 200, r.text
        expect(crow.get_by_test_id("closed-rating")).to_have_attribute("data-score", "4")
        expect(crow.get_by_test_id("closed-rating")).to_contain_text("来得很快")
        crow.click()
        expect(page.get_by_test_id("detail-rating")).to_contain_text("★★★★☆")
        step = page.locator("[data-testid=timeline-item][data-name=rated]")
        expect(step.get_by_test_id("timeline-rating")).to_have_attribute("data-score", "4")
        expect(step).to_contain_text("来得很快")
        expect(step).to_contain_text("报警人")
        shot(page, "console-rating")
    finally:
        ctx.close()


def test_the_note_box_counts_and_says_when_the_2000_character_cap_is_reached(server, browser):
    r = httpx.post(server + "/api/alarms", json={"idempotency_key": uuid.uuid4().hex, "phone": "13600007777",
                                                 "channel": "phone", "location": {"lat": SHUANGTA[0], "lon": SHUANGTA[1],
                                                                                  "accuracy_m": 10, "crs": "wgs84"}})
    assert r.status_code == 201, r.text
    alarm_id = r.json()["id"]
    words = {"zh": "已达上限：最多 2000 个字", "en": "Limit reached: at most 2000 characters"}
    for lang, full in words.items():
        ctx = desk_context(browser)
        try:
            page = ctx.new_page()
            login(page, server, "calltaker", lang)
            page.wait_for_function("(id) => [...window.baojing.incidents.values()].some(i => i.alarms.some(a => a.id === id))",
                                   arg=alarm_id)
            page.locator("[data-testid=queue-row]", has=page.locator("[data-testid=queue-phone]", has_text="7777")).first.click()
            box, count = page.get_by_test_id("note-input"), page.get_by_test_id("note-input-count")
            expect(count).to_have_text("0/2000")
            box.fill("其中一人持棍")
            expect(count).to_have_text("6/2000")
            box.fill("x" * 2500)  # the box takes 2,000 and says why it stops
            assert len(box.input_value()) == 2000
            expect(count).to_have_text(full)
            shot(page, f"console-note-full-{lang}")
            page.get_by_test_id("lang-toggle").click()
            expect(count).to_have_text(words["en" if lang == "zh" else "zh"])
        finally:
            ctx.close()
