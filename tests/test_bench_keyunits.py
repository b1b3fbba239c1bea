"""bench/keyunits.py, tiny: it runs end to end against the real server and the floor, and every
press and every bulletin delivery arrives (exit status 0). Figures: bench/README.md."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_keyunits_bench_runs_and_loses_nothing():
    r = subprocess.run([sys.executable, "-m", "bench.keyunits", "--presses", "3", "--burst", "3", "--rounds", "1",
                        "--members", "12", "--consoles", "1"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "missing 0" in r.stdout and "(12/12 delivered)" in r.stdout
