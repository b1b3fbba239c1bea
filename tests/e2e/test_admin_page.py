"""The administration page (/admin/) end to end: an administrator sees the demo stations and units,
imports units from CSV (a good file, then a file with a bad line that saves nothing), draws a new
station's jurisdiction on the map; a dispatcher is turned away. Real server, real Chromium."""
import httpx
from playwright.sync_api import expect

from browsing import desk_context, shot

DEMO_STATIONS = {"lc-center", "lc-west", "st-station", "st-north"}
DEMO_UNITS = {"双塔21", "双塔22", "龙城11", "双塔31", "龙城12", "龙城21"}


def admin_client(base: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=10)
    c.post("/api/auth/login", json={"username": "admin", "password": "baojing110"}).raise_for_status()
    return c


def login(page, base: str, username: str) -> None:
    page.goto(base + "/admin/")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill("baojing110")
    page.get_by_test_id("login-submit").click()


def js_number(x: float) -> str:
    """How JavaScript prints a number (shortest round trip, no ".0")."""
    return repr(x).removesuffix(".0")


def call_signs(api: httpx.Client) -> set[str]:
    return {u["call_sign"] for u in api.get("/api/admin/units").json()["units"]}


def test_an_admin_manages_stations_and_units(server, browser):
    api = admin_client(server)
    ctx = desk_context(browser)
    page = ctx.new_page()
    login(page, server, "admin")
    page.wait_for_function("() => window.baojingAdmin && window.baojingAdmin.ready === true")

    # The demo stations, each with its jurisdiction drawn on the map.
    rows = page.get_by_test_id("station-row")
    expect(rows).to_have_count(len(api.get("/api/admin/stations").json()["stations"]))
    for code in DEMO_STATIONS:
        row = page.locator(f"[data-testid=station-row][data-code='{code}']")
        expect(row).to_be_visible()
        expect(row).to_have_attribute("data-has-jurisdiction", "true")
    assert page.evaluate("() => Object.keys(window.baojingAdmin.map._layers).length") > 0
    expect(page.get_by_test_id("map-station")).to_have_count(rows.count())
    expect(page.get_by_test_id("no-basemap")).to_be_visible()
    shot(page, "admin-stations")

    # The demo units.
    page.get_by_test_id("tab-units").click()
    expect(page.get_by_test_id("tab-units")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("unit-row")).to_have_count(len(call_signs(api)))
    for cs in DEMO_UNITS:
        expect(page.locator(f"[data-testid=unit-row][data-call-sign='{cs}']")).to_be_visible()
    expect(page.locator("[data-testid=unit-row][data-call-sign='双塔21'] [data-testid=unit-members]")).to_contain_text("民警 李明")
    shot(page, "admin-units")

    # A units CSV with two good rows.
    before = call_signs(api)
    page.get_by_test_id("unit-import-open").click()
    panel = page.get_by_test_id("import-panel")
    expect(panel).to_have_attribute("data-kind", "units")
    expect(panel.get_by_test_id("import-format")).to_contain_text("station_code")
    expect(panel.get_by_test_id("import-example")).to_have_attribute("href", "/admin/example-units.csv")
    assert httpx.get(server + "/admin/example-units.csv").text.lstrip("\ufeff").startswith("call_sign,kind,station_code,members")
    panel.get_by_test_id("import-text").fill("call_sign,kind,station_code,members\n测试01,car,st-north,\n测试02,foot,lc-west,\n")
    panel.get_by_test_id("import-submit").click()
    result = panel.get_by_test_id("import-result")
    expect(result).to_have_attribute("data-state", "ok")
    expect(result).to_contain_text("2")
    for cs in ("测试01", "测试02"):
        expect(page.locator(f"[data-testid=unit-row][data-call-sign='{cs}']")).to_have_class("fresh")
    assert call_signs(api) == before | {"测试01", "测试02"}
    shot(page, "admin-units-imported")

    # A CSV with one bad line (line 3: unknown station): the error names it and nothing is saved.
    before = call_signs(api)
    panel.get_by_test_id("import-text").fill("call_sign,kind,station_code,members\n测试03,car,st-north,\n测试04,car,nowhere,\n")
    panel.get_by_test_id("import-submit").click()
    expect(result).to_have_attribute("data-state", "error")
    expect(result).to_have_attribute("data-code", "csv_invalid")
    bad = panel.get_by_test_id("import-error-line")
    expect(bad).to_have_count(1)
    expect(bad).to_have_attribute("data-line", "3")
    expect(bad).to_contain_text("第 3 行")
    expect(bad).to_contain_text("nowhere")
    expect(panel.get_by_test_id("import-error")).to_contain_text("未导入任何内容")
    expect(panel.get_by_test_id("import-server-message")).to_contain_text("第 3 行")
    assert call_signs(api) == before
    expect(page.locator("[data-testid=unit-row][data-call-sign='测试03']")).to_have_count(0)
    expect(page.locator("[data-testid=unit-row].fresh")).to_have_count(0)
    shot(page, "admin-import-error")

    # A station by hand, its jurisdiction drawn with four clicks on the map.
    page.get_by_test_id("tab-stations").click()
    page.get_by_test_id("station-add").click()
    form = page.get_by_test_id("station-form")
    expect(form).to_have_attribute("data-mode", "add")
    form.get_by_test_id("station-code").fill("e2e-new")
    form.get_by_test_id("station-name-zh").fill("测试新建派出所")
    form.get_by_test_id("station-name-en").fill("E2E New Station")
    form.get_by_test_id("station-lat").fill("41.5")
    form.get_by_test_id("station-lon").fill("120.5")
    box = page.get_by_test_id("map").bounding_box()
    clicks = [(420, 520), (600, 520), (600, 680), (420, 680)]
    expected = [page.evaluate("([x, y]) => { const p = window.baojingAdmin.map.containerPointToLatLng([x, y]);"
                              " return [p.lat, p.lng]; }", [x, y]) for x, y in clicks]
    for x, y in clicks:
        page.mouse.click(box["x"] + x, box["y"] + y)
    # a fifth point, taken back with "undo"
    page.mouse.click(box["x"] + 510, box["y"] + 450)
    expect(form.get_by_test_id("jurisdiction-status")).to_have_attribute("data-count", "5")
    form.get_by_test_id("draw-undo").click()
    expect(form.get_by_test_id("jurisdiction-status")).to_have_attribute("data-count", "4")
    expect(page.get_by_test_id("draft-vertex")).to_have_count(4)
    expect(page.get_by_test_id("draw-banner")).to_be_visible()
    draft = page.evaluate("() => window.baojingAdmin.draft().points")
    assert len(draft) == 4
    for (lat, lon), (elat, elon) in zip(draft, expected):
        assert abs(lat - elat) < 1e-5 and abs(lon - elon) < 1e-5
    expect(form.get_by_test_id("jurisdiction-text")).to_have_value(
        "; ".join(f"{js_number(lat)} {js_number(lon)}" for lat, lon in draft))
    shot(page, "admin-drawing")
    form.get_by_test_id("station-save").click()
    row = page.locator("[data-testid=station-row][data-code='e2e-new']")
    expect(row).to_be_visible()
    expect(row).to_have_attribute("data-has-jurisdiction", "true")
    expect(page.get_by_test_id("toast")).to_contain_text("已保存")
    saved = next(s for s in api.get("/api/admin/stations").json()["stations"] if s["code"] == "e2e-new")
    assert (saved["name_zh"], saved["name_en"], saved["lat"], saved["lon"]) == ("测试新建派出所", "E2E New Station", 41.5, 120.5)
    assert len(saved["jurisdiction"]) == 4
    for (lat, lon), (elat, elon) in zip(saved["jurisdiction"], expected):
        assert abs(lat - elat) < 1e-5 and abs(lon - elon) < 1e-5
    shot(page, "admin-station-saved")

    # The same code again is caught on the page (the server would quietly overwrite it).
    page.get_by_test_id("station-add").click()
    form.get_by_test_id("station-code").fill("e2e-new")
    form.get_by_test_id("station-name-zh").fill("重复")
    form.get_by_test_id("station-name-en").fill("Duplicate")
    form.get_by_test_id("station-lat").fill("41.5")
    form.get_by_test_id("station-lon").fill("120.5")
    form.get_by_test_id("station-save").click()
    expect(form.get_by_test_id("form-error")).to_contain_text("e2e-new")
    assert [s["name_zh"] for s in api.get("/api/admin/stations").json()["stations"] if s["code"] == "e2e-new"] == ["测试新建派出所"]

    # English on the switch.
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("tab-units")).to_contain_text("Patrol units")
    page.get_by_test_id("lang-toggle").click()
    ctx.close()
    api.close()


def test_a_dispatcher_is_turned_away(server, browser):
    ctx = desk_context(browser)
    page = ctx.new_page()
    login(page, server, "dispatcher")
    err = page.get_by_test_id("login-error")
    expect(err).to_be_visible()
    expect(err).to_have_attribute("data-code", "not_admin")
    expect(err).to_contain_text("不能使用本页面")
    expect(err.get_by_test_id("role-page-link")).to_have_attribute("href", "/console/")
    expect(page.get_by_test_id("stations-view")).to_be_hidden()
    shot(page, "admin-refused")
    ctx.close()
