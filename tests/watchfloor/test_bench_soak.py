"""``bench soak``'s summary: the plateau is judged on the last 20 minutes of the run, and the first
minute (start-up, first fills) never counts as growth."""

from __future__ import annotations

from watchfloor.bench.soak import Sample, summarise


def samples(rss_at) -> list[Sample]:
    return [Sample(t, rss_at(t), 0, 0, 0) for t in range(0, 3601, 10)]


def test_a_worker_that_levels_off_after_half_an_hour_shows_no_growth_over_the_last_20_minutes():
    summary = summarise(samples(lambda t: 100 + min(t, 1800) / 60), 1, 1, 0, 200.0, 60.0)
    assert summary["rss_slope_last_20min_mb_per_min"] == 0.0
    assert summary["rss_slope_second_half_mb_per_min"] == 0.0
    assert summary["rss_growth_after_1min_mb"] == 29.0


def test_steady_growth_reads_the_same_slope_over_the_last_20_minutes_and_the_second_half():
    summary = summarise(samples(lambda t: 100 + 2 * t / 60), 1, 1, 0, 200.0, 60.0)
    assert summary["rss_slope_last_20min_mb_per_min"] == summary["rss_slope_second_half_mb_per_min"] == 2.0


def test_a_run_shorter_than_20_minutes_is_judged_after_its_first_minute():
    short = [Sample(t, 50.0 if t < 60 else 100 + t / 60, 0, 0, 0) for t in range(0, 601, 10)]
    assert summarise(short, 1, 1, 0, 200.0, 10.0)["rss_slope_last_20min_mb_per_min"] == 1.0
