"""Run a test file again inside a network namespace that has only loopback (127.0.0.1, plus
127.0.0.2 for aioice, which skips 127.0.0.1 as a host address), so no WebRTC candidate can point
off this machine (docs/design.md, "Known traps"). The outer test calls `run_inside`; the inner run sees
the environment flag INSIDE set and defines the real test instead."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

INSIDE = "BAOJING_TEST_IN_NETNS"
ROOT = Path(__file__).resolve().parents[1]


def inside() -> bool:
    return bool(os.environ.get(INSIDE))


def run_inside(test_file: Path, select: str, timeout: float = 300, expect: str = "1 passed") -> str:
    """Run `pytest test_file -k select` inside `unshare -n`; fail (never skip) when that cannot be
    done. Returns the inner run's output."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.fail("this test needs `unshare` (util-linux) and `ip` (iproute2) to make a loopback-only "
                    "network namespace; install them, it must not be skipped")
    inner = (f"ip link set lo up && ip addr add 127.0.0.2/8 dev lo && exec {sys.executable} -m pytest -q -s "
             f"-p no:cacheprovider {test_file} -k '{select}'")
    try:
        proc = subprocess.run(["unshare", "-n", "sh", "-c", inner], cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout, env={**os.environ, INSIDE: "1"})
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"the namespaced run took over {timeout:.0f} s:\n{e.stdout}\n{e.stderr}")
    print(proc.stdout[-8000:], proc.stderr[-3000:])
    if proc.returncode != 0 and "unshare:" in proc.stderr:
        pytest.fail("cannot create a network namespace (`unshare -n` needs root or CAP_SYS_ADMIN); this media test "
                    f"must run, not skip:\n{proc.stderr}")
    assert proc.returncode == 0, f"the namespaced run failed:\n{proc.stdout[-8000:]}\n{proc.stderr[-3000:]}"
    assert expect in proc.stdout, proc.stdout
    return proc.stdout
