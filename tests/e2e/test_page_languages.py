"""The caller's, the officer's and the administrator's pages and /docs, in Chinese and in English, at
390 px and at 1366×768: a screenshot of each screen (var/screenshots/lang-*.png, to be looked at),
and the first things a person looking would check: nothing wider than the screen, none of the
page's own words left in Chinese on the English page, the map's labels neither cut nor on top of
each other, and one language remembered for the whole site."""
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from browsing import desk_context, phone_context, shot

PASSWORD = "baojing110"
START = (41.566, 120.454)
CJK = "/[\\u3400-\\u9fff]/"

OVERFLOW = "() => document.documentElement.scrollWidth - innerWidth"
# The page's own words (data-i18n*) that are visible and still Chinese; the language switch itself
# names the other language.
LEFT_IN_CHINESE = f"""() => [...document.querySelectorAll('[data-i18n],[data-i18n-ph],[data-i18n-title]')]
  .filter((el) => el.offsetParent !== null && !/lang/.test(el.dataset.testid || '') && !el.classList.contains('js-lang'))
  .map((el) => (el.textContent || '') + ' ' + (el.placeholder || ''))
  .filter((s) => {CJK}.test(s))"""
# Buttons and labels whose text is cut (wider than their box, with the rest hidden).
CUT = """() => [...document.querySelectorAll('button, .btn, label, h1, h2, .tab')]
  .filter((el) => el.offsetParent !== null && getComputedStyle(el).overflow !== 'visible' && el.scrollWidth > el.clientWidth + 1)
  .map((el) => el.textContent.trim())"""


def contexts(browser, lang):
    for size, make in (("390", lambda: phone_context(browser, *START)), ("1366", lambda: desk_context(browser))):
        ctx = make()
        # The one remembered language of the site (web/shared/i18n.js).
        ctx.add_init_script(f"try {{ localStorage.setItem('baojing.lang', '{lang}') }} catch (e) {{}}")
        yield size, ctx


def look(page, name, lang):
    shot(page, name)
    assert page.evaluate(OVERFLOW) <= 1, f"{name}: wider than the screen"
    assert page.evaluate(CUT) == [], f"{name}: text cut"
    if lang == "en":
        assert page.evaluate(LEFT_IN_CHINESE) == [], f"{name}: words left in Chinese"


def login_screen(page, server, page_name, lang, size):
    """The staff page's login screen, with where each role goes."""
    page.goto(f"{server}/{page_name}/")
    expect(page.get_by_test_id("role-guide")).to_be_visible()
    look(page, f"lang-{page_name}-login-{lang}-{size}", lang)


def sign_in(page, url, user):
    page.goto(url)
    page.get_by_test_id("login-username").fill(user)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_callers_page(server, browser, lang):
    for size, ctx in contexts(browser, lang):
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{server}/m/")
        expect(page.get_by_test_id("terms-accept")).to_have_text("同意并继续" if lang == "zh" else "I agree, continue")
        look(page, f"lang-m-terms-{lang}-{size}", lang)
        page.get_by_test_id("terms-accept").click()
        expect(page.get_by_test_id("call-button")).to_be_visible()
        look(page, f"lang-m-main-{lang}-{size}", lang)
        page.get_by_test_id("call-button").click()  # no number: the page asks for one
        expect(page.get_by_test_id("phone-error")).to_be_visible()
        look(page, f"lang-m-phone-{lang}-{size}", lang)
        assert errors == []
        ctx.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_text_alarm_is_ended_not_hung_up(server, browser, lang):
    """The text alarm's last button ends it, in words for a text, not the video call's 挂断 / Hang up."""
    for size, ctx in contexts(browser, lang):
        page = ctx.new_page()
        page.goto(f"{server}/m/")
        page.get_by_test_id("terms-accept").click()
        # A number of its own per screen: each starts its own text alarm.
        page.get_by_test_id("phone-input").fill(f"1370000{'2' if lang == 'zh' else '3'}{size[:3]}")
        page.get_by_test_id("text-button").click()
        expect(page.get_by_test_id("text-hangup")).to_have_text("结束文字报警" if lang == "zh" else "End text alarm")
        look(page, f"lang-m-text-{lang}-{size}", lang)
        page.get_by_test_id("text-hangup").click()
        expect(page.get_by_test_id("text-status")).to_have_text("文字报警已结束 您已结束。" if lang == "zh" else "The text alarm has ended. You ended it.")
        ctx.close()


