"""Helpers for key-unit tests: a member logged in with the code read from the SMS outbox."""
from __future__ import annotations

import asyncio
import re
import uuid

import httpx

BANK_PHONE = "13900000002"       # 工商银行双塔支行（演示）
SCHOOL_PHONE = "13900000001"     # 朝阳一中 and the bank (the `keyunit` demo account)


async def code_from_outbox(admin: httpx.AsyncClient, phone: str) -> str:
    for _ in range(200):
        r = await admin.get("/api/admin/sms", params={"phone": phone, "purpose": "member_login"})
        msgs = r.json()["messages"]
        if msgs and msgs[0]["status"] == "sent":
            return re.search(r"\d{6}", msgs[0]["text"]).group(0)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no code for {phone} in the outbox")


async def member_client(app, admin: httpx.AsyncClient, phone: str) -> httpx.AsyncClient:
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    r = await c.post("/api/member/code", json={"phone": phone})
    assert r.status_code == 200, r.text
    code = await code_from_outbox(admin, phone)
    r = await c.post("/api/member/login", json={"phone": phone, "code": code})
    assert r.status_code == 200, r.text
    return c


async def unit_id(client: httpx.AsyncClient, name_part: str) -> int:
    r = await client.get("/api/member/me")
    return next(u["id"] for u in r.json()["member"]["units"] if name_part in u["name"])


def key() -> str:
    return uuid.uuid4().hex
