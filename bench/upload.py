"""Alarms during large uploads: does a caller's 20 MB clip make the next alarm wait?

Starts the real server (`baojing migrate`, `baojing demo`, `baojing serve`) on a fresh SQLite file
(or --database-url), as bench/intake.py does, and posts alarms open loop at --rate for --seconds
twice: phase A with nothing else going on, phase B while --uploaders callers each send, back to
back, what a caller's phone sends in a text call: `POST /api/calls`, then one clip (a real WebM or
MP4 of about 20 MB, probed by the server) and --photos photos (JPEG, 4.5 MB) to
`POST /api/calls/{id}/attachments` with the call's device token. The uploads go at loopback speed,
so the server takes in far more bytes per second than phones on a mobile network could send: the
worst case for the alarms beside them. Reported per phase: alarm POST answer p50/p99/max, and in
phase B the upload throughput (MB/s) and each upload's time. Then the same two phases against
bench/floor.py (same uvicorn; its upload route parses the multipart body and copies and hashes the
file in a worker thread, no database, no probe). Talks only to 127.0.0.1; stops by itself.

    .venv/bin/python -m bench.upload [--rate 50] [--seconds 20] [--uploaders 2] [--photos 2]
"""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path

import httpx

from bench.intake import (CLIENT_KEEPALIVE_S, ROOT, Run, Server, baojing_cmd, compare_table, cpu_seconds, describe_source,
                          machine_busy_seconds, prepare_database, server_env, stats)

perf = time.perf_counter
MIB = 1024 * 1024
# The route takes a clip up to 20 MiB and a request body up to 21 MiB (baojing/media/api.py).
CLIP_MAX_BYTES = 20 * MIB
PHOTO_BYTES = 4_500_000  # under the 5 MB a call's photo may be
CLIP_FPS, CLIP_SIZE, CLIP_MAX_SECONDS = 10, (640, 480), 14.5


# ------------------------------------------------------------------------------------------ files

def make_clip(fmt: str, target: int) -> bytes:
    """A real clip of about `target` bytes: frames of noise (which no encoder squeezes) until the file
    would pass the target. WebM is written live, as a phone's MediaRecorder writes it: no duration in
    its header, so the server walks every packet to learn how long it is (the most probing costs)."""
    import av

    w, h = CLIP_SIZE
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt, options={"live": "1"} if fmt == "webm" else {}) as out:
        s = out.add_stream("libvpx" if fmt == "webm" else "libx264", rate=CLIP_FPS)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.bit_rate = 16_000_000
        s.codec_context.time_base = Fraction(1, CLIP_FPS)
        s.codec_context.options = ({"deadline": "realtime", "cpu-used": "8"} if fmt == "webm"
                                   else {"preset": "ultrafast"})
        frame_bytes, i = 0, 0
        # Stop a few frames short of the target: the encoder's last packets and the trailer follow.
        while i < CLIP_MAX_SECONDS * CLIP_FPS and buf.tell() + 4 * frame_bytes < target:
            f = av.VideoFrame(w, h, "yuv420p")
            for p in f.planes:
                p.update(os.urandom(p.buffer_size))
            f.pts = i
            before = buf.tell()
            for packet in s.encode(f):
                out.mux(packet)
            frame_bytes = max(frame_bytes, buf.tell() - before)
            i += 1
        for packet in s.encode(None):
            out.mux(packet)
    data = buf.getvalue()
    if len(data) > CLIP_MAX_BYTES:
        raise RuntimeError(f"the clip came out at {len(data)} bytes, over the route's {CLIP_MAX_BYTES}")
    return data


def cached_clip(fmt: str, target: int) -> bytes:
    """Encoding 20 MB of noise takes seconds of CPU: made once per size and kept under var/bench/."""
    path = ROOT / "var" / "bench" / f"clip-{target}.{fmt}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(make_clip(fmt, target))
        tmp.replace(path)
    return path.read_bytes()


