"""Browser end-to-end: the real server in its own process, Debian's Chromium driven by Playwright."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from browsing import BAOJING, ROOT, SHOTS, served


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required"]



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
    with served(tmp, env) as base:
        yield base


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
