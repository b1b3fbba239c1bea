"""The field officer's phone page (/officer/), driven like an officer in a car would use it, checked
against what the dispatcher sees through the API."""
from __future__ import annotations

import re
import time
import uuid
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from playwright.sync_api import expect

from baojing import geo
from browsing import phone_context, shot
from test_console_dispatch import officer_on_duty

PASSWORD = "baojing110"
START = (41.568, 120.452)      # where the officer's phone is
CALLER = (41.566, 120.454)     # where the caller is (WGS-84)
# The officer drove ~55 m towards the caller. Kept short on purpose: the test moves within seconds,
# and the server flags a longer jump in that time as implausible (kept as evidence, not as the position).
MOVED = (41.5676, 120.4524)


def staff(base: str, username: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=10)
    r = c.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return c


def unit(c: httpx.Client, call_sign: str) -> dict:
    r = c.get("/api/units")
    assert r.status_code == 200, r.text
    return next(u for u in r.json()["units"] if u["call_sign"] == call_sign)


def wait_until(fn, what: str, timeout: float = 20.0, page=None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.25)
    avl = page.evaluate("() => JSON.stringify(window.baojing.avl())") if page is not None else ""
    pytest.fail(f"timed out waiting for {what}; last: {last!r} {avl}")


def near(pos: dict | None, lat: float, lon: float, metres: float = 5.0) -> bool:
    return bool(pos) and geo.distance_m(pos["lat"], pos["lon"], lat, lon) <= metres


def raise_alarm(base: str, lat: float, lon: float, phone: str, name: str | None, accuracy: float) -> int:
    r = httpx.post(base + "/api/alarms", timeout=10, json={
        "idempotency_key": str(uuid.uuid4()), "phone": phone, "name": name, "channel": "phone", "place_text": None,
        "location": {"lat": lat, "lon": lon, "accuracy_m": accuracy, "crs": "wgs84", "source": "device"}})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def incident_of(c: httpx.Client, alarm_id: int) -> int:
    def find():
        for inc in c.get("/api/console/snapshot").json()["incidents"]:
            if any(a["id"] == alarm_id for a in inc["alarms"]):
                return inc["id"]
        return None
    return wait_until(find, f"the incident of alarm {alarm_id}", 10)


def sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/officer/")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()


