"""Nothing acknowledged is lost: alarms posted through database outages and SIGKILLs.

Runs the real server (`baojing serve`) on a fresh SQLite file and on a fresh PostgreSQL database
(reached through bench/tcpproxy.py), and has --clients callers post alarms the way the caller's
page does: each alarm with its own idempotency key, sent again with the same key until the server
acknowledges it (201, or 200 for a repeat). Meanwhile, round after round:
  PostgreSQL: the database refuses connections, then vanishes (a partition), then the server is
              killed with SIGKILL and started again;
  SQLite:     the server is killed with SIGKILL and started again, and a writer from outside holds
              the database file locked.
At the end every acknowledged alarm must be in the database exactly once, under the id it was
acknowledged with, and no answer may have been a 500. Talks only to 127.0.0.1; stops by itself.

    .venv/bin/python -m bench.outage [--rounds 5] [--clients 8] [--backend sqlite|postgresql|both]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.tcpproxy import TcpProxy

ROOT = Path(__file__).resolve().parent.parent
BAOJING = str(Path(sys.executable).parent / "baojing")
PG_URL = os.environ.get("BAOJING_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`baojing serve` on a fixed port, so that a restarted one is where the callers look."""

    def __init__(self, database_url: str, workdir: Path):
        self.env = {**os.environ, "BAOJING_DATABASE_URL": database_url, "BAOJING_MAP_TILES": "none",
                    "BAOJING_MEDIA_DIR": str(workdir / "media")}
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(workdir / "server.log", "a")
        self.proc: subprocess.Popen | None = None
        self.kills = 0
        self.restarts: list[float] = []  # seconds from SIGKILL to answering /healthz again

    def migrate(self) -> None:
        subprocess.run([BAOJING, "migrate"], env=self.env, check=True, cwd=ROOT, capture_output=True)

    async def start(self) -> None:
        self.proc = subprocess.Popen([BAOJING, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                                     env=self.env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(timeout=1) as c:
            while time.monotonic() < deadline:
                try:
                    if (await c.get(self.base + "/healthz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.kills += 1
        self.killed_at = time.monotonic()

    async def restart(self) -> None:
        await self.start()
        self.restarts.append(time.monotonic() - self.killed_at)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Callers:
    """Phones that post alarms and retry each one with the same key until it is acknowledged."""

    def __init__(self, base: str, clients: int):
        self.base, self.clients = base, clients
        self.acked: dict[str, int] = {}
        self.answers: Counter = Counter()
        self.no_retry_after = 0
        self.stop = False
        self.timeline: list[tuple[float, object]] = []
        self.requests: list[tuple[float, float, object]] = []  # (sent, answered, status or error)

    async def run(self) -> None:
        await asyncio.gather(*[self._phone(i) for i in range(self.clients)])

    async def _phone(self, n: int) -> None:
        async with httpx.AsyncClient(base_url=self.base, timeout=10) as c:
            while not self.stop:
                key = uuid.uuid4().hex
                body = {"idempotency_key": key, "phone": f"1380013{n:04d}",
                        "location": {"lat": 41.57, "lon": 120.43, "accuracy_m": 10}}
                while True:  # the same alarm until it is acknowledged, as the page's outbox does
                    sent = time.monotonic()
                    try:
                        r = await c.post("/api/alarms", json=body)
                        self.requests.append((sent, time.monotonic(), r.status_code))
                        self.answers[r.status_code] += 1
                        self.timeline.append((time.monotonic(), r.status_code))
                        if r.status_code in (200, 201):
                            self.acked[key] = r.json()["id"]
                            break
                        if r.status_code == 503 and not r.headers.get("retry-after"):
                            self.no_retry_after += 1
                    except httpx.HTTPError as e:
                        self.requests.append((sent, time.monotonic(), type(e).__name__))
                        self.answers[type(e).__name__] += 1
                        self.timeline.append((time.monotonic(), type(e).__name__))
                    await asyncio.sleep(0.2)
                await asyncio.sleep(0.05)


async def first_unhealthy(base: str, since: float, until_s: float) -> float | None:
    """Seconds from `since` (the packets stopping) until /healthz first answers 503."""
    async with httpx.AsyncClient(base_url=base, timeout=until_s) as c:
        while time.monotonic() - since < until_s:
            try:
                if (await c.get("/healthz")).status_code == 503:
                    return time.monotonic() - since
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
    return None


def partition_waits(callers: Callers, partitions: list[float]) -> dict:
    """For each partition: how long the requests in flight when the packets stopped waited for an
    answer, and the longest wait of any request sent during it."""
    in_flight, during = [], []
    for t in partitions:
        for sent, answered, _what in callers.requests:
            if sent < t < answered:
                in_flight.append(answered - t)
            elif t <= sent:
                during.append(answered - sent)
    return {"in_flight": len(in_flight), "in_flight_max_s": round(max(in_flight, default=0), 2),
            "in_flight_median_s": round(sorted(in_flight)[len(in_flight) // 2], 2) if in_flight else None,
            "sent_during_max_s": round(max(during, default=0), 2)}


async def stored(url: str) -> dict[str, list[int]]:
    engine = create_async_engine(url)
    async with engine.connect() as c:
        rows = (await c.execute(text("SELECT idempotency_key, id FROM alarms"))).all()
    await engine.dispose()
    out: dict[str, list[int]] = {}
    for key, id_ in rows:
        out.setdefault(key, []).append(id_)
    return out


def verdict(name: str, callers: Callers, rows: dict[str, list[int]], tried: list[str], seconds: float,
            server: Server) -> dict:
    if os.environ.get("BENCH_TIMELINE") and callers.timeline:
        t0 = callers.timeline[0][0]
        per: dict[int, Counter] = {}
        for t, what in callers.timeline:
            per.setdefault(int(t - t0), Counter())[what] += 1
        for sec in sorted(per):
            print(f"  {sec:4d}s {dict(per[sec])}")
    once = sum(1 for k, i in callers.acked.items() if rows.get(k) == [i])
    lost = [k for k in callers.acked if k not in rows]
    doubled = [k for k in callers.acked if len(rows.get(k, [])) > 1]
    out = {"backend": name, "acknowledged": len(callers.acked), "stored_exactly_once": once, "lost": len(lost),
           "doubled": len(doubled), "answers": dict(callers.answers), "503_without_retry_after": callers.no_retry_after,
           "faults": tried, "seconds": round(seconds, 1), "restart_s": [round(x, 1) for x in server.restarts]}
    print(f"{name}: {once}/{len(callers.acked)} acknowledged alarms stored exactly once "
          f"({len(lost)} lost, {len(doubled)} doubled) through {len(tried)} faults in {seconds:.0f} s; "
          f"answers {dict(callers.answers)}; 503 without Retry-After: {callers.no_retry_after}; "
          f"SIGKILL to serving again: {out['restart_s']} s")
    return out


async def run_postgresql(rounds: int, clients: int, outage_s: float) -> dict:
    name = f"baojing_outage_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as c:
        await c.execute(text(f'CREATE DATABASE "{name}"'))
    direct = make_url(PG_URL).set(database=name)
    proxy = TcpProxy(direct.port or 5432, direct.host or "127.0.0.1").start()
    via = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    work = Path(tempfile.mkdtemp(prefix="bench-outage-pg-"))
    server = Server(via, work)
    tried: list[str] = []
    try:
        server.migrate()
        await server.start()
        callers = Callers(server.base, clients)
        load = asyncio.create_task(callers.run())
        started = time.monotonic()
        partitions: list[float] = []
        unhealthy: list[float | None] = []
        for _ in range(rounds):
            await asyncio.sleep(outage_s)
            proxy.refuse(); tried.append("refuse")
            await asyncio.sleep(outage_s)
            proxy.restore()
            await asyncio.sleep(outage_s)
            proxy.blackhole(); tried.append("partition")
            partitions.append(time.monotonic())
            unhealthy.append(await first_unhealthy(server.base, partitions[-1], outage_s))
            await asyncio.sleep(max(0.0, outage_s - (time.monotonic() - partitions[-1])))
            proxy.restore()
            await asyncio.sleep(outage_s)
            server.kill(); tried.append("sigkill")
            await server.restart()
        await asyncio.sleep(outage_s)
        callers.stop = True
        await asyncio.wait_for(load, 60)
        seconds = time.monotonic() - started
        out = verdict("postgresql", callers, await stored(direct.render_as_string(hide_password=False)), tried,
                      seconds, server)
        # Partitions: every request, including those in the middle of a statement when the packets
        # stopped, should be answered within about 2 s, and /healthz say 503 as soon.
        out["partitions"] = {**partition_waits(callers, partitions),
                             "healthz_503_after_s": [None if u is None else round(u, 2) for u in unhealthy]}
        print(f"postgresql partitions: {out['partitions']}")
        return out
    finally:
        server.stop()
        proxy.stop()
        async with admin.connect() as c:
            await c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def run_sqlite(rounds: int, clients: int, outage_s: float) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bench-outage-sqlite-"))
    db = work / "outage.db"
    url = f"sqlite+aiosqlite:///{db}"
    server = Server(url, work)
    tried: list[str] = []
    try:
        server.migrate()
        await server.start()
        callers = Callers(server.base, clients)
        load = asyncio.create_task(callers.run())
        started = time.monotonic()
        for _ in range(rounds):
            await asyncio.sleep(outage_s)
            server.kill(); tried.append("sigkill")
            await server.restart()
            await asyncio.sleep(outage_s)
            # Another process holds the write lock (a backup, a stuck writer): writers wait behind it.
            other = sqlite3.connect(db, isolation_level=None, timeout=30)
            other.execute("BEGIN IMMEDIATE"); tried.append("locked")
            await asyncio.sleep(outage_s)
            other.execute("ROLLBACK")
            other.close()
        await asyncio.sleep(outage_s)
        callers.stop = True
        await asyncio.wait_for(load, 60)
        seconds = time.monotonic() - started
        return verdict("sqlite", callers, await stored(url), tried, seconds, server)
    finally:
        server.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--outage-seconds", type=float, default=3.0)
    a = p.parse_args()
    results = []
    if a.backend in ("sqlite", "both"):
        results.append(asyncio.run(run_sqlite(a.rounds, a.clients, a.outage_seconds)))
    if a.backend in ("postgresql", "both"):
        results.append(asyncio.run(run_postgresql(a.rounds, a.clients, a.outage_seconds)))
    bad = [r for r in results if r["lost"] or r["doubled"] or r["stored_exactly_once"] != r["acknowledged"]
           or r["answers"].get(500)]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
