"""Login lockout, measured: 20 wrong passwords for one account from one address, then the right
one, in process on a fresh SQLite database. Prints each answer and the median time of a checked
refusal (Argon2, on purpose slow) against a locked one (no password checked), and the audit
chain's verify over the entries written. `.venv/bin/python -m bench.lockout` (RELIABILITY.md)."""
from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
import time

import httpx

from baojing.app import create_app
from baojing.auth.audit import verify
from baojing.config import Settings
from baojing.db import make_engine, make_sessionmaker
from baojing.demo import DEMO_PASSWORD, seed
from baojing.migrate import upgrade


async def _seed(url: str) -> None:
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as s, s.begin():
        await seed(s)
    await engine.dispose()


async def run(url: str) -> int:
    await _seed(url)
    app = create_app(Settings(database_url=url, map_tiles="none", demo=True))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as c:
            answers = []
            for _ in range(20):
                t0 = time.perf_counter()
                r = await c.post("/api/auth/login", json={"username": "calltaker", "password": "wrong-password"})
                answers.append((r.status_code, (time.perf_counter() - t0) * 1000))
            right = await c.post("/api/auth/login", json={"username": "calltaker", "password": DEMO_PASSWORD})
        await app.state.audit.flush()
        async with app.state.sessions() as s:
            t0 = time.perf_counter()
            v = await verify(s)
            verify_ms = (time.perf_counter() - t0) * 1000
    checked = [ms for code, ms in answers if code == 401]
    locked = [ms for code, ms in answers if code == 429]
    print("answers:", " ".join(str(code) for code, _ in answers), "| right password then:", right.status_code,
          right.json().get("code"))
    print(f"checked refusal (401) median {statistics.median(checked):.0f} ms over {len(checked)}; "
          f"locked refusal (429) median {statistics.median(locked):.1f} ms over {len(locked)}")
    print(f"audit chain: {v.checked} entries, intact={v.ok}, verified in {verify_ms:.1f} ms")
    ok = [code for code, _ in answers] == [401] * 5 + [429] * 15 and right.status_code == 429 and v.ok
    return 0 if ok else 1


def main() -> None:
    d = tempfile.mkdtemp()
    url = f"sqlite+aiosqlite:///{d}/lockout.db"
    try:
        upgrade(url)
        raise SystemExit(asyncio.run(run(url)))
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