def test_officer_goes_on_duty_takes_a_dispatch_navigates_and_clears(server, browser):
    # The shared server may hold this officer on duty with an assignment from an earlier test.
    came = officer_on_duty(server, "officer", *START)
    assert came.post("/api/officer/duty", json={"on_duty": False}).status_code == 200
    dispatcher = staff(server, "dispatcher")
    context = phone_context(browser, *START)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(server + "/officer/")
        expect(page.get_by_test_id("login-submit")).to_be_visible()
        shot(page, "officer-1-login")

        page.get_by_test_id("login-username").fill("officer")
        page.get_by_test_id("login-password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        duty = page.get_by_test_id("duty-switch")
        expect(duty).to_be_visible()
        expect(page.get_by_test_id("unit-callsign")).to_have_text("双塔21")
        expect(duty).to_have_attribute("aria-checked", "false")
        expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "live")

        # On duty: the position report reaches the dispatcher.
        duty.click()
        expect(duty).to_have_attribute("aria-checked", "true")
        expect(page.get_by_test_id("unit-status")).to_have_attribute("data-status", "available")
        page.wait_for_function("() => document.querySelector('[data-testid=last-report]').dataset.at !== ''")
        expect(page.get_by_test_id("avl-queue")).to_have_attribute("data-count", "0")
        u = wait_until(lambda: (x := unit(dispatcher, "双塔21"))["on_duty"] and near(x["position"], *START) and x,
                       "the officer's first position on /api/units")
        assert u["status"] == "available" and not u["stale"]
        shot(page, "officer-2-home-on-duty")

        # A caller raises an alarm; the dispatcher sends 双塔21.
        alarm_id = raise_alarm(server, *CALLER, phone="13800138000", name="张三", accuracy=800)
        incident_id = incident_of(dispatcher, alarm_id)
        r = dispatcher.post(f"/api/incidents/{incident_id}/dispatch", json={"unit_ids": [u["id"]]})
        assert r.status_code == 200, r.text

        # The offer rings and fills the screen.
        page.wait_for_function("() => window.baojing.offersAlerted >= 1", timeout=10000)
        offer = page.get_by_test_id("offer-card")
        expect(offer).to_be_visible()
        expect(page.get_by_test_id("offer-distance")).to_contain_text("米")
        expect(page.get_by_test_id("offer-where")).to_contain_text("网络定位 ±800 米")
        last_offer = page.evaluate("() => window.baojing.lastOffer")
        assert last_offer["incident_id"] == incident_id
        assert last_offer["assignment"]["status"] == "dispatched"
        shot(page, "officer-3-offer")

        page.get_by_test_id("offer-accept").click()
        expect(offer).to_be_hidden()
        card = page.get_by_test_id("incident-card")
        expect(card).to_be_visible()
        expect(page.get_by_test_id("assignment-status")).to_have_attribute("data-status", "accepted")
        wait_until(lambda: unit(dispatcher, "双塔21")["status"] == "dispatched", "accepted on /api/units")

        # Who called, one tap to call them, honest about the number and the position.
        phone = page.get_by_test_id("caller-phone").first
        expect(phone).to_have_attribute("href", "tel:13800138000")
        expect(page.get_by_test_id("caller-name").first).to_have_text("张三")
        expect(page.get_by_test_id("caller-verified").first).to_have_text("号码未核实")
        expect(page.get_by_test_id("caller-position").first).to_contain_text("网络定位 ±800 米")

        # Distance and ETA (straight line × 1.4 at 30 km/h for a car).
        d_expected = geo.distance_m(*START, *CALLER)
        dist = page.get_by_test_id("distance")
        expect(dist).to_have_attribute("data-m", re.compile(r"\d+"))
        assert abs(int(dist.get_attribute("data-m")) - d_expected) < 10
        expect(dist).to_contain_text("米")
        eta_s = int(page.get_by_test_id("eta").get_attribute("data-s"))
        assert abs(eta_s - d_expected * 1.4 / (30 / 3.6)) < 3

        # Navigation links, each in its app's datum (headless Chromium is "other": geo first).
        links = {a.get_attribute("data-app"): a.get_attribute("href")
                 for a in page.get_by_test_id("nav-links").locator("a").all()}
        assert list(links) == ["geo", "amap", "baidu"]
        m = re.match(r"^geo:([-\d.]+),([-\d.]+)\?q=([-\d.]+),([-\d.]+)\((.+)\)$", links["geo"])
        assert m, links["geo"]
        assert float(m[1]) == pytest.approx(CALLER[0], abs=1e-5) and float(m[2]) == pytest.approx(CALLER[1], abs=1e-5)
        assert float(m[3]) == pytest.approx(CALLER[0], abs=1e-5) and float(m[4]) == pytest.approx(CALLER[1], abs=1e-5)
        assert f"#{incident_id}" in unquote(m[5])
        gcj = geo.wgs84_to_gcj02(*CALLER)
        amap = urlsplit(links["amap"])
        assert amap.netloc == "uri.amap.com"
        q = parse_qs(amap.query)
        lon, lat = map(float, q["position"][0].split(","))
        assert (lat, lon) == (pytest.approx(gcj[0], abs=1e-5), pytest.approx(gcj[1], abs=1e-5))
        assert q["coordinate"] == ["gaode"] and q["callnative"] == ["1"]
        bd = geo.wgs84_to_bd09(*CALLER)
        assert abs(bd[0] - 41.5744566) < 1e-5 and abs(bd[1] - 120.4661181) < 1e-5  # tests/data/datum-pairs.csv
        mb = re.search(r"destination=latlng:([-\d.]+),([-\d.]+)\|name:", links["baidu"])
        assert links["baidu"].startswith("baidumap://map/direction?") and mb, links["baidu"]
        assert float(mb[1]) == pytest.approx(bd[0], abs=1e-5) and float(mb[2]) == pytest.approx(bd[1], abs=1e-5)
        assert "coord_type=bd09ll" in links["baidu"] and "mode=driving" in links["baidu"]

        # The map holds both the caller and the officer.
        markers = page.evaluate("""() => ({
            caller: window.baojing.markers.caller && window.baojing.markers.caller.getLatLng(),
            me: window.baojing.markers.me && window.baojing.markers.me.getLatLng(),
            map: Boolean(window.baojing.map)})""")
        assert markers["map"]
        assert near({"lat": markers["caller"]["lat"], "lon": markers["caller"]["lng"]}, *CALLER, 1)
        assert near({"lat": markers["me"]["lat"], "lon": markers["me"]["lng"]}, *START, 1)
        # The next logical step is the big one.
        expect(page.get_by_test_id("status-en-route")).to_have_class(re.compile(r"\bnext\b"))
        shot(page, "officer-4-card")
        # The smallest phone we support: nothing sticks out sideways, the next step and the call are in reach.
        page.set_viewport_size({"width": 360, "height": 640})
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
        for tid in ("status-en-route", "caller-phone"):
            box = page.get_by_test_id(tid).first.bounding_box()
            assert box and box["height"] >= 48 and box["x"] >= 0 and box["x"] + box["width"] <= 360, (tid, box)
        shot(page, "officer-4b-card-360x640")
        page.set_viewport_size({"width": 390, "height": 844})

        # A note from the command centre shows up live.
        r = dispatcher.post(f"/api/incidents/{incident_id}/notes", json={"text": "嫌疑人穿黑色外套"})
        assert r.status_code == 200, r.text
        expect(page.get_by_test_id("notes")).to_contain_text("嫌疑人穿黑色外套")

        # The caller moves: the card follows.
        r = dispatcher.post(f"/api/alarms/{alarm_id}/operator-position",
                            json={"lat": 41.5655, "lon": 120.4545, "crs": "wgs84", "accuracy_m": 15})
        assert r.status_code == 200, r.text
        expect(page.get_by_test_id("caller-position").first).to_contain_text("接警员标定")

        # The officer drives: the dispatcher sees the new position, the card the new distance.
        context.set_geolocation({"latitude": MOVED[0], "longitude": MOVED[1], "accuracy": 10})
        wait_until(lambda: near(unit(dispatcher, "双塔21")["position"], *MOVED), "the moved position on /api/units", 30,
                   page)
        d_moved = geo.distance_m(*MOVED, 41.5655, 120.4545)
        page.wait_for_function(
            f"() => Math.abs(Number(document.querySelector('[data-testid=distance]').dataset.m) - {d_moved}) < 10")

        # En route -> on scene -> clear, each seen by the dispatcher.
        page.get_by_test_id("status-en-route").click()
        expect(page.get_by_test_id("assignment-status")).to_have_attribute("data-status", "en_route")
        wait_until(lambda: unit(dispatcher, "双塔21")["status"] == "en_route", "en_route on /api/units")
        expect(page.get_by_test_id("status-on-scene")).to_have_class(re.compile(r"\bnext\b"))

        page.get_by_test_id("status-on-scene").click()
        expect(page.get_by_test_id("assignment-status")).to_have_attribute("data-status", "on_scene")
        wait_until(lambda: unit(dispatcher, "双塔21")["status"] == "on_scene", "on_scene on /api/units")
        expect(page.get_by_test_id("status-clear")).to_have_class(re.compile(r"\bnext\b"))

        # A scene photo goes to the incident's evidence.
        page.get_by_test_id("photo-input").set_input_files(
            {"name": "scene.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff\xe0" + b"\0" * 4096})
        expect(page.get_by_test_id("photo-item").first).to_have_attribute("data-state", "done")
        media = dispatcher.get(f"/api/incidents/{incident_id}/media").json()["media"]
        assert [m["kind"] for m in media] == ["photo"]

        page.get_by_test_id("status-clear").click()
        dialog = page.get_by_test_id("clear-dialog")
        expect(dialog).to_be_visible()
        expect(page.get_by_test_id("clear-confirm")).to_be_disabled()
        page.get_by_test_id("disposition-resolved").click()
        page.get_by_test_id("clear-note").fill("双方已调解")
        shot(page, "officer-5-clear-dialog")
        page.get_by_test_id("clear-confirm").click()
        expect(dialog).to_be_hidden()
        expect(page.get_by_test_id("home")).to_be_visible()
        expect(card).to_be_hidden()
        expect(page.get_by_test_id("unit-status")).to_have_attribute("data-status", "available")
        wait_until(lambda: unit(dispatcher, "双塔21")["status"] == "available", "available again on /api/units")
        detail = dispatcher.get(f"/api/incidents/{incident_id}").json()
        (a,) = [x for x in detail["assignments"] if x["call_sign"] == "双塔21"]
        assert a["status"] == "cleared" and a["disposition"] == "resolved"
        assert a["accepted_at"] and a["en_route_at"] and a["on_scene_at"] and a["cleared_at"]
        assert any(n["text"] == "双方已调解" for n in detail["notes"])
        shot(page, "officer-6-home-after-clear")
        assert errors == []
    finally:
        context.close()


