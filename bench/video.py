"""Video calls on loopback: tap-to-ring at the desk, answer-to-first-frame on both sides, and the
server's CPU for one recorded call.

Starts the real server (`baojing migrate`, `baojing demo`, `baojing serve`) as a subprocess on a
fresh SQLite file and a temp media dir, inside a network namespace with only loopback (+127.0.0.2
for aioice; tests/netns.py), so no WebRTC candidate can leave this machine. Then, one call at a
time, an aiortc caller with a synthetic camera (tests/rtc_peers.py) raises a video call with
`POST /api/calls` and connects to the server's recorder; a desk (console user `calltaker`) on /ws
times the ring (`call.upserted`, status waiting), answers, and offers to the caller; both sides
time their first decoded video frame from the answer; the desk hangs up and the bench waits until
the recording is stored. Then one longer recorded call for the server's CPU against an idle
baseline of the same length. Browsers are not in the loop: see bench/README.md.

    .venv/bin/python -m bench.video [--calls 10] [--cpu-seconds 20]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import httpx

from bench.intake import (ROOT, Server, baojing_cmd, cpu_seconds, describe_source, machine_busy_seconds,
                          pct, prepare_database)

sys.path.insert(0, str(ROOT / "tests"))
from netns import INSIDE, inside  # noqa: E402  (tests/netns.py: the namespace convention)

perf = time.perf_counter
GOAL_FIRST_FRAME_S = 1.0


def log(msg: str) -> None:
    print(msg, flush=True)


# ------------------------------------------------------------------------------------------ peers

def desk_party_class():
    from rtc_peers import Party

    class Desk(Party):
        """The desk's Party, opened before the caller taps, that also times each call's ring: the
        first `call.upserted` with status waiting for that call, as the console's queue sees it."""

        def __init__(self, ws) -> None:
            self.rings: dict[int, float] = {}
            self.ring = asyncio.Event()
            super().__init__(ws, None, [], "desk")

        async def _read(self) -> None:
            async for text in self.ws:
                t = perf()
                m = json.loads(text)
                if m.get("type") == "event" and m.get("name") == "call.upserted":
                    d = m.get("data") or {}
                    if d.get("status") == "waiting" and d.get("id") not in self.rings:
                        self.rings[d["id"]] = t
                        self.ring.set()
                if m.get("type") == "error":
                    self.errors.append(m)
                if m.get("type") == "signal" and self.call_id is not None and m.get("call_id") == self.call_id:
                    try:
                        await self._on_signal(m["from"], m["data"])
                    except Exception as e:  # noqa: BLE001 - reported
                        self.errors.append({"type": "local", "error": repr(e)})

        async def wait_ring(self, call_id: int, timeout: float) -> float:
            deadline = perf() + timeout
            while call_id not in self.rings:
                self.ring.clear()
                left = deadline - perf()
                if left <= 0:
                    raise TimeoutError(f"no ring for call {call_id} in {timeout} s")
                try:
                    await asyncio.wait_for(self.ring.wait(), left)
                except asyncio.TimeoutError:
                    pass
            return self.rings[call_id]

    return Desk


async def wait_first_frame(party, remote, timeout: float) -> float:
    deadline = perf() + timeout
    while remote not in party.first_frame_at:
        if perf() > deadline:
            raise TimeoutError(f"{party.name}: no video frame from {remote} in {timeout} s; errors {party.errors}")
        await asyncio.sleep(0.005)
    return party.first_frame_at[remote]


# ------------------------------------------------------------------------------------------ calls