def make_photo(size: int) -> bytes:
    """JPEG by its magic bytes and incompressible after them: the route checks the type, not the image."""
    return b"\xff\xd8\xff\xe0" + os.urandom(size - 4)


# ------------------------------------------------------------------------------------------- load

class Uploader:
    """One caller after another: a call, its clip, its photos; as fast as the server takes them."""

    def __init__(self, n: int, base: str, clip: tuple[str, bytes, str], photos: int, photo: bytes,
                 uplink_bps: float = 0):
        self.n, self.base, self.clip, self.photos, self.photo = n, base, clip, photos, photo
        self.uplink = uplink_bps / 8  # bytes a second; 0: as fast as the server reads
        self.done: list[dict] = []  # {"kind", "bytes", "s", "status"}
        self.errors: list[str] = []

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(base_url=self.base, timeout=120) as c:
            k = 0
            while not stop.is_set():
                k += 1
                phone = f"18{self.n:02d}{k:07d}"
                r = await c.post("/api/calls", json={
                    "idempotency_key": uuid.uuid4().hex, "phone": phone, "name": None, "kind": "text",
                    "location": {"lat": 41.57, "lon": 120.43, "accuracy_m": 15, "crs": "wgs84", "source": "device"}})
                if r.status_code != 201:
                    self.errors.append(f"call HTTP {r.status_code}: {r.text[:200]}")
                    await asyncio.sleep(0.5)
                    continue
                call = r.json()
                headers = {"X-Device-Token": call["device_token"]}
                files = [("clip", self.clip)] + [("photo", ("photo.jpg", self.photo, "image/jpeg"))] * self.photos
                for kind, f in files:
                    if stop.is_set():
                        break
                    t = perf()
                    url = f"/api/calls/{call['id']}/attachments"
                    if self.uplink:
                        content, form = self.paced(f)
                        r = await c.post(url, content=content, headers={**headers, **form})
                    else:
                        r = await c.post(url, files={"file": f}, headers=headers)
                    if r.status_code == 201:
                        self.done.append({"kind": kind, "bytes": len(f[1]), "t0": t, "t1": perf()})
                    else:
                        self.errors.append(f"{kind} HTTP {r.status_code}: {r.text[:200]}")


    def paced(self, f: tuple[str, bytes, str]):
        """The multipart body of one file, sent at the phone's uplink rate (64 KB at a time)."""
        boundary = uuid.uuid4().hex
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{f[0]}"\r\n'
                f"Content-Type: {f[2]}\r\n\r\n").encode() + f[1] + f"\r\n--{boundary}--\r\n".encode()
        rate = self.uplink

        async def chunks():
            t0 = perf()
            for at in range(0, len(body), 65536):
                delay = t0 + at / rate - perf()
                if delay > 0:
                    await asyncio.sleep(delay)
                yield body[at:at + 65536]

        return chunks(), {"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(len(body))}


async def alarms_open_loop(run: Run, client: httpx.AsyncClient, prefix: str, args) -> dict:
    """--rate alarms a second for --seconds by the clock (intake.py's shots: the clock starts at the
    scheduled send, a wait for a free connection included). Their POST answer times, and the CPU."""
    n = int(round(args.rate * args.seconds))
    shots = [run.make_shot(i, prefix) for i in range(n)]
    srv0, all0, me0, wall0 = cpu_seconds(run.server_pid), machine_busy_seconds(), time.process_time(), perf()
    t0 = perf() + 0.05
    tasks = []
    for s in shots:
        s.target = t0 + s.i / args.rate
        delay = s.target - perf()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(run.post(client, s)))
    await asyncio.wait(tasks, timeout=args.post_timeout + 5)
    wall = perf() - wall0
    srv, me = cpu_seconds(run.server_pid) - srv0, time.process_time() - me0
    errors = [s.error or "no answer" for s in shots if s.error or not s.t_ack]
    post_ms = sorted((s.t_ack - s.t_send) * 1000 for s in shots if s.t_ack and not s.error)
    others = machine_busy_seconds() - all0 - srv - me
    return {"alarms": n, "errors": len(errors), "error_examples": sorted(set(errors))[:5], "post_ms": stats(post_ms),
            "server_cpu_pct": round(100 * srv / wall, 1), "generator_cpu_pct": round(100 * me / wall, 1),
            "other_processes_cpu_pct": round(100 * max(others, 0.0) / wall, 1), "wall_s": round(wall, 2)}


