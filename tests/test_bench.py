"""Each load generator in bench/ once, at a tiny size, against the real server and its floor: the
benches must keep working as the code changes (their figures are recorded in bench/README.md, not
asserted here). Each exits 1 when anything was lost, refused or failed."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY = {
    "intake": ["--rate", "20", "--seconds", "1", "--consoles", "2", "--warmup", "2", "--drain", "10"],
    "fanout": ["--rate", "10", "--seconds", "1", "--few", "1", "--many", "3"],
    "sockets": ["--sockets", "20", "--settle", "0.2"],
    "upload": ["--rate", "10", "--seconds", "1", "--uploaders", "1", "--photos", "1", "--clip-mb", "1", "--warmup", "2"],
    "avl": ["--units", "40", "--period", "2", "--seconds", "3", "--alarm-rate", "2", "--consoles", "1",
            "--rec-rate", "2", "--queries", "50", "--drain", "5"],
}


@pytest.mark.parametrize("bench", sorted(TINY))
def test_the_bench_runs_at_a_tiny_size(bench):
    r = subprocess.run([sys.executable, "-m", f"bench.{bench}", *TINY[bench]], cwd=ROOT, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, f"{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    assert "results: var/bench/" in r.stdout
