"""Make an instrumented COPY of the committed tree, to see who waits for the database and why.

    .venv/bin/python -m bench.lockprobe /tmp/bj-probe          # git archive HEAD + probes
    .venv/bin/python -m bench.intake --source /tmp/bj-probe --skip-floor --keep-logs
    grep INSTR var/bench/logs-<timestamp>/baojing-server.log

The copy (never the work tree) gets, printed at shutdown as `INSTR name: n= p50= p99= max= sum=`:
- `begin_wait:<who>`  time spent in SQLite's BEGIN IMMEDIATE, i.e. waiting for the write lock;
- `lock_held:<who>`   from the lock being granted to the connection going back to the pool;
- `loop_lag`          how late a 10 ms asyncio sleep wakes up (event loop blocked);
- `new_sqlite_connection` connections opened (pool overflow churn).
<who> is the HTTP/WebSocket path, or the background task (hub._pump, AuditBuffer, Board.flush,
overdue_watch). With BENCH_EXP_POOL1=1 in the environment the copy uses a single pooled SQLite
connection (waiters queue FIFO in SQLAlchemy's pool instead of SQLite's sleeping busy handler).

The probes are text patches on baojing/db.py and baojing/app.py; when those files change shape
this script says which anchor it no longer finds.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import io
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DB_HEADER = '''import atexit, sys, contextvars, os, time as _time
from datetime import datetime, timezone

WHO = contextvars.ContextVar("who", default="background other")
STATS = {}


def _note(name, dt):
    STATS.setdefault(name, []).append(dt)


def _dump():
    for k, v in sorted(STATS.items()):
        v = sorted(v)
        n = len(v)
        print(f"INSTR {k}: n={n} p50={v[n//2]*1000:.2f}ms p99={v[min(n-1,int(n*.99))]*1000:.2f}ms "
              f"max={v[-1]*1000:.1f}ms sum={sum(v):.2f}s >10ms={sum(1 for x in v if x>0.01)} "
              f">100ms={sum(1 for x in v if x>0.1)}", file=sys.stderr, flush=True)


atexit.register(_dump)
'''

DB_PATCHES = [
    ("from datetime import datetime, timezone\n", DB_HEADER),
    ('    engine = create_async_engine(url, connect_args={"timeout": 30})',
     '''    if os.environ.get("BENCH_EXP_POOL1"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, pool_size=1, max_overflow=0, pool_timeout=60)
    else:
        engine = create_async_engine(url, connect_args={"timeout": 30})'''),
    ('        conn.exec_driver_sql("BEGIN IMMEDIATE")',
     '''        t = _time.perf_counter()
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        now = _time.perf_counter()
        _note("begin_wait:" + WHO.get(), now - t)
        conn.info["t_locked"] = now'''),
    ('''    return engine


def make_sessionmaker''', '''    @event.listens_for(engine.sync_engine, "connect")
    def _count(dbapi_conn, _record):
        _note("new_sqlite_connection", 0.0)

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def _co(dbapi_conn, rec, proxy):
        rec.info["who"] = WHO.get()

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _ci(dbapi_conn, rec):
        tl = rec.info.pop("t_locked", None)
        if tl is not None:
            _note("lock_held:" + rec.info.get("who", "?"), _time.perf_counter() - tl)

    return engine


def make_sessionmaker'''),
]

LAG = '''        from .db import WHO, _note
        import time as _t

        async def _lag():
            while True:
                t = _t.perf_counter()
                await asyncio.sleep(0.01)
                _note("loop_lag", _t.perf_counter() - t - 0.01)
        WHO.set("background loop-lag")
        app.state._lag = asyncio.create_task(_lag())
'''

TAG = '''    from .db import WHO

    class Tag:
        def __init__(self, a):
            self.a = a

        async def __call__(self, scope, receive, send):
            if scope["type"] in ("http", "websocket"):
                WHO.set(scope["type"] + " " + scope["path"])
            await self.a(scope, receive, send)
    app.add_middleware(Tag)
    return app'''

BACKGROUND = [("        await app.state.hub.start()\n", "hub._pump"),
              ("        app.state.audit.start()\n", "AuditBuffer"),
              ("        app.state.board.start()\n", "Board.flush"),
              ("        overdue = asyncio.create_task(watch.overdue_watch(app.state))\n", "overdue_watch")]


def patch(path: Path, pairs) -> None:
    s = path.read_text()
    for old, new in pairs:
        if old not in s:
            raise SystemExit(f"{path}: anchor not found, the probe needs updating:\n{old}")
        s = s.replace(old, new, 1)
    path.write_text(s)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dest", help="an empty or absent directory outside the work tree")
    dest = Path(p.parse_args().dest).resolve()
    if dest == ROOT or ROOT in dest.parents:
        raise SystemExit("the copy must be outside the work tree")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    # Read-only: the committed tree as a tar stream.
    tar = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True).stdout
    tarfile.open(fileobj=io.BytesIO(tar)).extractall(dest)
    for d in (ROOT / "baojing" / "web").iterdir():  # pages the app mounts that may not be committed yet
        if d.is_dir() and not (dest / "baojing" / "web" / d.name).exists():
            shutil.copytree(d, dest / "baojing" / "web" / d.name)
    patch(dest / "baojing" / "db.py", DB_PATCHES)
    app = dest / "baojing" / "app.py"
    s = app.read_text()
    anchor = "        app.state.bus = events.InProcessBus()\n"
    pairs = [(anchor, anchor + LAG)]
    pairs += [(a, f'        WHO.set("background {tag}")\n' + a) for a, tag in BACKGROUND if a in s]
    pairs += [("        try:\n            yield\n", '        WHO.set("background other")\n        try:\n            yield\n'),
              ("    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)\n    return app",
               "    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)\n" + TAG)]
    patch(app, pairs)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    print(f"instrumented copy of {head.strip()} in {dest}")


if __name__ == "__main__":
    sys.exit(main())
