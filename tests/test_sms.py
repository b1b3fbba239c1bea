"""SMS: every message stored before it goes, the outbox gateway, a real provider over HTTP with
retries, and one-time codes (6 digits, 5 minutes, once, 5 tries, rate limits)."""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
import uvicorn
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from baojing.app import create_app
from baojing.db import utcnow
from baojing.deps import unit_of_work
from baojing.errors import DomainError
from baojing.sms import service as sms
from baojing.sms.models import SmsCode, SmsMessage

PHONE = "13900000042"
TEXT = "验证码 {code}，{minutes} 分钟内有效"


async def issue(app, phone=PHONE, address="10.0.0.1"):
    async with unit_of_work(app.state) as s:
        return await sms.issue_code(s, app.state.settings, phone, "test_login", address, TEXT)


async def consume(app, code, phone=PHONE):
    async with unit_of_work(app.state) as s:
        await sms.consume_code(s, app.state.settings, phone, "test_login", code)


async def refusal(app, code, phone=PHONE) -> DomainError:
    with pytest.raises(DomainError) as e:
        await consume(app, code, phone)
    assert e.value.message_zh and e.value.message_en
    return e.value


async def outbox(admin, phone=PHONE, wait_sent=True) -> list[dict]:
    for _ in range(100):
        r = await admin.get("/api/admin/sms", params={"phone": phone})
        assert r.status_code == 200, r.text
        msgs = r.json()["messages"]
        if msgs and (not wait_sent or all(m["status"] != "pending" for m in msgs)):
            return msgs
        await asyncio.sleep(0.05)
    raise AssertionError(f"no delivered message to {phone}: {msgs}")


def code_of(msg: dict) -> str:
    import re
    return re.search(r"\d{6}", msg["text"]).group(0)


async def test_a_code_goes_to_the_outbox_and_the_log_and_works_once(app, staff, caplog):
    caplog.set_level(logging.INFO, logger="baojing.sms")
    admin = await staff("admin")
    out = await issue(app)
    assert out["sent_to"] == "139****0042" and out["expires_in_s"] == 300
    (msg,) = await outbox(admin)
    assert msg["status"] == "sent" and msg["gateway"] == "outbox" and msg["purpose"] == "test_login"
    code = code_of(msg)
    assert len(code) == 6 and "5 分钟" in msg["text"]
    assert any(code in r.getMessage() and "139****0042" in r.getMessage() for r in caplog.records)
    await consume(app, code)
    e = await refusal(app, code)
    assert e.code == "code_used"


async def test_the_sixth_try_is_refused_even_with_the_right_code(app, staff):
    admin = await staff("admin")
    await issue(app)
    code = code_of((await outbox(admin))[0])
    wrong = "000000" if code != "000000" else "111111"
    codes = []
    for _ in range(5):
        codes.append((await refusal(app, wrong)).code)
    assert codes == ["wrong_code"] * 4 + ["code_locked"]
    e = await refusal(app, code)
    assert e.code == "code_locked" and e.status == 429
    async with app.state.sessions() as s:
        assert (await s.scalar(select(SmsCode.tries))) == 5


