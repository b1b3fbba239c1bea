"""The officer page's navigation links (baojing/web/officer/navlinks.js), tested with node's own runner."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST = "baojing/web/officer/navlinks.test.mjs"


def test_navlinks_node_suite():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: it is needed for the officer page's unit tests")
    run = subprocess.run([node, "--test", TEST], cwd=ROOT, capture_output=True, text=True, timeout=120)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-4000:]
    assert "# fail 0" in out, out[-4000:]
    assert "# pass 0" not in out, out[-4000:]
