"""Fan-out: what one more console costs the server for each alarm.

Runs bench/intake.py's load twice on fresh servers, with --few and with --many consoles listening
(same rate, same alarms), and reports the server's CPU per alarm in each run and the difference
per extra console: `(cpu_ms_per_alarm(many) - cpu_ms_per_alarm(few)) / (many - few)`, in µs.
The same for bench/floor.py, whose fan-out is a bare `send_text` per socket. CPU time, not
latency, so the figure holds up on a machine shared with other work better than a tail does.

    .venv/bin/python -m bench.fanout [--rate 50] [--seconds 10] [--few 1] [--many 101]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from bench import intake
from bench.intake import ROOT, Server, baojing_cmd, describe_source, prepare_database, server_env


async def main_async(args) -> int:
    started = datetime.now(timezone.utc)
    results: dict = {"bench": "fanout", "started_at": started.isoformat(timespec="seconds"),
                     "command": " ".join([".venv/bin/python -m bench.fanout", *sys.argv[1:]]),
                     "source": describe_source(ROOT), "load_average_before": os.getloadavg()[0]}
    bad = 0
    for target in ("baojing", "floor"):
        for consoles in (args.few, args.many):
            work = Path(tempfile.mkdtemp(prefix="baojing-bench-"))
            try:
                env = server_env(f"sqlite+aiosqlite:///{work / 'bench.db'}")
                cmd = [*baojing_cmd(ROOT), "serve"] if target == "baojing" else [sys.executable, "-m", "bench.floor"]
                if target == "baojing":
                    await asyncio.to_thread(prepare_database, env, ROOT)
                load = intake.parse_args(["--rate", str(args.rate), "--seconds", str(args.seconds),
                                          "--consoles", str(consoles), "--skip-floor", "--warmup", "10"])
                load.password = args.password
                r = await intake.run_target(target, Server(target, cmd, env, work), load)
                bad |= bool(r["missing"] or r["errors"])
                results[f"{target}_{consoles}"] = {k: r[k] for k in (
                    "consoles", "alarms_acked", "server_cpu_s", "server_cpu_ms_per_alarm", "missing", "errors",
                    "other_processes_cpu_pct", "load_average_1m")}
            finally:
                shutil.rmtree(work, ignore_errors=True)
    out = {}
    for target in ("baojing", "floor"):
        few, many = results[f"{target}_{args.few}"], results[f"{target}_{args.many}"]
        out[target] = round(1000 * (many["server_cpu_ms_per_alarm"] - few["server_cpu_ms_per_alarm"])
                            / (args.many - args.few), 1)
    results["us_per_extra_console_per_alarm"] = out
    path = ROOT / "var" / "bench" / f"fanout-{started:%Y%m%d-%H%M%S}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1))
    print(f"\nFan-out, {started:%Y-%m-%d %H:%M} UTC: {args.rate}/s x {args.seconds}s, {args.few} vs {args.many} consoles, "
          f"load average before {results['load_average_before']:.2f}")
    for target in ("baojing", "floor"):
        few, many = results[f"{target}_{args.few}"], results[f"{target}_{args.many}"]
        print(f"  {target:8} server CPU per alarm {few['server_cpu_ms_per_alarm']:.2f} ms with {args.few}, "
              f"{many['server_cpu_ms_per_alarm']:.2f} ms with {args.many} consoles (noise {few['other_processes_cpu_pct']:.0f} / "
              f"{many['other_processes_cpu_pct']:.0f} %): {out[target]:.1f} µs per extra console per alarm")
    if out["floor"] > 0:
        print(f"  ours/floor {out['baojing'] / out['floor']:.1f}x")
    print(f"results: {path.relative_to(ROOT)}")
    return 1 if bad else 0


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=50)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--few", type=int, default=1)
    p.add_argument("--many", type=int, default=101)
    args = p.parse_args(argv)
    from baojing.demo import DEMO_PASSWORD

    args.password = DEMO_PASSWORD
    import uvloop

    sys.exit(uvloop.run(main_async(args)))


if __name__ == "__main__":
    main()
