"""Alarm intake under load: how long until a caller's alarm is on every console.

Starts the real server (`baojing migrate`, `baojing demo`, `baojing serve`) as a subprocess on a
fresh SQLite file (or --database-url), logs in N consoles, opens N WebSockets on /ws, then posts
alarms at a steady open-loop rate and times, for every (alarm x console), the span from just
before the POST is sent to the moment that console receives the alarm's `incident.upserted`.
Then runs the identical load against bench/floor.py (same uvicorn, no app) in the same invocation
and prints both and their ratio. Talks only to 127.0.0.1; stops by itself.

    .venv/bin/python -m bench.intake [--rate 50] [--seconds 60] [--consoles 20] [--database-url URL]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx
import websockets
from websockets.asyncio.client import connect as ws_connect

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
CENTER = (41.57, 120.43)
perf = time.perf_counter
# Idle connections are dropped well before the server's own 5 s keep-alive timeout: httpx's default
# is the same 5 s, and a POST sent on a connection the server is closing at that moment fails with
# ReadError (1-18 of 2,000 per run past the bend). Browsers retry such a request on a new
# connection; httpx does not, and the bench would count a race of its own making as lost alarms.
CLIENT_KEEPALIVE_S = 2.0


# ---------------------------------------------------------------------------------------- servers

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def machine_busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine (all cores), from /proc/stat."""
    try:
        v = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait
    except (OSError, ValueError, IndexError):
        return float("nan")


