"""``watchfloor bench connect``: the real polling loop against a local feed server, its figures."""

from __future__ import annotations

import json
import subprocess
import sys


def test_bench_connect_runs_the_real_loop_against_local_feeds_and_reports_its_figures():
    done = subprocess.run([sys.executable, "-m", "watchfloor", "bench", "connect", "--sources", "60", "--interval",
                           "2", "--minutes", "0.1", "--json"], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert "first round: 60 sources polled in" in done.stdout
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["sources"] == 60 and figures["due_per_sec"] == 30.0
    # Counted from the loop's own metrics over the measured window: every source was polled in it.
    assert figures["requests_per_source_per_hour"] > 0 and figures["polls_per_sec"] > 0
    assert figures["cpu_cores"] > 0 and figures["late_p50_secs"] >= 0
