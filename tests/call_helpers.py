"""Builders for call tests: call bodies, media files made with PyAV, live-socket helpers."""
from __future__ import annotations

import asyncio
import io
import json
import uuid
from fractions import Fraction

import av
import httpx
import websockets

from baojing.demo import DEMO_PASSWORD

SHUANGTA = {"lat": 41.566, "lon": 120.454, "accuracy_m": 10, "crs": "wgs84"}  # inside the demo districts
BEIJING = {"lat": 39.9087, "lon": 116.3975, "accuracy_m": 10, "crs": "wgs84"}  # far outside them


def call_body(kind: str = "video", **over) -> dict:
    body = {"idempotency_key": uuid.uuid4().hex, "phone": "13800138000", "name": "张三", "kind": kind,
            "location": dict(SHUANGTA)}
    body.update(over)
    return body


def jpeg(size: int = 2048) -> bytes:
    return b"\xff\xd8\xff\xe0" + b"\0" * (size - 4)


def png(size: int = 2048) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\0" * (size - 8)


def clip(seconds: float, fps: int = 10, size: int = 64, fmt: str = "mp4") -> bytes:
    """A real, tiny video: `seconds` long at `fps` frames a second. WebM is written as a browser's
    MediaRecorder writes it: live, with no duration in the header."""
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt, options={"live": "1"} if fmt == "webm" else {}) as out:
        s = out.add_stream("mpeg4" if fmt == "mp4" else "libvpx", rate=fps)
        s.width = s.height = size
        s.pix_fmt = "yuv420p"
        s.codec_context.time_base = Fraction(1, fps)
        for i in range(int(seconds * fps)):
            f = av.VideoFrame(size, size, "yuv420p")
            for p in f.planes:
                p.update(bytes([(i * 7) % 256]) * p.buffer_size)
            f.pts = i
            for packet in s.encode(f):
                out.mux(packet)
        for packet in s.encode(None):
            out.mux(packet)
    return buf.getvalue()


async def login_cookie(base: str, username: str = "calltaker") -> str:
    async with httpx.AsyncClient(base_url=base) as c:
        r = await c.post("/api/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        return f"bj_session={r.cookies['bj_session']}"


async def connect(base: str, cookie: str | None = None, device_token: str | None = None):
    ws = await websockets.connect(base.replace("http", "ws") + "/ws",
                                  additional_headers={"Cookie": cookie} if cookie else None, max_size=2**22)
    await ws.send(json.dumps({"type": "hello", "since": None, "device_token": device_token}))
    ready = json.loads(await ws.recv())
    assert ready["type"] == "ready", ready
    return ws


async def next_of(ws, *types: str, timeout: float = 5.0) -> dict:
    """The next frame of one of these types, skipping events and pings."""
    while True:
        m = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if m["type"] in types:
            return m
