"""When to poll a source next: from how often it publishes, not from a fixed interval.

A source without a fixed ``poll_interval_secs`` is polled on an interval learned from its cadence:
the median gap between the publication times of the items its feed carries (a feed shows its recent
history on the first fetch already), halved, so an item waits half a gap on average. After a poll that
found new items the interval drops back to that; while nothing changes it grows by half each poll.
It stays within the source's bounds (``min_interval_secs`` / ``max_interval_secs``, else the polling
settings'), never below what the publisher asked (``Cache-Control: max-age``, RSS ``ttl``), is
jittered so sources with the same cadence spread out, and skips the hours RSS ``skipHours`` names.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Mapping
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


def observed_cadence(items: Iterable[Item]) -> float | None:
    """The median gap in seconds between the publication times of the newest items (those with a
    real time, not one the connector estimated); None with fewer than three."""
    stamps = sorted({i.published_at for i in items if not i.published_at_estimated}, reverse=True)[:CADENCE_ITEMS]
    if len(stamps) < MIN_TIMESTAMPS:
        return None
    return median((a - b).total_seconds() for a, b in zip(stamps, stamps[1:]))


def bounds(source: Source, config: PollingSettings) -> tuple[float, float]:
    lo = source.min_interval_secs or config.adaptive_min_secs
    hi = source.max_interval_secs or config.adaptive_max_secs
    return lo, max(lo, hi)


def next_interval(source: Source, state: SourceState, *, cadence: float | None, new_items: int, hints: Hints,
                  config: PollingSettings) -> float:
    """The interval a source that just polled successfully is on (before jitter)."""
    if source.poll_interval_secs is not None:  # a fixed schedule, as configured
        return source.poll_interval_secs
    lo, hi = bounds(source, config)
    previous = state.interval_secs or config.adaptive_start_secs
    base = cadence / 2 if cadence else previous
    interval = base if new_items else max(base, previous * SLOWER)
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