class Bench:
    def __init__(self, base: str, server_pid: int, args) -> None:
        self.base, self.pid, self.args = base, server_pid, args
        self.run_id = uuid.uuid4().hex[:6]
        self.Desk = desk_party_class()

    async def setup(self, http: httpx.AsyncClient) -> None:
        from call_helpers import login_cookie

        self.cookie = await login_cookie(self.base, "calltaker")
        self.staff = {"Cookie": self.cookie}

    async def one_call(self, http: httpx.AsyncClient, n: int, hold_s: float = 0.0, measure_cpu: bool = False) -> dict:
        from aiortc import AudioStreamTrack
        from call_helpers import call_body, connect
        from rtc_peers import Party, SyntheticVideo

        a = self.args
        out: dict = {"n": n}
        desk = self.Desk(await connect(self.base, cookie=self.cookie))
        phone = None
        srv_call0, t_call0 = cpu_seconds(self.pid), perf()
        try:
            body = call_body("video", phone=f"139{n:08d}", idempotency_key=f"bench-video-{self.run_id}-{n}")
            t_tap = perf()
            r = await http.post("/api/calls", json=body)
            t_created = perf()
            if r.status_code != 201:
                raise RuntimeError(f"POST /api/calls: {r.status_code} {r.text[:300]}")
            call = r.json()
            cid = out["call_id"] = call["id"]
            out["post_ms"] = (t_created - t_tap) * 1000
            # The caller's page: its socket, and at once its send-only connection to the recorder.
            phone = Party(await connect(self.base, device_token=call["device_token"]), cid, call["ice_servers"],
                          "caller")
            await phone.offer("recorder", tracks=[SyntheticVideo(), AudioStreamTrack()], receive=(), trickle=True)

            t_ring = await desk.wait_ring(cid, a.step_timeout)
            out["tap_to_ring_ms"] = (t_ring - t_tap) * 1000
            await phone.wait_connected("recorder", a.step_timeout)
            out["tap_to_recorder_connected_ms"] = (perf() - t_tap) * 1000

            # The operator answers (after the caller's recorder link is up, as a person takes longer
            # than that to react), then offers to the caller, who answers with its camera.
            t_answer = perf()
            r = await http.post(f"/api/calls/{cid}/answer", headers=self.staff)
            if r.status_code != 200:
                raise RuntimeError(f"answer: {r.status_code} {r.text[:300]}")
            view = r.json()
            out["answer_post_ms"] = (perf() - t_answer) * 1000
            out["incident_id"] = view["incident_id"]
            desk.call_id, desk.ice = cid, view["ice_servers"]
            await desk.offer(call["me"], tracks=[SyntheticVideo()], receive=("audio",))
            t_desk = await wait_first_frame(desk, call["me"], a.step_timeout)
            t_caller = await wait_first_frame(phone, view["me"], a.step_timeout)
            out["answer_to_first_frame_desk_ms"] = (t_desk - t_answer) * 1000
            out["answer_to_first_frame_caller_ms"] = (t_caller - t_answer) * 1000

            if measure_cpu:
                await asyncio.sleep(1.0)  # past the connection set-up: the steady state of a call
                srv0, all0, own0, w0 = cpu_seconds(self.pid), machine_busy_seconds(), time.process_time(), perf()
                f0 = (desk.frames.get(call["me"], 0), phone.frames.get(view["me"], 0))
                await asyncio.sleep(hold_s)
                wall = perf() - w0
                srv, own = cpu_seconds(self.pid) - srv0, time.process_time() - own0
                out["steady"] = {
                    "seconds": round(wall, 2),
                    "server_cpu_pct": round(100 * srv / wall, 1),
                    "bench_peers_cpu_pct": round(100 * own / wall, 1),
                    "other_processes_cpu_pct": round(100 * (machine_busy_seconds() - all0 - srv - own) / wall, 1),
                    "desk_fps": round((desk.frames.get(call["me"], 0) - f0[0]) / wall, 1),
                    "caller_fps": round((phone.frames.get(view["me"], 0) - f0[1]) / wall, 1),
                }
            else:
                await asyncio.sleep(hold_s)

            r = await http.post(f"/api/calls/{cid}/hangup", headers=self.staff)
            if r.status_code != 200 or r.json().get("status") != "ended":
                raise RuntimeError(f"hangup: {r.status_code} {r.text[:300]}")
            t_hangup = perf()
            out["errors"] = desk.errors + phone.errors
        finally:
            for p in (phone, desk):
                if p is not None:
                    try:
                        await asyncio.wait_for(p.close(), 10)
                    except Exception:  # noqa: BLE001
                        pass
        # The recording is stored once its tracks end: wait for it (bounded), so calls do not overlap.
        media: list = []
        deadline = perf() + a.step_timeout
        while perf() < deadline:
            media = (await http.get(f"/api/incidents/{out['incident_id']}/media", headers=self.staff)).json()["media"]
            if {m["track"] for m in media if m["kind"] == "recording"} >= {"video", "audio"}:
                break
            await asyncio.sleep(0.1)
        out["hangup_to_stored_ms"] = (perf() - t_hangup) * 1000
        out["recordings"] = [{k: m[k] for k in ("track", "mime", "size", "duration_s", "sha256", "url")}
                             for m in media if m["kind"] == "recording"]
        if measure_cpu:  # does the stored file decode, with about as many frames as were sent?
            for rec in out["recordings"]:
                if rec["track"] == "video":
                    body = (await http.get(rec["url"], headers=self.staff)).content
                    rec["decoded"] = await asyncio.to_thread(decode_count, body)
        if measure_cpu:
            wall = perf() - t_call0
            out["whole_call"] = {"seconds": round(wall, 2),
                                 "server_cpu_s": round(cpu_seconds(self.pid) - srv_call0, 2),
                                 "server_cpu_pct": round(100 * (cpu_seconds(self.pid) - srv_call0) / wall, 1)}
        return out

    async def idle(self, seconds: float) -> dict:
        srv0, all0, own0, w0 = cpu_seconds(self.pid), machine_busy_seconds(), time.process_time(), perf()
        await asyncio.sleep(seconds)
        wall = perf() - w0
        srv, own = cpu_seconds(self.pid) - srv0, time.process_time() - own0
        return {"seconds": round(wall, 2), "server_cpu_pct": round(100 * srv / wall, 1),
                "other_processes_cpu_pct": round(100 * (machine_busy_seconds() - all0 - srv - own) / wall, 1)}


