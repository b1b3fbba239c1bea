"""AVL under load: N patrol units report their position over the officer WebSocket while alarms
flow, and the nearest-unit recommendation runs over all of them.

Prepares a fresh SQLite file (`baojing migrate`, `baojing demo`), then inserts N officers, N units
(on duty, spread over Chaoyang), their unit_members and one login session per officer with a
token the bench knows (harness setup, not measured). Starts the real server, ramps up N sockets on
/ws (cookie `bj_session=<token>`), and has each unit send one `positions` message every `period`
seconds (jittered so the load is even), each fix a plausible few metres on. Times send -> ack,
counts acked fixes per second, posts alarms open loop at --alarm-rate while --consoles consoles
listen (and counts the units.moved they see), and asks for recommendations as a dispatcher for
the incoming incidents. Then the same sockets and rate against bench/floor.py's /ws-avl. Also
times Board.recommend in-process over the same N units. Talks only to 127.0.0.1; stops by itself.

    .venv/bin/python -m bench.avl [--units 10000] [--period 5] [--seconds 60] [--alarm-rate 10] [--consoles 5]
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import platform
import random
import resource
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import websockets
from websockets.asyncio.client import connect as ws_connect

from bench.intake import (CLIENT_KEEPALIVE_S, ROOT, Run, Server, baojing_cmd, cpu_seconds, describe_source,
                          machine_busy_seconds, pct, prepare_database, server_env, stats, compare_table)

perf = time.perf_counter
LAT = (41.45, 41.72)
LON = (120.22, 120.63)
# Metres per second by kind: walking, urban driving. Far below the 200 km/h "implausible" line.
SPEEDS = {"foot": (1.0, 1.8), "car": (6.0, 14.0), "motorbike": (5.0, 12.0)}
KINDS = ("car", "car", "motorbike", "foot")
M_PER_DEG_LAT = 111_195.0


# ------------------------------------------------------------------------------------------ setup

async def seed_units(db_url: str, n: int, rng: random.Random) -> list[dict]:
    """Harness setup: N officers, N units on duty, members, one known session token per officer."""
    from sqlalchemy import insert, select
    from sqlalchemy.ext.asyncio import create_async_engine

    from baojing.auth import roles
    from baojing.auth.models import LoginSession, User
    from baojing.auth.service import _hasher, token_hash
    from baojing.dispatch.models import Station, Unit, UnitMember

    now = datetime.now(timezone.utc)
    pw = _hasher.hash("bench-officer-password")  # one hash, reused: nobody logs in with it
    engine = create_async_engine(db_url)
    units = []
    try:
        async with engine.begin() as c:
            stations = list((await c.execute(select(Station.id).order_by(Station.id))).scalars())
            await c.execute(insert(User), [
                {"username": f"bench-officer-{i:05d}", "display_name": f"压测民警 {i}", "role": roles.OFFICER,
                 "password_hash": pw, "station_id": stations[i % len(stations)], "active": True, "created_at": now}
                for i in range(n)])
            uid = dict((await c.execute(select(User.username, User.id)
                                        .where(User.username.like("bench-officer-%")))).all())
            rows = []
            for i in range(n):
                kind = KINDS[i % len(KINDS)]
                lat, lon = rng.uniform(*LAT), rng.uniform(*LON)
                rows.append({"call_sign": f"压测{i:05d}", "kind": kind, "station_id": stations[i % len(stations)],
                             "on_duty": True, "busy": False, "lat": lat, "lon": lon, "accuracy_m": 10.0,
                             "position_at": now, "active": True})
                units.append({"i": i, "kind": kind, "lat": lat, "lon": lon, "token": secrets.token_urlsafe(24)})
            await c.execute(insert(Unit), rows)
            unit_id = dict((await c.execute(select(Unit.call_sign, Unit.id)
                                            .where(Unit.call_sign.like("压测%")))).all())
            await c.execute(insert(UnitMember), [
                {"user_id": uid[f"bench-officer-{u['i']:05d}"], "unit_id": unit_id[f"压测{u['i']:05d}"]} for u in units])
            await c.execute(insert(LoginSession), [
                {"token_hash": token_hash(u["token"]), "sid": f"bench-{u['i']:05d}",
                 "user_id": uid[f"bench-officer-{u['i']:05d}"], "created_at": now, "last_seen_at": now,
                 "expires_at": now + timedelta(hours=6)} for u in units])
            for u in units:
                u["unit_id"] = unit_id[f"压测{u['i']:05d}"]
    finally:
        await engine.dispose()
    return units


def board_query_bench(units: list[dict], queries: int, rng: random.Random) -> dict:
    """Board.recommend in-process over the same units: the pure query, no HTTP, no database."""
    from baojing.db import utcnow
    from baojing.dispatch.status import AVAILABLE
    from baojing.dispatch.board import Board, BoardUnit

    board = Board(sessions=None)
    now = utcnow()
    for u in units:
        board.units[u["unit_id"]] = BoardUnit(u["unit_id"], f"压测{u['i']:05d}", u["kind"], 1, AVAILABLE,
                                              u["lat"], u["lon"], 10.0, now)
    board.recommend(41.57, 120.43, 8)  # first use
    times = []
    for _ in range(queries):
        lat, lon = rng.uniform(*LAT), rng.uniform(*LON)
        t = perf()
        out = board.recommend(lat, lon, 8)
        times.append((perf() - t) * 1000)
        assert len(out) == 8
    times.sort()
    return {"units": len(board.units), "queries": queries, "limit": 8, "ms": stats(times)}


# ------------------------------------------------------------------------------------------- load

@dataclass(eq=False)
class Mobile:
    i: int
    kind: str
    lat: float
    lon: float
    token: str
    heading: float = 0.0
    speed: float = 1.0
    ws: object = None
    seq: int = 0
    sent: dict = field(default_factory=dict)  # seq -> (scheduled, sent)
    closed: str | None = None

    def step(self, rng: random.Random, dt: float) -> None:
        """Move on a few metres: speed x period, a gentle turn, bounce off the box."""
        self.heading += rng.uniform(-0.4, 0.4)
        d = self.speed * dt
        dlat = d * math.cos(self.heading) / M_PER_DEG_LAT
        dlon = d * math.sin(self.heading) / (M_PER_DEG_LAT * math.cos(math.radians(self.lat)))
        if not LAT[0] < self.lat + dlat < LAT[1]:
            self.heading = math.pi - self.heading
            dlat = -dlat
        if not LON[0] < self.lon + dlon < LON[1]:
            self.heading = -self.heading
            dlon = -dlon
        self.lat += dlat
        self.lon += dlon


class AvlRun:
    """One target (baojing or floor) under one AVL + alarm load."""

    def __init__(self, name: str, server: Server, args, units: list[dict]):
        self.name, self.server, self.args = name, server, args
        self.base = server.base
        self.ws_url = self.base.replace("http", "ws", 1) + ("/ws" if name == "baojing" else "/ws-avl")
        self.rng = random.Random(args.seed)
        self.mobiles = [Mobile(u["i"], u["kind"], u["lat"], u["lon"], u["token"],
                               heading=self.rng.uniform(0, 2 * math.pi),
                               speed=self.rng.uniform(*SPEEDS[u["kind"]])) for u in units]
        self.latencies: list[float] = []       # scheduled -> ack, ms
        self.latencies_send: list[float] = []  # actual send -> ack, ms
        self.send_lag: list[float] = []
        self.acked_per_s: dict[int, int] = {}
        self.sent_per_s: dict[int, int] = {}
        self.lat_per_s: dict[int, list[float]] = {}
        self.flagged = self.errors = self.unknown_acks = 0
        self.slowed = 0  # acks asking the unit to report less often (next_report_s); the bench keeps its pace
        self.error_examples: list[str] = []
        self.T0 = 0.0
        # consoles
        self.console_ws: list = []
        self.console_units_per_s: list[dict[int, int]] = []
        self.console_moved_msgs: list[int] = []
        self.console_closed: list[str] = []
        self.incident_of_phone: dict[str, int] = {}
        self.new_incidents: list[int] = []
        # recommendations
        self.rec_ms: list[float] = []
        self.rec_errors = 0
        self.rec_empty = 0
        self.rec_error_examples: list[str] = []

    # -- unit sockets
    async def open_one(self, m: Mobile) -> None:
        try:
            m.ws = await ws_connect(self.ws_url, additional_headers={"Cookie": f"bj_session={m.token}"},
                                    ping_interval=None, open_timeout=60, max_size=2 ** 20,
                                    compression="deflate" if self.args.unit_compression else None)
            await m.ws.send('{"type":"hello","since":null,"device_token":null}')
            ready = json.loads(await asyncio.wait_for(m.ws.recv(), 60))
            if ready.get("type") != "ready":
                raise RuntimeError(f"expected ready, got {str(ready)[:200]}")
        except Exception as e:  # noqa: BLE001 - counted and reported
            m.closed = f"open: {type(e).__name__}: {e}"[:200]

    async def open_units(self) -> dict:
        a = self.args
        gate = asyncio.Semaphore(a.ramp_concurrency)
        t0 = perf()

        async def one(k: int, m: Mobile):
            await asyncio.sleep(max(0.0, t0 + k / a.ramp_rate - perf()))
            async with gate:
                await self.open_one(m)

        await asyncio.gather(*(one(k, m) for k, m in enumerate(self.mobiles)))
        took = perf() - t0
        failed = [m.closed for m in self.mobiles if m.closed]
        self.readers = [asyncio.create_task(self.read_unit(m)) for m in self.mobiles if not m.closed]
        return {"seconds": round(took, 2), "opened": len(self.mobiles) - len(failed), "failed": len(failed),
                "connections_per_s": round((len(self.mobiles) - len(failed)) / took, 1),
                "failure_examples": failed[:5]}

    async def read_unit(self, m: Mobile) -> None:
        try:
            async for raw in m.ws:
                t = perf()
                if '"positions.ack"' in raw:
                    msg = json.loads(raw)
                    s = m.sent.pop(msg.get("id"), None)
                    if s is None:
                        self.unknown_acks += 1
                        continue
                    sched, sent = s
                    ms = (t - sched) * 1000
                    self.latencies.append(ms)
                    self.latencies_send.append((t - sent) * 1000)
                    sec = int(t - self.T0)
                    self.acked_per_s[sec] = self.acked_per_s.get(sec, 0) + msg.get("accepted", 0)
                    self.lat_per_s.setdefault(sec, []).append(ms)
                    if any(f is not None for f in msg.get("flagged", ())):
                        self.flagged += 1
                    if msg.get("next_report_s"):
                        self.slowed += 1
                elif '"error"' in raw:
                    self.errors += 1
                    if len(self.error_examples) < 5:
                        self.error_examples.append(raw[:200])
        except websockets.ConnectionClosed as e:
            m.closed = f"closed {e.rcvd.code if e.rcvd else '?'} {e.rcvd.reason if e.rcvd else ''}".strip()
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001
            m.closed = f"reader: {e!r}"[:200]

    async def drive_units(self, t_end: float) -> None:
        """Open loop by the clock: unit k sends at T0 + offset_k + r * period, never waiting for acks."""
        a = self.args
        live = [m for m in self.mobiles if not m.closed]
        offsets = sorted(((self.rng.uniform(0, a.period), m) for m in live), key=lambda x: x[0])
        r = 0
        while True:
            for off, m in offsets:
                target = self.T0 + r * a.period + off
                if target >= t_end:
                    return
                delay = target - perf()
                if delay > 0.001:
                    await asyncio.sleep(delay)
                if m.closed:
                    continue
                m.step(self.rng, a.period)
                m.seq += 1
                at = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
                text = ('{"type":"positions","id":%d,"points":[{"lat":%.7f,"lon":%.7f,"accuracy_m":%d,"at":"%s"}]}'
                        % (m.seq, m.lat, m.lon, self.rng.choice((5, 8, 10, 15, 20)), at))
                t = perf()
                m.sent[m.seq] = (target, t)
                self.send_lag.append((t - target) * 1000)
                sec = int(t - self.T0)
                self.sent_per_s[sec] = self.sent_per_s.get(sec, 0) + 1
                try:
                    await m.ws.send(text)
                except Exception as e:  # noqa: BLE001
                    m.sent.pop(m.seq, None)
                    m.closed = m.closed or f"send: {type(e).__name__}: {e}"[:200]
            r += 1

    # -- consoles
    async def open_consoles(self) -> None:
        url = self.base.replace("http", "ws", 1) + "/ws"
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as c:
            for n in range(self.args.consoles):
                r = await c.post("/api/auth/login", json={"username": "calltaker", "password": self.args.password})
                r.raise_for_status()
                ws = await ws_connect(url, additional_headers={"Cookie": f"bj_session={r.cookies['bj_session']}"},
                                      ping_interval=None, max_size=2 ** 24, open_timeout=30, compression="deflate")
                await ws.send(json.dumps({"type": "hello", "since": None, "device_token": None}))
                ready = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if ready.get("type") != "ready":
                    raise RuntimeError(f"console {n}: expected ready, got {ready}")
                self.console_ws.append(ws)
                self.console_units_per_s.append({})
                self.console_moved_msgs.append(0)
            if self.name == "baojing":  # the dispatcher asking for recommendations logs in before the load
                r = await c.post("/api/auth/login", json={"username": "dispatcher", "password": self.args.password})
                r.raise_for_status()
                self.dispatcher_token = r.cookies["bj_session"]
        self.console_tasks = [asyncio.create_task(self.listen(n, ws)) for n, ws in enumerate(self.console_ws)]

    async def listen(self, n: int, ws) -> None:
        per_s = self.console_units_per_s[n]
        try:
            async for raw in ws:
                t = perf()
                if '"units.moved"' in raw[:60]:
                    sec = int(t - self.T0)
                    per_s[sec] = per_s.get(sec, 0) + raw.count('"id":')
                    self.console_moved_msgs[n] += 1
                elif n == 0 and '"incident.upserted"' in raw:
                    d = json.loads(raw)["data"]
                    for al in d.get("alarms", ()):
                        if al.get("phone") not in self.incident_of_phone:
                            self.incident_of_phone[al.get("phone")] = d["id"]
                            self.new_incidents.append(d["id"])
        except websockets.ConnectionClosed as e:
            self.console_closed.append(f"console {n}: {e.rcvd.code if e.rcvd else '?'}")
        except asyncio.CancelledError:
            raise

    # -- alarms and recommendations
    async def drive_alarms(self, t_end: float) -> list:
        a = self.args
        if a.alarm_rate <= 0:
            return []
        gen = Run(self.name, self.base, argparse.Namespace(seed=a.seed), self.server.proc.pid)
        gen.gate = asyncio.Semaphore(64)
        shots, tasks = [], []
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=CLIENT_KEEPALIVE_S)
        async with httpx.AsyncClient(base_url=self.base, timeout=30, limits=limits) as client:
            i = 0
            while True:
                target = self.T0 + i / a.alarm_rate
                if target >= t_end:
                    break
                await asyncio.sleep(max(0.0, target - perf()))
                s = gen.make_shot(i, "13")
                shots.append(s)
                tasks.append(asyncio.create_task(gen.post(client, s)))
                i += 1
            if tasks:
                await asyncio.wait(tasks, timeout=35)
        return shots

    async def drive_recommendations(self, t_end: float) -> None:
        a = self.args
        if self.name != "baojing" or a.rec_rate <= 0:
            return
        async with httpx.AsyncClient(base_url=self.base, timeout=30, cookies={"bj_session": self.dispatcher_token}) as c:
            done = 0
            tasks = []

            async def one(inc: int, sched: float):
                try:
                    resp = await c.get(f"/api/incidents/{inc}/recommendations")
                    ms = (perf() - sched) * 1000
                    if resp.status_code != 200:
                        self.rec_errors += 1
                        if len(self.rec_error_examples) < 5:
                            self.rec_error_examples.append(f"HTTP {resp.status_code}: {resp.text[:150]}")
                        return
                    self.rec_ms.append(ms)
                    if not resp.json().get("units"):
                        self.rec_empty += 1
                except Exception as e:  # noqa: BLE001
                    self.rec_errors += 1
                    if len(self.rec_error_examples) < 5:
                        self.rec_error_examples.append(f"{type(e).__name__}: {e}"[:150])

            k = 0
            while True:
                target = self.T0 + 0.5 + k / a.rec_rate
                if target >= t_end:
                    break
                await asyncio.sleep(max(0.0, target - perf()))
                k += 1
                if not self.new_incidents:
                    continue
                # the newest incident not yet asked about, else the newest one again
                inc = self.new_incidents[done] if done < len(self.new_incidents) else self.new_incidents[-1]
                done = min(done + 1, len(self.new_incidents))
                tasks.append(asyncio.create_task(one(inc, perf())))
            if tasks:
                await asyncio.wait(tasks, timeout=35)

    # -- the run
    async def run(self) -> dict:
        a = self.args
        pid = self.server.proc.pid
        await self.open_consoles()
        print(f"[{self.name}] {len(self.console_ws)} consoles listening; opening {len(self.mobiles)} unit sockets "
              f"at {a.ramp_rate:.0f}/s ...", flush=True)
        ramp = await self.open_units()
        print(f"[{self.name}] ramp: {ramp['opened']} open, {ramp['failed']} failed in {ramp['seconds']} s", flush=True)
        if ramp["failed"]:
            print(f"  e.g. {ramp['failure_examples'][:2]}", flush=True)
        await asyncio.sleep(1.0)
        # No collection in this process during the load: every alarm, recommendation and ack in
        # flight would be counted that much late. Full ones scanned its ten thousand sockets for
        # 0.2-1.2 s, and with those set aside a generation-1 one over the growing records still took
        # 60-117 ms about 12 s in, the worst second of every run (2026-12-01, bench/README.md, AVL).
        # Refcounting frees the load's garbage; what cycles it leaves are collected after the run.
        gc.collect()
        gc.freeze()
        gc.disable()
        cpu0, srv0, all0 = time.process_time(), cpu_seconds(pid), machine_busy_seconds()
        self.T0 = perf() + 0.1
        t_end = self.T0 + a.seconds
        cpu_line: list[dict] = []

        async def sample():
            last = (perf(), cpu_seconds(pid), time.process_time())
            while perf() < t_end:
                await asyncio.sleep(1.0)
                now = (perf(), cpu_seconds(pid), time.process_time())
                cpu_line.append({"second": int(now[0] - self.T0),
                                 "server_cpu_pct": round(100 * (now[1] - last[1]) / (now[0] - last[0]), 1),
                                 "generator_cpu_pct": round(100 * (now[2] - last[2]) / (now[0] - last[0]), 1)})
                last = now

        print(f"[{self.name}] {len(self.mobiles)} units every {a.period}s ({len(self.mobiles) / a.period:.0f}/s), "
              f"alarms {a.alarm_rate}/s, recommendations {a.rec_rate if self.name == 'baojing' else 0}/s "
              f"for {a.seconds}s ...", flush=True)
        sampler = asyncio.create_task(sample())
        results = await asyncio.gather(self.drive_units(t_end), self.drive_alarms(t_end),
                                       self.drive_recommendations(t_end))
        shots = results[1]
        t_sent = perf()
        # drain: wait for outstanding acks
        deadline = perf() + a.drain
        while perf() < deadline and any(m.sent for m in self.mobiles if not m.closed):
            await asyncio.sleep(0.1)
        wall = perf() - (self.T0 - 0.1)
        cpu, srv = time.process_time() - cpu0, cpu_seconds(pid) - srv0
        others = machine_busy_seconds() - all0 - cpu - srv
        await sampler
        missing = sum(len(m.sent) for m in self.mobiles)
        closed = [m.closed for m in self.mobiles if m.closed]
        await self.close()
        gc.enable()
        gc.unfreeze()
        return self.summarise(ramp, shots, t_sent, wall, cpu, srv, others, missing, closed, cpu_line)

    async def close(self) -> None:
        for t in [*self.readers, *self.console_tasks]:
            t.cancel()
        gate = asyncio.Semaphore(500)

        async def shut(ws):
            async with gate:
                try:
                    await asyncio.wait_for(ws.close(), 5)
                except Exception:  # noqa: BLE001
                    pass

        await asyncio.gather(*(shut(m.ws) for m in self.mobiles if m.ws), *(shut(w) for w in self.console_ws))

    def summarise(self, ramp, shots, t_sent, wall, cpu, srv, others, missing, closed, cpu_line) -> dict:
        a = self.args
        n_sec = int(a.seconds)
        target_rate = len(self.mobiles) / a.period
        # Whole seconds of the steady run (from the first full period on: every unit is sending by then).
        steady = range(int(math.ceil(min(a.period, a.seconds / 2))), n_sec)
        acked = [self.acked_per_s.get(s, 0) for s in steady]
        sent = [self.sent_per_s.get(s, 0) for s in steady]
        timeline = []
        for s in range(0, n_sec + int(a.drain) + 1):
            lat = sorted(self.lat_per_s.get(s, []))
            if not lat and s >= n_sec and not self.acked_per_s.get(s):
                continue
            cons = [c.get(s, 0) for c in self.console_units_per_s]
            cl = next((c for c in cpu_line if c["second"] == s + 1), {})
            timeline.append({"second": s, "sent": self.sent_per_s.get(s, 0), "acked": self.acked_per_s.get(s, 0),
                             "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99),
                             "console_units_min": min(cons) if cons else None,
                             "server_cpu_pct": cl.get("server_cpu_pct"),
                             "generator_cpu_pct": cl.get("generator_cpu_pct")})
        cons_steady = [[c.get(s, 0) for s in steady] for c in self.console_units_per_s]
        lat, lat_send, lag = sorted(self.latencies), sorted(self.latencies_send), sorted(self.send_lag)
        alarm_ms = sorted((s.t_ack - s.t_send) * 1000 for s in shots if s.t_ack and not s.error)
        alarm_err = [s.error for s in shots if s.error]
        rec = sorted(self.rec_ms)
        return {
            "target": self.name, "ws_url": self.ws_url,
            "units": len(self.mobiles), "period_s": a.period, "target_fixes_per_s": round(target_rate, 1),
            "ramp": ramp,
            "ack_ms": stats(lat), "ack_from_send_ms": stats(lat_send), "send_lag_ms": stats(lag),
            "fixes_sent": sum(self.sent_per_s.values()), "fixes_acked": len(lat),
            "acked_per_s_steady": {"seconds": f"{steady.start}-{steady.stop}", "mean": round(sum(acked) / max(len(acked), 1), 1),
                                   "min": min(acked, default=0), "max": max(acked, default=0),
                                   "sent_mean": round(sum(sent) / max(len(sent), 1), 1)},
            "missing_acks": missing, "unit_errors": self.errors, "error_examples": self.error_examples,
            "flagged_fixes": self.flagged, "unknown_acks": self.unknown_acks, "acks_slow_down": self.slowed,
            "sockets_closed": len(closed), "closed_examples": closed[:5],
            "consoles": len(self.console_ws), "consoles_closed": self.console_closed,
            "console_units_moved_per_s": {"mean_min_console": round(min((sum(c) / max(len(c), 1) for c in cons_steady), default=0), 1),
                                          "min_second": min((min(c, default=0) for c in cons_steady), default=0),
                                          "messages": self.console_moved_msgs},
            "alarms": {"sent": len(shots), "errors": len(alarm_err), "error_examples": alarm_err[:3],
                       "post_ms": stats(alarm_ms)},
            "recommendations_http_ms": stats(rec), "recommendation_errors": self.rec_errors,
            "recommendation_error_examples": self.rec_error_examples, "recommendations_empty": self.rec_empty,
            "generator_cpu_pct": round(100 * cpu / wall, 1), "server_cpu_pct": round(100 * srv / wall, 1),
            "other_processes_cpu_pct": round(100 * max(others, 0.0) / wall, 1), "wall_s": round(wall, 2),
            "timeline": timeline,
        }


async def run_target(name: str, server: Server, args, units: list[dict]) -> dict:
    print(f"[{name}] starting server on {server.base}", flush=True)
    server.start()
    spy = None
    try:
        await server.wait_healthy()
        run = AvlRun(name, server, args, units)
        if args.py_spy and name == "baojing":
            import subprocess
            exe = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"

            async def start_spy():
                nonlocal spy
                while not run.T0 or perf() < run.T0:
                    await asyncio.sleep(0.2)
                spy = subprocess.Popen([exe, "record", "-p", str(server.proc.pid), "-r", "100", "-f", "raw",
                                        "-o", args.py_spy, "--threads", "-d", str(int(args.seconds))],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            spy_task = asyncio.create_task(start_spy())
        result = await run.run()
        if server.proc.poll() is not None:
            result["server_exited"] = server.proc.returncode
        return result
    finally:
        if spy is not None:
            spy.wait(30)
        server.stop()


# ------------------------------------------------------------------------------------------ report

def table(ours: dict, floor: dict | None) -> str:
    rows = [
        ("send->ack p50 ms", lambda r: r["ack_ms"].get("p50"), True),
        ("send->ack p95 ms", lambda r: r["ack_ms"].get("p95"), True),
        ("send->ack p99 ms", lambda r: r["ack_ms"].get("p99"), True),
        ("send->ack max ms", lambda r: r["ack_ms"].get("max"), True),
        ("target fixes/s", lambda r: r["target_fixes_per_s"], False),
        ("acked fixes/s (steady mean)", lambda r: r["acked_per_s_steady"]["mean"], False),
        ("acked fixes/s (worst second)", lambda r: r["acked_per_s_steady"]["min"], False),
        ("fixes sent / acked", lambda r: f"{r['fixes_sent']}/{r['fixes_acked']}", False),
        ("MISSING acks / errors", lambda r: f"{r['missing_acks']}/{r['unit_errors']}", False),
        ("flagged fixes", lambda r: r["flagged_fixes"], False),
        ("acks asking to slow down", lambda r: r.get("acks_slow_down", 0), False),
        ("sockets closed", lambda r: r["sockets_closed"], False),
        ("ramp: sockets / seconds", lambda r: f"{r['ramp']['opened']}/{r['ramp']['seconds']}", False),
        ("send lag p99 ms (generator)", lambda r: r["send_lag_ms"].get("p99"), False),
        ("console units.moved/s (mean)", lambda r: r["console_units_moved_per_s"]["mean_min_console"], False),
        ("alarms sent / errors", lambda r: f"{r['alarms']['sent']}/{r['alarms']['errors']}", False),
        ("alarm POST p50 ms", lambda r: r["alarms"]["post_ms"].get("p50"), False),
        ("alarm POST p99 ms", lambda r: r["alarms"]["post_ms"].get("p99"), False),
        ("recommend HTTP p50 ms", lambda r: r["recommendations_http_ms"].get("p50"), False),
        ("recommend HTTP p99 ms", lambda r: r["recommendations_http_ms"].get("p99"), False),
        ("recommend n / errors", lambda r: f"{r['recommendations_http_ms'].get('n', 0)}/{r['recommendation_errors']}", False),
        ("server CPU % of 1 core", lambda r: r["server_cpu_pct"], False),
        ("generator CPU % of 1 core", lambda r: r["generator_cpu_pct"], False),
        ("other processes CPU % (noise)", lambda r: r["other_processes_cpu_pct"], False),
    ]
    return compare_table(rows, ours, floor, label_w=31, col_w=13)


async def main_async(args) -> int:
    work = Path(tempfile.mkdtemp(prefix="baojing-avl-"))
    started = datetime.now(timezone.utc)
    results: dict = {
        "bench": "avl", "started_at": started.isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python -m bench.avl", *sys.argv[1:]]),
        "params": {k: v for k, v in vars(args).items() if k != "password"},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "loop": type(asyncio.get_running_loop()).__module__},
    }
    source = Path(args.source).resolve() if args.source else ROOT
    results["source"] = describe_source(source)
    rng = random.Random(args.seed)
    try:
        db_url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
        results["database"] = "sqlite (fresh temp file)"
        env = server_env(db_url)
        if source != ROOT:
            env["PYTHONPATH"] = str(source)
        t = perf()
        await asyncio.to_thread(prepare_database, env, source)
        units = await seed_units(db_url, args.units, rng)
        results["setup_s"] = round(perf() - t, 1)
        print(f"migrate + demo + {len(units)} officers/units/sessions in {results['setup_s']}s", flush=True)

        results["board_recommend"] = board_query_bench(units, args.queries, random.Random(args.seed + 1))
        b = results["board_recommend"]["ms"]
        print(f"Board.recommend in-process over {len(units)} units, {args.queries} queries: "
              f"p50 {b['p50']:.2f} ms, p99 {b['p99']:.2f} ms, max {b['max']:.2f} ms", flush=True)

        ours_server = Server("baojing", [*baojing_cmd(source), "serve"], env, work, cwd=source)
        results["baojing"] = await run_target("baojing", ours_server, args, units)
        if not args.skip_floor:
            floor_server = Server("floor", [sys.executable, "-m", "bench.floor"], env, work)
            results["floor"] = await run_target("floor", floor_server, args, units)
        if args.keep_logs:
            dest = ROOT / "var" / "bench" / f"avl-logs-{started:%Y%m%d-%H%M%S}"
            dest.mkdir(parents=True, exist_ok=True)
            for f in work.glob("*.log"):
                shutil.copy(f, dest / f.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ours, floor = results["baojing"], results.get("floor")
    results["ratio"] = {p: (round(ours["ack_ms"][p] / floor["ack_ms"][p], 2)
                            if floor and floor["ack_ms"].get(p) else None) for p in ("p50", "p95", "p99")}
    out_dir = ROOT / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"avl-{started:%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))

    print()
    print(f"Baojing AVL bench, {started:%Y-%m-%d %H:%M} UTC: {args.units} units every {args.period}s "
          f"({args.units / args.period:.0f} fixes/s) x {args.seconds}s, alarms {args.alarm_rate}/s, "
          f"{args.consoles} consoles, SQLite, {os.cpu_count()} CPUs")
    src = results["source"]
    if "git_head" in src:
        print(f"server: work tree at {src['git_head']}"
              + (f" + {len(src['uncommitted_changes'])} uncommitted file(s)" if src["uncommitted_changes"] else ""))
    print(table(ours, floor))
    b = results["board_recommend"]["ms"]
    print(f"Board.recommend in-process ({args.units} units, {args.queries} queries): p50 {b['p50']:.2f} ms, "
          f"p99 {b['p99']:.2f} ms, max {b['max']:.2f} ms")
    worst = sorted(ours["timeline"], key=lambda s: -(s["p99_ms"] or 0))[:3]
    if worst:
        print("baojing worst seconds (p99 ms): " + ", ".join(f"t={w['second']}s {w['p99_ms'] or 0:.0f}" for w in worst))
    print(f"results: {path.relative_to(ROOT)}")
    bad = 0
    for r in (ours, floor):
        if r and (r["missing_acks"] or r["unit_errors"] or r["sockets_closed"] or r["ramp"]["failed"]):
            bad = 1
            print(f"!!! {r['target']}: {r['missing_acks']} missing acks, {r['unit_errors']} errors, "
                  f"{r['sockets_closed']} sockets closed, {r['ramp']['failed']} failed to open")
    return bad


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.avl", description=__doc__.splitlines()[0])
    p.add_argument("--units", type=int, default=10_000, help="patrol units, one officer socket each")
    p.add_argument("--period", type=float, default=5.0, help="seconds between a unit's reports")
    p.add_argument("--seconds", type=float, default=60, help="how long to send")
    p.add_argument("--alarm-rate", type=float, default=10, help="alarms per second meanwhile (0: none)")
    p.add_argument("--consoles", type=int, default=5, help="console sockets listening (calltaker logins)")
    p.add_argument("--rec-rate", type=float, default=10, help="recommendation requests per second (dispatcher)")
    p.add_argument("--queries", type=int, default=2000, help="in-process Board.recommend queries")
    p.add_argument("--ramp-rate", type=float, default=1000, help="new unit sockets per second")
    p.add_argument("--ramp-concurrency", type=int, default=100, help="unit sockets opening at once")
    p.add_argument("--drain", type=float, default=10, help="seconds to wait for late acks")
    p.add_argument("--unit-compression", action="store_true", help="offer permessage-deflate on unit sockets")
    p.add_argument("--seed", type=int, default=110)
    p.add_argument("--skip-floor", action="store_true")
    p.add_argument("--keep-logs", action="store_true")
    p.add_argument("--py-spy", metavar="FILE", help="profile the real server (raw format) during the load")
    p.add_argument("--source", help="run the server from this copy of the source tree (e.g. a `git archive` "
                                    "snapshot) instead of the work tree, for before/after pairs")
    a = p.parse_args(argv)
    if not (1 <= a.units <= 15_000):
        p.error("--units: 1..15000")
    if not (0 < a.seconds <= 600) or a.period <= 0.2 or a.consoles < 1:
        p.error("seconds in (0, 600], period > 0.2, consoles >= 1")
    if a.alarm_rate * a.seconds > 20_000:
        p.error("at most 20000 alarms per run")
    return a


def main(argv=None) -> None:
    args = parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.units + args.consoles + 1000
    if soft < need:  # the servers inherit it too
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need, soft)), hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < need:
        sys.exit(f"open-file limit {resource.getrlimit(resource.RLIMIT_NOFILE)} is below the {need} sockets needed")
    from baojing.demo import DEMO_PASSWORD

    args.password = DEMO_PASSWORD
    try:
        import uvloop
        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    sys.exit(runner(main_async(args)))


if __name__ == "__main__":
    main()
