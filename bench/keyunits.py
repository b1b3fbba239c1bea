"""Key units: one-tap alarm → siren entry on the consoles, and a bulletin to hundreds of members.

Starts the real server (`baojing migrate`, `baojing demo`, `baojing serve`) on a fresh SQLite
file, registers bank branches with rosters through the admin API (CSV import), logs every member
in with the code read from the SMS outbox (as a phone would, one code each), opens the consoles'
and the members' WebSockets, then measures:

1. one-tap, one at a time: `--presses` presses (100) spread over the units, each timed from just
   before `POST /api/member/alarms` is sent to the moment each console receives the alarm's
   `keyunit.alarm` event with `siren: true` (the console starts its siren on that event). The POST
   answers only after the commit, so this is an upper bound on "committed → siren";
2. one-tap, `--burst` (10) units pressing at the same moment, `--rounds` times (10);
3. a bulletin to the banks of 双塔区 reaching `--members` members (500): from just before
   `POST /api/bulletins` is sent to the moment the last member's socket has `bulletin.received`.

Then the same shapes against bench/floor.py (same uvicorn, no app: a POST broadcast to sockets),
in the same run, and prints ours, the floor and the ratio. Talks only to 127.0.0.1.

    .venv/bin/python -m bench.keyunits [--presses 100] [--burst 10] [--rounds 10] [--members 500] [--consoles 5]
                                       [--py-spy FILE [--py-spy-format raw|flamegraph|speedscope]]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from websockets.asyncio.client import connect as ws_connect

from bench.intake import ROOT, Server, baojing_cmd, pct, prepare_database

perf = time.perf_counter
PASSWORD = "baojing110"
PER_UNIT = 10
# 双塔区站前派出所's jurisdiction (demo): every bench unit sits inside it.
BASE = (41.560, 120.470)


class Listener:
    """One WebSocket: records the first time each matching key is seen."""

    def __init__(self, ws, match):
        self.ws, self.match, self.seen = ws, match, {}
        self.task = asyncio.create_task(self.run())

    async def run(self):
        try:
            async for raw in self.ws:
                m = json.loads(raw)
                if m.get("type") == "event":
                    k = self.match(m["name"], m["data"])
                    if k is not None and k not in self.seen:
                        self.seen[k] = perf()
        except Exception:
            pass

    async def close(self):
        self.task.cancel()
        await self.ws.close()


async def open_ws(base: str, cookie: str | None, match) -> Listener:
    headers = {"Cookie": f"bj_session={cookie}"} if cookie else {}
    ws = await ws_connect(base.replace("http", "ws") + "/ws", additional_headers=headers, max_size=None,
                          open_timeout=30, ping_interval=None)
    await ws.send(json.dumps({"type": "hello", "since": None}))
    while json.loads(await ws.recv()).get("type") != "ready":
        pass
    return Listener(ws, match)


def summary(values: list[float]) -> dict:
    v = sorted(x * 1000 for x in values)
    return {"n": len(v), "p50_ms": pct(v, 50), "p99_ms": pct(v, 99), "max_ms": v[-1] if v else None}


async def wait_all(listeners, keys, timeout=30.0) -> None:
    deadline = perf() + timeout
    while perf() < deadline and not all(all(k in l.seen for k in keys) for l in listeners):
        await asyncio.sleep(0.005)


# ------------------------------------------------------------------------------------ ours

async def setup_members(base: str, args) -> tuple[httpx.AsyncClient, list[tuple[int, str, str]]]:
    """Register the bench banks and rosters; log every member in. -> [(unit_id, phone, cookie)]"""
    admin = httpx.AsyncClient(base_url=base, timeout=60)
    assert (await admin.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})).status_code == 200
    units = max(args.burst, -(-args.members // PER_UNIT))
    lines = ["name,kind,address,lat,lon"] + [f"基准网点{i:03d},bank,双塔区基准路 {i} 号,{BASE[0] + (i % 20) * 0.0005:.6f},"
                                             f"{BASE[1] + (i // 20) * 0.0005:.6f}" for i in range(units)]
    r = await admin.post("/api/keyunits/import", files={"file": ("units.csv", "\n".join(lines).encode())})
    assert r.status_code == 200, r.text
    rows = ["unit,phone,name,role"]
    phones = []
    for i in range(units):
        for j in range(PER_UNIT if i * PER_UNIT < args.members else 1):
            phone = f"136{i:04d}{j:04d}"
            phones.append((f"基准网点{i:03d}", phone))
            rows.append(f"基准网点{i:03d},{phone},员工{i}-{j},柜员")
    r = await admin.post("/api/keyunits/roster/import", files={"file": ("roster.csv", "\n".join(rows).encode())})
    assert r.status_code == 200, r.text
    ids = {u["name"]: u["id"] for u in (await admin.get("/api/keyunits")).json()["units"]}
    sem = asyncio.Semaphore(20)
    pub = httpx.AsyncClient(base_url=base, timeout=60)

    async def ask(phone):
        async with sem:
            r = await pub.post("/api/member/code", json={"phone": phone})
            assert r.status_code == 200, r.text

    await asyncio.gather(*(ask(p) for _, p in phones))
    codes: dict[str, str] = {}
    for _ in range(200):
        msgs = (await admin.get("/api/admin/sms", params={"purpose": "member_login", "limit": 500})).json()["messages"]
        before = None
        while True:
            for m in msgs:
                if m["status"] == "sent":
                    codes.setdefault(m["phone"], re.search(r"\d{6}", m["text"]).group(0))
            if len(msgs) < 500:
                break
            before = msgs[-1]["id"]
            msgs = (await admin.get("/api/admin/sms", params={"purpose": "member_login", "limit": 500,
                                                              "before_id": before})).json()["messages"]
        if len(codes) >= len(phones):
            break
        await asyncio.sleep(0.1)

    async def login(unit, phone):
        async with sem:
            c = httpx.AsyncClient(base_url=base, timeout=60)
            r = await c.post("/api/member/login", json={"phone": phone, "code": codes[phone]})
            assert r.status_code == 200, r.text
            cookie = c.cookies.get("bj_session")
            await c.aclose()
            return ids[unit], phone, cookie

    members = await asyncio.gather(*(login(u, p) for u, p in phones))
    await pub.aclose()
    return admin, list(members)


async def run_ours(base: str, args, pid: int | None = None) -> dict:
    admin, members = await setup_members(base, args)
    spy = start_spy(args, pid)
    desk = httpx.AsyncClient(base_url=base, timeout=60)
    assert (await desk.post("/api/auth/login", json={"username": "dispatcher", "password": PASSWORD})).status_code == 200
    consoles = []
    for _ in range(args.consoles):
        c = httpx.AsyncClient(base_url=base, timeout=30)
        await c.post("/api/auth/login", json={"username": "calltaker", "password": PASSWORD})
        consoles.append(await open_ws(base, c.cookies.get("bj_session"),
                                      lambda n, d: d["id"] if n == "keyunit.alarm" and d.get("siren") else None))
        await c.aclose()
    # One member per unit presses (the first of each unit's roster).
    pressers = {}
    for unit_id, phone, cookie in members:
        pressers.setdefault(unit_id, (phone, cookie))
    pressers = list(pressers.items())
    clients = {}
    for unit_id, (_, cookie) in pressers:
        clients[unit_id] = httpx.AsyncClient(base_url=base, timeout=30, cookies={"bj_session": cookie})

    async def press(unit_id) -> tuple[float, float, int]:
        t0 = perf()
        r = await clients[unit_id].post("/api/member/alarms", json={
            "idempotency_key": uuid.uuid4().hex, "unit_id": unit_id,
            "location": {"lat": BASE[0], "lon": BASE[1], "accuracy_m": 10}})
        assert r.status_code == 201, r.text
        return t0, perf(), r.json()["keyunit_alarm"]["id"]

    async def measure(shots):
        await wait_all(consoles, [k for _, _, k in shots])
        lat, ack, missing = [], [], 0
        for t0, t1, k in shots:
            ack.append(t1 - t0)
            for c in consoles:
                if k in c.seen:
                    lat.append(c.seen[k] - t0)
                else:
                    missing += 1
        return lat, ack, missing

    for i in range(3):  # warm-up
        await press(pressers[i % len(pressers)][0])
    seq = []
    for i in range(args.presses):
        seq.append(await press(pressers[i % len(pressers)][0]))
        await asyncio.sleep(args.interval)
    seq_lat, seq_ack, seq_missing = await measure(seq)
    burst = []
    for _ in range(args.rounds):
        burst += await asyncio.gather(*(press(u) for u, _ in pressers[:args.burst]))
        await asyncio.sleep(1.0)
    b_lat, b_ack, b_missing = await measure(burst)
    for c in consoles:
        await c.close()
    for c in clients.values():
        await c.aclose()

    listeners = await asyncio.gather(*(open_ws(base, cookie, lambda n, d: d["id"] if n == "bulletin.received" else None)
                                       for _, _, cookie in members[:args.members]))
    district = next(f["properties"]["id"] for f in (await desk.get("/api/config")).json()["districts"]["features"]
                    if f["properties"]["code"] == "shuangta")
    body = {"title": "基准通报", "text": "基准测试", "subject": "基准", "urgency": "immediate",
            "expires_at": (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat(),
            "target_kinds": ["bank"], "target_district_ids": [district]}
    t0 = perf()
    r = await desk.post("/api/bulletins", json=body)
    t_answer = perf() - t0
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    await wait_all(listeners, [bid], timeout=60)
    got = [l.seen[bid] - t0 for l in listeners if bid in l.seen]
    for l in listeners:
        await l.close()
    stop_spy(spy)
    await admin.aclose()
    await desk.aclose()
    return {"sequential": {**summary(seq_lat), "post_answer": summary(seq_ack), "missing": seq_missing},
            "burst": {**summary(b_lat), "post_answer": summary(b_ack), "missing": b_missing},
            "bulletin": {"members": len(listeners), "delivered": len(got), "post_answer_ms": t_answer * 1000,
                         "last_delivery_ms": max(got) * 1000 if got else None,
                         "recipients": r.json()["counts"]["recipients"]}}


def start_spy(args, pid: int | None):
    """py-spy on the real server over the measured presses and bulletin only (not the logins)."""
    if not args.py_spy or pid is None:
        return None
    exe = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    return subprocess.Popen([exe, "record", "-p", str(pid), "-r", "200", "-f", args.py_spy_format, "-o", args.py_spy,
                             "--threads"] + (["--idle"] if args.py_spy_idle else []),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_spy(spy) -> None:
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(60)


# ----------------------------------------------------------------------------------- floor

async def run_floor(base: str, args) -> dict:
    match = lambda n, d: d["alarms"][0]["phone"]  # noqa: E731
    consoles = [await open_ws(base, None, match) for _ in range(args.consoles)]
    client = httpx.AsyncClient(base_url=base, timeout=30)

    async def press(i):
        phone = f"p{i}-{uuid.uuid4().hex[:6]}"
        t0 = perf()
        r = await client.post("/api/alarms", json={"phone": phone})
        assert r.status_code == 201
        return t0, perf(), phone

    async def measure(shots):
        await wait_all(consoles, [k for _, _, k in shots])
        return [c.seen[k] - t0 for t0, _, k in shots for c in consoles if k in c.seen]

    seq = []
    for i in range(args.presses):
        seq.append(await press(i))
        await asyncio.sleep(args.interval)
    seq_lat = await measure(seq)
    burst = []
    for r in range(args.rounds):
        burst += await asyncio.gather(*(press(f"b{r}-{i}") for i in range(args.burst)))
        await asyncio.sleep(1.0)
    b_lat = await measure(burst)
    for c in consoles:
        await c.close()
    listeners = [await open_ws(base, None, match) for _ in range(args.members)]
    t0 = perf()
    await client.post("/api/alarms", json={"phone": "bulletin"})
    await wait_all(listeners, ["bulletin"], timeout=60)
    got = [l.seen["bulletin"] - t0 for l in listeners if "bulletin" in l.seen]
    for l in listeners:
        await l.close()
    await client.aclose()
    return {"sequential": summary(seq_lat), "burst": summary(b_lat),
            "bulletin": {"members": len(listeners), "delivered": len(got), "last_delivery_ms": max(got) * 1000 if got else None}}


# ------------------------------------------------------------------------------------ main

def fmt(x) -> str:
    return "—" if x is None else f"{x:.1f}"


async def main_async(args) -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-keyunits-"))
    env = {**os.environ, "BAOJING_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'bench.db'}",
           "BAOJING_MAP_TILES": "none", "BAOJING_SMS_CODE_PER_ADDRESS_HOUR": "1000000", "BAOJING_DEMO": "true",
           "BAOJING_MEDIA_DIR": str(work / "media")}
    prepare_database(env, ROOT)
    ours = Server("baojing", baojing_cmd(ROOT) + ["serve"], env, work)
    ours.start()
    try:
        await ours.wait_healthy()
        a = await run_ours(ours.base, args, ours.proc.pid)
    finally:
        ours.stop()
    floor = Server("floor", [sys.executable, "-m", "bench.floor"], env, work)
    floor.start()
    try:
        await floor.wait_healthy()
        f = await run_floor(floor.base, args)
    finally:
        floor.stop()
    out = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "args": vars(args), "ours": a, "floor": f}
    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    path = ROOT / "var" / "bench" / f"keyunits-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False))
    print(f"\none-tap → siren entry on {args.consoles} consoles (POST sent → keyunit.alarm on the socket), SQLite")
    print(f"{'what':<34}{'ours p50':>10}{'p99':>9}{'max':>9}{'floor p50':>11}{'p99':>9}{'p99 ratio':>11}")
    for k, label in (("sequential", f"{args.presses} presses, one at a time"),
                     ("burst", f"{args.burst} at once × {args.rounds}")):
        o, fl = a[k], f[k]
        ratio = o["p99_ms"] / fl["p99_ms"] if o["p99_ms"] and fl["p99_ms"] else None
        print(f"{label:<34}{fmt(o['p50_ms']):>10}{fmt(o['p99_ms']):>9}{fmt(o['max_ms']):>9}"
              f"{fmt(fl['p50_ms']):>11}{fmt(fl['p99_ms']):>9}{fmt(ratio):>10}×   missing {o['missing']}")
    b, fb = a["bulletin"], f["bulletin"]
    print(f"bulletin to {b['members']} members: answered in {fmt(b['post_answer_ms'])} ms, last delivery "
          f"{fmt(b['last_delivery_ms'])} ms ({b['delivered']}/{b['members']} delivered); floor {fmt(fb['last_delivery_ms'])} ms")
    print(f"written to {path.relative_to(ROOT)}")
    bad = a["sequential"]["missing"] or a["burst"]["missing"] or b["delivered"] != b["members"]
    return 1 if bad else 0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--presses", type=int, default=100)
    p.add_argument("--interval", type=float, default=0.2, help="seconds between presses one at a time")
    p.add_argument("--burst", type=int, default=10)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--members", type=int, default=500)
    p.add_argument("--consoles", type=int, default=5)
    p.add_argument("--py-spy", metavar="FILE", help="profile the real server during the presses and the bulletin")
    p.add_argument("--py-spy-format", default="raw", choices=("raw", "flamegraph", "speedscope"))
    p.add_argument("--py-spy-idle", action="store_true", help="also sample threads waiting (py-spy --idle)")
    args = p.parse_args()
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