class Server:
    def __init__(self, name: str, cmd: list[str], env: dict, workdir: Path, cwd: Path = ROOT):
        self.name, self.cmd, self.env, self.cwd = name, cmd, env, cwd
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.log_path = workdir / f"{name}-server.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([*self.cmd, "--host", HOST, "--port", str(self.port)], env=self.env, cwd=self.cwd,
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        log.close()

    async def wait_healthy(self, timeout: float = 60) -> None:
        deadline = perf() + timeout
        async with httpx.AsyncClient(base_url=self.base, timeout=2) as c:
            while perf() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} server exited ({self.proc.returncode}):\n{self.log_tail()}")
                try:
                    if (await c.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} server not healthy after {timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def baojing_cmd(source: Path) -> list[str]:
    """The real CLI: the installed `baojing` script for this tree, or the same entry point run from
    another copy of the source (--source) so that a frozen snapshot can be measured."""
    if source == ROOT:
        return [str(VENV_BIN / "baojing")]
    return [sys.executable, "-c", "import sys; from baojing.cli import main; main(sys.argv[1:])"]


def server_env(db_url: str, **extra: str) -> dict:
    """The environment every bench's server runs with: its database, no map tiles (no internet),
    demo accounts, and no per-address login limit (every console logs in from 127.0.0.1, and
    bench.fanout opens 101)."""
    env = {**os.environ, "BAOJING_DATABASE_URL": db_url, "BAOJING_MAP_TILES": "none", "BAOJING_DEMO": "true",
           "PYTHONUNBUFFERED": "1", "BAOJING_LOGIN_RATE_PER_MINUTE": "100000", **extra}
    for k in ("BAOJING_HOST", "BAOJING_PORT"):
        env.pop(k, None)
    return env


def prepare_database(env: dict, source: Path) -> None:
    for step in ("migrate", "demo"):
        r = subprocess.run([*baojing_cmd(source), step], env=env, cwd=source, capture_output=True, text=True,
                           timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"baojing {step} failed:\n{r.stdout}\n{r.stderr}")


# ------------------------------------------------------------------------------------------- load

@dataclass
class Shot:
    i: int
    phone: str
    key: str
    body: bytes
    target: float = 0.0  # scheduled send time
    t_send: float = 0.0
    t_conn: float = 0.0  # when a connection slot was free
    t_ack: float = 0.0
    status: int = 0
    alarm_id: int | None = None
    error: str | None = None


@dataclass
class Console:
    n: int
    ws: object = None
    got: dict = field(default_factory=dict)  # phone -> (t_recv, alarm id)
    duplicates: int = 0
    out_of_order: int = 0
    last_seq: int = -1
    closed: str | None = None


class Run:
    """One target (baojing or floor) under one load."""

    def __init__(self, name: str, base: str, args, server_pid: int):
        self.name, self.base, self.args, self.server_pid = name, base, args, server_pid
        self.consoles: list[Console] = []
        self.shots: list[Shot] = []
        self.watch: dict[str, int] = {}  # phone -> index into self.shots (measured alarms only)
        self.received = 0
        self.expected = 0
        self.complete = asyncio.Event()
        self.rng = random.Random(args.seed)
        self.run_id = uuid.uuid4().hex[:8]

    # -- consoles
    async def login(self, c: httpx.AsyncClient) -> str:
        r = await c.post("/api/auth/login", json={"username": "calltaker", "password": self.args.password})
        r.raise_for_status()
        return f"bj_session={r.cookies['bj_session']}"

    async def open_consoles(self) -> None:
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as c:
            cookies = [await self.login(c) for _ in range(self.args.consoles)]
        url = self.base.replace("http", "ws", 1) + "/ws"
        for n, cookie in enumerate(cookies):
            con = Console(n)
            con.ws = await ws_connect(url, additional_headers={"Cookie": cookie}, ping_interval=None,
                                      max_size=2 ** 22, open_timeout=15,
                                      compression=None if self.args.no_compression else "deflate")
            await con.ws.send(json.dumps({"type": "hello", "since": None, "device_token": None}))
            ready = json.loads(await asyncio.wait_for(con.ws.recv(), 15))
            if ready.get("type") != "ready":
                raise RuntimeError(f"console {n}: expected ready, got {ready}")
            self.consoles.append(con)
        self.listeners = [asyncio.create_task(self.listen(con)) for con in self.consoles]

    async def listen(self, con: Console) -> None:
        try:
            async for raw in con.ws:
                t = perf()
                if '"incident.upserted"' not in raw:  # pings and anything else: no parsing
                    continue
                m = json.loads(raw)
                seq = m.get("seq", 0)
                if seq <= con.last_seq:
                    con.out_of_order += 1
                con.last_seq = max(seq, con.last_seq)
                for a in m["data"].get("alarms", ()):
                    phone = a.get("phone")
                    if phone in con.got:
                        con.duplicates += 1
                        continue
                    con.got[phone] = (t, a.get("id"))
                    if phone in self.watch:
                        self.received += 1
                        if self.received >= self.expected:
                            self.complete.set()
        except websockets.ConnectionClosed as e:
            con.closed = f"{e.rcvd.code if e.rcvd else '?'} {e.rcvd.reason if e.rcvd else ''}".strip()
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - recorded and reported
            con.closed = f"listener error: {e!r}"

    async def close_consoles(self) -> None:
        for t in self.listeners:
            t.cancel()
        for con in self.consoles:
            try:
                await asyncio.wait_for(con.ws.close(), 5)
            except Exception:  # noqa: BLE001
                pass

    # -- alarms
    def make_shot(self, i: int, prefix: str) -> Shot:
        phone = f"{prefix}{i:09d}"
        key = f"bench-{self.run_id}-{prefix}-{i}"
        lat = CENTER[0] + self.rng.uniform(-0.04, 0.04)
        lon = CENTER[1] + self.rng.uniform(-0.06, 0.06)
        body = {"idempotency_key": key, "phone": phone, "name": None, "channel": "phone", "place_text": None,
                "location": {"lat": round(lat, 6), "lon": round(lon, 6), "accuracy_m": self.rng.choice([8, 15, 25, 60, 350]),
                             "crs": "wgs84", "source": "device"}}
        return Shot(i, phone, key, json.dumps(body).encode())

    async def post(self, client: httpx.AsyncClient, s: Shot) -> None:
        # The clock starts at the scheduled send, before waiting for a free connection: when the
        # server is slow and every connection is busy, that wait is the server's (open loop).
        s.t_send = perf()
        try:
            async with self.gate:
                s.t_conn = perf()
                r = await client.post("/api/alarms", content=s.body, headers={"Content-Type": "application/json"})
            s.t_ack = perf()
            s.status = r.status_code
            if r.status_code in (200, 201):
                s.alarm_id = r.json().get("id")
            else:
                s.error = f"HTTP {r.status_code}: {r.text[:200]}"
        except Exception as e:  # noqa: BLE001 - every failure is counted
            s.t_ack = perf()
            s.error = f"{type(e).__name__}: {e}"[:200]

    async def warmup(self, client: httpx.AsyncClient, n: int) -> None:
        """A few alarms one at a time before measuring (first-use costs: query compilation, pools)."""
        for i in range(n):
            s = self.make_shot(i, "17")
            await self.post(client, s)
            deadline = perf() + 5
            while perf() < deadline and not all(s.phone in c.got for c in self.consoles):
                await asyncio.sleep(0.005)

    async def load(self) -> dict:
        a = self.args
        n = int(round(a.rate * a.seconds))
        self.shots = [self.make_shot(i, "15") for i in range(n)]
        self.watch = {s.phone: s.i for s in self.shots}
        self.expected = n * len(self.consoles)
        # httpcore's pool rescans every queued request against every connection on each change
        # (O(queue x connections)): with hundreds queued the generator, not the server, burns the
        # CPU. So requests queue here, FIFO and O(1), and never more than the pool can take at once.
        self.gate = asyncio.Semaphore(a.connections)
        limits = httpx.Limits(max_connections=a.connections, max_keepalive_connections=a.connections,
                              keepalive_expiry=CLIENT_KEEPALIVE_S)
        async with httpx.AsyncClient(base_url=self.base, timeout=a.post_timeout, limits=limits) as client:
            await self.warmup(client, a.warmup)
            spy = self.start_py_spy()
            cpu0, srv0, all0, wall0 = (time.process_time(), cpu_seconds(self.server_pid), machine_busy_seconds(),
                                       perf())
            t0 = perf() + 0.05
            tasks = []
            for s in self.shots:  # open loop: by the clock, never waiting for an answer
                s.target = t0 + s.i / a.rate
                delay = s.target - perf()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(self.post(client, s)))
            t_sent = perf()
            _, pending = await asyncio.wait(tasks, timeout=a.post_timeout + 5)
            for t in pending:  # bounded: whatever is not answered by now is an error
                t.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5)
            for s in self.shots:
                if not s.t_ack and s.error is None:
                    s.error = f"NoAnswer: none within {a.post_timeout + 5:.0f}s of the last send"
            t_acked = max((s.t_ack for s in self.shots if s.t_ack), default=perf())
            if not self.complete.is_set() and self.expected:
                try:
                    await asyncio.wait_for(self.complete.wait(), a.drain)
                except asyncio.TimeoutError:
                    pass
            wall = perf() - wall0
            cpu, srv = time.process_time() - cpu0, cpu_seconds(self.server_pid) - srv0
            others = machine_busy_seconds() - all0 - cpu - srv
            self.stop_py_spy(spy)
        return self.summarise(t0, t_sent, t_acked, wall, cpu, srv, others)

    # -- profiling (optional)
    def start_py_spy(self) -> subprocess.Popen | None:
        a = self.args
        if not a.py_spy or self.name != "baojing":
            return None
        exe = shutil.which("py-spy", path=str(VENV_BIN)) or shutil.which("py-spy")
        if not exe:
            print("  py-spy not found (pip install py-spy into .venv); not profiling", flush=True)
            return None
        self.py_spy_out = a.py_spy
        cmd = [exe, "record", "-p", str(self.server_pid), "-r", "200", "-f", a.py_spy_format,
               "-o", a.py_spy, *(["--idle"] if a.py_spy_idle else []), "--threads"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        time.sleep(0.5)
        return proc

    @staticmethod
    def stop_py_spy(proc: subprocess.Popen | None) -> None:
        if proc is None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        print(f"  py-spy profile written ({proc.returncode})", flush=True)

    # -- figures
    def summarise(self, t0: float, t_sent: float, t_acked: float, wall: float, cpu: float, srv: float,
                  others: float) -> dict:
        shots = self.shots
        ok = [s for s in shots if s.error is None and s.alarm_id is not None]
        errors: dict[str, int] = {}
        for s in shots:
            if s.error:
                kind = s.error.split(":")[0]
                errors[kind] = errors.get(kind, 0) + 1
        lat, before_ack, mismatched, per_sec = [], 0, 0, {}
        missing_by_console = []
        for con in self.consoles:
            miss = 0
            for s in shots:
                got = con.got.get(s.phone)
                if got is None:
                    miss += 1
                    continue
                t, aid = got
                ms = (t - s.t_send) * 1000
                lat.append(ms)
                per_sec.setdefault(int(s.target - t0), []).append(ms)
                if s.t_ack and t < s.t_ack:
                    before_ack += 1
                if s.alarm_id is not None and aid != s.alarm_id:
                    mismatched += 1
            missing_by_console.append(miss)
        post_ms = [(s.t_ack - s.t_send) * 1000 for s in ok]
        lag_ms = [(s.t_send - s.target) * 1000 for s in shots if s.t_send]
        queue_ms = sorted((s.t_conn - s.t_send) * 1000 for s in shots if s.t_conn)
        span = max(t_acked - t0, 1e-9)
        timeline = []
        for sec in sorted(per_sec):
            v = sorted(per_sec[sec])
            timeline.append({"second": sec, "receipts": len(v), "p50_ms": pct(v, 50), "p99_ms": pct(v, 99),
                             "max_ms": v[-1]})
        lat.sort()
        post_ms.sort()
        lag_ms.sort()
        return {
            "target": self.name,
            "alarms_offered": len(shots),
            "rate_offered": self.args.rate,
            "send_span_s": round(t_sent - t0, 3),
            "alarms_acked": len(ok),
            "rate_achieved": round(len(ok) / span, 2),
            "errors": sum(errors.values()),
            "errors_by_kind": errors,
            "error_examples": sorted({s.error for s in shots if s.error})[:5],
            "consoles": len(self.consoles),
            "receipts_expected": len(shots) * len(self.consoles),
            "receipts": len(lat),
            "missing": len(shots) * len(self.consoles) - len(lat),
            "missing_by_console": missing_by_console,
            "duplicates": sum(c.duplicates for c in self.consoles),
            "out_of_order": sum(c.out_of_order for c in self.consoles),
            "event_id_mismatch": mismatched,
            "receipts_before_post_answer": before_ack,
            "consoles_closed": [c.closed for c in self.consoles if c.closed],
            "latency_ms": stats(lat),
            "post_ms": stats(post_ms),
            "send_lag_ms": stats(lag_ms),
            "client_queue_ms": stats(queue_ms),
            "post_concurrency_limit": self.args.connections,
            "generator_cpu_s": round(cpu, 3),
            "generator_cpu_pct": round(100 * cpu / wall, 1),
            "server_cpu_s": round(srv, 3),
            "server_cpu_pct": round(100 * srv / wall, 1),
            # Server CPU per stored alarm: the figure that does not depend on how busy the machine is.
            "server_cpu_ms_per_alarm": round(1000 * srv / max(len(ok), 1), 2),
            "load_average_1m": round(os.getloadavg()[0], 2),
            # Everything else on the machine meanwhile (other people's tests, browsers...): noise.
            "other_processes_cpu_pct": round(100 * max(others, 0.0) / wall, 1),
            "wall_s": round(wall, 3),
            "timeline": timeline,
        }


def pct(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return round(sorted_values[k], 3)


def stats(v: list[float]) -> dict:
    if not v:
        return {"n": 0}
    return {"n": len(v), "p50": pct(v, 50), "p95": pct(v, 95), "p99": pct(v, 99), "max": round(v[-1], 3),
            "mean": round(sum(v) / len(v), 3)}


async def run_target(name: str, server: Server, args) -> dict:
    print(f"[{name}] starting server on {server.base}", flush=True)
    server.start()
    try:
        await server.wait_healthy()
        run = Run(name, server.base, args, server.proc.pid)
        await run.open_consoles()
        print(f"[{name}] {len(run.consoles)} consoles listening; {args.rate}/s for {args.seconds}s ...", flush=True)
        try:
            result = await run.load()
        finally:
            await run.close_consoles()
        if server.proc.poll() is not None:
            result["server_exited"] = server.proc.returncode
        return result
    finally:
        server.stop()


# ------------------------------------------------------------------------------------------ report

def describe_source(source: Path) -> dict:
    """Which code was measured: the commit and, since others edit the tree, what differs from it."""
    out: dict = {"path": str(source)}
    if source != ROOT:
        return out

    def git(*a):  # read-only queries only
        r = subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, timeout=30)
        return r.stdout.strip() if r.returncode == 0 else None

    out["git_head"] = git("rev-parse", "--short", "HEAD")
    changed = git("status", "--porcelain", "--untracked-files=all", "--", "baojing", "migrations", "alembic.ini")
    out["uncommitted_changes"] = [c for c in (changed or "").splitlines() if c.endswith((".py", ".ini"))]
    return out


def fmt(v, unit="") -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.1f}{unit}" if abs(v) < 1000 else f"{v:.0f}{unit}"
    return f"{v}{unit}"