def profile(run: Run, args, phase: str):
    """py-spy over one phase of the real server (intake.py's), into FILE-A / FILE-B."""
    if not args.py_spy:
        return None
    run.args = argparse.Namespace(**{**vars(args), "py_spy": f"{args.py_spy}-{phase}"})
    return run.start_py_spy()


async def measure(name: str, server: Server, args, clip: tuple[str, bytes, str], photo: bytes) -> dict:
    print(f"[{name}] starting server on {server.base}", flush=True)
    server.start()
    try:
        await server.wait_healthy()
        run = Run(name, server.base, args, server.proc.pid)
        run.gate = asyncio.Semaphore(args.connections)
        limits = httpx.Limits(max_connections=args.connections, max_keepalive_connections=args.connections, keepalive_expiry=CLIENT_KEEPALIVE_S)
        async with httpx.AsyncClient(base_url=server.base, timeout=args.post_timeout, limits=limits) as client:
            await run.warmup(client, args.warmup)
            print(f"[{name}] phase A: {args.rate}/s for {args.seconds}s, no uploads", flush=True)
            spy = profile(run, args, "A")
            quiet = await alarms_open_loop(run, client, "15", args)
            run.stop_py_spy(spy)
            uploaders = [Uploader(n, server.base, clip, args.photos, photo, args.uplink_mbps * 1e6)
                         for n in range(args.uploaders)]
            stop = asyncio.Event()
            tasks = [asyncio.create_task(u.run(stop)) for u in uploaders]
            # The alarms start once the first bytes of an upload are on their way.
            await asyncio.sleep(0.2)
            print(f"[{name}] phase B: {args.rate}/s for {args.seconds}s, {args.uploaders} callers uploading "
                  f"back to back", flush=True)
            spy = profile(run, args, "B")
            t_b = perf()
            busy = await alarms_open_loop(run, client, "16", args)
            t_e = perf()
            run.stop_py_spy(spy)
            stop.set()
            await asyncio.wait(tasks, timeout=180)
            for t in tasks:
                if not t.done():
                    t.cancel()
                elif t.exception():
                    uploaders[0].errors.append(f"uploader crashed: {t.exception()!r}")
        done = [d for u in uploaders for d in u.done]
        # Throughput over phase B only: the bytes of each upload that fell inside it, pro rata.
        inside = sum(d["bytes"] * max(0.0, min(d["t1"], t_e) - max(d["t0"], t_b)) / max(d["t1"] - d["t0"], 1e-9)
                     for d in done)
        busy["uploads"] = {
            "completed": len(done), "clips": sum(d["kind"] == "clip" for d in done),
            "photos": sum(d["kind"] == "photo" for d in done),
            "mb_per_s": round(inside / 1e6 / (t_e - t_b), 1),
            "clip_ms": stats(sorted((d["t1"] - d["t0"]) * 1000 for d in done if d["kind"] == "clip")),
            "photo_ms": stats(sorted((d["t1"] - d["t0"]) * 1000 for d in done if d["kind"] == "photo")),
            "errors": sum(len(u.errors) for u in uploaders),
            "error_examples": sorted({e for u in uploaders for e in u.errors})[:5],
        }
        result = {"target": name, "quiet": quiet, "uploading": busy}
        if server.proc.poll() is not None:
            result["server_exited"] = server.proc.returncode
        return result
    finally:
        server.stop()


# ------------------------------------------------------------------------------------------ report

