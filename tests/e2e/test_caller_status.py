"""Issue 7: the caller's status says exactly what happened, step by step, in both languages:
received → a call-taker has it → officers sent → on their way → on scene → closed. The staff's steps
are real API calls (claim, dispatch, the officer's en route and on scene, close); the caller's page is
read in Chromium after each, in Chinese and after switching to English."""
import httpx
from playwright.sync_api import expect

from browsing import phone_context, shot

CALLER = (41.5660, 120.4540)
OFFICER = (41.5790, 120.4540)  # 1.4 km north of the caller


def staff(base: str, username: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=10)
    assert c.post("/api/auth/login", json={"username": username, "password": "baojing110"}).status_code == 200
    return c


def ok(r: httpx.Response) -> dict:
    assert r.status_code in (200, 201, 202), r.text
    return r.json()


def test_the_callers_status_follows_every_step_in_both_languages(server, browser):
    phone = phone_context(browser, *CALLER)
    page = phone.new_page()
    page.goto(server + "/m/")
    page.get_by_test_id("terms-accept").click()
    page.get_by_test_id("phone-input").fill("13800138011")
    page.get_by_test_id("call-button").click()
    banner = page.get_by_test_id("delivery-status")
    expect(banner).to_have_attribute("data-state", "received", timeout=10_000)
    item = page.get_by_test_id("alarm-item").first
    alarm_id = int(item.get_attribute("data-alarm-id"))
    item = page.locator(f"[data-testid=alarm-item][data-alarm-id='{alarm_id}']")
    status = item.get_by_test_id("alarm-status")

    def reads(step: str, state: str, zh: tuple[str, str, str], en: tuple[str, str, str]) -> None:
        """The banner's two lines and the list's status, in Chinese, then in English, then back."""
        for lang, (main, sub, listed) in (("zh", zh), ("en", en)):
            if lang == "en":
                page.get_by_test_id("lang-switch").click()
                expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(item).to_have_attribute("data-status", state, timeout=5_000)
            expect(status).to_have_text(listed)
            expect(banner).to_have_attribute("data-state", state)
            expect(page.locator("#b-main")).to_contain_text(main)
            expect(page.locator("#b-sub")).to_contain_text(sub)
            shot(page, f"e2e-m-status-{step}-{lang}")
        page.get_by_test_id("lang-switch").click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    reads("1-received", "received", ("✓ 警方已收到", "已接收，等待接警", "已接收，等待接警"),
          ("✓ The police have it", "Received, waiting for a call-taker", "Received, waiting for a call-taker"))

    desk = staff(server, "dispatcher")
    incident_id = next(i["id"] for i in ok(desk.get("/api/console/snapshot"))["incidents"]
                       if any(a["id"] == alarm_id for a in i["alarms"]))
    ok(desk.post(f"/api/incidents/{incident_id}/claim"))
    # A call-taker at work, no officer yet: the caller must not read that officers are handling it.
    reads("2-handling", "handling", ("✓ 接警员正在处理", "警方已于", "接警员正在处理"),
          ("✓ A call-taker is handling it", "The police received your alarm at", "A call-taker is handling it"))

    officer = staff(server, "officer3")  # 龙城11: other browser tests only sign in with it
    ok(officer.post("/api/officer/duty", json={"on_duty": True}))
    ok(officer.post("/api/officer/positions", json={"points": [
        {"lat": OFFICER[0], "lon": OFFICER[1], "accuracy_m": 10}]}))
    unit = next(u for u in ok(desk.get("/api/units"))["units"] if u["call_sign"] == "龙城11")
    try:
        assignment = ok(desk.post(f"/api/incidents/{incident_id}/dispatch",
                                  json={"unit_ids": [unit["id"]]}))["assignments"][0]["id"]
        # Sent, not yet moving: how far they are, not when they will be there.
        reads("3-dispatched", "dispatched", ("✓ 已派民警", "民警距您约 1.4 公里", "已派民警"),
              ("✓ Officers assigned", "Officers about 1.4 km away", "Officers assigned"))
        responders = item.get_by_test_id("responders")
        expect(responders).to_have_text("民警距您约 1.4 公里")
        expect(page.locator("#b-sub")).to_have_text("民警距您约 1.4 公里")

        ok(officer.post(f"/api/assignments/{assignment}/en-route"))
        reads("4-en-route", "en_route", ("✓ 民警正在赶来", "民警距您约 1.4 公里，预计", "民警正在赶来"),
              ("✓ Officers on their way", "Officers about 1.4 km away, there in about", "Officers on their way"))

        ok(officer.post("/api/officer/positions", json={"points": [
            {"lat": CALLER[0] + 0.0002, "lon": CALLER[1], "accuracy_m": 10}]}))
        ok(officer.post(f"/api/assignments/{assignment}/on-scene"))
        # On scene: no distance or arrival time left to tell.
        reads("5-on-scene", "on_scene", ("✓ 民警已到达现场", "警方已于", "民警已到达现场"),
              ("✓ Officers on scene", "The police received your alarm at", "Officers on scene"))
        expect(responders).to_have_count(0)

        ok(desk.post(f"/api/incidents/{incident_id}/close", json={"disposition": "resolved"}))
        # Closed: said on top (not only in the list below the form), and the form is ready for a new alarm.
        reads("6-closed", "closed", ("✓ 本次报警已结束", "请再次报警", "已结束"),
              ("✓ This alarm is closed", "report again", "Closed"))
        expect(page.get_by_test_id("call-110")).to_be_hidden()
        expect(page.get_by_test_id("location-status")).to_be_hidden()
        expect(page.get_by_test_id("call-button")).to_be_in_viewport()
        expect(item.get_by_test_id("rating")).to_be_visible()
    finally:
        officer.post("/api/officer/duty", json={"on_duty": False})
        phone.close()
