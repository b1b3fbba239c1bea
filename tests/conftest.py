"""Fixtures: a real database built by the migrations (SQLite always, PostgreSQL when reachable),
the app with its lifespan, an HTTP client on it, and a live uvicorn server for WebSocket tests."""
from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from baojing.app import create_app
from baojing.config import Settings
from baojing.demo import DEMO_PASSWORD, seed
from baojing.db import make_engine, make_sessionmaker
from baojing.migrate import upgrade
from baojing.schema import metadata

PG_URL = os.environ.get("BAOJING_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def _pg_reachable() -> str | None:
    host, port = "127.0.0.1", 5432
    try:
        from sqlalchemy.engine import make_url

        u = make_url(PG_URL)
        host, port = u.host or host, u.port or port
        socket.create_connection((host, port), timeout=2).close()
        return None
    except OSError as e:
        return f"PostgreSQL not reachable at {host}:{port} ({e}); PostgreSQL variants skipped"


def _migrate_and_seed(url: str) -> None:
    upgrade(url)

    async def run():
        engine = make_engine(url)
        async with make_sessionmaker(engine)() as s, s.begin():
            await seed(s)
        await engine.dispose()

    asyncio.run(run())


# Demo accounts and places are seeded once per run (password hashing is slow on purpose); every
# test starts from that state.
SEEDED = {"users", "stations", "districts"}


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("db") / "template.db"
    _migrate_and_seed(f"sqlite+aiosqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def pg_database() -> str:
    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    name = f"baojing_test_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str):
        engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
        async with engine.connect() as c:
            await c.execute(text(sql))
        await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    _migrate_and_seed(url)
    yield url
    asyncio.run(admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "baojing.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("pg_database")
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables if t.name not in SEEDED)

    async def wipe():
        engine = create_async_engine(url)
        async with engine.begin() as c:
            # The audit log refuses TRUNCATE (append-only): a test database may bypass its trigger.
            await c.execute(text("SET LOCAL session_replication_role = replica"))
            await c.execute(text(f"TRUNCATE {tables} RESTART IDENTITY"))
            await c.execute(text("UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_enabled_at = NULL"))
        async with make_sessionmaker(engine)() as s, s.begin():
            await seed(s)  # units again; the accounts are still there, so no slow hashing
        await engine.dispose()

    asyncio.run(wipe())
    return url


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    # Demo mode: the demo accounts log in without a second factor (tests/test_access.py turns it off).
    return Settings(database_url=database_url, map_tiles="none", ws_ping_seconds=1.0, demo=True,
                    media_dir=tmp_path / "media")  # each test its own files, never the checkout's var/


@pytest.fixture
async def app(settings):
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def staff(app):
    """staff('calltaker') -> a client logged in as that demo account."""
    clients = []

    async def make(username: str = "calltaker") -> httpx.AsyncClient:
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        r = await c.post("/api/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        clients.append(c)
        return c

    yield make
    for c in clients:
        await c.aclose()


@pytest.fixture
async def live_server(settings):
    """The app under a real uvicorn on a free loopback port: yields the base URL."""
    app = create_app(settings)
    # A test that leaves a client stalled (it stops reading on purpose) must not hold the
    # server's shutdown, and with it the whole run, forever.
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on",
                            timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True
    await task


def pytest_collection_modifyitems(config, items):
    """Tests marked slow (long fuzzing, long outage runs) run only when asked for: `-m slow`."""
    if "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="long run: select it with -m slow (RELIABILITY.md)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