def report(ours: dict, floor: dict | None) -> str:
    def phase(key: str, label: str):
        return [
            (f"{label}: alarm POST p50 ms", lambda r: r[key]["post_ms"].get("p50"), True),
            (f"{label}: alarm POST p99 ms", lambda r: r[key]["post_ms"].get("p99"), True),
            (f"{label}: alarm POST max ms", lambda r: r[key]["post_ms"].get("max"), True),
            (f"{label}: alarm errors", lambda r: r[key]["errors"], False),
            (f"{label}: server CPU %", lambda r: r[key]["server_cpu_pct"], False),
            (f"{label}: noise (others) CPU %", lambda r: r[key]["other_processes_cpu_pct"], False),
        ]

    def ratio(p: str):
        return lambda r: (round(r["uploading"]["post_ms"][p] / r["quiet"]["post_ms"][p], 2)
                          if r["quiet"]["post_ms"].get(p) else None)

    up = lambda r: r["uploading"]["uploads"]  # noqa: E731
    rows = [*phase("quiet", "A"), *phase("uploading", "B"),
            ("B/A alarm POST p50", ratio("p50"), False), ("B/A alarm POST p99", ratio("p99"), False),
            ("B: uploads MB/s", lambda r: up(r)["mb_per_s"], True),
            ("B: clips / photos stored", lambda r: f"{up(r)['clips']} / {up(r)['photos']}", False),
            ("B: clip upload p50 ms", lambda r: up(r)["clip_ms"].get("p50"), True),
            ("B: photo upload p50 ms", lambda r: up(r)["photo_ms"].get("p50"), True),
            ("B: upload errors", lambda r: up(r)["errors"], False)]
    return compare_table(rows, ours, floor, label_w=34)