def decode_count(body: bytes) -> dict:
    import io

    import av

    with av.open(io.BytesIO(body)) as c:
        st = c.streams.video[0]
        n = sum(1 for _ in c.decode(st))
        return {"frames": n, "width": st.codec_context.width, "height": st.codec_context.height}


def summary(v: list[float]) -> dict:
    v = sorted(v)
    if not v:
        return {"n": 0}
    return {"n": len(v), "p50": pct(v, 50), "max": round(v[-1], 1), "min": round(v[0], 1)}


async def run(args, work: Path, results: dict) -> int:
    db_url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
    env = {**os.environ, "BAOJING_DATABASE_URL": db_url, "BAOJING_MAP_TILES": "none", "BAOJING_DEMO": "true", "PYTHONUNBUFFERED": "1",
           "BAOJING_MEDIA_DIR": str(work / "media")}
    for k in ("BAOJING_HOST", "BAOJING_PORT", INSIDE):
        env.pop(k, None)
    t = perf()
    await asyncio.to_thread(prepare_database, env, ROOT)
    log(f"migrate + demo in {perf() - t:.1f}s")
    server = Server("baojing", [*baojing_cmd(ROOT), "serve"], env, work)
    server.start()
    try:
        await server.wait_healthy()
        log(f"server {server.base} pid {server.proc.pid}")
        bench = Bench(server.base, server.proc.pid, args)
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
            await bench.setup(http)
            log("warm-up call (not counted) ...")
            results["warmup"] = await bench.one_call(http, 0, hold_s=0.5)
            calls = []
            for n in range(1, args.calls + 1):
                c = await bench.one_call(http, n, hold_s=args.hold)
                calls.append(c)
                log(f"call {n:2}: ring {c['tap_to_ring_ms']:6.0f} ms | first frame desk "
                    f"{c['answer_to_first_frame_desk_ms']:6.0f} ms, caller {c['answer_to_first_frame_caller_ms']:6.0f} ms"
                    f" | recorder up {c['tap_to_recorder_connected_ms']:5.0f} ms | recordings "
                    f"{[r['track'] + ':' + str(r['size']) for r in c['recordings']]}"
                    + (f" | ERRORS {c['errors']}" if c["errors"] else ""))
            results["calls"] = calls
            log(f"idle baseline {args.cpu_seconds:.0f} s ...")
            await asyncio.sleep(2.0)  # let the last recording's storage settle
            results["idle"] = await bench.idle(args.cpu_seconds)
            log(f"one recorded call held {args.cpu_seconds:.0f} s for CPU ...")
            results["cpu_call"] = await bench.one_call(http, args.calls + 1, hold_s=args.cpu_seconds, measure_cpu=True)
        if server.proc.poll() is not None:
            results["server_exited"] = server.proc.returncode
        results["server_log_errors"] = [ln for ln in server.log_path.read_text(errors="replace").splitlines()
                                        if any(w in ln for w in ("Traceback", "ERROR", "Exception", "WARNING"))][:30]
        if args.keep_log:
            dest = ROOT / "var" / "bench" / f"video-server-{os.getpid()}.log"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(server.log_path, dest)
            log(f"server log: {dest.relative_to(ROOT)}")
    finally:
        server.stop()
    return 0


