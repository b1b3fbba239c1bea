"""The caller's page checks a number with the server's own rule (web/shared/phone.js, the cases of
tests/data/phone-cases.json): what the server would refuse is caught under the field before the
alarm leaves, and what it accepts goes. The old page check let "2345678" (no area code) through to
a refusal from the server, with the caller in a hurry."""
import json
from pathlib import Path

from playwright.sync_api import expect

from browsing import phone_context

START = (41.5660, 120.4540)
CASES = json.loads((Path(__file__).resolve().parents[1] / "data" / "phone-cases.json").read_text(encoding="utf-8"))


def test_the_page_refuses_what_the_server_refuses_and_sends_what_it_accepts(server, browser):
    ctx = phone_context(browser, *START)
    # The page remembered English under its old key before there was one site language.
    ctx.add_init_script("""try { if (!localStorage.getItem('bj.terms')) localStorage.setItem('bj.lang', '"en"') } catch (e) {}""")
    page = ctx.new_page()
    page.goto(server + "/m/")
    expect(page.get_by_test_id("terms-accept")).to_have_text("I agree, continue")
    page.get_by_test_id("terms-accept").click()
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("call-button")).to_contain_text("电话报警")
    error = page.get_by_test_id("phone-error")
    for raw in ["2345678", "12800138000", "+86 1380013800", "call me", "１１０"]:
        assert raw in CASES["invalid"]
        page.get_by_test_id("phone-input").fill(raw)
        page.get_by_test_id("call-button").click()
        expect(error).to_be_visible()
        expect(error).to_contain_text("手机号码好像不对")
        assert page.evaluate("() => window.baojing.outbox.filter((i) => i.kind === 'alarm').length") == 0, raw
    page.get_by_test_id("phone-input").fill("（0421）2345678")
    expect(error).to_be_hidden()
    page.get_by_test_id("call-button").click()
    expect(page.get_by_test_id("delivery-status")).to_have_attribute("data-state", "received", timeout=10_000)
    ctx.close()
