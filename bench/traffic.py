"""bench/traffic.py: six phone photos of 3–5 MB each, from the driver's page to "submitted", on a
throttled uplink (Chromium's network emulation, 1.6 Mbps up by default), with and without the
shrinking the page does before it uploads; and how long the determination PDF takes to make.

One run, with nothing to set up (everything on 127.0.0.1; it stops by itself):
1. migrates and seeds a new SQLite database in a temp directory and starts `baojing serve`;
2. makes six camera-sized JPEGs (4000×3000, 3–5 MB: smooth structure plus sensor-like grain,
   which JPEG cannot squeeze, as in a real photo);
3. for each mode (shrink, then no shrink): opens a case over the API with both numbers confirmed
   (codes read from the SMS outbox), opens /m/traffic/ in Debian's Chromium as party A's phone,
   throttles the link, hands the page all six photos at once and times from there to the case
   showing "submitted"; bytes are the request bodies the page sent (every PATCH chunk);
4. the floor: the same bytes at the link's rate (bytes × 8 / uplink), which no protocol beats;
5. the desk decides, and the determination PDF is fetched --pdf-runs times: the server's own
   generation time (Server-Timing) and the time to the last byte.
Prints a table; writes everything to var/bench/traffic-<UTC>.json. `--tiny` is the suite's quick run
(small photos, no throttle)."""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx

from bench.intake import ROOT, Server, baojing_cmd, describe_source

ANSWERS = {"injured": False, "drivable": True, "two_vehicles": True, "licensed_insured": True,
           "drink_drugs": False, "dispute": False}
CHUNK_BYTES = 256 * 1024  # Settings.traffic_chunk_bytes
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def log(msg: str) -> None:
    print(f"[traffic] {msg}", flush=True)


def make_photos(work: Path, tiny: bool) -> list[Path]:
    from PIL import Image, ImageChops

    out = []
    w, h = (800, 600) if tiny else (4000, 3000)
    for i in range(6):
        rnd = random.Random(i)
        base = Image.frombytes("RGB", (160, 120), rnd.randbytes(160 * 120 * 3)).resize((w, h), Image.BICUBIC)
        grain = Image.effect_noise((w, h), 6 + i * 0.6).convert("RGB")
        im = ImageChops.add(base, grain, offset=-128)
        path = work / f"photo-{i}.jpg"
        im.save(path, "JPEG", quality=88)
        out.append(path)
    return out


def code_for(admin: httpx.Client, phone: str) -> str:
    for _ in range(100):
        msgs = [m for m in admin.get("/api/admin/sms", params={"phone": phone}).json()["messages"]
                if m["purpose"].startswith("traffic:")]
        if msgs:
            return re.search(r"(?<!\d)\d{6}(?!\d)", msgs[0]["text"]).group(0)
        time.sleep(0.05)
    raise RuntimeError(f"no code for {phone}")


def ready_case(base: str, admin: httpx.Client, n: int) -> tuple[str, int]:
    """A case with both parties filled in and confirmed, no photos: (A's device token, case id)."""
    c = httpx.Client(base_url=base, timeout=30)
    r = c.post("/api/traffic/cases", json={"answers": ANSWERS, "location": {"lat": 41.57, "lon": 120.45, "accuracy_m": 10}})
    case = r.json()
    h = {"X-Device-Token": case["device_token"]}
    for role, phone, plate in (("A", f"1380013{n:04d}", "辽N12345"), ("B", f"1390013{n:04d}", "辽ND23456")):
        c.put(f"/api/traffic/cases/{case['id']}/parties/{role}", headers=h,
              json={"phone": phone, "plate": plate, "vehicle_type": "small_car", "insurer": "人保财险"}).raise_for_status()
        c.post(f"/api/traffic/cases/{case['id']}/parties/{role}/code", headers=h).raise_for_status()
        c.post(f"/api/traffic/cases/{case['id']}/parties/{role}/verify", headers=h,
               json={"code": code_for(admin, phone)}).raise_for_status()
    return case["device_token"], case["id"]


def upload_run(browser, base: str, token: str, case_id: int, photos: list[Path], shrink: bool, up_bps: float | None,
               timeout_s: float) -> dict:
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN")
    ctx.add_init_script(f"localStorage.setItem('bj.device', {json.dumps(json.dumps(token))});"
                        f"localStorage.setItem('bj.traffic.case', '{case_id}');")
    page = ctx.new_page()
    patches: list[tuple[str, int]] = []  # (upload id, offset) of every chunk the page sent

    def on_request(req):
        if req.method == "PATCH" and "/api/traffic/uploads/" in req.url:
            patches.append((req.url.rsplit("/", 1)[1], int(req.headers["upload-offset"])))

    page.on("request", on_request)
    page.goto(base + "/m/traffic/" + ("" if shrink else "?noshrink=1"))
    page.get_by_test_id("photo-input-5").wait_for(state="attached")
    if up_bps:
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 80,
                                                      "downloadThroughput": 8e6 / 8, "uploadThroughput": up_bps / 8})
    t0 = time.perf_counter()
    for i, p in enumerate(photos):
        page.get_by_test_id(f"photo-input-{i}").set_input_files(str(p))
    for i in range(len(photos)):
        page.wait_for_selector(f"[data-testid=photo-progress-{i}][data-state=done]", timeout=timeout_s * 1000)
    uploaded = time.perf_counter() - t0
    page.get_by_test_id("submit").click()
    page.wait_for_selector("[data-testid=case-status][data-status=submitted]", timeout=60_000)
    total = time.perf_counter() - t0
    stored = page.evaluate("() => Object.values(window.baojing.traffic.case.photos).map((p) => p.size)")
    ctx.close()
    # A chunk's body is the upload's bytes from its offset on, at most one chunk long (the page's
    # blob bodies are not visible to Playwright, their sizes follow from the protocol).
    c = httpx.Client(base_url=base, headers={"X-Device-Token": token})
    sizes = {u: c.get(f"/api/traffic/uploads/{u}").json()["size"] for u in {u for u, _ in patches}}
    chunk = CHUNK_BYTES
    sent = sum(min(chunk, sizes[u] - off) for u, off in patches)
    return {"shrink": shrink, "seconds_to_submitted": round(total, 2), "seconds_uploading": round(uploaded, 2),
            "bytes_sent": sent, "patch_requests": len(patches), "bytes_stored": sum(stored),
            "photos_stored": len(stored)}