def test_a_started_accident_case_shows_its_qr_and_lists_what_is_missing_in_english(server, browser):
    """Party A's phone draws the join QR (an SVG image without its namespace drew nothing) and an English
    list of what is still missing is not joined with the Chinese 、."""
    ok = {"injured": "no", "drivable": "yes", "two_vehicles": "yes", "licensed_insured": "yes", "drink_drugs": "no",
          "dispute": "no"}
    for size, ctx in contexts(browser, "en"):
        page = ctx.new_page()
        page.goto(f"{server}/m/")
        page.get_by_test_id("terms-accept").click()
        page.get_by_test_id("traffic-button").click()
        for q, a in ok.items():
            page.get_by_test_id(f"q-{q}-{a}").click()
        page.get_by_test_id("start-case").click()
        expect(page.get_by_test_id("case-code")).to_be_visible()
        page.wait_for_function("() => document.querySelector('[data-testid=case-qr]').complete")
        assert page.evaluate("() => document.querySelector('[data-testid=case-qr]').naturalWidth") > 0, "QR not drawn"
        # The case code the other driver types stays inside its card (a wide 'W' ran it past the edge at 390 px).
        # Measured with the widest letters a code can have, so the check does not depend on the code drawn.
        right, inner = page.evaluate("""() => { const el = document.querySelector('[data-testid=case-code]');
          const was = el.textContent; el.textContent = 'WWWWWW'; const r = el.getBoundingClientRect();
          const range = document.createRange(); range.selectNodeContents(el); const text = range.getBoundingClientRect();
          const p = el.closest('section'); const pr = p.getBoundingClientRect();
          const inner = pr.right - parseFloat(getComputedStyle(p).paddingRight); el.textContent = was;
          return [Math.max(r.right, text.right), inner]; }""")
        assert right <= inner + 1, (right, inner)
        missing = page.get_by_test_id("submit-missing")
        expect(missing).to_contain_text("Still missing")
        assert "、" not in missing.inner_text()
        look(page, f"lang-m-traffic-case-en-{size}", "en")
        ctx.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_key_unit_login_says_what_is_wrong_with_the_number(server, browser, lang):
    """Send code with no number: the member is told to enter one, not that "the request is invalid"."""
    for size, ctx in contexts(browser, lang):
        page = ctx.new_page()
        page.goto(f"{server}/m/")
        page.get_by_test_id("terms-accept").click()
        page.get_by_test_id("member-open").click()
        page.get_by_test_id("member-code-send").click()
        expect(page.get_by_test_id("member-error")).to_have_text("请输入电话号码" if lang == "zh" else "Enter a phone number")
        look(page, f"lang-m-member-no-number-{lang}-{size}", lang)
        ctx.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_officers_page(server, browser, lang):
    for size, ctx in contexts(browser, lang):
        page = ctx.new_page()
        login_screen(page, server, "officer", lang, size)
        sign_in(page, f"{server}/officer/", "keyunit")
        expect(page.get_by_test_id("wrong-page")).to_be_visible()
        look(page, f"lang-officer-wrong-role-{lang}-{size}", lang)
        page.get_by_test_id("switch-account").click()
        sign_in(page, f"{server}/officer/", "officer3")
        expect(page.get_by_test_id("duty-switch")).to_be_visible()
        look(page, f"lang-officer-home-{lang}-{size}", lang)
        ctx.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_console_with_an_incident_open(server, browser, lang):
    """A desk page: looked at 1366×768 (nothing wider than the screen, nothing cut, no Chinese left in
    English), and at 390 px only photographed, to see that it does not fall apart."""
    r = httpx.post(server + "/api/alarms", json={"idempotency_key": uuid.uuid4().hex, "phone": "13700001366",
                                                 "name": "张三", "channel": "phone",
                                                 "location": {"lat": START[0], "lon": START[1], "accuracy_m": 12,
                                                              "crs": "wgs84"}})
    assert r.status_code == 201, r.text
    alarm_id = r.json()["id"]
    for size, ctx in contexts(browser, lang):
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        sign_in(page, f"{server}/console/", "calltaker")
        page.wait_for_function("(id) => window.baojing && window.baojing.ready"
                               " && [...window.baojing.incidents.values()].some(i => i.alarms.some(a => a.id === id))",
                               arg=alarm_id)
        page.evaluate("(id) => { for (const i of window.baojing.incidents.values())"
                      " if (i.alarms.some(a => a.id === id)) window.baojing.select(i.id); }", alarm_id)
        expect(page.get_by_test_id("note-input-count")).to_be_visible()
        page.wait_for_timeout(400)  # the map's move to the incident
        if size == "1366":
            look(page, f"lang-console-detail-{lang}-{size}", lang)
            # The bulletins button stands on the map, not over the open incident (its priority row).
            opener = page.get_by_test_id("ku-bulletins-open").bounding_box()
            panel = page.get_by_test_id("detail-panel").bounding_box()
            assert opener["x"] + opener["width"] <= panel["x"], (opener, panel)
        else:
            shot(page, f"lang-console-detail-{lang}-{size}")
        assert errors == []
        ctx.close()


