"""Source health for people and for Prometheus: derived from ``SourceState`` (the stored health record:
last success, last error and its kind, consecutive failures, next poll)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from connectors.cadence import bounds, current_interval
from core.metrics import ConnectorMetrics
from core.settings import PollingSettings
from schemas import Source, SourceState

STALE_INTERVALS = 3
SOURCE_STATES = ("active", "disabled", "failing")
_DEFAULTS = PollingSettings()  # built once: this runs for every source on every refresh


def health_label(source: Source, state: SourceState | None) -> str:
    """One word per source: ``disabled``, ``failing`` (last poll failed), ``active`` or ``new``."""
    if not source.enabled or (state is not None and state.disabled):
        return "disabled"
    if state is None or (state.last_success_at is None and state.last_error_at is None):
        return "new"
    return "failing" if state.consecutive_failures > 0 else "active"


def is_stale(source: Source, state: SourceState | None, now: datetime, since: datetime) -> bool:
    """An enabled source with no success within ``STALE_INTERVALS`` poll intervals (counted from
    ``since``, the process start, when it never succeeded)."""
    if health_label(source, state) == "disabled":
        return False
    interval = current_interval(source, state, _DEFAULTS)
    if state is not None and state.push_state == "active":  # pushed: polled only at its slowest interval
        interval = max(interval, bounds(source, _DEFAULTS)[1])
    window = timedelta(seconds=STALE_INTERVALS * interval)
    if state is not None and state.skip_hours and source.poll_interval_secs is None:
        window += timedelta(hours=len(state.skip_hours))  # the hours the feed asked us not to poll
    last = state.last_success_at if state is not None and state.last_success_at else since
    return now - last > window


class HealthGauges:
    """Keeps ``watchfloor_sources{state}``, ``watchfloor_sources_stale`` and the newest success per
    source type in step with the stored states."""

    def __init__(self, metrics: ConnectorMetrics, started_at: datetime | None = None):
        self.metrics = metrics
        self.started_at = started_at

    def update(self, sources: list[Source], states: Mapping[str, SourceState], now: datetime) -> None:
        if self.started_at is None:
            self.started_at = now
        counts = dict.fromkeys(SOURCE_STATES, 0)
        stale = 0
        newest: dict[str, float] = {}
        for source in sources:
            state = states.get(source.id)
            label = health_label(source, state)
            counts["active" if label == "new" else label] += 1
            stale += is_stale(source, state, now, self.started_at)
            if state is not None and state.last_success_at is not None:
                stamp = state.last_success_at.timestamp()
                newest[source.type] = max(newest.get(source.type, 0.0), stamp)
        for label, count in counts.items():
            self.metrics.sources.labels(label).set(count)
        self.metrics.sources_stale.set(stale)
        for kind, stamp in newest.items():
            self.metrics.last_success.labels(kind).set(stamp)
