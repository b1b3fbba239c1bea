"""Issue 7: the officer page's toast follows a language switch like the rest of the page (it kept the
language it was made in)."""
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from browsing import desk_context, phone_context, shot

UNIT = (41.5700, 120.4600)
CALLER = (41.5680, 120.4580)


def staff(base: str, username: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=10)
    assert c.post("/api/auth/login", json={"username": username, "password": "baojing110"}).status_code == 200
    return c


@pytest.mark.parametrize("size", ["390", "1366"])
def test_the_toast_switches_language_with_the_page(server, browser, size):
    desk = staff(server, "dispatcher")
    officer = staff(server, "officer3")  # 龙城11: other browser tests only sign in with it
    assert officer.post("/api/officer/duty", json={"on_duty": True}).status_code == 200
    officer.post("/api/officer/positions", json={"points": [{"lat": UNIT[0], "lon": UNIT[1], "accuracy_m": 10}]})
    ctx = phone_context(browser, *UNIT) if size == "390" else desk_context(browser)
    page = ctx.new_page()
    incident_id = None
    try:
        page.goto(server + "/officer/")
        page.get_by_test_id("login-username").fill("officer3")
        page.get_by_test_id("login-password").fill("baojing110")
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "live")

        r = httpx.post(server + "/api/alarms", timeout=10, json={
            "idempotency_key": str(uuid.uuid4()), "phone": "13800138012", "name": None, "channel": "phone",
            "place_text": None, "location": {"lat": CALLER[0], "lon": CALLER[1], "accuracy_m": 20, "crs": "wgs84",
                                             "source": "device"}})
        assert r.status_code == 201, r.text
        alarm_id = r.json()["id"]
        incident_id = next(i["id"] for i in desk.get("/api/console/snapshot").json()["incidents"]
                           if any(a["id"] == alarm_id for a in i["alarms"]))
        unit = next(u for u in desk.get("/api/units").json()["units"] if u["call_sign"] == "龙城11")
        assert desk.post(f"/api/incidents/{incident_id}/dispatch", json={"unit_ids": [unit["id"]]}).status_code == 200

        page.get_by_test_id("offer-accept").click(timeout=10_000)
        toast = page.get_by_test_id("toast")
        expect(toast).to_have_text("已接受派单")
        shot(page, f"officer-toast-zh-{size}")
        page.get_by_test_id("lang-toggle").click()
        expect(toast).to_have_text("Dispatch accepted")
        expect(page.get_by_test_id("assignment-status")).to_have_attribute("data-status", "accepted")
        shot(page, f"officer-toast-en-{size}")
        page.get_by_test_id("lang-toggle").click()
        expect(toast).to_have_text("已接受派单")
    finally:
        if incident_id is not None:
            desk.post(f"/api/incidents/{incident_id}/close", json={"disposition": "resolved"})
        officer.post("/api/officer/duty", json={"on_duty": False})
        ctx.close()
