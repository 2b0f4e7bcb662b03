"""When to poll a source next: from how its publishing went so far, not from a fixed interval.

A source without a fixed ``poll_interval_secs`` is polled when it has probably published something
new. The gaps between the publication times of the items its feed carries (a feed shows its recent
history on the first fetch already) give the distribution of the wait for the next item; with the
time since the newest one, the next poll comes when the chance that a new item appeared since this
poll reaches ``adaptive_chance``. So a wire that posts every few minutes is polled every minute or
two; an outlet that posts about hourly is left alone for most of the hour after its last item and
polled closely when the next one is due; a channel that posts in bursts is polled soon after a post
(the burst goes on) and rarely between bursts. A source later than every gap it ever showed is
overdue: its interval grows by half each poll, up to its median gap. Without enough timestamps the
interval is half the median gap, growing by half each poll while nothing changes.

The interval stays within the source's bounds (``min_interval_secs`` / ``max_interval_secs``, else the
polling settings'), never below what the publisher asked (``Cache-Control: max-age``, RSS ``ttl``), is
jittered so sources with the same cadence spread out, and skips the hours RSS ``skipHours`` names.
"""

from __future__ import annotations

import random
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from core.settings import PollingSettings
from schemas import Item, Source, SourceState

CADENCE_ITEMS = 20
"""Newest items whose publication times give the cadence."""
MIN_TIMESTAMPS = 3
SLOWER = 1.5
MAX_HINT_SECS = 24 * 3600.0

_MAX_AGE = re.compile(r"(?:^|,)\s*(?:max-age|s-maxage)\s*=\s*(\d+)", re.I)
_SKIP_HOURS = re.compile(rb"<skipHours>(.*?)</skipHours>", re.S | re.I)
_HOUR = re.compile(rb"<hour>\s*(\d{1,2})\s*</hour>", re.I)


@dataclass(frozen=True)
class Hints:
    """What a publisher says about polling it."""

    min_secs: float = 0.0
    """Do not ask again sooner: ``Cache-Control: max-age`` or RSS ``ttl`` (capped at a day)."""
    skip_hours: frozenset[int] = field(default_factory=frozenset)
    """UTC hours (0-23) not to poll in: RSS ``skipHours``."""


def feed_hints(headers: Mapping[str, str], ttl_minutes: object, body: bytes | None,
               previous_skip_hours: Iterable[int] = ()) -> Hints:
    """Hints of an RSS/Atom response: its Cache-Control header, the channel's ``ttl`` and ``skipHours``
    (``body`` None: a 304, whose feed keeps the ``previous_skip_hours``)."""
    seconds = []
    cache = next((v for k, v in headers.items() if k.lower() == "cache-control"), "")
    if "no-cache" not in cache.lower() and (found := _MAX_AGE.search(cache)):
        seconds.append(float(found.group(1)))
    try:
        seconds.append(float(str(ttl_minutes).strip()) * 60.0)
    except ValueError:
        pass
    hours = frozenset(previous_skip_hours) if body is None else frozenset()
    if body is not None and (block := _SKIP_HOURS.search(body[:200_000])) is not None:
        # RSS counts hours 0-23 (some feeds write 24 for midnight); anything else is ignored.
        hours = frozenset(int(h) % 24 for h in _HOUR.findall(block.group(1)) if int(h) <= 24)
    return Hints(min(max(seconds, default=0.0), MAX_HINT_SECS), hours)


def _stamps(items: Iterable[Item]) -> list[datetime]:
    """The newest publication times, newest first: real ones only, not those the connector estimated."""
    return sorted({i.published_at for i in items if not i.published_at_estimated}, reverse=True)[:CADENCE_ITEMS]


def item_gaps(items: Iterable[Item]) -> list[float]:
    """The gaps in seconds between the publication times of the newest items, shortest first; empty
    with fewer than three timestamps."""
    return gaps_between(i.published_at for i in items if not i.published_at_estimated)


def gaps_between(times: Iterable[datetime]) -> list[float]:
    """The gaps in seconds between the newest ``CADENCE_ITEMS`` of these publication times, shortest
    first; empty with fewer than three."""
    stamps = sorted(set(times), reverse=True)[:CADENCE_ITEMS]
    if len(stamps) < MIN_TIMESTAMPS:
        return []
    return sorted(round((a - b).total_seconds(), 1) for a, b in zip(stamps, stamps[1:]))


