"""The traffic bench's quick run (small photos, no throttle): it still measures what it says, so a
change that breaks the bench fails here and not on the day someone needs the figures."""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, where bench/ is
from bench import traffic  # noqa: E402


def test_the_traffic_bench_runs_and_counts_every_byte_once():
    res = traffic.run(argparse.Namespace(tiny=True, up_mbps=1.6, pdf_runs=2, timeout=120, shrink_only=False))
    shrunk, originals = res["modes"]
    for m in (shrunk, originals):
        assert m["photos_stored"] == 6
        assert m["bytes_sent"] == m["bytes_stored"]  # nothing sent twice
        assert m["seconds_to_submitted"] > 0
    assert originals["bytes_stored"] == sum(res["photo_bytes"])  # the camera's files, byte for byte
    assert shrunk["bytes_stored"] <= originals["bytes_stored"]
    assert res["pdf"]["server_ms_p50"] > 0 and res["pdf"]["pdf_bytes"] > 10_000
