"""Issue 8: a bulletin's target area drawn on the console's map (click the corners, undo, done),
sent with the bulletin, reaching the banks inside it, and shown on the map; too few corners is a
clear bilingual refusal and sends nothing."""
from playwright.sync_api import expect

from browsing import desk_context, shot
from test_alarm_flow import login_console, staff_client

BANK = (41.5713, 120.4599)  # 工商银行双塔支行（演示）


def click_at(page, lat: float, lon: float) -> None:
    """A click on the map where (lat, lon) is drawn."""
    x, y = page.evaluate("""([lat, lon]) => {
      const m = window.baojing.map, p = m.latLngToContainerPoint([lat, lon]);
      const r = m.getContainer().getBoundingClientRect();
      return [r.left + p.x, r.top + p.y];
    }""", [lat, lon])
    page.mouse.click(x, y)


def test_staff_draw_a_bulletins_area_on_the_map_and_the_banks_inside_get_it(server, browser):
    admin = staff_client(server, "admin")
    desk = desk_context(browser)
    console = desk.new_page()
    login_console(console, server, "dispatcher")
    console.wait_for_function("() => window.baojingKeyUnits !== undefined")
    # The bank left of the drawer, below the siren stack.
    console.evaluate("""([lat, lon]) => { const m = window.baojing.map; m.setView([lat, lon], 16, { animate: false });
                        m.panBy([260, -60], { animate: false }); }""", list(BANK))
    console.get_by_test_id("ku-bulletins-open").click()
    form = console.get_by_test_id("ku-bulletin-form")
    area = form.get_by_test_id("ku-b-area")
    before = len(admin.get("/api/bulletins").json()["bulletins"])

    form.get_by_test_id("ku-b-title").fill("协查：可疑人员")
    form.get_by_test_id("ku-b-subject").fill("男，约 30 岁，黑色背包")
    form.get_by_test_id("ku-b-text").fill("请各网点留意。")
    form.locator("[data-testid=ku-b-kind][data-kind=bank]").check()
    form.get_by_test_id("ku-b-area-draw").click()
    expect(area).to_have_attribute("data-drawing", "true")
    d = 0.0015
    click_at(console, BANK[0] + d, BANK[1] - d)
    click_at(console, BANK[0] + d, BANK[1] + d)
    expect(area).to_have_attribute("data-points", "2")
    # Two corners are not an area: refused in both languages, nothing sent.
    form.get_by_test_id("ku-b-send").click()
    err = form.get_by_test_id("ku-b-error")
    expect(err).to_contain_text("至少需要 3 个点")
    assert len(admin.get("/api/bulletins").json()["bulletins"]) == before
    shot(console, "e2e-keyunit-area-too-few")

    click_at(console, BANK[0] - d * 3, BANK[1] + d * 3)  # a slip: undone
    form.get_by_test_id("ku-b-area-undo").click()
    expect(area).to_have_attribute("data-points", "2")
    click_at(console, BANK[0] - d, BANK[1] + d)
    click_at(console, BANK[0] - d, BANK[1] - d)
    expect(area).to_have_attribute("data-points", "4")
    form.get_by_test_id("ku-b-area-done").click()
    expect(area).to_have_attribute("data-drawing", "false")
    shot(console, "e2e-keyunit-area-drawn")
    form.get_by_test_id("ku-b-send").click()

    receipts = console.get_by_test_id("ku-receipts")
    expect(receipts).to_be_visible(timeout=5_000)
    assert int(receipts.get_attribute("data-recipients")) >= 2  # the demo bank's two roster phones
    sent = admin.get("/api/bulletins").json()["bulletins"][0]
    assert sent["title"] == "协查：可疑人员" and len(sent["target_area"]) == 4
    assert not sent["target_district_ids"] and not sent["target_station_ids"]
    lat_min = min(p[0] for p in sent["target_area"])
    assert abs(lat_min - (BANK[0] - d)) < 1e-4
    # Its area is on the map, and the pen is put away.
    console.wait_for_function("() => window.baojingKeyUnits.areas && window.baojingKeyUnits.areas.getLayers().length >= 1")
    expect(area).to_have_attribute("data-points", "0")
    expect(area).to_have_attribute("data-drawing", "false")
    shot(console, "e2e-keyunit-area-sent")
    console.get_by_test_id("ku-close").click()
    expect(console.locator(f"[data-testid=ku-bulletin][data-id='{sent['id']}'].closed")).to_have_count(1, timeout=5_000)
    desk.close()