def newest_published(items: Iterable[Item]) -> datetime | None:
    stamps = _stamps(items)
    return stamps[0] if stamps else None


def observed_cadence(items: Iterable[Item]) -> float | None:
    """The median gap in seconds between the publication times of the newest items; None with fewer
    than three."""
    gaps = item_gaps(items)
    return median(gaps) if gaps else None


def until_likely(gaps: Sequence[float], age_secs: float, chance: float) -> float | None:
    """Seconds from now until the next item has appeared with probability ``chance``, given that none
    appeared in the ``age_secs`` since the newest one. ``gaps`` (sorted) give the distribution of the
    wait, as their empirical distribution function drawn through (0, 0) and (gap_i, i/n). None when
    ``age_secs`` is past every gap: the source is overdue and the gaps say nothing more."""
    n = len(gaps)
    xs = [0.0, *gaps]
    age = max(0.0, age_secs)

    def cdf(x: float) -> float:
        i = bisect_right(xs, x)
        if i > n:
            return 1.0
        lo, hi = xs[i - 1], xs[i]
        return ((i - 1) + (x - lo) / (hi - lo)) / n if hi > lo else i / n

    now = cdf(age)
    if now >= 1.0:
        return None
    target = (now + chance * (1.0 - now)) * n  # in units of 1/n
    i = min(n, int(target) + 1)  # the segment (xs[i-1], xs[i]] holds the target
    lo, hi = xs[i - 1], xs[i]
    at = lo + (target - (i - 1)) * (hi - lo)
    return max(0.0, at - age)


def bounds(source: Source, config: PollingSettings) -> tuple[float, float]:
    lo = source.min_interval_secs or config.adaptive_min_secs
    hi = source.max_interval_secs or config.adaptive_max_secs
    return lo, max(lo, hi)


def next_interval(source: Source, state: SourceState, *, cadence: float | None, new_items: int, hints: Hints,
                  config: PollingSettings, gaps: Sequence[float] = (), age_secs: float | None = None) -> float:
    """The interval a source that just polled successfully is on (before jitter). ``gaps``: between
    its newest items (``item_gaps``); ``age_secs``: since the newest of them was published."""
    if source.poll_interval_secs is not None:  # a fixed schedule, as configured
        return source.poll_interval_secs
    lo, hi = bounds(source, config)
    previous = state.interval_secs or config.adaptive_start_secs
    base = cadence / 2 if cadence else previous
    wait = until_likely(gaps, age_secs, config.adaptive_chance) if gaps and age_secs is not None else None
    if wait is not None:
        interval = wait
    else:  # no history to go by, or overdue: half a gap after news, slower while nothing changes
        interval = base if new_items else max(base, previous * SLOWER)
        if gaps:  # overdue (a night, a holiday): no slower than its usual gap, so the next item waits less
            interval = min(interval, max(median(gaps), lo))
    # The publisher's wish counts up to the source's own maximum (a year's max-age is not a schedule).
    return max(min(max(interval, lo), hi), min(hints.min_secs, hi))


def jittered(source: Source, interval: float, hints: Hints, config: PollingSettings,
             rng: Callable[[], float] = random.random) -> float:
    """Seconds to the next poll: ``interval`` moved by up to ``adaptive_jitter`` either way, never below
    the source's minimum or the publisher's wish (a fixed schedule is kept as it is)."""
    if source.poll_interval_secs is not None:
        return interval
    lo, hi = bounds(source, config)
    return max(interval * (1 + config.adaptive_jitter * (2 * rng() - 1)), lo, min(hints.min_secs, hi))


def current_interval(source: Source, state: SourceState | None, config: PollingSettings) -> float:
    """The interval a source is on now: fixed, learned, or the adaptive start."""
    if source.poll_interval_secs is not None:
        return source.poll_interval_secs
    return (state.interval_secs if state is not None and state.interval_secs else None) or config.adaptive_start_secs


def skip_hours(at: datetime, hours: frozenset[int]) -> datetime:
    """``at``, or the start of the first following UTC hour that ``hours`` does not name."""
    if not hours or len(hours) >= 24:
        return at
    moved = at
    while moved.hour in hours:
        moved = moved.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return moved
