"""The console's JS unit tests (tests/js/console.test.mjs: its store, queue order and words), run
with node's own test runner; the browser tests cover the views."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_console_js_suite_passes():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: it is needed for the console's unit tests")
    run = subprocess.run([node, "--import", "./tests/js/webroot.mjs", "--test", "tests/js/console.test.mjs"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-4000:]
    assert "# fail 0" in out and "# pass 0" not in out, out[-4000:]