# Where the console sends an account that does not work there (auth/roles.py PAGES).
ELSEWHERE = {"traffic": "/traffic/", "keyunit": "/m/", "officer": "/officer/"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_consoles_login_tells_other_roles_where_to_go(server, browser, lang):
    for size, ctx in contexts(browser, lang):
        page = ctx.new_page()
        login_screen(page, server, "console", lang, size)
        for user, path in ELSEWHERE.items():
            sign_in(page, f"{server}/console/", user)
            wrong = page.get_by_test_id("wrong-page")
            expect(wrong).to_have_attribute("data-role", {"traffic": "traffic_officer", "keyunit": "keyunit_member",
                                                          "officer": "officer"}[user])
            expect(wrong.get_by_test_id("role-page-link")).to_have_attribute("data-page", path)
            expect(wrong).to_contain_text("不能使用本页面" if lang == "zh" else "cannot use this page")
            if user == "traffic":
                look(page, f"lang-console-wrong-role-{lang}-{size}", lang)
        # The other language says it again, and the right account still gets in.
        page.get_by_test_id("login-lang-toggle").click()
        expect(page.get_by_test_id("wrong-page")).to_contain_text("cannot use" if lang == "zh" else "不能使用")
        page.get_by_test_id("login-lang-toggle").click()
        sign_in(page, f"{server}/console/", "calltaker")
        page.wait_for_function("() => window.baojing && window.baojing.ready === true")
        expect(page.get_by_test_id("login-error")).to_be_hidden()
        ctx.close()


LABEL_BOXES = """() => {
  const map = document.querySelector('#map').getBoundingClientRect();
  const box = (el) => { const r = el.getBoundingClientRect(); return {x: r.left, y: r.top, r: r.right, b: r.bottom, text: el.textContent}; };
  return {map: {x: map.left, y: map.top, r: map.right, b: map.bottom},
          districts: [...document.querySelectorAll('.bj-district-label')].map(box),
          stations: [...document.querySelectorAll('.bj-station-label')].filter((el) => getComputedStyle(el).visibility !== 'hidden').map(box)};
}"""


def overlaps(a, b):
    return a["x"] < b["r"] and b["x"] < a["r"] and a["y"] < b["b"] and b["y"] < a["b"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_administrators_page_and_its_map_labels(server, browser, lang):
    for size, ctx in contexts(browser, lang):
        page = ctx.new_page()
        login_screen(page, server, "admin", lang, size)
        sign_in(page, f"{server}/admin/", "admin")
        page.wait_for_function("() => window.baojingAdmin && window.baojingAdmin.ready === true")
        page.wait_for_timeout(400)  # the map's fit animation
        look(page, f"lang-admin-stations-{lang}-{size}", lang)
        # Every tab on the screen (English ran the key-unit and SMS tabs off a phone's edge).
        for tab in ("tab-stations", "tab-units", "tab-keyunits", "tab-sms"):
            box = page.get_by_test_id(tab).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"], f"{tab} off screen: {box}"
        if True:  # the map's names, at both sizes
            got = page.evaluate(LABEL_BOXES)
            m = got["map"]
            for d in got["districts"]:
                assert m["x"] <= d["x"] and d["r"] <= m["r"] and m["y"] <= d["y"] and d["b"] <= m["b"], f"district label cut: {d}"
            for i, a in enumerate(got["districts"]):
                for b in got["districts"][i + 1:]:
                    assert not overlaps(a, b), f"district labels overlap: {a['text']} / {b['text']}"
            shown = got["stations"]
            assert len(shown) >= (4 if size == "1366" else 1), shown
            for i, a in enumerate(shown):
                for b in shown[i + 1:]:
                    assert not overlaps(a, b), f"station labels overlap: {a['text']} / {b['text']}"
        page.get_by_test_id("tab-units").click()
        look(page, f"lang-admin-units-{lang}-{size}", lang)
        ctx.close()


def test_one_language_for_the_whole_site(server, browser):
    ctx = phone_context(browser, *START)
    page = ctx.new_page()
    english = []
    page.on("request", lambda r: english.append(r.url) if r.url.endswith("/m/i18n-en.js") else None)
    page.goto(f"{server}/m/")
    page.get_by_test_id("terms-accept").click()
    assert english == [], "a caller in Chinese downloads the English words"
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("call-button")).to_contain_text("Call police")
    assert len(english) == 1
    page.goto(f"{server}/officer/")
    expect(page.get_by_test_id("login-submit")).to_have_text("Sign in")
    page.goto(f"{server}/admin/")
    expect(page.get_by_test_id("login-submit")).to_have_text("Log in")
    page.get_by_test_id("login-lang-toggle").click()
    page.goto(f"{server}/m/")
    expect(page.get_by_test_id("call-button")).to_contain_text("电话报警")
    ctx.close()


@pytest.mark.parametrize("size", ["390", "1366"])
def test_the_api_docs_page_head(server, browser, size):
    ctx = phone_context(browser, *START) if size == "390" else desk_context(browser)
    page = ctx.new_page()
    page.goto(f"{server}/docs")
    page.locator(".opblock-tag").first.click(timeout=15_000)  # tags start folded (web/apidocs/apidocs.js)
    expect(page.locator(".opblock").first).to_be_visible()
    shot(page, f"lang-docs-{size}")
    assert page.evaluate(OVERFLOW) <= 1
    ctx.close()