def test_officer_declines_with_a_reason_and_positions_survive_a_network_outage(server, browser):
    dispatcher = staff(server, "dispatcher")
    context = phone_context(browser, 41.571, 120.449)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.set_viewport_size({"width": 360, "height": 640})
        sign_in(page, server, "officer2")
        duty = page.get_by_test_id("duty-switch")
        expect(page.get_by_test_id("unit-callsign")).to_have_text("双塔22")
        if duty.get_attribute("aria-checked") != "true":
            duty.click()
        expect(duty).to_have_attribute("aria-checked", "true")
        page.wait_for_function("() => document.querySelector('[data-testid=last-report]').dataset.at !== ''")
        u = wait_until(lambda: (x := unit(dispatcher, "双塔22"))["on_duty"] and near(x["position"], 41.571, 120.449)
                       and x, "双塔22 on duty with a position")

        # The network drops: positions queue on the phone (and in localStorage), then go as a batch.
        context.set_offline(True)
        context.set_geolocation({"latitude": 41.5725, "longitude": 120.449, "accuracy": 10})
        page.wait_for_function("() => Number(document.querySelector('[data-testid=avl-queue]').dataset.count) >= 1",
                               timeout=20000)
        context.set_geolocation({"latitude": 41.574, "longitude": 120.449, "accuracy": 10})
        page.wait_for_function("() => Number(document.querySelector('[data-testid=avl-queue]').dataset.count) >= 2",
                               timeout=20000)
        stored = page.evaluate("() => JSON.parse(localStorage.getItem('baojing.officer.avl.officer2') || '[]').length")
        assert stored >= 2
        shot(page, "officer-7-offline-queue-360")
        context.set_offline(False)
        page.wait_for_function("() => document.querySelector('[data-testid=avl-queue]').dataset.count === '0'",
                               timeout=30000)
        wait_until(lambda: near(unit(dispatcher, "双塔22")["position"], 41.574, 120.449),
                   "the queued positions on /api/units", 15)

        # An offer declined with a quick reason and a few words.
        alarm_id = raise_alarm(server, 41.5735, 120.4505, phone="13900139000", name=None, accuracy=20)
        incident_id = incident_of(dispatcher, alarm_id)
        before = page.evaluate("() => window.baojing.offersAlerted")
        r = dispatcher.post(f"/api/incidents/{incident_id}/dispatch", json={"unit_ids": [u["id"]]})
        assert r.status_code == 200, r.text
        page.wait_for_function(f"() => window.baojing.offersAlerted > {before}", timeout=10000)
        expect(page.get_by_test_id("offer-card")).to_be_visible()
        for tid in ("offer-accept", "offer-decline"):
            box = page.get_by_test_id(tid).bounding_box()
            assert box and box["height"] >= 48 and box["y"] + box["height"] <= 640, (tid, box)
        page.get_by_test_id("offer-decline").click()
        expect(page.get_by_test_id("decline-dialog")).to_be_visible()
        expect(page.get_by_test_id("decline-confirm")).to_be_disabled()
        page.get_by_test_id("decline-reason-0").click()
        page.get_by_test_id("decline-text").fill("右前轮爆胎")
        page.get_by_test_id("decline-confirm").click()
        expect(page.get_by_test_id("offer-card")).to_be_hidden()
        expect(page.get_by_test_id("home")).to_be_visible()
        detail = dispatcher.get(f"/api/incidents/{incident_id}").json()
        (a,) = [x for x in detail["assignments"] if x["call_sign"] == "双塔22"]
        assert a["status"] == "declined" and a["decline_reason"] == "车辆故障：右前轮爆胎"
        wait_until(lambda: unit(dispatcher, "双塔22")["status"] == "available", "双塔22 available after declining")

        # Off duty works when nothing is open.
        duty.click()
        expect(duty).to_have_attribute("aria-checked", "false")
        wait_until(lambda: not unit(dispatcher, "双塔22")["on_duty"], "双塔22 off duty")
        assert errors == []
    finally:
        context.close()


