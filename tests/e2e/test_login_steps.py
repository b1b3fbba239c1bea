"""The shared login steps in real Chromium against a server that enforces the second factor:
first-login enrolment by QR code on the console, the backup codes shown once, and the code step on
the officer's phone; in Chinese and English, desk and phone sizes."""
from __future__ import annotations

import os
import re
import time
from datetime import datetime, timezone
import subprocess

import httpx
import pyotp
import pytest
from playwright.sync_api import expect

from browsing import BAOJING, ROOT, desk_context, phone_context, served, shot

PASSWORD = "baojing110"


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    """`baojing serve` outside demo mode: every staff login needs an authenticator."""
    tmp = tmp_path_factory.mktemp("strict")
    env = {**os.environ, "BAOJING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'e2e.db'}",
           "BAOJING_MAP_TILES": "none", "BAOJING_DEMO": "false"}
    for cmd in ("migrate", "demo"):
        subprocess.run([BAOJING, cmd], env=env, check=True, cwd=ROOT, capture_output=True)
    with served(tmp, env) as base:
        yield base


_LAST_STEP: dict[str, int] = {}


def _next_code(secret: str) -> str:
    """A code whose 30 s step is after the last one used: a code works once. The server takes
    the next step early; a third login within one step waits for the step to come."""
    t = pyotp.TOTP(secret)
    now = t.timecode(datetime.now(timezone.utc))
    step = max(now, _LAST_STEP.get(secret, now - 1) + 1)
    if step > now + 1:
        time.sleep(max(0.0, (step - 1) * t.interval - time.time()) + 0.05)
    _LAST_STEP[secret] = step
    return t.generate_otp(step)


def _fill(page, username):
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_first_login_enrols_the_authenticator_by_qr_code_and_shows_the_backup_codes(strict_server, browser, lang):
    ctx = desk_context(browser)
    ctx.add_init_script(f"localStorage.setItem('baojing.lang', '{lang}'); localStorage.setItem('baojing.console.lang', '{lang}')")
    page = ctx.new_page()
    page.goto(strict_server + "/console/")
    _fill(page, "calltaker" if lang == "zh" else "calltaker2")
    expect(page.get_by_test_id("login-qr")).to_be_visible()
    expect(page.get_by_test_id("login-code")).to_be_visible()
    assert page.get_by_test_id("login-qr").evaluate("img => img.naturalWidth") > 0  # drawn, not fetched
    shot(page, f"login-enrol-console-{lang}-1366")
    secret = page.get_by_test_id("login-secret").inner_text().replace(" ", "")
    page.get_by_test_id("login-code").fill(pyotp.TOTP(secret).now())
    page.get_by_test_id("login-submit").click()
    codes = page.get_by_test_id("login-backup-codes")
    expect(codes).to_be_visible()
    assert len(codes.locator("pre").inner_text().split()) == 10
    shot(page, f"login-backup-codes-console-{lang}-1366")
    page.get_by_test_id("login-backup-done").click()
    expect(page.locator("#login-view")).to_be_hidden()
    ctx.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_enrolled_officer_gives_the_code_on_the_phone(strict_server, browser, lang):
    username = "officer" if lang == "zh" else "officer2"
    with httpx.Client(base_url=strict_server) as c:
        secret = c.post("/api/auth/totp/enrol", json={"username": username, "password": PASSWORD}).json()["secret"]
        assert c.post("/api/auth/login", json={"username": username, "password": PASSWORD,
                                               "code": _next_code(secret)}).status_code == 200
    ctx = phone_context(browser, 41.57, 120.45)
    ctx.add_init_script(f"localStorage.setItem('baojing.lang', '{lang}')")
    page = ctx.new_page()
    page.goto(strict_server + "/officer/")
    _fill(page, username)
    expect(page.get_by_test_id("login-code")).to_be_visible()
    expect(page.get_by_test_id("login-code-hint")).to_contain_text("6")
    expect(page.get_by_test_id("login-qr")).to_be_hidden()
    shot(page, f"login-code-officer-{lang}-390")
    page.get_by_test_id("login-code").fill(_next_code(secret))
    page.get_by_test_id("login-submit").click()
    expect(page.locator("#login-view")).to_be_hidden()
    ctx.close()


