"""`watchfloor bench pipeline --json` runs every phase on its own embedded broker and ends with one
JSON line holding every figure the benchmark promises. Small and slow-paced here: this proves the
command works end to end, not how fast anything is (docs/benchmarks.md has the figures)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

REQUIRED = [
    "raw_consume_items_per_s", "raw_produce_items_per_s", "classify_only_items_per_s", "peer_items_per_s",
    "pipeline_items_per_s", "pipeline_two_workers_items_per_s", "ratio_vs_peer", "ratio_vs_limit",
    "latency_p50_seconds", "latency_p99_seconds",
    "pipeline_stories_items_per_s", "pipeline_stories_two_workers_items_per_s", "ratio_stories_vs_peer",
    "latency_stories_p50_seconds", "latency_stories_p99_seconds", "two_workers_ratio", "stories_two_workers_ratio",
]


def test_bench_pipeline_json_ends_with_every_figure_measured(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "watchfloor", "bench", "pipeline", "--items", "400", "--rate", "100",
         "--latency-secs", "2", "--rounds", "1", "--json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=420,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    missing = [key for key in REQUIRED if key not in figures]
    assert not missing, f"missing from the JSON line: {missing}"
    for key in REQUIRED:
        assert isinstance(figures[key], (int, float)) and math.isfinite(figures[key]) and figures[key] > 0, \
            f"{key} = {figures[key]!r}"
    assert figures["latency_p50_seconds"] <= figures["latency_p99_seconds"]
    assert figures["latency_alerts"] > 0 and figures["latency_stories_alerts"] > 0
    # One round: the medians are that round's figures.
    assert figures["latency_stories_p99_rounds_seconds"] == [figures["latency_stories_p99_seconds"]]
    assert figures["latency_p99_rounds_seconds"] == [figures["latency_p99_seconds"]]
    # One round: each median ratio is that round's ratio, between the phases it names.
    for ratio, numerator, denominator in [
        ("ratio_vs_peer", "pipeline_items_per_s", "peer_items_per_s"),
        ("ratio_stories_vs_peer", "pipeline_stories_items_per_s", "peer_items_per_s"),
        ("two_workers_ratio", "pipeline_two_workers_items_per_s", "pipeline_items_per_s"),
        ("stories_two_workers_ratio", "pipeline_stories_two_workers_items_per_s", "pipeline_stories_items_per_s"),
    ]:
        assert math.isclose(figures[ratio], figures[numerator] / figures[denominator], rel_tol=0.01, abs_tol=5e-4), ratio
        assert figures[f"{ratio}_rounds"] == [figures[ratio]]
    assert figures["pipeline_stories_rounds_items_per_s"] == [figures["pipeline_stories_items_per_s"]]
    # Two workers drain twice the items, so that each completes as many batches as one worker alone.
    assert figures["items"] == 400 and figures["items_two_workers"] == 800
    # The human-readable lines come first, one per phase.
    assert any(line.startswith("(b) plain Faust agent, round 1") for line in lines)
    assert any(line.startswith("(cs) with story grouping") and "round 1" in line for line in lines)
    assert any(line.startswith("(cs) two workers with story grouping, round 1") for line in lines)
