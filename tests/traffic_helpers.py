"""Builders for the traffic quick-handling tests: photos made here (no files shipped), and a driver
that walks a case through the API."""
from __future__ import annotations

import asyncio
import io
import re

from PIL import Image

ANSWERS = {"injured": False, "drivable": True, "two_vehicles": True, "licensed_insured": True,
           "drink_drugs": False, "dispute": False}
WHERE = {"lat": 41.5705, "lon": 120.4508, "accuracy_m": 12, "crs": "wgs84"}
PHONE_A, PHONE_B = "13800138001", "13900139002"
PLATE_A, PLATE_B = "辽N12345", "辽ND23456"


def jpeg(w: int = 640, h: int = 480, seed: int = 0, gps: bool = False, quality: int = 85) -> bytes:
    """A real JPEG with some structure (a gradient and bars), optionally with an EXIF GPS block."""
    im = Image.new("RGB", (w, h))
    px = im.load()
    for y in range(0, h, 4):
        for x in range(0, w, 4):
            c = ((x * 3 + seed * 40) % 256, (y * 2 + seed * 70) % 256, ((x + y + seed * 10) // 3) % 256)
            for dy in range(4):
                for dx in range(4):
                    if x + dx < w and y + dy < h:
                        px[x + dx, y + dy] = c
    buf = io.BytesIO()
    kw = {}
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "TestCam"  # Make
        gps_ifd = {1: "N", 2: (41.0, 34.0, 13.8), 3: "E", 4: (120.0, 27.0, 3.0)}
        exif[0x8825] = gps_ifd
        kw["exif"] = exif
    im.save(buf, "JPEG", quality=quality, **kw)
    return buf.getvalue()


def png_bomb(side: int = 10_000) -> bytes:
    """A few kilobytes that unpack to side² pixels."""
    buf = io.BytesIO()
    Image.new("1", (side, side)).save(buf, "PNG", optimize=True)
    return buf.getvalue()


def code_of(text: str) -> str:
    return re.search(r"(?<!\d)\d{6}(?!\d)", text).group(0)


class Driver:
    """One phone (its device token) talking to the API."""

    def __init__(self, client, token: str | None = None):
        self.client, self.token = client, token

    @property
    def headers(self) -> dict:
        return {"X-Device-Token": self.token} if self.token else {}

    async def req(self, method: str, url: str, **kw):
        return await self.client.request(method, url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    async def open(self, **over) -> dict:
        body = {"answers": ANSWERS, "location": WHERE, "description": "后车追尾前车，无人受伤", **over}
        r = await self.req("POST", "/api/traffic/cases", json=body)
        assert r.status_code == 201, r.text
        case = r.json()
        self.token = self.token or case["device_token"]
        return case

    async def upload(self, case_id: int, slot: int, data: bytes, chunk: int = 64 * 1024, stop_after: int | None = None):
        r = await self.req("POST", f"/api/traffic/cases/{case_id}/uploads", json={"slot": slot, "size": len(data)})
        assert r.status_code == 201, r.text
        up = r.json()
        return await self.send(up["id"], data, chunk, stop_after=stop_after)

    async def send(self, upload_id: str, data: bytes, chunk: int = 64 * 1024, offset: int = 0,
                   stop_after: int | None = None):
        sent = 0
        r = None
        while offset < len(data):
            if stop_after is not None and sent >= stop_after:
                return {"id": upload_id, "offset": offset, "stopped": True}
            piece = data[offset:offset + chunk]
            r = await self.req("PATCH", f"/api/traffic/uploads/{upload_id}", content=piece,
                               headers={"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
            if r.status_code != 200:
                return r
            offset = r.json()["offset"]
            sent += 1
        return r


async def sms_to(admin, phone: str) -> list[dict]:
    for _ in range(100):
        r = await admin.get("/api/admin/sms", params={"phone": phone})
        assert r.status_code == 200, r.text
        if r.json()["messages"]:
            return r.json()["messages"]
        await asyncio.sleep(0.05)
    return []


async def latest_code(admin, phone: str) -> str:
    msgs = [m for m in await sms_to(admin, phone) if m["purpose"].startswith("traffic:")]
    return code_of(msgs[0]["text"])


async def confirm(driver: Driver, admin, case_id: int, role: str, phone: str) -> dict:
    r = await driver.req("POST", f"/api/traffic/cases/{case_id}/parties/{role}/code")
    assert r.status_code == 200, r.text
    r = await driver.req("POST", f"/api/traffic/cases/{case_id}/parties/{role}/verify",
                         json={"code": await latest_code(admin, phone)})
    assert r.status_code == 200, r.text
    return r.json()


async def ready_case(client, admin, *, photos: bool = True) -> tuple[Driver, Driver, dict]:
    """A case with both parties filled in and confirmed (B on their own phone) and all photos."""
    a = Driver(client)
    case = await a.open()
    cid = case["id"]
    r = await a.req("PUT", f"/api/traffic/cases/{cid}/parties/A",
                    json={"phone": PHONE_A, "plate": PLATE_A, "vehicle_type": "small_car", "insurer": "人保财险"})
    assert r.status_code == 200, r.text
    b = Driver(client)
    r = await b.req("POST", "/api/traffic/join", json={"code": case["code"]})
    assert r.status_code == 200, r.text
    b.token = r.json()["device_token"]
    r = await b.req("PUT", f"/api/traffic/cases/{cid}/parties/B",
                    json={"phone": PHONE_B, "plate": PLATE_B, "vehicle_type": "small_bus", "insurer": "平安产险"})
    assert r.status_code == 200, r.text
    await confirm(a, admin, cid, "A", PHONE_A)
    await confirm(b, admin, cid, "B", PHONE_B)
    if photos:
        for slot in range(len(case["checklist"])):
            r = await a.upload(cid, slot, jpeg(seed=slot))
            assert r.status_code == 200 and r.json()["done"], r.text
    return a, b, case