def table(ours: dict, floor: dict | None) -> str:
    rows = [
        ("alarm->console p50 ms", lambda r: r["latency_ms"].get("p50"), True),
        ("alarm->console p95 ms", lambda r: r["latency_ms"].get("p95"), True),
        ("alarm->console p99 ms", lambda r: r["latency_ms"].get("p99"), True),
        ("alarm->console max ms", lambda r: r["latency_ms"].get("max"), True),
        ("POST answer p50 ms", lambda r: r["post_ms"].get("p50"), True),
        ("POST answer p99 ms", lambda r: r["post_ms"].get("p99"), True),
        ("acked alarms/s", lambda r: r["rate_achieved"], True),
        ("errors", lambda r: r["errors"], False),
        ("receipts (alarm x console)", lambda r: r["receipts"], False),
        ("MISSING receipts", lambda r: r["missing"], False),
        ("duplicates / out of order", lambda r: f"{r['duplicates']} / {r['out_of_order']}", False),
        ("event before POST answer", lambda r: r["receipts_before_post_answer"], False),
        ("send lag p99 ms (generator)", lambda r: r["send_lag_ms"].get("p99"), False),
        ("wait for a connection p99 ms", lambda r: r["client_queue_ms"].get("p99"), False),
        ("generator CPU % of 1 core", lambda r: r["generator_cpu_pct"], False),
        ("server CPU % of 1 core", lambda r: r["server_cpu_pct"], False),
        ("server CPU ms per alarm", lambda r: r["server_cpu_ms_per_alarm"], True),
        ("load average (1 min) after", lambda r: r["load_average_1m"], False),
        ("other processes CPU % (noise)", lambda r: r["other_processes_cpu_pct"], False),
    ]
    return compare_table(rows, ours, floor)


