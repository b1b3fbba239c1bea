"""Staff access: lockout, second factor, sessions, the cross-site check, Secure cookies and HSTS."""
from __future__ import annotations

import time
import uuid
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pyotp
from sqlalchemy import func, select, update

from baojing.app import create_app
from baojing.auth import service as auth
from baojing.auth.models import AuditEntry, LoginSession, User
from baojing.db import utcnow
from baojing.demo import DEMO_PASSWORD

PASSWORD = DEMO_PASSWORD


@asynccontextmanager
async def app_with(settings, **over):
    app = create_app(settings.model_copy(update=over))
    async with app.router.lifespan_context(app):
        yield app


def client_of(app, address="127.0.0.1", base="http://testserver") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url=base)


async def new_user(app, role="call_taker") -> str:
    name = f"u{uuid.uuid4().hex[:10]}"
    async with app.state.sessions() as s, s.begin():
        await auth.create_user(s, name, PASSWORD, role, name)
    return name


async def login(c, username, password=PASSWORD, **extra):
    return await c.post("/api/auth/login", json={"username": username, "password": password, **extra})


async def audit_count(app, action: str) -> int:
    await app.state.audit.flush()
    async with app.state.sessions() as s:
        return await s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


def next_code(secret: str) -> str:
    """The authenticator's next code (accepted one step early): a code works only once."""
    return pyotp.TOTP(secret).at(time.time() + 30)


async def enrol(c, username) -> str:
    r = await c.post("/api/auth/totp/enrol", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["qr_svg"].startswith("data:image/svg+xml")
    return r.json()["secret"]


# -- lockout -------------------------------------------------------------------------------------

async def test_five_failures_lock_the_account_from_that_address_only(settings):
    async with app_with(settings) as app:
        name = await new_user(app)
        async with client_of(app, "203.0.113.7") as attacker, client_of(app, "198.51.100.2") as officer:
            for _ in range(5):
                assert (await login(attacker, name, "wrong-password")).status_code == 401
            r = await login(attacker, name)  # even the right password: the lock holds
            assert r.status_code == 429 and r.json()["code"] == "login_locked"
            assert r.json()["message_zh"] and r.json()["message_en"]
            assert 500 <= int(r.headers["retry-after"]) <= 601
            assert (await login(officer, name)).status_code == 200  # the real officer elsewhere
        assert await audit_count(app, "login.failed") == 6  # five wrong, one refused by the lock


async def test_the_lock_ends_after_ten_minutes(settings):
    async with app_with(settings) as app:
        name = await new_user(app)
        async with client_of(app, "203.0.113.7") as c:
            for _ in range(5):
                await login(c, name, "wrong-password")
            assert (await login(c, name)).status_code == 429
            from baojing.auth.models import LoginFailure
            async with app.state.sessions() as s, s.begin():
                await s.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=11)))
            assert (await login(c, name)).status_code == 200


async def test_failures_from_many_addresses_lock_password_only_logins_but_not_the_second_factor(settings):
    async with app_with(settings, login_account_lock_failures=8) as app:
        name = await new_user(app)
        async with client_of(app, "198.51.100.2") as own:
            secret = await enrol(own, name)
            assert (await login(own, name, code=pyotp.TOTP(secret).now())).status_code == 200
        for i in range(8):
            async with client_of(app, f"203.0.113.{i + 1}") as bot:
                assert (await login(bot, name, "wrong-password")).status_code == 401
        async with client_of(app, "198.51.100.2") as own:
            r = await login(own, name)
            assert r.status_code == 429 and r.json()["code"] == "login_locked"
            assert (await login(own, name, code=next_code(secret))).status_code == 200


async def test_the_right_password_and_code_get_through_an_address_lock(settings):
    async with app_with(settings) as app:
        name = await new_user(app)
        async with client_of(app, "10.1.1.1") as c:  # the command centre's one NAT address
            secret = await enrol(c, name)
            await login(c, name, code=pyotp.TOTP(secret).now())
            for _ in range(5):
                await login(c, name, "wrong-password")
            assert (await login(c, name)).json()["code"] == "login_locked"
            # A wrong password with a code says no more than the lock did.
            r = await login(c, name, "wrong-password", code=next_code(secret))
            assert r.status_code == 429
            assert (await login(c, name, code=next_code(secret))).status_code == 200


