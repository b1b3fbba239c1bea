"""The floor: the least a server can do for the same load, served by the same uvicorn.

`POST /api/alarms` reads the body, gives it a number and broadcasts a small `incident.upserted`
frame to every connected WebSocket; no database, no validation, no auth. `/ws` speaks just enough
of the real protocol (hello -> ready) for bench/intake.py to use it unchanged, and
`/api/auth/login` hands out a dummy cookie. `/ws-avl` is the floor for bench/avl.py: after the
hello it answers each `{"type": "positions", "id", "points"}` with a `positions.ack` (no
validation, no board). `POST /api/calls` and `POST /api/calls/{id}/attachments` are the floor for
bench/upload.py: a call is a number and a token; an attachment's multipart body is parsed by the
same Starlette code as FastAPI's, and the file is copied to a temp file and hashed in a worker
thread (what `media.staged_upload` does), with no database, no checks and no probe.

Run: .venv/bin/python -m bench.floor --port 8999
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import tempfile
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from baojing import heap

_ids = itertools.count(1)
_queues: set[asyncio.Queue] = set()


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok", "database": False})


async def login(_request: Request) -> Response:
    r = JSONResponse({"user": {"username": "floor"}})
    r.set_cookie("bj_session", "floor", httponly=True, samesite="strict")
    return r


async def alarms(request: Request) -> Response:
    body = json.loads(await request.body())
    n = next(_ids)
    text = json.dumps({"type": "event", "seq": n, "name": "incident.upserted",
                       "data": {"id": n, "status": "new", "alarms": [{"id": n, "phone": body.get("phone")}]}})
    for q in _queues:
        q.put_nowait(text)
    return JSONResponse({"id": n, "status": "received", "phone": body.get("phone")}, status_code=201)


async def calls(request: Request) -> Response:
    body = json.loads(await request.body())
    n = next(_ids)
    return JSONResponse({"id": n, "device_token": f"floor-{n}", "phone": body.get("phone")}, status_code=201)


def _copy_and_hash(src) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    src.seek(0)
    with tempfile.TemporaryFile() as out:
        while chunk := src.read(256 * 1024):
            size += len(chunk)
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


async def attachments(request: Request) -> Response:
    async with request.form(max_part_size=32 * 1024 * 1024) as form:
        size, sha = await asyncio.to_thread(_copy_and_hash, form["file"].file)
    return JSONResponse({"id": next(_ids), "size": size, "sha256": sha}, status_code=201)


async def ws_endpoint(ws: WebSocket) -> None:
    await ws.accept()
    try:
        await ws.receive_text()  # hello
    except WebSocketDisconnect:
        return
    q: asyncio.Queue = asyncio.Queue()
    _queues.add(q)
    try:
        await ws.send_text(json.dumps({"type": "ready", "seq": 0, "principal": {"kind": "staff", "role": "floor"}}))
        reader = asyncio.create_task(_drain(ws))
        try:
            while True:
                getter = asyncio.ensure_future(q.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    return
                await ws.send_text(getter.result())
        finally:
            reader.cancel()
    except WebSocketDisconnect:
        pass
    finally:
        _queues.discard(q)


async def _drain(ws: WebSocket) -> None:
    try:
        while True:
            await ws.receive_text()
    except (WebSocketDisconnect, RuntimeError):
        return


async def avl_ws(ws: WebSocket) -> None:
    """AVL floor: hello -> ready, then one positions.ack per positions message."""
    await ws.accept()
    try:
        await ws.receive_text()  # hello
        await ws.send_text(json.dumps({"type": "ready", "seq": 0, "principal": {"kind": "staff", "role": "officer"}}))
        while True:
            text = await ws.receive_text()
            if '"positions"' in text:
                m = json.loads(text)
                n = len(m.get("points") or ())
                await ws.send_text(json.dumps({"type": "positions.ack", "id": m.get("id"), "accepted": n,
                                               "flagged": [None] * n}))
    except (WebSocketDisconnect, RuntimeError):
        pass


@asynccontextmanager
async def lifespan(_app):
    # The same collector settings as baojing's app (baojing/heap.py): with 10,000 sockets open, the
    # floor's own full collections took 0.6-0.75 s, one during the load (bench/README.md, AVL).
    settle = asyncio.create_task(heap.settle_long_lived())
    yield
    settle.cancel()


app = Starlette(lifespan=lifespan, routes=[
    Route("/healthz", healthz),
    Route("/api/auth/login", login, methods=["POST"]),
    Route("/api/alarms", alarms, methods=["POST"]),
    Route("/api/calls", calls, methods=["POST"]),
    Route("/api/calls/{call_id:int}/attachments", attachments, methods=["POST"]),
    WebSocketRoute("/ws", ws_endpoint),
    WebSocketRoute("/ws-avl", avl_ws),
])


def main() -> None:
    import uvicorn

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args()
    # The same uvicorn settings as `baojing serve` (baojing/cli.py), access log included.
    uvicorn.run(app, host=a.host, port=a.port, log_level="info", ws_ping_interval=20, ws_ping_timeout=20,
                proxy_headers=False, ws_per_message_deflate=False)


if __name__ == "__main__":
    main()
