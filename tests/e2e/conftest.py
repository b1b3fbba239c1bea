"""Browser end-to-end: the real server in its own process, Debian's Chromium driven by Playwright."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright

from browsing import SHOTS

ROOT = Path(__file__).resolve().parents[2]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required"]
BAOJING = str(Path(sys.executable).parent / "baojing")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Yields the base URL of a fresh `baojing serve` on its own SQLite database."""
    tmp = tmp_path_factory.mktemp("e2e")
    env = {**os.environ, "BAOJING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'e2e.db'}",
           "BAOJING_MAP_TILES": "none", "BAOJING_DEMO": "true",
           # A quick-handling case sounds on the traffic desk after 3 s instead of 10 minutes.
           "BAOJING_TRAFFIC_ALERT_AFTER_S": "3"}
    # Every unit starts off duty: the tests put officers on duty themselves.
    for cmd in (["migrate"], ["demo", "--no-patrols"]):
        subprocess.run([BAOJING, *cmd], env=env, check=True, cwd=ROOT, capture_output=True)
    port = _free_port()
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen([BAOJING, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail(f"server did not start; log: {(tmp / 'server.log').read_text()[-2000:]}")
    yield base
    proc.terminate()
    proc.wait(timeout=10)


# Per module: sync Playwright keeps an event loop running while it is open, and the async tests
# that run after the browser tests need none running.
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install chromium)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()
