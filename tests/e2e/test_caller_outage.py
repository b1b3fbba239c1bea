"""The caller's page through a real database outage: `baojing serve` on PostgreSQL behind the TCP
proxy (bench/tcpproxy.py). The database refuses, then vanishes (a partition); the caller taps
报警 in the middle of it. The page keeps the alarm in its outbox through the 503s and delivers it
exactly once when the database is back."""
from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.tcpproxy import TcpProxy
from browsing import phone_context, served, shot

START = (41.5660, 120.4540)


@pytest.fixture(scope="module")
def outage_server(pg_database, tmp_path_factory):
    """(base URL, proxy, direct database URL): the server reaches PostgreSQL only through the proxy."""
    u = make_url(pg_database)
    proxy = TcpProxy(u.port or 5432, u.host or "127.0.0.1").start()
    via = u.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    tmp = tmp_path_factory.mktemp("outage")
    env = {**os.environ, "BAOJING_DATABASE_URL": via, "BAOJING_MAP_TILES": "none",
           "BAOJING_MEDIA_DIR": str(tmp / "media")}
    try:
        with served(tmp, env) as base:
            yield base, proxy, pg_database
    finally:
        proxy.stop()


def stored(url: str, key: str) -> list[int]:
    async def q():
        engine = create_async_engine(url)
        async with engine.connect() as c:
            rows = (await c.execute(text("SELECT id FROM alarms WHERE idempotency_key = :k"), {"k": key})).all()
        await engine.dispose()
        return [r[0] for r in rows]

    # Sync Playwright keeps an event loop running in this thread: ask from another.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, q()).result()


def test_an_alarm_raised_during_an_outage_waits_in_the_outbox_and_arrives_once(outage_server, browser):
    base, proxy, direct_url = outage_server
    ctx = phone_context(browser, *START)
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    answers = []
    page.on("response", lambda r: answers.append((r.url, r.status, r.headers.get("retry-after")))
            if "/api/alarms" in r.url else None)
    page.goto(base + "/m/")
    page.get_by_test_id("terms-accept").click()
    page.get_by_test_id("phone-input").fill("13800138000")
    page.wait_for_function("() => window.baojing.outbox.length === 0", timeout=10_000)  # terms delivered

    proxy.refuse()
    page.get_by_test_id("call-button").click()
    banner = page.get_by_test_id("delivery-status")
    expect(banner).to_have_attribute("data-state", "retrying", timeout=15_000)
    shot(page, "m-outage-retrying")
    item = page.evaluate("() => window.baojing.outbox.find(i => i.kind === 'alarm')")
    assert item and item["lastStatus"] == 503, item
    key = item["body"]["idempotency_key"]

    proxy.blackhole()  # now a partition: answers still come, fast, as 503
    page.wait_for_function("(k) => { const i = window.baojing.outbox.find(i => i.kind === 'alarm');"
                           " return i && i.tries >= 3; }", arg=key, timeout=30_000)
    assert all(status == 503 and retry_after for _, status, retry_after in answers), answers
    assert stored(direct_url, key) == []  # nothing stored, nothing acknowledged

    proxy.restore()
    expect(banner).to_have_attribute("data-state", "received", timeout=45_000)
    shot(page, "m-outage-delivered")
    ids = stored(direct_url, key)
    assert len(ids) == 1, ids  # exactly once, whatever was retried
    alarm_id = int(page.get_by_test_id("alarm-item").first.get_attribute("data-alarm-id"))
    assert alarm_id == ids[0]
    assert page.evaluate("() => window.baojing.outbox.filter(i => i.kind === 'alarm').length") == 0
    print(f"\ncaller outage: {len(answers) - 1} answers of 503 with Retry-After, then delivered once as alarm {alarm_id}")
    assert not errors, errors
    ctx.close()
