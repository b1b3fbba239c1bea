"""A call-taker marks a caller's number abusive from the incident panel (issue 11): a reason is
required (a bilingual refusal changes nothing), the mark is audited, and the next alarm from the
number opens one priority step lower with the reason shown on it."""
from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import expect

from browsing import desk_context, shot

PASSWORD = "baojing110"


def staff(server: str, username: str) -> httpx.Client:
    c = httpx.Client(base_url=server, timeout=10)
    assert c.post("/api/auth/login", json={"username": username, "password": PASSWORD}).status_code == 200
    return c


def alarm(server: str, phone: str) -> int:
    r = httpx.post(server + "/api/alarms", timeout=10, json={
        "idempotency_key": uuid.uuid4().hex, "phone": phone, "name": None, "channel": "phone",
        "location": {"lat": 41.5705, "lon": 120.4508, "accuracy_m": 15, "crs": "wgs84"}})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def incident_of(desk: httpx.Client, alarm_id: int) -> dict:
    return next(i for i in desk.get("/api/console/snapshot").json()["incidents"]
                if any(a["id"] == alarm_id for a in i["alarms"]))


def open_panel(page, incident_id: int):
    page.locator(f"[data-testid=queue-row][data-incident-id='{incident_id}']").click()
    return page.locator(f"[data-testid=detail-alarm]").first


@pytest.mark.parametrize("lang,width,height", [("zh", 1366, 768), ("en", 1366, 768), ("zh", 390, 844), ("en", 390, 844)])
def test_a_call_taker_marks_a_number_abusive_from_the_panel_and_the_next_alarm_says_why(server, browser, lang, width,
                                                                                      height):
    phone = f"1370000{width % 1000:03d}{'1' if lang == 'zh' else '2'}"
    desk = staff(server, "calltaker")
    first = incident_of(desk, alarm(server, phone))
    ctx = desk_context(browser)
    ctx.add_init_script(f"localStorage.setItem('baojing.lang', '{lang}'); localStorage.setItem('baojing.console.lang', '{lang}')")
    page = ctx.new_page()
    page.set_viewport_size({"width": width, "height": height})
    try:
        page.goto(server + "/console/")
        page.get_by_test_id("login-username").fill("calltaker")
        page.get_by_test_id("login-password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        page.wait_for_function("() => window.baojing && window.baojing.ready === true", timeout=15000)
        caller = open_panel(page, first["id"])
        caller.get_by_test_id("abuse-mark-open").click()
        caller.get_by_test_id("abuse-mark-submit").click()  # no reason: refused here, nothing sent
        expect(caller.get_by_test_id("abuse-mark-error")).to_have_text(
            "请填写标记原因" if lang == "zh" else "Give a reason for the mark")
        assert not [m for m in desk.get("/api/abuse/marks").json()["marks"] if m["value"] == phone]
        caller.get_by_test_id("abuse-mark-reason").fill("恶意骚扰，一小时内 20 次")
        caller.get_by_test_id("abuse-mark-submit").click()
        expect(caller.get_by_test_id("abuse-mark-done")).to_contain_text("恶意骚扰，一小时内 20 次")
        expect(caller.get_by_test_id("abuse-mark-done")).to_contain_text("降一级" if lang == "zh" else "one priority step lower")
        shot(page, f"console-abuse-mark-{lang}-{width}")
        (mark,) = [m for m in desk.get("/api/abuse/marks").json()["marks"] if m["value"] == phone]
        assert mark["kind"] == "phone" and mark["reason"] == "恶意骚扰，一小时内 20 次"
        # The next alarm from the number: in the queue like any other, one step lower, the reason on it.
        later = incident_of(desk, alarm(server, phone))
        assert later["priority"] == first["priority"] + 1
        page.get_by_test_id("detail-close").click()
        caller = open_panel(page, later["id"])
        expect(caller.get_by_test_id("detail-abuse-marked")).to_contain_text("恶意骚扰，一小时内 20 次")
        expect(page.get_by_test_id("detail-priority")).to_contain_text(str(later["priority"]))
        shot(page, f"console-abuse-marked-{lang}-{width}")
        admin = staff(server, "admin")
        assert admin.post(f"/api/abuse/marks/{mark['id']}/lift").status_code == 200  # the shared server's later tests
    finally:
        ctx.close()
