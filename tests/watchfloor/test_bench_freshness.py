"""`watchfloor bench freshness`: the simulated publishers behave like their profiles, and the command
runs the real polling loop on the simulated clock (a fixed 5-minute schedule makes 12 requests per
source-hour of simulated time however fast it runs), subscribes the feeds that name its hub over
WebSub, keeps every host within its limit and ends with one JSON line of figures. Small and short here; docs/benchmarks.md has the 1,000-source figures."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from statistics import median

from watchfloor.bench.freshness import DAY_ENDS, DAY_STARTS, profile_of, publications

START = datetime(2026, 11, 30, 0, 0, tzinfo=timezone.utc)
END = START + timedelta(days=3)


def sources_of(profile: str, total: int = 200) -> list[int]:
    return [n for n in range(total) if profile_of(n, total).name == profile]


def test_simulated_sources_publish_as_their_profiles_say_and_the_same_each_run():
    total = 200
    shares = {p: len(sources_of(p, total)) / total for p in ("wire", "regional", "official", "blog")}
    assert shares == {"wire": 0.15, "regional": 0.35, "official": 0.2, "blog": 0.3}
    assert publications(3, total, 7, START, END) == publications(3, total, 7, START, END)

    wire = publications(sources_of("wire")[0], total, 7, START, END)
    day = [(b - a).total_seconds() for a, b in zip(wire, wire[1:]) if DAY_STARTS + 1 <= a.hour < DAY_ENDS - 1]
    night = [(b - a).total_seconds() for a, b in zip(wire, wire[1:]) if a.hour < DAY_STARTS - 1]
    assert median(night) > 1.5 * median(day)  # the night desk is slower

    for n in sources_of("regional")[:5]:
        times = publications(n, total, 7, START, END)
        assert all(DAY_STARTS <= t.hour < DAY_ENDS + 1 for t in times)
        assert 20 <= len(times) <= 60  # about hourly, daytime only, over three days

    official = publications(sources_of("official")[0], total, 7, START, END)
    gaps = [(b - a).total_seconds() for a, b in zip(official, official[1:])]
    assert min(gaps) < 300 and max(gaps) > 3 * 3600  # bursts, then hours of quiet

    blogs = [len(publications(n, total, 7, START, END)) for n in sources_of("blog")]
    assert sum(blogs) / len(blogs) < 3  # dormant


def test_bench_freshness_runs_the_real_loop_on_the_simulated_clock_and_keeps_hosts_in_their_limit(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "watchfloor", "bench", "freshness", "--sources", "20", "--hours", "0.5",
         "--speed", "120", "--json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    # 30 simulated minutes in 15 wall seconds: a fixed 5-minute schedule polled each source 6 times.
    assert 8 <= figures["fixed_requests_per_source_hour"] <= 14, figures
    assert figures["adaptive_requests_per_source_hour"] > 0
    assert 0 < figures["max_in_flight_per_host"] <= figures["host_limit"] == 2
    assert figures["measured_items"] > 0
    assert figures["pushed_sources_subscribed"] == 2  # sources 0 and 10 name the hub; the connector subscribed
    if figures["pushed_items"]:
        assert figures["pushed_delay_p95_secs"] < 60, figures  # pushed at publication, not found by a poll
    for schedule in ("adaptive", "fixed"):
        p50, p95 = figures[f"{schedule}_delay_p50_secs"], figures[f"{schedule}_delay_p95_secs"]
        assert math.isfinite(p50) and 0 <= p50 <= p95 <= 1800, (schedule, figures)


def test_the_default_schedule_beats_the_fixed_one_on_delay_with_fewer_requests_in_simulation():
    """The schedule alone (no HTTP or Kafka): a simulated day of 200 sources. Deterministic, so this
    guards the defaults against a change to connectors/cadence.py that would give the gain away."""
    from core.settings import PollingSettings
    from watchfloor.bench.freshness import FIXED_INTERVAL_SECS, simulate_schedule

    fixed = simulate_schedule(sources=200, hours=24, polling=PollingSettings(), fixed_secs=FIXED_INTERVAL_SECS)
    adaptive = simulate_schedule(sources=200, hours=24, polling=PollingSettings())
    assert abs(fixed["requests_per_source_hour"] - 12) < 0.1 and fixed["items"] == adaptive["items"] > 1000
    assert adaptive["requests_per_source_hour"] < fixed["requests_per_source_hour"]
    assert adaptive["delay_p50_secs"] <= 60 and adaptive["delay_p95_secs"] <= 180, adaptive
    assert fixed["delay_p95_secs"] > 240  # the fixed schedule leaves items waiting up to five minutes
