"""Where a page's long tasks go: a Chrome trace (DevTools protocol tracing) reduced to a table.

Used by bench/console.py --trace. Only the renderer main thread's tasks of 50 ms or more count; the
time inside them is split by event name (self time: a Layout inside a FunctionCall counts as
Layout), script time also by function and file, so a run says "marker pane paint 40%" instead of
leaving a 100 MB trace to open by hand.
"""
from __future__ import annotations

from collections import defaultdict

CATEGORIES = ["toplevel", "devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute", "blink.user_timing"]
LONG_US = 50_000
TASKS = {"RunTask", "ThreadControllerImpl::RunTask"}
ENTRIES = {"FunctionCall", "FireAnimationFrame", "TimerFire", "EventDispatch", "v8.evaluateModule", "ParseHTML"}


def main_threads(events: list) -> set:
    return {(e["pid"], e["tid"]) for e in events
            if e.get("ph") == "M" and e.get("name") == "thread_name" and e["args"].get("name") == "CrRendererMain"}


def label(e: dict) -> str:
    if e["name"] in ("FunctionCall", "EvaluateScript", "v8.compile", "TimerFire", "FireAnimationFrame", "EventDispatch"):
        d = e.get("args", {}).get("data", {}) or {}
        where = d.get("functionName") or d.get("type") or ""
        url = (d.get("url") or "").rsplit("/", 1)[-1]
        if url:
            where = f"{where} {url}:{d.get('lineNumber', '')}".strip()
        return f"{e['name']} {where}".strip()
    return e["name"]


def summarise(trace: dict, top: int = 15) -> dict:
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    threads = main_threads(events)
    per: dict = defaultdict(list)
    for e in events:
        if e.get("ph") == "X" and (e.get("pid"), e.get("tid")) in threads and "dur" in e:
            per[(e["pid"], e["tid"])].append(e)
    long_tasks: list = []
    self_us: dict = defaultdict(float)
    callers: dict = defaultdict(float)   # script time by the task's first JS entry point
    for evs in per.values():
        evs.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack: list = []   # [event, end, child time]
        task = None
        for e in evs:
            while stack and e["ts"] >= stack[-1][1]:
                done = stack.pop()
                if task is not None and done[0] is not task:
                    self_us[label(done[0])] += done[0]["dur"] - done[2]
                if done[0] is task:
                    task = None
            if stack:
                stack[-1][2] += e["dur"]
            elif e["name"] in TASKS and e["dur"] >= LONG_US:
                task = e
                long_tasks.append(e["dur"] / 1000)
            if task is not None and e["name"] in ENTRIES and not any(x[0]["name"] in ENTRIES for x in stack):
                callers[label(e)] += e["dur"]
            stack.append([e, e["ts"] + e["dur"], 0.0])
        while stack:
            done = stack.pop()
            if task is not None and done[0] is not task:
                self_us[label(done[0])] += done[0]["dur"] - done[2]
    total = sum(long_tasks) or 1
    ranked = sorted(self_us.items(), key=lambda kv: -kv[1])[:top]
    return {
        "long_tasks": len(long_tasks), "long_ms": round(sum(long_tasks), 1),
        "longest_ms": round(max(long_tasks), 1) if long_tasks else 0,
        "self_ms": [(name, round(us / 1000, 1), round(100 * us / 1000 / total, 1)) for name, us in ranked],
        "entries_ms": [(name, round(us / 1000, 1)) for name, us in sorted(callers.items(), key=lambda kv: -kv[1])[:8]],
    }


def report(s: dict) -> str:
    lines = [f"trace: {s['long_tasks']} tasks >= 50 ms, {s['long_ms']} ms in all, longest {s['longest_ms']} ms",
             "  self time inside them (ms, % of their time):"]
    lines += [f"    {ms:>9} {pct:>5}%  {name}" for name, ms, pct in s["self_ms"]]
    lines.append("  by entry point (ms):")
    lines += [f"    {ms:>9}  {name}" for name, ms in s["entries_ms"]]
    return "\n".join(lines)
