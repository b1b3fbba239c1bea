"""`baojing serve` as a subprocess on a free loopback port, for the tests that need a real server
process (browser tests, the schema fuzzing)."""
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
BAOJING = str(Path(sys.executable).parent / "baojing")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(tmp: Path, env: dict):
    """`baojing serve` on a free loopback port with this environment: yields its base URL once
    /healthz answers, and stops it afterwards."""
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
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