_SECRETS: dict[str, str] = {}


def _enrolled(base: str, username: str, client: httpx.Client) -> str:
    """Enrol an authenticator for a demo account through the API (strict server); its secret."""
    secret = client.post("/api/auth/totp/enrol", json={"username": username, "password": PASSWORD}).json()["secret"]
    assert client.post("/api/auth/login", json={"username": username, "password": PASSWORD,
                                                "code": _next_code(secret)}).status_code == 200
    return secret


def _login_with_code(page, username: str, secret: str) -> None:
    _fill(page, username)
    expect(page.get_by_test_id("login-code")).to_be_visible()
    page.get_by_test_id("login-code").fill(_next_code(secret))
    page.get_by_test_id("login-submit").click()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_console_queue_marks_possible_abuse_without_hiding_anything(strict_server, browser, lang):
    import uuid
    with httpx.Client(base_url=strict_server) as c:
        token = None
        for _ in range(7):
            body = {"idempotency_key": uuid.uuid4().hex, "phone": "13700007777", "name": None, "channel": "phone",
                    "location": {"lat": 41.5705, "lon": 120.4508, "accuracy_m": 15, "crs": "wgs84"}}
            r = c.post("/api/alarms", json=body, headers={"X-Device-Token": token} if token else {})
            token = token or r.json()["device_token"]
        if "dispatcher" not in _SECRETS:
            _SECRETS["dispatcher"] = _enrolled(strict_server, "dispatcher", c)
    secret = _SECRETS["dispatcher"]
    ctx = desk_context(browser)
    ctx.add_init_script(f"localStorage.setItem('baojing.lang', '{lang}'); localStorage.setItem('baojing.console.lang', '{lang}')")
    page = ctx.new_page()
    page.goto(strict_server + "/console/")
    _login_with_code(page, "dispatcher", secret)
    tag = page.get_by_test_id("queue-abuse").first
    expect(tag).to_be_visible()
    assert "6" in tag.get_attribute("title")
    assert page.get_by_test_id("queue-phone").filter(has_text="137").count() >= 7  # every alarm still listed
    shot(page, f"console-queue-abuse-{lang}-1366")
    ctx.close()


@pytest.mark.parametrize("lang,size", [("zh", "390"), ("en", "390"), ("zh", "1366"), ("en", "1366")])
def test_the_account_page_lists_my_sessions_and_moves_the_authenticator_to_a_new_phone(strict_server, browser,
                                                                                        lang, size):
    username = {"zh390": "officer3", "en390": "officer4", "zh1366": "traffic", "en1366": "admin"}[lang + size]
    with httpx.Client(base_url=strict_server) as other:  # a second session elsewhere, to end from the page
        secret = _enrolled(strict_server, username, other)
        ctx = phone_context(browser, 41.57, 120.45) if size == "390" else desk_context(browser)
        ctx.add_init_script(f"localStorage.setItem('baojing.lang', '{lang}')")
        page = ctx.new_page()
        page.goto(strict_server + "/account/")
        _login_with_code(page, username, secret)
        expect(page.get_by_test_id("sessions").locator("li")).to_have_count(2)
        # This browser named as a person knows it, not as a cut user-agent string.
        expect(page.get_by_test_id("session-device").filter(
            has_text=re.compile(r"^\S+ · Chrome \d+ · (Linux|Android)$"))).to_have_count(1)
        page.get_by_test_id("totp-start").click()
        expect(page.get_by_test_id("totp-qr")).to_be_visible()
        new_secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
        assert new_secret != secret
        page.get_by_test_id("totp-code").fill(pyotp.TOTP(new_secret).now())
        page.get_by_test_id("totp-confirm").click()
        expect(page.get_by_test_id("backup-codes")).to_be_visible()
        shot(page, f"account-{lang}-{size}")
        page.get_by_test_id("session-end").click()
        expect(page.get_by_test_id("sessions").locator("li")).to_have_count(1)
        assert other.get("/api/auth/me").status_code == 401
        ctx.close()