def test_the_login_says_where_each_role_goes_and_when_its_page_is_not_open_yet(server, browser):
    cfg = httpx.get(f"{server}/api/config").json()
    pages, roles = cfg["role_pages"], cfg["labels"]["roles"]
    # The demo accounts of roles whose page is not built yet (roles.py PAGES; the helpers building
    # them add theirs there).
    waiting = [u for u, r in (("traffic", "traffic_officer"), ("keyunit", "keyunit_member")) if not pages[r]]
    context = phone_context(browser, *START)
    page = context.new_page()
    try:
        page.goto(f"{server}/officer/")
        guide = page.get_by_test_id("role-guide")
        expect(guide.locator("li[data-role=officer]")).to_contain_text("民警手机页（本页）")
        for role, paths in pages.items():
            item = guide.locator(f"li[data-role={role}]")
            expect(item).to_contain_text(roles[role]["zh"])
            links = item.get_by_test_id("role-page-link")
            if not paths:
                expect(item).to_contain_text("专用页面尚未开通")
            for path in paths:
                if path != "/officer/":
                    expect(item.locator(f"[data-page='{path}']")).to_have_attribute("href", path)
            expect(links).to_have_count(len([p for p in paths if p != "/officer/"]))
        for username in waiting:
            sign_in(page, server, username)
            err = page.get_by_test_id("login-error")
            expect(err).to_contain_text("专用页面尚未开通")
            expect(err.get_by_test_id("role-page-link")).to_have_count(0)
            page.get_by_test_id("switch-account").click()
        page.get_by_test_id("login-lang-toggle").click()
        expect(guide.locator("li[data-role=traffic_officer]")).to_contain_text("Traffic officer")
        page.get_by_test_id("login-lang-toggle").click()
    finally:
        context.close()


def test_a_dispatcher_account_is_told_this_page_is_for_officers(server, browser):
    context = phone_context(browser, *START)
    page = context.new_page()
    try:
        sign_in(page, server, "dispatcher")
        # Told where a dispatcher works, with the link (roles.py's pages, served in /api/config).
        err = page.get_by_test_id("login-error")
        expect(err).to_contain_text("不能使用本页面")
        expect(err.get_by_test_id("role-page-link")).to_have_attribute("href", "/console/")
        expect(page.get_by_test_id("switch-account")).to_be_visible()
        page.get_by_test_id("switch-account").click()
        expect(page.get_by_test_id("switch-account")).to_be_hidden()
        sign_in(page, server, "officer")
        expect(page.get_by_test_id("duty-switch")).to_be_visible()
        # 中/EN is remembered.
        page.get_by_test_id("lang-toggle").click()
        expect(page.get_by_test_id("logout")).to_have_text("Sign out")
        page.reload()
        expect(page.get_by_test_id("logout")).to_have_text("Sign out")
        page.get_by_test_id("lang-toggle").click()
        expect(page.get_by_test_id("logout")).to_have_text("退出")
    finally:
        context.close()