def table(res: dict) -> str:
    s = res["summary"]
    rows = [("tap -> ring at the desk", s["tap_to_ring_ms"]),
            ("answer -> first frame, desk", s["answer_to_first_frame_desk_ms"]),
            ("answer -> first frame, caller", s["answer_to_first_frame_caller_ms"]),
            ("(tap -> caller-recorder connected)", s["tap_to_recorder_connected_ms"]),
            ("(POST /api/calls answer)", s["post_ms"]),
            ("(POST .../answer answer)", s["answer_post_ms"])]
    out = [f"{'ms over ' + str(s['tap_to_ring_ms']['n']) + ' calls':38}{'p50':>8}{'max':>8}", "-" * 54]
    for label, v in rows:
        out.append(f"{label:38}{v.get('p50', 0):8.0f}{v.get('max', 0):8.0f}")
    idle, cc = res["idle"], res["cpu_call"]
    st = cc["steady"]
    out.append("-" * 54)
    out.append(f"server CPU, idle {idle['seconds']:.0f} s: {idle['server_cpu_pct']:.1f} % of one core "
               f"(others {idle['other_processes_cpu_pct']:.0f} %)")
    out.append(f"server CPU, one recorded call, {st['seconds']:.0f} s steady: {st['server_cpu_pct']:.1f} % of one core "
               f"(bench peers {st['bench_peers_cpu_pct']:.0f} %, others {st['other_processes_cpu_pct']:.0f} %; "
               f"desk {st['desk_fps']} fps, caller {st['caller_fps']} fps)")
    wc = cc["whole_call"]
    out.append(f"  whole call tap..recording stored: {wc['seconds']:.1f} s, server {wc['server_cpu_s']:.2f} CPU s "
               f"({wc['server_cpu_pct']:.1f} %)")
    for r in cc["recordings"]:
        out.append(f"  recording {r['track']}: {r['mime']}, {r['size']} bytes, {r['duration_s']:.1f} s"
                   f" = {8 * r['size'] / max(r['duration_s'] or 1, 1e-3) / 1000:.0f} kbit/s"
                   + (f", decodes: {r['decoded']['frames']} frames {r['decoded']['width']}x{r['decoded']['height']}"
                      if "decoded" in r else ""))
    return "\n".join(out)