async def main_async(args) -> int:
    work = Path(tempfile.mkdtemp(prefix="baojing-bench-"))
    started = datetime.now(timezone.utc)
    clip_target = min(int(args.clip_mb * MIB), CLIP_MAX_BYTES - 64 * 1024)
    data = cached_clip(args.clip_format, clip_target)
    clip = (f"clip.{args.clip_format}", data, f"video/{args.clip_format}")
    photo = make_photo(min(PHOTO_BYTES, clip_target))
    results: dict = {
        "bench": "upload", "started_at": started.isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python -m bench.upload", *sys.argv[1:]]),
        "params": {k: v for k, v in vars(args).items() if k != "password"},
        "clip_bytes": len(data), "photo_bytes": len(photo),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    source = Path(args.source).resolve() if args.source else ROOT
    results["source"] = describe_source(source)
    try:
        db_url = args.database_url or f"sqlite+aiosqlite:///{work / 'bench.db'}"
        results["database"] = db_url.split("@")[-1] if "@" in db_url else "sqlite (fresh temp file)"
        env = server_env(db_url, BAOJING_MEDIA_DIR=str(work / "media"))
        if source != ROOT:
            env["PYTHONPATH"] = str(source)
        print(f"clip {len(data) / 1e6:.1f} MB ({args.clip_format}), photo {len(photo) / 1e6:.1f} MB; "
              f"preparing database: {results['database']}", flush=True)
        await asyncio.to_thread(prepare_database, env, source)
        ours = Server("baojing", [*baojing_cmd(source), "serve"], env, work, cwd=source)
        results["baojing"] = await measure("baojing", ours, args, clip, photo)
        if not args.skip_floor:
            results["floor"] = await measure("floor", Server("floor", [sys.executable, "-m", "bench.floor"], env, work),
                                             args, clip, photo)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"upload-{started:%Y%m%d-%H%M%S}.json"
    results["load_average_after"] = os.getloadavg()
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    ours, floor = results["baojing"], results.get("floor")
    print(f"\nAlarms during uploads, {started:%Y-%m-%d %H:%M} UTC: {args.rate}/s x {args.seconds}s per phase, "
          f"{args.uploaders} callers uploading a {len(data) / 1e6:.1f} MB {args.clip_format} clip + {args.photos} "
          f"photo(s) each, back to back, "
          f"{f'{args.uplink_mbps:g} Mbit/s each' if args.uplink_mbps else 'at loopback speed'}; database {results['database']}; load average after "
          f"{results['load_average_after'][0]:.2f}")
    src = results["source"]
    print(f"server: work tree at {src['git_head']}"
          + (f" + {len(src['uncommitted_changes'])} uncommitted file(s)" if src["uncommitted_changes"] else "")
          if "git_head" in src else f"server: source copy {src['path']}")
    print(report(ours, floor))
    print(f"results: {path.relative_to(ROOT)}")
    bad = 0
    for r in (ours, floor):
        if not r:
            continue
        for key in ("quiet", "uploading"):
            if r[key]["errors"]:
                bad = 1
                print(f"!!! {r['target']} phase {key}: {r[key]['errors']} alarm errors: {r[key]['error_examples']}")
        u = r["uploading"]["uploads"]
        if u["errors"] or not u["completed"]:
            bad = 1
            print(f"!!! {r['target']}: {u['errors']} upload errors, {u['completed']} completed: {u['error_examples']}")
    return bad


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.upload", description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=50, help="alarms per second (open loop), both phases")
    p.add_argument("--seconds", type=float, default=20, help="how long each phase sends alarms")
    p.add_argument("--uploaders", type=int, default=2, help="callers uploading at once in phase B")
    p.add_argument("--photos", type=int, default=2, help="4.5 MB photos each caller sends after its clip (≤ 8)")
    p.add_argument("--uplink-mbps", type=float, default=0,
                   help="each caller's uplink in Mbit/s (a phone's); 0: as fast as the server reads (loopback)")
    p.add_argument("--clip-format", choices=["webm", "mp4"], default="webm",
                   help="webm: as Android's MediaRecorder writes it (no duration in the header); mp4: as iOS's")
    p.add_argument("--clip-mb", type=float, default=20, help="clip size in MiB (at most what the route takes)")
    p.add_argument("--database-url", help="default: a fresh SQLite file in a temp dir")
    p.add_argument("--connections", type=int, default=64, help="most alarm POSTs in flight")
    p.add_argument("--post-timeout", type=float, default=30)
    p.add_argument("--warmup", type=int, default=10, help="alarms sent one by one before phase A (not counted)")
    p.add_argument("--seed", type=int, default=110)
    p.add_argument("--skip-floor", action="store_true", help="measure only the real server")
    p.add_argument("--source", help="run the server from this copy of the source tree (e.g. a `git archive` "
                                    "snapshot, for a before/after pair) instead of the work tree")
    p.add_argument("--py-spy", metavar="FILE", help="profile the real server with py-spy: FILE-A and FILE-B, one per "
                                                    "phase (pip install py-spy into .venv); do not quote its latency")
    p.add_argument("--py-spy-format", default="raw", choices=["raw", "flamegraph", "speedscope"])
    p.add_argument("--py-spy-idle", action="store_true", help="include waiting (wall clock) samples, not just CPU")
    a = p.parse_args(argv)
    if a.rate <= 0 or a.seconds <= 0 or a.uploaders < 1 or not 0 <= a.photos <= 8 or a.clip_mb <= 0 or a.uplink_mbps < 0:
        p.error("rate, seconds, uploaders and clip size must be positive; photos 0-8")
    if a.database_url:
        from sqlalchemy.engine import make_url

        if make_url(a.database_url).host not in (None, "", "127.0.0.1", "localhost"):
            p.error("the bench talks only to 127.0.0.1")
    return a


def main(argv=None) -> None:
    args = parse_args(argv)
    from baojing.demo import DEMO_PASSWORD

    args.password = DEMO_PASSWORD
    import uvloop

    sys.exit(uvloop.run(main_async(args)))


if __name__ == "__main__":
    main()
