"""An officer (龙城11, officer3: other browser tests only sign in with it) on the officer page, with an
offer accepted, for the tests of that page's bar and toast."""
import uuid
from contextlib import contextmanager

import httpx
from playwright.sync_api import expect

from browsing import desk_context, phone_context

UNIT = (41.5700, 120.4600)
CALLER = (41.5680, 120.4580)


def staff(base: str, username: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=10)
    assert c.post("/api/auth/login", json={"username": username, "password": "baojing110"}).status_code == 200
    return c


@contextmanager
def accepted_offer(server: str, browser, size: str, phone: str, lang: str | None = None):
    """The officer's page at 390 px (a phone) or 1366×768, logged in, an alarm from `phone` dispatched
    to the unit and accepted there; the incident closed and the officer off duty afterwards."""
    desk = staff(server, "dispatcher")
    officer = staff(server, "officer3")
    assert officer.post("/api/officer/duty", json={"on_duty": True}).status_code == 200
    officer.post("/api/officer/positions", json={"points": [{"lat": UNIT[0], "lon": UNIT[1], "accuracy_m": 10}]})
    ctx = phone_context(browser, *UNIT) if size == "390" else desk_context(browser)
    if lang:
        ctx.add_init_script(f"try {{ localStorage.setItem('baojing.lang', '{lang}') }} catch (e) {{}}")
    page = ctx.new_page()
    incident_id = None
    try:
        page.goto(server + "/officer/")
        page.get_by_test_id("login-username").fill("officer3")
        page.get_by_test_id("login-password").fill("baojing110")
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "live")
        r = httpx.post(server + "/api/alarms", timeout=10, json={
            "idempotency_key": str(uuid.uuid4()), "phone": phone, "channel": "phone",
            "location": {"lat": CALLER[0], "lon": CALLER[1], "accuracy_m": 20, "crs": "wgs84", "source": "device"}})
        assert r.status_code == 201, r.text
        alarm_id = r.json()["id"]
        incident_id = next(i["id"] for i in desk.get("/api/console/snapshot").json()["incidents"]
                           if any(a["id"] == alarm_id for a in i["alarms"]))
        unit = next(u for u in desk.get("/api/units").json()["units"] if u["call_sign"] == "龙城11")
        assert desk.post(f"/api/incidents/{incident_id}/dispatch", json={"unit_ids": [unit["id"]]}).status_code == 200
        page.get_by_test_id("offer-accept").click(timeout=10_000)
        yield page
    finally:
        if incident_id is not None:
            desk.post(f"/api/incidents/{incident_id}/close", json={"disposition": "resolved"})
        officer.post("/api/officer/duty", json={"on_duty": False})
        ctx.close()