def pdf_runs(base: str, token: str, case_id: int, runs: int) -> dict:
    desk = httpx.Client(base_url=base, timeout=60)
    desk.post("/api/auth/login", json={"username": "traffic", "password": "baojing110"}).raise_for_status()
    desk.post(f"/api/traffic/desk/cases/{case_id}/decision",
              json={"liability": {"A": "full", "B": "none"}, "rule": "rear_end"}).raise_for_status()
    server_ms, wall_ms, size = [], [], 0
    c = httpx.Client(base_url=base, timeout=60, headers={"X-Device-Token": token})
    for _ in range(runs):
        t = time.perf_counter()
        r = c.get(f"/api/traffic/cases/{case_id}/determination.pdf")
        r.raise_for_status()
        wall_ms.append((time.perf_counter() - t) * 1000)
        server_ms.append(float(r.headers["server-timing"].split("dur=")[1]))
        size = len(r.content)
    return {"runs": runs, "server_ms_p50": round(statistics.median(server_ms), 1), "server_ms_max": round(max(server_ms), 1),
            "wall_ms_p50": round(statistics.median(wall_ms), 1), "pdf_bytes": size}


def run(args) -> dict:
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="bench-traffic-"))
    env = {**os.environ, "BAOJING_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'bench.db'}", "BAOJING_MAP_TILES": "none",
           "BAOJING_MEDIA_DIR": str(work / "media"),
           # Demo logins (password only) for the desk and the SMS outbox; a real deployment asks staff
           # for a second factor (docs/security.md).
           "BAOJING_DEMO": "true"}
    cmd = baojing_cmd(ROOT)
    for step in ("migrate", "demo"):
        subprocess.run([*cmd, step], env=env, cwd=ROOT, check=True, capture_output=True)
    server = Server("baojing", [*cmd, "serve"], env, work)
    server.start()
    try:
        import asyncio

        asyncio.run(server.wait_healthy())
        log(f"server on {server.base}; making photos")
        photos = make_photos(work, args.tiny)
        sizes = [p.stat().st_size for p in photos]
        log(f"photos: {[round(s / 1e6, 2) for s in sizes]} MB")
        admin = httpx.Client(base_url=server.base, timeout=30)
        admin.post("/api/auth/login", json={"username": "admin", "password": "baojing110"}).raise_for_status()
        up = None if args.tiny else args.up_mbps * 1e6
        results = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "uplink_mbps": None if args.tiny else args.up_mbps,
                   "photo_bytes": sizes, "source": describe_source(ROOT), "modes": []}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            for n, shrink in enumerate((True, False) if not args.shrink_only else (True,)):
                token, case_id = ready_case(server.base, admin, n)
                log(f"{'shrink' if shrink else 'no shrink'}: uploading six photos…")
                res = upload_run(browser, server.base, token, case_id, photos, shrink, up, args.timeout)
                res["floor_seconds"] = round(res["bytes_sent"] * 8 / up, 2) if up else None
                res["ratio_to_floor"] = round(res["seconds_to_submitted"] / res["floor_seconds"], 2) if up else None
                log(json.dumps(res))
                results["modes"].append(res)
                if shrink:
                    results["pdf"] = pdf_runs(server.base, token, case_id, args.pdf_runs)
                    log(json.dumps(results["pdf"]))
            browser.close()
        return results
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def table(res: dict) -> str:
    lines = ["| mode | to submitted | bytes sent | floor (bytes at line rate) | ratio |", "|---|---|---|---|---|"]
    for m in res["modes"]:
        lines.append(f"| {'shrunk to 2560 px' if m['shrink'] else 'originals'} | {m['seconds_to_submitted']} s | "
                     f"{m['bytes_sent'] / 1e6:.2f} MB in {m['patch_requests']} chunks | "
                     f"{m['floor_seconds'] if m['floor_seconds'] is not None else '-'} s | {m['ratio_to_floor'] or '-'} |")
    if "pdf" in res:
        p = res["pdf"]
        lines.append(f"\nPDF (determination, 6 photos): server {p['server_ms_p50']} ms p50 (max {p['server_ms_max']} ms) "
                     f"over {p['runs']} runs; to last byte {p['wall_ms_p50']} ms p50; {p['pdf_bytes'] / 1e3:.0f} KB")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--up-mbps", type=float, default=1.6, help="emulated uplink, Mbit/s")
    ap.add_argument("--pdf-runs", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=900, help="longest wait for the uploads, s")
    ap.add_argument("--tiny", action="store_true", help="small photos, no throttle (the suite's quick run)")
    ap.add_argument("--shrink-only", action="store_true")
    args = ap.parse_args(argv)
    res = run(args)
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"traffic-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(res, indent=2, ensure_ascii=False))
    print(table(res))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