async def main_async(args) -> int:
    started = datetime.fromisoformat(os.environ["BAOJING_BENCH_STARTED"]) if os.environ.get(
        "BAOJING_BENCH_STARTED") else datetime.now(timezone.utc)
    results: dict = {
        "bench": "video", "started_at": started.isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python -m bench.video", *sys.argv[1:]]),
        "params": vars(args),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "source": describe_source(ROOT), "network": "loopback only (unshare -n; 127.0.0.1 + 127.0.0.2)",
        "peers": "aiortc (caller: synthetic 320x240 camera + silence; desk: synthetic camera); no browser",
    }
    work = Path(tempfile.mkdtemp(prefix="baojing-bench-video-"))
    try:
        await asyncio.wait_for(run(args, work, results), args.timeout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    calls = results["calls"]
    results["summary"] = {k: summary([c[k] for c in calls]) for k in (
        "tap_to_ring_ms", "answer_to_first_frame_desk_ms", "answer_to_first_frame_caller_ms",
        "tap_to_recorder_connected_ms", "post_ms", "answer_post_ms", "hangup_to_stored_ms")}
    worst = max(results["summary"]["answer_to_first_frame_desk_ms"]["max"],
                results["summary"]["answer_to_first_frame_caller_ms"]["max"])
    results["goal_first_frame_within_1s"] = worst <= GOAL_FIRST_FRAME_S * 1000
    out_dir = ROOT / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"video-{started:%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    log(f"\nBaojing video bench, {started:%Y-%m-%d %H:%M} UTC: {args.calls} calls, aiortc peers, loopback netns, "
        f"SQLite, {os.cpu_count()} CPUs")
    log(table(results))
    log(f"goal (first frame within 1 s of answer, both sides, every call): "
        f"{'met' if results['goal_first_frame_within_1s'] else 'NOT met'}")
    errs = [c["errors"] for c in calls + [results["cpu_call"]] if c["errors"]]
    missing = [c["n"] for c in calls + [results["cpu_call"]] if {r["track"] for r in c["recordings"]} < {"video", "audio"}]
    if errs or missing or results.get("server_log_errors") or "server_exited" in results:
        log(f"!!! peer errors {errs}; calls without both recordings {missing}; server exited "
            f"{results.get('server_exited')}; server log: {results.get('server_log_errors')}")
    log(f"results: {path.relative_to(ROOT)}")
    return 1 if errs or missing else 0


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.video", description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=10, help="timed calls, one after another (1-50)")
    p.add_argument("--hold", type=float, default=1.0, help="seconds each timed call stays up after both first frames")
    p.add_argument("--cpu-seconds", type=float, default=20.0, help="length of the recorded call and of the idle baseline")
    p.add_argument("--step-timeout", type=float, default=20.0, help="seconds any one step may take")
    p.add_argument("--keep-log", action="store_true", help="copy the server's log to var/bench/")
    p.add_argument("--timeout", type=float, default=600.0, help="the whole run, seconds")
    a = p.parse_args(argv)
    if not 1 <= a.calls <= 50 or not 1 <= a.cpu_seconds <= 120 or not 0 <= a.hold <= 60:
        p.error("--calls 1-50, --cpu-seconds 1-120, --hold 0-60")
    return a


def reexec_in_namespace(argv: list[str], timeout: float) -> int:
    """The same command again, inside `unshare -n` with loopback and 127.0.0.2 (tests/netns.py)."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        sys.exit("bench.video needs `unshare` (util-linux) and `ip` (iproute2) for a loopback-only namespace")
    py = " ".join(["exec", sys.executable, "-m", "bench.video", *[f"'{x}'" for x in argv]])
    inner = f"ip link set lo up && ip addr add 127.0.0.2/8 dev lo && {py}"
    env = {**os.environ, INSIDE: "1", "BAOJING_BENCH_STARTED": datetime.now(timezone.utc).isoformat()}
    try:
        return subprocess.run(["unshare", "-n", "sh", "-c", inner], cwd=ROOT, env=env, timeout=timeout + 60).returncode
    except subprocess.TimeoutExpired:
        print(f"bench.video: the namespaced run took over {timeout + 60:.0f} s", file=sys.stderr)
        return 2


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if not inside():
        sys.exit(reexec_in_namespace(argv, args.timeout))
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