async def test_logins_from_one_address_are_rate_limited(settings):
    async with app_with(settings, login_rate_per_minute=3) as app:
        async with client_of(app, "203.0.113.9") as c:
            codes = [(await login(c, f"nobody{i}", "x" * 8)).status_code for i in range(4)]
        assert codes == [401, 401, 401, 429]


# -- second factor -------------------------------------------------------------------------------

async def test_outside_demo_mode_a_staff_login_needs_an_enrolled_authenticator(settings):
    async with app_with(settings, demo=False) as app:
        name = await new_user(app, "admin")
        async with client_of(app) as c:
            r = await login(c, name)
            assert r.status_code == 401 and r.json()["code"] == "totp_enrolment_required"
            secret = await enrol(c, name)
            r = await login(c, name, code="000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
            assert r.status_code == 401 and r.json()["code"] == "bad_code"
            r = await login(c, name, code=pyotp.TOTP(secret).now())
            assert r.status_code == 200, r.text
            codes = r.json()["backup_codes"]
            assert len(codes) == 10 and r.json()["user"]["second_factor"] is True
            assert (await c.get("/api/auth/me")).status_code == 200
        async with client_of(app) as c:
            r = await login(c, name)
            assert r.status_code == 401 and r.json()["code"] == "totp_required"
            assert (await login(c, name, code=codes[0])).status_code == 200
            # A backup code works once.
            assert (await login(c, name, code=codes[0])).json()["code"] == "bad_code"
            assert (await login(c, name, code=codes[1].upper().replace("-", ""))).status_code == 200
        async with app.state.sessions() as s:
            stored = (await s.get(User, (await s.scalar(select(User.id).where(User.username == name))))).totp_secret
        assert stored == secret


async def test_a_logged_in_demo_user_can_enrol_and_the_next_login_asks_for_the_code(app, staff):
    c = await staff("calltaker2")
    r = await c.post("/api/auth/totp/setup", json={})
    assert r.status_code == 200
    secret = r.json()["secret"]
    assert r.json()["otpauth_uri"].startswith("otpauth://totp/")
    assert (await c.post("/api/auth/totp/confirm", json={"code": "12345"})).status_code == 422
    r = await c.post("/api/auth/totp/confirm", json={"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 200 and len(r.json()["backup_codes"]) == 10
    async with client_of(app) as other:
        assert (await login(other, "calltaker2")).json()["code"] == "totp_required"
        assert (await login(other, "calltaker2", code=next_code(secret))).status_code == 200
    admin = await staff("admin")
    uid = (await c.get("/api/auth/me")).json()["user"]["id"]
    assert (await admin.post(f"/api/admin/users/{uid}/totp/reset")).status_code == 204
    async with client_of(app) as other:
        assert (await login(other, "calltaker2")).status_code == 200


async def test_an_authenticator_code_works_once_for_login_and_for_new_backup_codes(settings):
    async with app_with(settings, demo=False) as app:
        name = await new_user(app, "admin")
        t0 = time.time()
        async with client_of(app) as desk:
            secret = await enrol(desk, name)
            first, second = pyotp.TOTP(secret).at(t0), pyotp.TOTP(secret).at(t0 + 30)  # steps t and t+1
            assert (await login(desk, name, code=first)).status_code == 200  # enrols; this code is now spent
            async with client_of(app, "198.51.100.9") as onlooker:  # someone who saw it typed, within its 30 s
                r = await login(onlooker, name, code=first)
                assert r.status_code == 401 and r.json()["code"] == "code_reused", r.text
                assert "用过" in r.json()["message_zh"] and "already been used" in r.json()["message_en"]
                assert (await onlooker.get("/api/auth/me")).status_code == 401
            # Every other check of a code spends it too, and an older step than the last is refused.
            assert (await desk.post("/api/auth/backup-codes", json={"code": second})).status_code == 200
            r = await desk.post("/api/auth/backup-codes", json={"code": first})
            assert r.status_code == 422 and r.json()["code"] == "code_reused"
        async with client_of(app) as c:
            assert (await login(c, name, code=second)).json()["code"] == "code_reused"
        assert await audit_count(app, "login.failed") == 2


# -- sessions ------------------------------------------------------------------------------------

async def _age_sessions(app, username, minutes):
    async with app.state.sessions() as s, s.begin():
        uid = await s.scalar(select(User.id).where(User.username == username))
        await s.execute(update(LoginSession).where(LoginSession.user_id == uid)
                        .values(last_seen_at=utcnow() - timedelta(minutes=minutes)))


async def test_a_session_ends_after_thirty_idle_minutes_and_the_limit_is_per_role(settings):
    async with app_with(settings, session_idle_minutes_by_role={"admin": 5}) as app:
        async with client_of(app) as ct, client_of(app) as ad:
            await login(ct, "calltaker")
            await login(ad, "admin")
            await _age_sessions(app, "calltaker", 29)
            await _age_sessions(app, "admin", 6)
            assert (await ct.get("/api/auth/me")).status_code == 200
            assert (await ad.get("/api/auth/me")).status_code == 401
            await _age_sessions(app, "calltaker", 31)
            assert (await ct.get("/api/auth/me")).status_code == 401


async def test_a_request_keeps_the_session_alive(settings):
    async with app_with(settings) as app:
        async with client_of(app) as c:
            await login(c, "calltaker")
            await _age_sessions(app, "calltaker", 20)
            assert (await c.get("/api/auth/me")).status_code == 200  # use: seen now
            await _age_sessions(app, "calltaker", 0)  # (a no-op: shows the touch happened below)
            async with app.state.sessions() as s:
                seen = await s.scalar(select(func.max(LoginSession.last_seen_at)))
            assert utcnow() - seen < timedelta(minutes=1)


async def test_the_owner_sees_and_ends_sessions_and_a_new_login_can_end_the_others(app, staff):
    a, b = await staff("officer2"), await staff("officer2")
    sessions = (await a.get("/api/auth/sessions")).json()["sessions"]
    assert len(sessions) == 2 and sum(s["current"] for s in sessions) == 1
    other = next(s for s in sessions if not s["current"])
    assert (await a.post(f"/api/auth/sessions/{other['id']}/end")).status_code == 204
    assert (await b.get("/api/auth/me")).status_code == 401
    c = await staff("officer2")
    async with client_of(app) as d:
        r = await login(d, "officer2", end_other_sessions=True)
        assert r.status_code == 200
        assert (await a.get("/api/auth/me")).status_code == 401
        assert (await c.get("/api/auth/me")).status_code == 401
        assert len((await d.get("/api/auth/sessions")).json()["sessions"]) == 1


async def test_an_admin_ends_anyones_sessions_and_others_cannot(app, staff):
    victim, admin, other = await staff("officer3"), await staff("admin"), await staff("calltaker")
    uid = (await victim.get("/api/auth/me")).json()["user"]["id"]
    sid = (await victim.get("/api/auth/sessions")).json()["sessions"][0]["id"]
    assert (await other.post(f"/api/auth/sessions/{sid}/end")).status_code == 404
    assert (await other.get(f"/api/admin/users/{uid}/sessions")).status_code == 403
    listed = (await admin.get(f"/api/admin/users/{uid}/sessions")).json()["sessions"]
    assert [s["id"] for s in listed] == [sid]
    assert (await admin.post(f"/api/admin/users/{uid}/sessions/end")).json() == {"ended": 1}
    assert (await victim.get("/api/auth/me")).status_code == 401


# -- cross-site writes ---------------------------------------------------------------------------

async def test_a_cookie_write_from_another_site_is_refused(staff):
    c = await staff("calltaker")
    for headers in ({"Origin": "https://evil.example"}, {"Referer": "https://evil.example/page"}, {"Origin": "null"}):
        r = await c.post("/api/auth/sessions/end-others", headers=headers)
        assert r.status_code == 403, headers
        assert r.json()["code"] == "foreign_origin" and r.json()["message_zh"] and r.json()["message_en"]
    assert (await c.post("/api/auth/sessions/end-others", headers={"Origin": "http://testserver"})).status_code == 200
    assert (await c.post("/api/auth/sessions/end-others")).status_code == 200  # not a browser


async def test_a_login_from_another_site_is_refused_but_a_callers_alarm_never_is(client):
    r = await client.post("/api/auth/login", json={"username": "calltaker", "password": PASSWORD},
                          headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    from builders import alarm_body
    r = await client.post("/api/alarms", json=alarm_body(), headers={"Referer": "https://servicewechat.com/wx1/1/page"})
    assert r.status_code == 201


async def test_allowed_origins_name_the_public_site_behind_a_proxy(settings):
    async with app_with(settings, allowed_origins=["https://110.example.gov.cn"]) as app:
        async with client_of(app) as c:
            r = await login(c, "calltaker")
            assert r.status_code == 200
            ok = await c.post("/api/auth/sessions/end-others", headers={"Origin": "https://110.example.gov.cn"})
            assert ok.status_code == 200


# -- TLS -----------------------------------------------------------------------------------------

async def test_over_tls_cookies_are_secure_and_hsts_is_sent_whatever_the_setting(settings):
    async with app_with(settings, secure_cookies=False) as app:
        async with client_of(app, base="https://testserver") as c:
            r = await login(c, "calltaker")
            assert "secure" in r.headers["set-cookie"].lower()
            assert r.headers["strict-transport-security"].startswith("max-age=")
        async with client_of(app) as c:
            r = await login(c, "calltaker", headers=None) if False else await login(c, "calltaker")
            assert "secure" not in r.headers["set-cookie"].lower()
            assert "strict-transport-security" not in r.headers


async def test_only_a_trusted_proxy_may_say_the_request_came_over_tls(settings):
    fwd = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.20"}
    async with app_with(settings) as app:
        async with client_of(app, "203.0.113.5") as c:
            r = await c.post("/api/auth/login", json={"username": "calltaker", "password": PASSWORD}, headers=fwd)
            assert "secure" not in r.headers["set-cookie"].lower()
    async with app_with(settings, trusted_proxies=["10.0.0.0/8"]) as app:
        async with client_of(app, "10.0.0.2") as c:
            r = await c.post("/api/auth/login", json={"username": "calltaker", "password": PASSWORD}, headers=fwd)
            assert "secure" in r.headers["set-cookie"].lower() and "strict-transport-security" in r.headers
        async with app.state.sessions() as s:
            row = await s.scalar(select(AuditEntry).where(AuditEntry.action == "login").order_by(AuditEntry.seq.desc()))
        assert row.detail["address"] == "198.51.100.20"  # the client, not the proxy


async def test_old_failed_logins_are_purged_for_every_account_not_only_the_failing_one(settings):
    from baojing.alarms.retention import anonymise
    from baojing.auth.models import LoginFailure
    async with app_with(settings) as app:
        quiet, other = await new_user(app), await new_user(app)
        async with client_of(app, "203.0.113.7") as c:
            await login(c, quiet, "wrong-password")
            async with app.state.sessions() as s, s.begin():  # a failure of two days ago, never followed by another
                await s.execute(update(LoginFailure).values(at=utcnow() - timedelta(days=2)))
            await login(c, other, "wrong-password")  # another account fails today
        async with app.state.sessions() as s:
            assert list(await s.scalars(select(LoginFailure.username))) == [other]
        async with app.state.sessions() as s, s.begin():  # the nightly command forgets them too, with no failure at all
            await s.execute(update(LoginFailure).values(at=utcnow() - timedelta(days=2)))
            assert (await anonymise(s, 180))["login_failures"] == 1
        async with app.state.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(LoginFailure)) == 0
