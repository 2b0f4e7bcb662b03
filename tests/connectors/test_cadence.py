"""The adaptive schedule: the next poll comes when the source has probably published (from the gaps
between its items), within its bounds; without that history the interval is half its cadence, faster
after new items, slower while nothing changes; never sooner than the publisher asked; skipping
skipHours."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from connectors.cadence import Hints, feed_hints, jittered, next_interval, observed_cadence, skip_hours, until_likely
from core.settings import PollingSettings
from schemas import Item, Source, SourceState

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
CONFIG = PollingSettings(adaptive_min_secs=60, adaptive_max_secs=3600, adaptive_start_secs=300, adaptive_jitter=0.0)


def items(gap_minutes: float, n: int = 10, estimated: bool = False) -> list[Item]:
    return [Item(item_id=f"rss:s:{i}", source_type="rss", source_id="s", url=f"https://e.example/{i}", title=f"{i}",
                 text="", published_at=T0 - timedelta(minutes=gap_minutes * i), fetched_at=T0,
                 published_at_estimated=estimated) for i in range(n)]


def adaptive(**bounds) -> Source:
    return Source(id="s", type="rss", url="https://e.example/feed", **bounds)


def interval(source: Source, previous: float | None, cadence: float | None, new_items: int,
             hints: Hints = Hints()) -> float:
    return next_interval(source, SourceState(source_id="s", interval_secs=previous), cadence=cadence,
                         new_items=new_items, hints=hints, config=CONFIG)


def test_cadence_is_the_median_gap_of_the_items_a_feed_carries_with_real_timestamps():
    assert observed_cadence(items(4)) == 240.0
    assert observed_cadence(items(4)[:2]) is None  # too few to tell
    assert observed_cadence(items(4, estimated=True)) is None  # times the connector made up say nothing


def test_a_wire_is_polled_at_half_its_gap_and_a_dormant_blog_at_the_maximum():
    wire, blog = observed_cadence(items(4)), observed_cadence(items(60 * 24 * 7))
    assert interval(adaptive(), None, wire, new_items=3) == 120.0
    assert interval(adaptive(), None, blog, new_items=1) == 3600.0
    assert interval(adaptive(), None, observed_cadence(items(0.5)), new_items=5) == 60.0  # never below the minimum


def test_the_interval_grows_while_nothing_changes_and_drops_back_after_new_items():
    source, cadence = adaptive(), 240.0
    quiet = [120.0]
    for _ in range(6):
        quiet.append(interval(source, quiet[-1], cadence, new_items=0))
    assert quiet == [120.0, 180.0, 270.0, 405.0, 607.5, 911.25, 1366.875]
    assert interval(source, quiet[-1], cadence, new_items=2) == 120.0


def test_per_source_bounds_a_fixed_interval_and_the_publishers_hints_are_honoured():
    assert interval(adaptive(min_interval_secs=600), None, 240.0, new_items=1) == 600.0
    assert interval(adaptive(max_interval_secs=900), 900.0, None, new_items=0) == 900.0
    fixed = Source(id="s", type="rss", url="https://e.example/feed", poll_interval_secs=45)
    assert interval(fixed, None, 240.0, new_items=1) == 45.0
    assert interval(adaptive(), None, 240.0, new_items=1, hints=Hints(min_secs=1800.0)) == 1800.0
    # A publisher's wish beyond the source's maximum is held to the maximum.
    assert interval(adaptive(max_interval_secs=600), None, 240.0, new_items=1, hints=Hints(min_secs=86400.0)) == 600.0


def test_jitter_spreads_sources_of_one_cadence_but_never_below_the_minimum_or_the_publishers_wish():
    config = CONFIG.model_copy(update={"adaptive_jitter": 0.1})
    assert [jittered(adaptive(), 120.0, Hints(), config, rng=lambda r=r: r) for r in (0.0, 1.0)] == [108.0, 132.0]
    assert jittered(adaptive(), 60.0, Hints(), config, rng=lambda: 0.0) == 60.0
    assert jittered(adaptive(), 600.0, Hints(min_secs=600.0), config, rng=lambda: 0.0) == 600.0
    fixed = Source(id="s", type="rss", url="https://e.example/feed", poll_interval_secs=45)
    assert jittered(fixed, 45.0, Hints(), config, rng=lambda: 0.0) == 45.0


def test_hints_come_from_cache_control_the_rss_ttl_and_skip_hours():
    body = b"<rss><channel><ttl>30</ttl><skipHours><hour>1</hour><hour>2</hour><hour> 3 </hour></skipHours>"
    assert feed_hints({"Cache-Control": "public, max-age=600"}, "30", body) == Hints(1800.0, frozenset({1, 2, 3}))
    assert feed_hints({"Cache-Control": "max-age=900"}, None, b"") == Hints(900.0, frozenset())
    assert feed_hints({"Cache-Control": "no-cache, max-age=900"}, "soon", b"") == Hints(0.0, frozenset())
    assert feed_hints({}, "100000", b"").min_secs == 24 * 3600.0  # a day at most
    assert feed_hints({"CACHE-CONTROL": "s-maxage=300"}, None, b"").min_secs == 300.0
    assert feed_hints({}, None, b"<skipHours><hour>24</hour><hour>99</hour></skipHours>").skip_hours == {0}
    assert feed_hints({}, None, None, previous_skip_hours=[2, 3]).skip_hours == {2, 3}  # a 304 keeps them


def test_a_poll_due_in_a_skipped_hour_moves_to_the_next_hour_not_skipped():
    at = datetime(2026, 12, 2, 1, 40, tzinfo=timezone.utc)
    assert skip_hours(at, frozenset({1, 2})) == datetime(2026, 12, 2, 3, 0, tzinfo=timezone.utc)
    assert skip_hours(at, frozenset({5})) == at
    assert skip_hours(at, frozenset(range(24))) == at  # every hour skipped: a publisher mistake, ignored


def gaps_of(minutes: list[float]) -> list[float]:
    return sorted(m * 60.0 for m in minutes)


def waits(gaps: list[float], age_secs: float, new_items: int = 0) -> float:
    return next_interval(adaptive(), SourceState(source_id="s", interval_secs=300.0), cadence=None,
                         new_items=new_items, hints=Hints(), config=CONFIG.model_copy(update={"adaptive_chance": 0.3}),
                         gaps=gaps, age_secs=age_secs)


def test_an_hourly_outlet_is_left_alone_after_its_item_and_polled_closely_when_the_next_is_due():
    hourly = gaps_of([48 + 24 * i / 18 for i in range(19)])  # 48 to 72 minutes apart
    just_posted = waits(hourly, age_secs=60)
    assert 50 * 60 < just_posted + 60 < 60 * 60  # the first poll comes after the shortest gap seen
    due = waits(hourly, age_secs=62 * 60)
    assert CONFIG.adaptive_min_secs <= due < 6 * 60  # inside the usual window: polled every few minutes
    assert waits(hourly, age_secs=2 * 3600) == 450.0  # later than any gap seen: overdue, slower (300 s x 1.5)


def test_a_busy_wire_is_polled_at_the_minimum_and_a_bursty_channel_soon_after_a_post_and_rarely_between():
    wire = gaps_of([0.5, 1, 1, 1.5, 2, 2, 3, 3, 4, 4, 5, 6, 7, 8, 9])
    assert CONFIG.adaptive_min_secs <= waits(wire, age_secs=30) <= 2 * 60  # a minute or two
    bursts = gaps_of([1, 1, 2, 2, 2, 3, 3, 1, 2, 240, 300, 360, 420, 480])
    assert waits(bursts, age_secs=30) <= 2 * 60  # a burst goes on
    assert waits(bursts, age_secs=10 * 60) == CONFIG.adaptive_max_secs  # between bursts: hours, held to the maximum


def test_until_likely_reaches_the_chance_on_the_empirical_distribution_of_the_gaps():
    gaps = [100.0, 200.0, 300.0, 400.0]
    assert until_likely(gaps, 0, 0.5) == 200.0  # half the gaps are shorter than 200 s
    assert until_likely(gaps, 200, 0.5) == 100.0  # of those longer than 200 s, half end by 300 s
    assert until_likely(gaps, 400, 0.5) is None  # past every gap: nothing more to say
    assert until_likely(gaps, -50, 0.25) == 100.0  # an item dated in the future counts as just published
