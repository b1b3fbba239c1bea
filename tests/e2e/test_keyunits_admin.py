"""The key-unit admin page: a unit registered with its position and boundary clicked on the map and
a roster; an XLSX with bad rows refused with every bad row named; the SMS outbox lists a code."""
import io

import httpx
from openpyxl import Workbook
from playwright.sync_api import expect

from browsing import desk_context, shot


def test_register_a_unit_on_the_map_import_a_bad_file_and_read_the_outbox(server, browser):
    ctx = desk_context(browser)
    assert ctx.request.post(server + "/api/auth/login", data={"username": "admin", "password": "baojing110"}).ok
    page = ctx.new_page()
    page.goto(server + "/admin/keyunits.html")
    page.wait_for_function("() => window.baojingKeyAdmin.ready")
    expect(page.get_by_test_id("ka-unit-row")).to_have_count(len(page.evaluate("() => window.baojingKeyAdmin.units")))

    page.get_by_test_id("ka-new").click()
    page.get_by_test_id("ka-f-name").fill("测试储蓄所")
    page.get_by_test_id("ka-f-kind").select_option("bank")
    page.get_by_test_id("ka-f-address").fill("双塔区测试街 7 号")
    box = page.get_by_test_id("ka-map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.get_by_test_id("ka-pos").click()
    page.mouse.click(cx, cy)
    page.get_by_test_id("ka-draw").click()
    for dx, dy in ((-30, -30), (30, -30), (30, 30), (-30, 30)):
        page.mouse.click(cx + dx, cy + dy)
    expect(page.get_by_test_id("ka-points")).to_have_attribute("data-count", "4")
    page.get_by_test_id("ka-f-contacts").fill("钱主管 13900000095 安保主管")
    page.get_by_test_id("ka-f-roster").fill("13900000096 钱柜员 柜员")
    shot(page, "e2e-keyunit-admin-form")
    page.get_by_test_id("ka-save").click()
    page.wait_for_function("() => window.baojingKeyAdmin.units.some(u => u.name === '测试储蓄所')")
    unit = page.evaluate("() => window.baojingKeyAdmin.units.find(u => u.name === '测试储蓄所')")
    assert len(unit["boundary"]) == 4 and unit["roster"][0]["phone"] == "13900000096"
    assert unit["contacts"][0]["title"] == "安保主管" and unit["station_id"] is not None

    wb = Workbook()
    ws = wb.active
    ws.append(["name", "kind", "address", "lat", "lon"])
    ws.append(["好单位", "学校", "双塔区 1 号", 41.57, 120.45])
    ws.append(["坏单位", "赌场", "双塔区 2 号", 41.57, 120.45])
    ws.append(["", "bank", "双塔区 3 号", "x", 120.45])
    buf = io.BytesIO()
    wb.save(buf)
    page.get_by_test_id("ka-import-units").set_input_files(
        files=[{"name": "units.xlsx", "mimeType": "application/octet-stream", "buffer": buf.getvalue()}])
    report = page.get_by_test_id("ka-import-report")
    expect(report).to_have_attribute("data-state", "error")
    lines = page.locator("[data-testid=ka-import-problem]").evaluate_all("els => [...new Set(els.map(e => e.dataset.line))]")
    assert lines == ["3", "4"]
    expect(report).to_contain_text("未导入任何内容")
    shot(page, "e2e-keyunit-admin-import")
    assert not any(u["name"] == "好单位" for u in page.evaluate("() => window.baojingKeyAdmin.units"))

    assert httpx.post(server + "/api/member/code", json={"phone": "13900000096"}).status_code == 200
    page.get_by_test_id("ka-tab-sms").click()
    page.get_by_test_id("ka-sms-phone").fill("13900000096")
    page.get_by_test_id("ka-sms-phone").press("Enter")
    expect(page.get_by_test_id("ka-sms-row").first).to_contain_text("验证码", timeout=5_000)
    shot(page, "e2e-keyunit-admin-sms")
    ctx.close()
