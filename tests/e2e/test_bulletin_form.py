"""The console's bulletin form (keyunits.js) says in the page, in the page's language, what it still
lacks, and sends nothing until it has it; "valid until" is written the way the console writes
dates (2026-12-01 18:00, shared/time.js), not the browser's own way (12/01/2026, 06:00 PM).
Screenshots: var/screenshots/bulletin-form-*.png."""
import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from playwright.sync_api import expect

from browsing import desk_context, phone_context, shot

PASSWORD = "baojing110"
MISSING = {"zh": "还没有填写：标题、查找对象 / 拦截事项、内容。通报未发送。",
           "en": "Not filled in yet: Title, Whom to look for / what to stop, Text. The bulletin was not sent."}
BAD_DATE = {"zh": "“有效期至”请按 年-月-日 时:分 填写", "en": "Write “Valid until” as YYYY-MM-DD hh:mm"}
PAST = {"zh": "“有效期至”已经过去", "en": "“Valid until” has already passed"}

# The element is what is on top at its centre and near its right end.
UNCOVERED = """(el) => { const r = el.getBoundingClientRect();
  return [[r.left + r.width / 2, r.top + r.height / 2], [r.right - 8, r.bottom - 6]].every(([x, y]) => {
    const hit = document.elementFromPoint(x, y); return hit && (hit === el || el.contains(hit)); }); }"""


def open_form(browser, server, lang, size):
    # An English browser: the datetime field it replaced showed the US way there.
    ctx = (phone_context(browser, 41.566, 120.454) if size == "390" else desk_context(browser))
    ctx.add_init_script(f"try {{ localStorage.setItem('baojing.lang', '{lang}') }} catch (e) {{}}")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" and r.url.endswith("/api/bulletins") else None)
    page.goto(server + "/console/")
    page.get_by_test_id("login-username").fill("dispatcher")
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_function("() => window.baojing && window.baojing.ready === true")
    page.get_by_test_id("ku-bulletins-open").click()
    form = page.get_by_test_id("ku-bulletin-form")
    expect(form).to_be_visible()
    return ctx, page, form, errors, sent


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_empty_bulletin_is_refused_in_the_page_and_its_date_reads_like_the_consoles(server, browser, lang):
    admin = httpx.Client(base_url=server, timeout=10)
    assert admin.post("/api/auth/login", json={"username": "dispatcher", "password": PASSWORD}).status_code == 200
    before = len(admin.get("/api/bulletins").json()["bulletins"])
    for size in ("1366", "390"):
        ctx, page, form, errors, sent = open_form(browser, server, lang, size)
        try:
            expires = form.get_by_test_id("ku-b-expires")
            value = expires.input_value()
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", value), value
            # About six hours from now, in this browser's local time (UTC here).
            at = datetime.strptime(value, "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)
            assert abs(at - datetime.now(timezone.utc) - timedelta(hours=6)) < timedelta(minutes=2)
            shot(page, f"bulletin-form-{lang}-{size}")

            # Empty: the page names what is missing, in its language, marks those fields, sends nothing.
            form.get_by_test_id("ku-b-send").click()
            error = form.get_by_test_id("ku-b-error")
            expect(error).to_have_text(MISSING[lang])
            error.scroll_into_view_if_needed()
            expect(error).to_be_in_viewport()
            # Nothing stands on it (the bulletins button stood on the drawer's bottom right).
            for el in (error, form.get_by_test_id("ku-b-send")):
                el.scroll_into_view_if_needed()
                assert el.evaluate(UNCOVERED), el
            for testid in ("ku-b-title", "ku-b-subject", "ku-b-text"):
                expect(form.get_by_test_id(testid)).to_have_attribute("aria-invalid", "true")
            expect(form.get_by_test_id("ku-b-title")).to_be_focused()
            shot(page, f"bulletin-form-empty-{lang}-{size}")
            if size == "1366":
                # The refusal follows the page's language switch, and back.
                other = "en" if lang == "zh" else "zh"
                page.get_by_test_id("lang-toggle").click()
                expect(error).to_have_text(MISSING[other])
                page.get_by_test_id("lang-toggle").click()
                expect(error).to_have_text(MISSING[lang])

            # A date written the US way, then one already past: each said, neither sent.
            form.get_by_test_id("ku-b-title").fill("协查：白色面包车")
            form.get_by_test_id("ku-b-subject").fill("白色面包车 辽N·12345")
            form.get_by_test_id("ku-b-text").fill("请留意门前车辆")
            expires.fill("12/01/2026, 06:00 PM")
            form.get_by_test_id("ku-b-send").click()
            expect(error).to_contain_text(BAD_DATE[lang])
            expect(expires).to_have_attribute("aria-invalid", "true")
            expect(form.get_by_test_id("ku-b-title")).to_have_attribute("aria-invalid", "false")
            expires.fill("2020-01-01 08:00")
            form.get_by_test_id("ku-b-send").click()
            expect(error).to_contain_text(PAST[lang])
            shot(page, f"bulletin-form-past-{lang}-{size}")
            page.wait_for_timeout(300)
            assert sent == []
            assert errors == []
        finally:
            ctx.close()
    assert len(admin.get("/api/bulletins").json()["bulletins"]) == before


def test_a_bulletin_sent_with_a_typed_date_keeps_that_time(server, browser):
    ctx, page, form, errors, sent = open_form(browser, server, "en", "1366")
    try:
        due = (datetime.now(timezone.utc) + timedelta(days=1)).replace(second=0, microsecond=0)
        form.get_by_test_id("ku-b-title").fill("Lookout: white van")
        form.get_by_test_id("ku-b-subject").fill("White van, plate 辽N·12345")
        form.get_by_test_id("ku-b-text").fill("Watch the street in front")
        # Hospitals only: no other browser test signs in as the demo hospital's member.
        form.locator("[data-testid=ku-b-kind][data-kind=hospital]").check()
        for district in form.locator("[data-testid=ku-b-district]").all():
            district.check()
        form.get_by_test_id("ku-b-expires").fill(due.strftime("%Y-%m-%d %H:%M"))
        form.get_by_test_id("ku-b-send").click()
        bid = page.wait_for_function("() => { for (const b of window.baojingKeyUnits.bulletins.values())"
                                     " if (b.title === 'Lookout: white van') return b.id; return false; }").json_value()
        b = page.evaluate("(id) => window.baojingKeyUnits.bulletins.get(id)", bid)
        got = datetime.fromisoformat(b["expires_at"].replace("Z", "+00:00"))
        if got.tzinfo is None:
            got = got.replace(tzinfo=timezone.utc)
        assert got == due, (b["expires_at"], due)
        expect(form.get_by_test_id("ku-b-error")).to_have_count(0)
        assert len(sent) == 1 and errors == []
    finally:
        ctx.close()