def compare_table(rows, ours: dict, floor: dict | None, label_w: int = 30, col_w: int = 12) -> str:
    """Ours, the floor and their ratio, one row per (label, getter, show the ratio) triple."""
    out = [f"{'':{label_w}}{'baojing':>{col_w}}{'floor':>{col_w}}{'ours/floor':>{col_w}}", "-" * (label_w + 3 * col_w)]
    for label, get, ratio in rows:
        a = get(ours)
        b = get(floor) if floor else None
        r = f"{a / b:.{2 if a < 10 * b else 1}f}x" if ratio and isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else ""
        out.append(f"{label:{label_w}}{fmt(a):>{col_w}}{fmt(b):>{col_w}}{r:>{col_w}}")
    return "\n".join(out)


async def main_async(args) -> int:
    work = Path(tempfile.mkdtemp(prefix="baojing-bench-"))
    started = datetime.now(timezone.utc)
    results: dict = {
        "bench": "intake", "started_at": started.isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python -m bench.intake", *sys.argv[1:]]),
        "params": {k: v for k, v in vars(args).items() if k != "password"},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "loop": type(asyncio.get_running_loop()).__module__},
    }
    source = Path(args.source).resolve() if args.source else ROOT
    results["source"] = describe_source(source)
    try:
        db_url = args.database_url or f"sqlite+aiosqlite:///{work / 'bench.db'}"
        results["database"] = db_url.split("@")[-1] if "@" in db_url else db_url.split(":")[0] + " (fresh temp file)"
        env = server_env(db_url)
        if source != ROOT:
            env["PYTHONPATH"] = str(source)
        print(f"server source: {results['source']}\npreparing database: {results['database']}", flush=True)
        t = perf()
        await asyncio.to_thread(prepare_database, env, source)
        print(f"  migrate + demo in {perf() - t:.1f}s", flush=True)

        ours_server = Server("baojing", [*baojing_cmd(source), "serve"], env, work, cwd=source)
        results["baojing"] = await run_target("baojing", ours_server, args)
        if not args.skip_floor:
            floor_server = Server("floor", [sys.executable, "-m", "bench.floor"], env, work)
            results["floor"] = await run_target("floor", floor_server, args)
        if args.keep_logs:
            dest = ROOT / "var" / "bench" / f"logs-{started:%Y%m%d-%H%M%S}"
            dest.mkdir(parents=True, exist_ok=True)
            for f in work.glob("*.log"):
                shutil.copy(f, dest / f.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ours, floor = results["baojing"], results.get("floor")
    results["ratio"] = {p: (round(ours["latency_ms"][p] / floor["latency_ms"][p], 2)
                            if floor and floor["latency_ms"].get(p) else None) for p in ("p50", "p95", "p99")}
    if floor:
        results["ratio"]["acked_per_s"] = round(ours["rate_achieved"] / floor["rate_achieved"], 2)
    out_dir = ROOT / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"intake-{started:%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False))

    print()
    print(f"Baojing intake bench, {started:%Y-%m-%d %H:%M} UTC: {args.rate}/s x {args.seconds}s, "
          f"{args.consoles} consoles, database {results['database']}, {os.cpu_count()} CPUs")
    src = results["source"]
    if "git_head" in src:
        print(f"server: work tree at {src['git_head']}"
              + (f" + {len(src['uncommitted_changes'])} uncommitted file(s)" if src["uncommitted_changes"] else ""))
    else:
        print(f"server: source copy {src['path']}")
    print(table(ours, floor))
    worst = sorted(ours["timeline"], key=lambda s: -(s["p99_ms"] or 0))[:3]
    if worst:
        print("baojing worst seconds (p99 ms): " + ", ".join(f"t={w['second']}s {w['p99_ms']:.0f}" for w in worst))
    print(f"results: {path.relative_to(ROOT)}")
    bad = 0
    for r in (ours, floor):
        if not r:
            continue
        if r["missing"] or r["consoles_closed"]:
            bad = 1
            print(f"\n!!!!!!!! {r['target']}: {r['missing']} RECEIPTS MISSING "
                  f"(per console: {r['missing_by_console']}); consoles closed: {r['consoles_closed']} !!!!!!!!")
        if r["errors"]:
            bad = 1
            print(f"\n!!! {r['target']}: {r['errors']} POST errors {r['errors_by_kind']}: {r['error_examples']}")
        if r["duplicates"] or r["out_of_order"] or r["event_id_mismatch"]:
            bad = 1
            print(f"\n!!! {r['target']}: duplicates {r['duplicates']}, out of order {r['out_of_order']}, "
                  f"id mismatches {r['event_id_mismatch']}")
    return bad


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.intake", description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=50, help="alarms per second (open loop)")
    p.add_argument("--seconds", type=float, default=60, help="how long to send")
    p.add_argument("--consoles", type=int, default=20, help="logged-in consoles listening on /ws")
    p.add_argument("--database-url", help="default: a fresh SQLite file in a temp dir")
    p.add_argument("--connections", type=int, default=64,
                   help="most POSTs in flight (HTTP connections); more wait, their clock already running")
    p.add_argument("--post-timeout", type=float, default=30, help="seconds before a POST counts as an error")
    p.add_argument("--drain", type=float, default=15, help="seconds to wait for late receipts after the last answer")
    p.add_argument("--warmup", type=int, default=10, help="alarms sent one by one before measuring (not counted)")
    p.add_argument("--seed", type=int, default=110)
    p.add_argument("--source", help="run the server from this copy of the source tree instead of the work tree "
                                    "(e.g. a `git archive` snapshot): the work tree may change under a long run")
    p.add_argument("--no-compression", action="store_true",
                   help="do not offer permessage-deflate on /ws (browsers do offer it)")
    p.add_argument("--skip-floor", action="store_true", help="measure only the real server")
    p.add_argument("--py-spy", metavar="FILE", help="profile the real server with py-spy during the load into FILE")
    p.add_argument("--py-spy-format", default="raw", choices=["raw", "flamegraph", "speedscope"])
    p.add_argument("--py-spy-idle", action="store_true", help="include waiting (wall clock) samples, not just CPU")
    p.add_argument("--keep-logs", action="store_true", help="copy the server logs to var/bench/")
    a = p.parse_args(argv)
    if a.rate <= 0 or a.seconds <= 0 or a.consoles < 1:
        p.error("rate, seconds and consoles must be positive")
    if a.rate * a.seconds > 100_000:
        p.error("at most 100000 alarms per run")
    if a.database_url:
        from sqlalchemy.engine import make_url

        host = make_url(a.database_url).host
        if host not in (None, "", HOST, "localhost"):
            p.error(f"the bench talks only to {HOST}; database host {host!r} refused")
    return a


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.source:
        sys.path.insert(0, str(Path(args.source).resolve()))
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
