"""Every JavaScript unit test (tests/js/*.test.mjs, node's own runner) runs with the suite, so a
failing JS test fails `make test` and CI."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JS_TESTS = sorted((ROOT / "tests" / "js").glob("*.test.mjs"))


@pytest.mark.parametrize("path", JS_TESTS, ids=[p.name for p in JS_TESTS])
def test_js_unit_suite(path: Path):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: it runs the pages' unit tests (make deps installs the node packages)")
    run = subprocess.run([node, "--test", str(path.relative_to(ROOT))], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-4000:]
    passed = re.search(r"^# pass (\d+)$", out, re.M)
    assert passed and int(passed.group(1)) > 0, out[-4000:]
    assert "# fail 0" in out, out[-4000:]


def test_no_js_test_is_served_with_the_pages():
    served = list((ROOT / "baojing" / "web").rglob("*.test.*"))
    assert not served, f"unit tests belong in tests/js/, not in the public static tree: {served}"