async def test_an_expired_code_is_refused(app, staff):
    admin = await staff("admin")
    await issue(app)
    code = code_of((await outbox(admin))[0])
    async with app.state.sessions() as s, s.begin():
        await s.execute(update(SmsCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert (await refusal(app, code)).code == "code_expired"
    assert (await refusal(app, code, phone="13900000043")).code == "no_code"


async def test_codes_are_rate_limited_per_number_and_per_address_and_the_refusals_audited(app):
    await issue(app)
    with pytest.raises(DomainError) as e:
        await issue(app)
    assert e.value.code == "code_too_soon" and e.value.status == 429
    # Once a minute per number: move the earlier ones back in time to reach the hourly limits.
    async with app.state.sessions() as s, s.begin():
        await s.execute(update(SmsCode).values(created_at=utcnow() - timedelta(minutes=2)))
    for _ in range(4):
        await issue(app)
        async with app.state.sessions() as s, s.begin():
            await s.execute(update(SmsCode).values(created_at=utcnow() - timedelta(minutes=2)))
    with pytest.raises(DomainError) as e:
        await issue(app)
    assert e.value.code == "too_many_codes_phone"
    for i in range(15):
        await issue(app, phone=f"1390000{i:04d}")
    with pytest.raises(DomainError) as e:
        await issue(app, phone="13911112222")
    assert e.value.code == "too_many_codes_address"
    await issue(app, phone="13911112222", address="10.0.0.2")


async def test_a_refusal_names_the_masked_phone_for_the_audit_log(app):
    """Written by the API's error handler (end to end in tests/test_keyunits_members.py)."""
    await issue(app)
    e = await refusal(app, "abcdef")
    who, action, subject, _ = e.audit
    assert action == "sms_code.refused" and subject == "sms_code" and who.label == "phone:139****0042"


# ---- a real provider over HTTP ----------------------------------------------------------------

@pytest.fixture
async def provider():
    """A provider on a loopback port that fails the first `fail` requests with 503."""
    state = {"fail": 0, "got": []}

    async def send(request: Request):
        state["got"].append((await request.json(), request.headers.get("authorization")))
        if state["fail"] > 0:
            state["fail"] -= 1
            return JSONResponse({"error": "busy"}, status_code=503)
        return JSONResponse({"msg_id": f"p{len(state['got'])}"})

    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/send", send, methods=["POST"])]),
                                           host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    state["url"] = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/send"
    yield state
    server.should_exit = True
    await task


@pytest.fixture
async def http_app(settings, provider):
    s = settings.model_copy(update={
        "sms_gateway": "http", "sms_http_url": provider["url"], "sms_http_token": "secret-token",
        "sms_http_body": {"mobile": "{phone}", "content": "{sign}{text}", "fixed": 1},
        "sms_http_id_field": "msg_id", "sms_retry_base_s": 0.05, "sms_max_attempts": 3})
    app = create_app(s)
    async with app.router.lifespan_context(app):
        yield app


async def _wait_row(app, pred):
    for _ in range(200):
        async with app.state.sessions() as s:
            row = await s.scalar(select(SmsMessage).order_by(SmsMessage.id.desc()).limit(1))
        if row is not None and pred(row):
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"message never reached the expected state: {row and sms.message_view(row)}")


async def test_the_http_gateway_retries_a_failing_provider_and_masks_the_sent_code(http_app, provider):
    provider["fail"] = 2
    await issue(http_app)
    row = await _wait_row(http_app, lambda m: m.status == "sent")
    assert row.attempts == 3 and row.gateway == "http" and row.provider_id == "p3"
    assert "******" in row.text, "a live code must not stay readable once the provider has it"
    body, auth = provider["got"][-1]
    assert body["mobile"] == PHONE and body["fixed"] == 1 and auth == "Bearer secret-token"
    assert body["content"].startswith("【朝阳110】验证码 ")


async def test_a_message_the_provider_never_takes_is_failed_shown_and_can_be_sent_again(http_app, provider):
    provider["fail"] = 100
    async with unit_of_work(http_app.state) as s:
        await sms.queue(s, PHONE, "测试通知", "test_notice")
    row = await _wait_row(http_app, lambda m: m.status == "failed")
    assert row.attempts == 3 and "503" in row.last_error
    async with unit_of_work(http_app.state) as s:
        listed = await sms.list_messages(s, status="failed")
    assert listed["counts"]["failed"] == 1 and listed["messages"][0]["last_error"]
    provider["fail"] = 0
    async with unit_of_work(http_app.state) as s:
        await sms.retry(s, row.id)
    row = await _wait_row(http_app, lambda m: m.status == "sent")
    assert row.text == "测试通知"


async def test_the_admin_list_is_for_admins_only(client, staff):
    assert (await client.get("/api/admin/sms")).status_code == 401
    assert (await (await staff("calltaker")).get("/api/admin/sms")).status_code == 403


async def test_a_round_of_many_messages_is_recorded_in_a_statement_per_outcome_not_per_message(app):
    """A bulletin queues hundreds of messages; storing their outcomes one UPDATE each held SQLite's
    only connection for hundreds of round trips, with one-tap alarms waiting behind it."""
    from sqlalchemy import event

    runtime = app.state.sms
    await runtime.close()  # no background sender: this test runs the round itself
    async with unit_of_work(app.state) as s:
        await sms.queue_many(s, [(f"1390000{i:04d}", "通报") for i in range(60)], "bulletin")
    updates = []

    def count(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE SMS_MESSAGES"):
            updates.append(executemany)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        await runtime.deliver_due()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    async with app.state.sessions() as s:
        statuses = set(await s.scalars(select(SmsMessage.status).where(SmsMessage.purpose == "bulletin")))
    assert statuses == {"sent"}
    assert len(updates) == 1, f"{len(updates)} UPDATE statements for 60 messages"
