"""Idle WebSockets: how much server memory does one open console cost, and are N of them held?

Starts the real server on a fresh SQLite file (as bench/intake.py does), logs in once as a
console (`calltaker`) and once as an officer, then opens N idle sockets on /ws with the hello the
pages send, half of them consoles and half officers, offering permessage-deflate as browsers do.
Server memory is read from /proc/<pid>/status (VmRSS) before the first socket and after the
last, once the server has been idle for --settle seconds; the difference over N is the cost of
one socket. Then every socket must still answer: one alarm is posted and each console must
receive it. The same sockets are then opened on bench/floor.py's /ws for the floor. Talks only
to 127.0.0.1; stops by itself.

    .venv/bin/python -m bench.sockets [--sockets 1000] [--settle 5]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import httpx
from websockets.asyncio.client import connect as ws_connect

from bench.intake import (ROOT, Server, baojing_cmd, describe_source, machine_busy_seconds, pct, prepare_database,
                          server_env)

perf = time.perf_counter


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def login(base: str, username: str, password: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        r = await c.post("/api/auth/login", json={"username": username, "password": password})
        r.raise_for_status()
        return f"bj_session={r.cookies['bj_session']}"


async def open_socket(url: str, cookie: str, compression: str | None):
    ws = await ws_connect(url, additional_headers={"Cookie": cookie}, ping_interval=None, open_timeout=60,
                          compression=compression, max_queue=4)
    await ws.send(json.dumps({"type": "hello", "since": None, "device_token": None}))
    ready = json.loads(await asyncio.wait_for(ws.recv(), 60))
    if ready.get("type") != "ready":
        raise RuntimeError(f"expected ready, got {ready}")
    return ws


async def measure(name: str, server: Server, args) -> dict:
    print(f"[{name}] starting server on {server.base}", flush=True)
    server.start()
    socks, consoles = [], []
    try:
        await server.wait_healthy()
        pid = server.proc.pid
        console = await login(server.base, "calltaker", args.password)
        officer = await login(server.base, "officer", args.password)
        url = server.base.replace("http", "ws", 1) + "/ws"
        # One socket each first, so that what every socket shares (imports, caches) is not counted.
        consoles.append(await open_socket(url, console, args.compression))
        socks.append(await open_socket(url, officer, args.compression))
        await asyncio.sleep(args.settle)
        before = rss_kib(pid)
        t0, busy0 = perf(), machine_busy_seconds()
        sem = asyncio.Semaphore(64)

        async def one(i: int):
            async with sem:
                ws = await open_socket(url, console if i % 2 == 0 else officer, args.compression)
                (consoles if i % 2 == 0 else socks).append(ws)

        await asyncio.gather(*(one(i) for i in range(args.sockets)))
        ramp = perf() - t0
        await asyncio.sleep(args.settle)
        after = rss_kib(pid)
        noise = 100 * (machine_busy_seconds() - busy0) / (perf() - t0)
        # Still alive: one alarm reaches every console socket.
        phone = f"139{uuid.uuid4().int % 10**8:08d}"
        heard_at: list[float] = []
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as c:
            t_post = perf()
            r = await c.post("/api/alarms", json={"idempotency_key": uuid.uuid4().hex, "phone": phone,
                                                  "channel": "phone", "location": {"lat": 41.57, "lon": 120.43,
                                                                                   "accuracy_m": 10, "crs": "wgs84"}})
            r.raise_for_status()

        async def heard(ws) -> bool:
            try:
                async with asyncio.timeout(30):
                    while phone not in await ws.recv():
                        pass
                heard_at.append(perf())
                return True
            except Exception:  # noqa: BLE001 - counted
                return False

        got = sum(await asyncio.gather(*(heard(ws) for ws in consoles)))
        # POST sent -> each console has it; the last one is what "every console" waits for.
        delivery = sorted((t - t_post) * 1000 for t in heard_at)
        return {"target": name, "sockets": args.sockets, "rss_before_kib": before, "rss_after_kib": after,
                "per_socket_kib": round((after - before) / args.sockets, 2), "ramp_s": round(ramp, 2),
                "consoles_checked": len(consoles), "consoles_heard_alarm": got,
                "alarm_to_console_ms": {"p50": pct(delivery, 50),
                                        "last": round(delivery[-1], 1) if delivery else None},
                "machine_busy_pct": round(noise, 1)}
    finally:
        await asyncio.gather(*(s.close() for s in socks + consoles), return_exceptions=True)
        server.stop()


async def main_async(args) -> int:
    work = Path(tempfile.mkdtemp(prefix="baojing-bench-"))
    started = datetime.now(timezone.utc)
    results: dict = {"bench": "sockets", "started_at": started.isoformat(timespec="seconds"),
                     "command": " ".join([".venv/bin/python -m bench.sockets", *sys.argv[1:]]),
                     "source": describe_source(ROOT), "load_average": os.getloadavg()}
    try:
        env = server_env(f"sqlite+aiosqlite:///{work / 'bench.db'}")
        await asyncio.to_thread(prepare_database, env, ROOT)
        results["baojing"] = await measure("baojing", Server("baojing", [*baojing_cmd(ROOT), "serve"], env, work), args)
        if not args.skip_floor:
            results["floor"] = await measure("floor", Server("floor", [sys.executable, "-m", "bench.floor"], env, work),
                                             args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"sockets-{started:%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, indent=1))
    ours, floor = results["baojing"], results.get("floor")
    print(f"\nIdle sockets, {started:%Y-%m-%d %H:%M} UTC, {args.sockets} sockets (half consoles, half officers), "
          f"compression offered: {args.compression or 'no'}, load average {results['load_average'][0]:.2f}")
    for r in (ours, floor):
        if r:
            print(f"  {r['target']:8} {r['per_socket_kib']:7.1f} KiB per socket  (RSS {r['rss_before_kib'] // 1024} -> "
                  f"{r['rss_after_kib'] // 1024} MiB), ramp {r['ramp_s']} s, "
                  f"{r['consoles_heard_alarm']}/{r['consoles_checked']} consoles heard an alarm after "
                  f"(p50 {r['alarm_to_console_ms']['p50']} ms, last {r['alarm_to_console_ms']['last']} ms after the POST)")
    if floor and floor["per_socket_kib"] > 0:
        print(f"  ours/floor {ours['per_socket_kib'] / floor['per_socket_kib']:.1f}x")
    print(f"results: {path.relative_to(ROOT)}")
    return 0 if all(r["consoles_heard_alarm"] == r["consoles_checked"] for r in (ours, floor) if r) else 1


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.sockets", description=__doc__.splitlines()[0])
    p.add_argument("--sockets", type=int, default=1000)
    p.add_argument("--settle", type=float, default=5, help="idle seconds before each memory reading")
    p.add_argument("--no-compression", dest="compression", action="store_const", const=None, default="deflate",
                   help="do not offer permessage-deflate (browsers do offer it)")
    p.add_argument("--skip-floor", action="store_true")
    args = p.parse_args(argv)
    from baojing.demo import DEMO_PASSWORD

    args.password = DEMO_PASSWORD
    import uvloop

    sys.exit(uvloop.run(main_async(args)))


if __name__ == "__main__":
    main()
