"""The console in a real browser with many open incidents, while alarms keep arriving.

Prepares a fresh SQLite file (`baojing migrate`, `baojing demo`), inserts N open incidents (one
alarm each, positioned over Chaoyang, spread over the last hour: harness setup, not measured),
starts the real server and opens /console/ in Debian's Chromium as the city dispatcher. Measures:

- **first useful paint**: from navigation start to the first animation frame in which the header
  says N waiting *and* queue rows are on screen (the operator can read and claim the oldest);
- **long tasks** (PerformanceObserver 'longtask', every main-thread task over 50 ms) until the
  first useful paint; over the whole load (until every alarm has its marker, plus 1 s); and while
  alarms are POSTed to the server at --rate per second for --seconds (open loop), with how many
  of those alarms the page had when the load ended;
- the same page state fed **--inject** synthetic `incident.upserted` events per second through the
  console's own live-event path, so the page is measured at that rate even when the server cannot
  deliver it (see bench/README.md, issue 10: intake bends near 40-100 alarms/s today).

The floor, in the same browser and run: a bare page (TicketsCAD-like) that fetches the same
/api/console/snapshot and draws every open incident as one row of a plain table. Ratio = ours/floor.
Talks only to 127.0.0.1; stops by itself.

    .venv/bin/python -m bench.console [--incidents 10000] [--rate 200] [--seconds 10] [--inject 200]
                                      [--trace load|feed]

--trace records a Chrome trace of our page while it loads or during the injected feed, writes it
next to the results and prints where the long tasks' time went (bench/chrometrace.py).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from bench import chrometrace
from bench.intake import ROOT, Server, baojing_cmd, describe_source, machine_busy_seconds, prepare_database, server_env

perf = time.perf_counter
LAT = (41.48, 41.66)
LON = (120.30, 120.56)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required"]

# Runs before any page script: records long tasks, and the first frame in which the page shows
# what an operator needs (`ready()` decides, per page).
OBSERVE = """
window.__bench = {longtasks: [], fup: null};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__bench.longtasks.push([e.startTime, e.duration]);
}).observe({type: "longtask", buffered: true});
"""
CONSOLE_READY = """(n) => {
  const c = document.querySelector('[data-testid=count-new]');
  return Boolean(c && c.textContent === String(n) && document.querySelector('[data-testid=queue-row]'));
}"""
FLOOR_READY = """(n) => document.querySelectorAll('#floor tr').length >= n"""
WATCH = """(n) => {
  const ready = %s;
  const step = () => {
    if (ready(n)) window.__bench.fup = performance.now(); else requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
}"""

# A bare table of the snapshot, as a PHP CAD draws its dashboard: one row per open incident.
FLOOR_PAGE = """<!doctype html><meta charset="utf-8"><title>floor</title><table id="floor"></table>
<script>
fetch('/api/console/snapshot', {credentials: 'same-origin'}).then((r) => r.json()).then((s) => {
  const rows = [];
  for (const i of s.incidents) {
    if (i.status !== 'new' && i.status !== 'claimed') continue;
    const a = i.alarms[0] || {};
    rows.push('<tr><td>' + i.id + '</td><td>' + i.priority + '</td><td>' + i.status + '</td><td>'
      + (a.phone || '') + '</td><td>' + (a.name || '') + '</td><td>' + i.received_at + '</td></tr>');
  }
  document.getElementById('floor').innerHTML = rows.join('');
  // The same live feed as the console's (INJECT below): one row appended per event.
  const table = document.getElementById('floor');
  window.baojing = {incidents: new Map(s.incidents.map((i) => [i.id, i])), live: {seq: s.seq}, feed(name, i) {
    const a = i.alarms[0] || {};
    table.insertAdjacentHTML('beforeend', '<tr><td>' + i.id + '</td><td>' + i.priority + '</td><td>' + i.status
      + '</td><td>' + (a.phone || '') + '</td><td>' + (a.name || '') + '</td><td>' + i.received_at + '</td></tr>');
  }};
});
</script>"""

# When each snapshot request went out, when its first and last bytes came (ms from navigation).
SNAPSHOT_TIMES = """() => performance.getEntriesByType('resource')
  .filter((e) => e.name.includes('/api/console/snapshot'))
  .map((e) => ({url: e.name.replace(location.origin, ''), start: Math.round(e.startTime),
    first_byte: Math.round(e.responseStart), end: Math.round(e.responseEnd), kb: Math.round(e.encodedBodySize / 1024)}))"""

# rate events a second for `seconds`, through window.baojing.feed (the console's live-event path),
# each a new incident shaped like the server's.
INJECT = """async ([rate, seconds]) => {
  const base = [...window.baojing.incidents.values()].find((i) => i.status === 'new');
  let id = 1e9, seq = window.baojing.live.seq + 1e6, sent = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    const due = Math.floor((performance.now() - t0) / 1000 * rate);
    for (; sent < due; sent++) {
      const now = new Date().toISOString();
      window.baojing.feed('incident.upserted', {...base, id: ++id, received_at: now, updated_at: now,
        alarms: base.alarms.map((a) => ({...a, id: id, phone: '137' + String(sent).padStart(8, '0'),
          location: {...a.location, lat: a.location.lat + (sent % 100) / 1e4}}))}, ++seq);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return sent;
}"""


async def seed_incidents(db_url: str, n: int, rng: random.Random) -> None:
    """Harness setup: N open incidents, one located alarm each, received over the last hour."""
    from sqlalchemy import insert, select
    from sqlalchemy.ext.asyncio import create_async_engine

    from baojing.alarms.models import Alarm
    from baojing.auth.models import Device
    from baojing.dispatch.models import Station
    from baojing.incidents.models import Incident

    now = datetime.now(timezone.utc)
    engine = create_async_engine(db_url)
    try:
        async with engine.begin() as c:
            stations = list((await c.execute(select(Station.id))).scalars()) + [None]
            device = (await c.execute(insert(Device).values(created_at=now).returning(Device.id))).scalar_one()
            first = (await c.execute(select(Incident.id).order_by(Incident.id.desc()).limit(1))).scalar() or 0
            times = sorted(now - timedelta(seconds=rng.uniform(0, 3600)) for _ in range(n))
            await c.execute(insert(Incident), [
                {"id": first + 1 + i, "status": "new", "priority": rng.choice((1, 2, 2, 2, 3)), "received_at": at,
                 "updated_at": at, "station_id": rng.choice(stations)} for i, at in enumerate(times)])
            await c.execute(insert(Alarm), [
                {"idempotency_key": f"bench-{uuid.uuid4().hex}", "device_id": device, "incident_id": first + 1 + i,
                 "channel": "phone", "phone": f"139{i:08d}", "phone_verified": False, "name": f"压测{i}",
                 "received_at": at, "updated_at": at, "lat": rng.uniform(*LAT), "lon": rng.uniform(*LON),
                 "accuracy_m": 30.0, "position_source": "gps", "position_at": at} for i, at in enumerate(times)])
    finally:
        await engine.dispose()


async def post_alarms(base: str, rate: float, seconds: float, rng: random.Random) -> dict:
    """Open loop: alarm i leaves at t0 + i/rate whatever the server does."""
    n = int(rate * seconds)
    acked, errors = 0, 0
    sem = asyncio.Semaphore(64)

    async def one(c: httpx.AsyncClient, i: int, at: float) -> None:
        nonlocal acked, errors
        await asyncio.sleep(max(0.0, at - perf()))
        async with sem:
            try:
                r = await c.post("/api/alarms", json={
                    "idempotency_key": uuid.uuid4().hex, "phone": f"138{i:08d}", "name": "压测", "channel": "phone",
                    "location": {"lat": rng.uniform(*LAT), "lon": rng.uniform(*LON), "accuracy_m": 20,
                                 "crs": "wgs84", "source": "device"}})
                if r.status_code == 201:
                    acked += 1
                else:
                    errors += 1
            except httpx.HTTPError:
                errors += 1

    t0 = perf()
    async with httpx.AsyncClient(base_url=base, timeout=30,
                                 limits=httpx.Limits(max_connections=64)) as c:
        await asyncio.gather(*(one(c, i, t0 + i / rate) for i in range(n)))
    return {"sent": n, "acked": acked, "errors": errors, "wall_s": round(perf() - t0, 2),
            "acked_per_s": round(acked / (perf() - t0), 1)}


def summary(longtasks: list, since_ms: float = 0.0) -> dict:
    d = [dur for start, dur in longtasks if start >= since_ms]
    return {"count": len(d), "over_100ms": sum(1 for x in d if x > 100), "max_ms": round(max(d), 1) if d else 0,
            "blocked_ms": round(sum(x - 50 for x in d), 1)}


async def open_page(browser, base: str, password: str, path: str, ready_js: str, n: int, timeout_s: float,
                    floor_html: str | None = None, trace: bool = False):
    ctx = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    r = await ctx.request.post(base + "/api/auth/login", data={"username": "dispatcher", "password": password})
    assert r.ok, await r.text()
    await ctx.add_init_script(OBSERVE)
    page = await ctx.new_page()
    if floor_html is not None:
        await page.route(base + path, lambda route: route.fulfill(status=200, content_type="text/html",
                                                                  body=floor_html))
    await page.add_init_script(f"({WATCH % ready_js})({n})")
    if trace:
        await browser.start_tracing(page=page, categories=chrometrace.CATEGORIES)
    t = perf()
    await page.goto(base + path)
    await page.wait_for_function("() => window.__bench.fup !== null", timeout=timeout_s * 1000, polling=100)
    wall = perf() - t
    fup = await page.evaluate("() => window.__bench.fup")
    return ctx, page, fup, wall


async def measure(args, base: str, password: str) -> dict:
    from playwright.async_api import async_playwright

    rng = random.Random(args.seed)
    out: dict = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            # The floor first: the server's snapshot cache (if any) is then warm for both alike.
            ctx, page, fup, _ = await open_page(browser, base, password, "/bench-floor", FLOOR_READY, args.incidents,
                                                args.timeout, FLOOR_PAGE)
            out["floor"] = {"first_useful_paint_ms": round(fup, 1),
                            "load_longtasks": summary(await page.evaluate("() => window.__bench.longtasks"))}
            if args.inject > 0:
                await page.wait_for_timeout(1000)
                start = await page.evaluate("() => performance.now()")
                fed = await page.evaluate(INJECT, [args.inject, args.seconds])
                await page.wait_for_timeout(1000)
                out["floor"]["injected_feed"] = {"rate": args.inject, "seconds": args.seconds, "events": fed,
                                                 "longtasks": summary(await page.evaluate(
                                                     "() => window.__bench.longtasks"), start)}
            await ctx.close()

            ctx, page, fup, wall = await open_page(browser, base, password, "/console/", CONSOLE_READY,
                                                   args.incidents, args.timeout, trace=args.trace == "load")
            ours = {"first_useful_paint_ms": round(fup, 1), "wall_s": round(wall, 2),
                    "load_longtasks": summary(await page.evaluate("() => window.__bench.longtasks"))}
            await page.wait_for_function("() => window.baojing && window.baojing.ready", timeout=args.timeout * 1000)
            # The load goes on after the first paint: the whole snapshot arrives and is taken in,
            # and the markers go onto the map over many frames. It ends when every alarm has its
            # marker (one located alarm per incident here), plus a second to settle.
            await page.wait_for_function("(n) => window.baojing.markers.size >= n", arg=args.incidents,
                                         timeout=args.timeout * 1000, polling=100)
            await page.wait_for_timeout(1000)  # the clusters' last chunks, map tiles of nothing, first ticks
            done = await page.evaluate("() => [performance.now(), window.__bench.longtasks]")
            ours["whole_load"] = {"ms": round(done[0] - 1000), "longtasks": summary(done[1]),
                                  "tasks": [[round(start), round(dur)] for start, dur in done[1]]}  # ms
            ours["snapshot_requests"] = await page.evaluate(SNAPSHOT_TIMES)
            if args.trace == "load":
                out["trace"] = await browser.stop_tracing()

            if args.inject > 0:
                if args.trace == "feed":
                    await browser.start_tracing(page=page, categories=chrometrace.CATEGORIES)
                start = await page.evaluate("() => performance.now()")
                fed = await page.evaluate(INJECT, [args.inject, args.seconds])
                await page.wait_for_timeout(1000)
                if args.trace == "feed":
                    out["trace"] = await browser.stop_tracing()
                tasks = await page.evaluate("() => window.__bench.longtasks")
                ours["injected_feed"] = {"rate": args.inject, "seconds": args.seconds, "events": fed,
                                         "longtasks": summary(tasks, start)}
            if args.rate > 0:
                before = await page.evaluate("() => [performance.now(), window.baojing.incidents.size]")
                posted = await post_alarms(base, args.rate, args.seconds, rng)
                await page.wait_for_timeout(2000)  # the last events travel
                after = await page.evaluate("() => [performance.now(), window.baojing.incidents.size]")
                tasks = await page.evaluate("() => window.__bench.longtasks")
                ours["server_feed"] = {**posted, "arrived_in_page": after[1] - before[1],
                                       "longtasks": summary(tasks, before[0])}
            out["ours"] = ours
            await ctx.close()
        finally:
            await browser.close()
    f = out["floor"]["first_useful_paint_ms"]
    out["ratio_first_useful_paint"] = round(out["ours"]["first_useful_paint_ms"] / f, 2) if f else None
    if "injected_feed" in out["floor"]:
        o, fl = out["ours"]["injected_feed"]["longtasks"], out["floor"]["injected_feed"]["longtasks"]
        out["ratio_injected_blocked"] = round(o["blocked_ms"] / fl["blocked_ms"], 2) if fl["blocked_ms"] else None
    return out


async def main_async(args) -> int:
    from baojing.demo import DEMO_PASSWORD

    work = Path(tempfile.mkdtemp(prefix="baojing-bench-console-"))
    started = datetime.now(timezone.utc)
    results: dict = {"bench": "console", "started_at": started.isoformat(timespec="seconds"),
                     "command": " ".join([".venv/bin/python -m bench.console", *sys.argv[1:]]),
                     "params": vars(args), "source": describe_source(ROOT),
                     "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    server = None
    try:
        db_url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
        # Demo logins (password only) for the dispatcher; a real deployment asks staff for a second
        # factor (docs/security.md).
        env = server_env(db_url)
        t = perf()
        await asyncio.to_thread(prepare_database, env, ROOT)
        await seed_incidents(db_url, args.incidents, random.Random(args.seed))
        print(f"database with {args.incidents} open incidents in {perf() - t:.1f}s", flush=True)
        server = Server("baojing", [*baojing_cmd(ROOT), "serve"], env, work)
        server.start()
        await server.wait_healthy()
        busy0, t0 = machine_busy_seconds(), perf()
        results.update(await measure(args, server.base, DEMO_PASSWORD))
        # Shared machines: how busy all of it was (of os.cpu_count() cores) while we measured.
        results["machine"]["busy_cores"] = round((machine_busy_seconds() - busy0) / (perf() - t0), 2)
        results["machine"]["loadavg"] = os.getloadavg()
    finally:
        if server:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)

    out_dir = Path(args.out) if args.out else ROOT / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"console-{started:%Y%m%d-%H%M%S}.json"
    trace = results.pop("trace", None)
    if trace is not None:
        trace_path = path.with_suffix(".trace.json")
        trace_path.write_bytes(trace)
        results["trace"] = {"phase": args.trace, "path": str(trace_path),
                            **chrometrace.summarise(json.loads(trace))}
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    ours, floor = results["ours"], results["floor"]
    m = results["machine"]
    print(f"\nBaojing console bench, {started:%Y-%m-%d %H:%M} UTC: {args.incidents} open incidents, "
          f"{os.cpu_count()} CPUs, {m['busy_cores']} cores busy on average (load {m['loadavg'][0]:.1f})")
    print(f"{'':34}{'ours':>14}{'floor':>14}{'ratio':>8}")
    print(f"{'first useful paint (ms)':34}{ours['first_useful_paint_ms']:>14}{floor['first_useful_paint_ms']:>14}"
          f"{results['ratio_first_useful_paint']:>8}")
    for r in ours["snapshot_requests"]:
        print(f"  {r['url']}: sent at {r['start']} ms, first byte {r['first_byte']}, last {r['end']} ms, {r['kb']} KB")
    lo, lf = ours["load_longtasks"], floor["load_longtasks"]
    print(f"{'load: longest task (ms)':34}{lo['max_ms']:>14}{lf['max_ms']:>14}")
    print(f"{'load: tasks over 100 ms':34}{lo['over_100ms']:>14}{lf['over_100ms']:>14}")
    w = ours["whole_load"]
    print(f"whole load, to every marker on the map ({w['ms']} ms) + 1 s")
    for name, key in (("longest task (ms)", "max_ms"), ("tasks over 100 ms", "over_100ms"),
                      ("tasks over 50 ms", "count"), ("blocked, beyond 50 ms each (ms)", "blocked_ms")):
        print(f"{'  ' + name:34}{w['longtasks'][key]:>14}")
    if "injected_feed" in ours:
        i, fi = ours["injected_feed"], floor.get("injected_feed")
        print(f"live events injected, {i['rate']}/s x {i['seconds']} s ({i['events']} into ours)")
        for name, key in (("longest task (ms)", "max_ms"), ("tasks over 100 ms", "over_100ms"),
                          ("tasks over 50 ms", "count"), ("blocked, beyond 50 ms each (ms)", "blocked_ms")):
            print(f"{'  ' + name:34}{i['longtasks'][key]:>14}{fi['longtasks'][key] if fi else '':>14}"
                  f"{results.get('ratio_injected_blocked') or '' if key == 'blocked_ms' else '':>8}")
    if "server_feed" in ours:
        r = ours["server_feed"]
        lt = r["longtasks"]
        print(f"alarms POSTed at {args.rate}/s: {r['acked_per_s']}/s acked, {r['arrived_in_page']} of {r['sent']} in the"
              f" page; longest task {lt['max_ms']} ms, {lt['over_100ms']} over 100 ms, blocked {lt['blocked_ms']} ms")
    if "trace" in results:
        print(f"{args.trace}: " + chrometrace.report(results["trace"]))
    print(f"results: {path}")
    return 0


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__.splitlines()[0])
    p.add_argument("--incidents", type=int, default=10_000, help="open incidents in the database")
    p.add_argument("--rate", type=float, default=200, help="alarms POSTed per second while measuring (0: none)")
    p.add_argument("--inject", type=float, default=200, help="synthetic live events per second fed to the page")
    p.add_argument("--seconds", type=float, default=10, help="how long each feed lasts")
    p.add_argument("--timeout", type=float, default=600, help="seconds to wait for the first useful paint")
    p.add_argument("--seed", type=int, default=110)
    p.add_argument("--trace", choices=("load", "feed"), help="record a Chrome trace of our page in this phase")
    p.add_argument("--out", help="directory for the results JSON (default var/bench/)")
    a = p.parse_args(argv)
    if a.incidents < 1 or a.seconds <= 0:
        p.error("incidents and seconds must be positive")
    return a


def main(argv=None) -> None:
    sys.exit(asyncio.run(main_async(parse_args(argv))))


if __name__ == "__main__":
    main()
