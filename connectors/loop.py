"""The one polling loop every connector runs in.

A connector supplies ``SourceAdapter.poll`` (fetch and parse one source); this loop owns the rest:
when each source is due, the global concurrency limit, backoff, dedupe and revisions, producing to
the raw items topic, advancing the per-source state only after the broker acknowledged, and the
health metrics.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from statistics import median
from urllib.parse import urlsplit

from aiokafka import AIOKafkaProducer

from connectors.base import PollResult, SourceAdapter
from connectors.cadence import (
    Hints,
    bounds,
    current_interval,
    item_gaps,
    jittered,
    newest_published,
    next_interval,
    skip_hours,
)
from connectors.dedupe import select
from connectors.errors import BadInput, ConnectorError, RetryLater, SourceGone
from connectors.health import HealthGauges
from connectors.state import SourceStateStore
from core.kafka import ce_type_for, cloudevent_headers
from core.metrics import ConnectorMetrics
from core.settings import PollingSettings
from schemas import Item, Source, SourceState
from schemas.base import utcnow

log = logging.getLogger(__name__)

FUTURE_SKEW_SECS = 300.0
HEALTH_EVERY_SECS = 1.0


class PushNotTaken(Exception):
    """Pushed items the broker did not acknowledge: nothing was recorded, the pusher should retry."""
"""Items dated later than now by more than this are left out of the schedule's history."""


class PollingLoop:
    """Polls every enabled source when due and emits what is new.

    Lifecycle: built with the sources, one adapter per source type, a started producer (acks=all),
    a loaded ``SourceStateStore`` and the metrics → ``run()`` until ``stop()`` → in-flight polls get
    ``stop_grace_secs`` to finish, then are cancelled; the caller flushes and stops the producer.

    The source list may change while it runs: ``update`` stops polling the sources removed, changed or
    no longer ``owns``-ed (another connector process took them; they finish an in-flight poll first)
    and starts the new ones. Health gauges count the sources this process owns.

    Delivery: at-least-once. Items are produced and acknowledged first, then the source state
    (recent ids, etag, next poll) is written; a crash in between re-emits the same ``item_id`` and
    revision, which consumers recognise by key. A source is never polled concurrently with itself, nor
    while content pushed for it (WebSub, ``ingest``) goes through the same path.
    """

    def __init__(self, *, sources: list[Source], adapters: Mapping[str, SourceAdapter],
                 producer: AIOKafkaProducer, items_topic: str, store: SourceStateStore,
                 metrics: ConnectorMetrics, config: PollingSettings = PollingSettings(), max_concurrency: int = 8,
                 clock: Callable[[], datetime] = utcnow, rng: Callable[[], float] = random.random,
                 owns: Callable[[str], bool] = lambda source_id: True, poller: str | None = None,
                 time_scale: float = 1.0):
        self.all_sources = list(sources)
        self.sources = [s for s in sources if s.enabled]
        self.owns = owns
        self.poller = poller
        self.adapters = adapters
        self.producer = producer
        self.items_topic = items_topic
        self.store = store
        self.metrics = metrics
        self.config = config
        self.clock = clock
        self.time_scale = time_scale
        """Seconds of ``clock`` per wall-clock second: 1 in production; a benchmark that simulates
        hours of publishing in minutes passes a faster clock and its speed."""
        self.rng = rng
        self.health = HealthGauges(metrics)
        self._slots = asyncio.Semaphore(max_concurrency)
        self._stopping = asyncio.Event()
        self._polling: dict[str, tuple[Source, asyncio.Task, asyncio.Event]] = {}
        self._draining: set[asyncio.Task] = set()
        self._update_lock = asyncio.Lock()
        self._no_adapter: set[str] = set()
        self._health_next = 0.0
        self._health_timer: asyncio.TimerHandle | None = None
        self._exclusive: dict[str, asyncio.Lock] = {}
        """Per source, held while it is polled or a push of it is ingested: never both at once."""
        self.pushed: Callable[[str], bool] = lambda source_id: False
        """True while a verified WebSub subscription delivers the source (``connectors.websub`` sets it):
        the source is then polled only at its slowest interval, as a safety net."""

    async def run(self) -> None:
        await self.update()
        try:
            await self._stopping.wait()
        finally:
            self._stopping.set()
            await self._stop_polling(list(self._polling))
            if self._draining:  # stopped by an update that was itself cancelled
                await asyncio.wait(self._draining, timeout=self.config.stop_grace_secs)

    def stop(self) -> None:
        self._stopping.set()
        for _source, _task, stop in self._polling.values():
            stop.set()

    @property
    def polled(self) -> list[str]:
        """Ids of the sources this loop polls now."""
        return sorted(sid for sid, (_s, task, _e) in self._polling.items() if not task.done())

    def owned_sources(self) -> list[Source]:
        return [s for s in self.all_sources if self.owns(s.id)]

    async def update(self, sources: list[Source] | None = None) -> None:
        """Poll ``sources`` (all of them, disabled included; None keeps the list) from now on, as far
        as this process owns them: stop the removed, changed and given-up ones, start the new ones."""
        async with self._update_lock:  # the sources follower and the group's rebalances both call it
            if sources is not None:
                self.all_sources = list(sources)
                self.sources = [s for s in sources if s.enabled]
            await self._update()

    async def _update(self) -> None:
        wanted = {s.id: s for s in self.sources if self.owns(s.id)}
        await self._stop_polling([sid for sid, (src, _t, _e) in self._polling.items() if wanted.get(sid) != src])
        for sid, source in wanted.items():
            if sid not in self._polling and not self._stopping.is_set() and self._adapter(source) is not None:
                stop = asyncio.Event()
                task = asyncio.create_task(self._run_source(source, stop), name=f"poll:{sid}")
                self._polling[sid] = (source, task, stop)
        self.health.update(self.owned_sources(), self.store.states, self.clock())

    async def _stop_polling(self, source_ids: list[str]) -> None:
        """Stop polling these sources: an in-flight poll gets ``stop_grace_secs`` to finish."""
        entries = [self._polling.pop(sid) for sid in source_ids if sid in self._polling]
        for _source, _task, stop in entries:
            stop.set()
        tasks = [task for _source, task, _stop in entries]
        if tasks:
            self._draining.update(tasks)
            # Shielded: a cancelled caller must not leave polls running unwatched (or start a
            # source again while its old poll still runs: the lock holds until they are done).
            await asyncio.shield(self._drain(tasks))
        for sid in source_ids:  # a push being ingested finishes too before the source is handed on
            async with self._lock(sid):
                pass

    async def _drain(self, tasks: list[asyncio.Task]) -> None:
        try:
            _done, pending = await asyncio.wait(tasks, timeout=self.config.stop_grace_secs)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        finally:
            self._draining.difference_update(tasks)

    def _adapter(self, source: Source) -> SourceAdapter | None:
        adapter = self.adapters.get(source.type)
        if adapter is None and source.id not in self._no_adapter:
            self._no_adapter.add(source.id)
            log.warning("Source %s is not polled: no adapter for type %r in this process.", source.id, source.type)
        return adapter

    async def _run_source(self, source: Source, stop: asyncio.Event) -> None:
        while not stop.is_set():
            state = self.store.get(source.id)
            if state is not None and state.disabled:
                log.info("Source %s is disabled (%s); not polling it.", source.id, state.disabled_reason)
                return
            if await self._sleep_until_due(state, stop):
                return
            async with self._slots:
                if stop.is_set():
                    return
                await self.poll_once(source)

    async def _sleep_until_due(self, state: SourceState | None, stop: asyncio.Event) -> bool:
        """Wait until the source is due; True if its polling was stopped meanwhile."""
        delay = 0.0
        if state is not None and state.next_poll_at is not None:
            delay = max(0.0, (state.next_poll_at - self.clock()).total_seconds()) / self.time_scale
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
            return True
        except TimeoutError:
            return False

    async def poll_once(self, source: Source) -> SourceState:
        """Poll one source now, emit what is new, store and return its new state. Never raises
        for a source's failure: the failure is recorded in the state and the metrics."""
        async with self._lock(source.id):  # never while a push of the source is ingested
            return await self._poll(source)

    async def _poll(self, source: Source) -> SourceState:
        state = self.store.get(source.id) or SourceState(source_id=source.id)
        adapter = self.adapters[source.type]
        started = time.monotonic()
        try:
            result = await adapter.poll(source, state)
        except ConnectorError as exc:
            return await self._failed(source, state, exc)
        except Exception as exc:  # an adapter bug must not stop the other sources
            log.error("Source %s: the %s adapter failed unexpectedly: %s: %s.", source.id, source.type,
                      type(exc).__name__, exc, exc_info=True)
            return await self._failed(source, state, BadInput(f"{source.id}: adapter failed ({type(exc).__name__})"))
        finally:
            self.metrics.fetch_duration.labels(source.type).observe(time.monotonic() - started)
        return await self._succeeded(source, state, result)

    async def ingest(self, source_id: str, result: PollResult) -> SourceState | None:
        """Emit what a publisher pushed (WebSub) through the same dedupe, produce and state path as a
        poll, never while the source is polled. None if this process does not poll the source;
        ``PushNotTaken`` if the broker did not acknowledge the items (the hub should send them again)."""
        source = next((s for s in self.sources if s.id == source_id), None)
        if source is None:
            return None
        async with self._lock(source_id):
            state = self.store.get(source_id) or SourceState(source_id=source_id)
            if state.disabled or not self.owns(source_id):  # asked again: a poll may have held the lock long
                return None
            # A push is not a fetch: the conditional GET and the publisher's schedule hints stay.
            result.etag, result.last_modified = state.etag, state.last_modified
            result.hints = Hints(skip_hours=frozenset(state.skip_hours))
            state = state.model_copy(update=dict(push_last_at=self.clock()))
            new = await self._succeeded(source, state, result, pushed=True)
            if new.consecutive_failures > state.consecutive_failures:  # Kafka did not take the items
                raise PushNotTaken(new.last_error or "not acknowledged")
            return new

    async def amend(self, source_id: str, changes: dict, *, poll_by: datetime | None = None) -> SourceState | None:
        """Write ``changes`` (the WebSub push state) into a source's stored state between its polls; with
        ``poll_by``, the source is polled no later than that (its poller wakes). None without a state."""
        async with self._lock(source_id):
            state = self.store.get(source_id)
            if state is None or not self.owns(source_id):
                return None
            update = dict(changes, updated_at=self.clock())
            sooner = poll_by is not None and state.next_poll_at is not None and poll_by < state.next_poll_at
            if sooner:
                update["next_poll_at"] = poll_by
            new = await self._save(state.model_copy(update=update))
        if sooner:
            async with self._update_lock:  # its poller reads the new time when started again
                if source_id in self._polling:
                    await self._stop_polling([source_id])
                    await self._update()
        return new

    def _lock(self, source_id: str) -> asyncio.Lock:
        return self._exclusive.setdefault(source_id, asyncio.Lock())

    async def _succeeded(self, source: Source, state: SourceState, result: PollResult,
                         pushed: bool = False) -> SourceState:
        kind = source.type
        if not pushed:  # a push is counted by watchfloor_websub_notifications_total, not as a fetch
            self.metrics.fetch_requests.labels(kind, "not_modified" if result.not_modified else "ok").inc()
            self.metrics.fetch_bytes.labels(kind).inc(result.received_bytes)
        self.metrics.items_received.labels(kind).inc(len(result.items))
        for warning in result.warnings:
            log.warning("%s", warning)
            self.metrics.errors.labels("parse", "warning").inc()
        chosen = select(state.recent, result.items, self.config.recent_items_max)
        try:
            await self._produce(chosen.emit)
        except Exception as exc:
            self.metrics.errors.labels("produce", "kafka_error").inc()
            log.error("Source %s: %d items were not acknowledged by Kafka (%s); they will be fetched again.",
                      source.id, len(chosen.emit), type(exc).__name__)
            return await self._save(self._failure_state(source, state, f"produce: {type(exc).__name__}",
                                                        "produce_error", self._backoff(state)))
        self._count_emitted(kind, chosen)
        now = self.clock()
        # Timestamps from the future (a clock error, an event's date) say nothing about the cadence.
        dated = [i for i in result.items if i.published_at <= now + timedelta(seconds=FUTURE_SKEW_SECS)]
        # A 304 carries no items: what the feed last showed still holds. A push carries only what is
        # new (a burst's short gaps are not the cadence): the feed's gaps come from full fetches.
        gaps = (item_gaps(dated) if not pushed else []) or state.gaps_secs
        cadence = median(gaps) if gaps else state.cadence_secs
        newest = newest_published(dated) or state.newest_item_at
        age = None if newest is None else (now - newest).total_seconds()
        interval = next_interval(source, state, cadence=cadence, new_items=len(chosen.emit), hints=result.hints,
                                 config=self.config, gaps=gaps, age_secs=age)
        due = now + timedelta(seconds=jittered(source, interval, result.hints, self.config, self.rng))
        if source.poll_interval_secs is None:  # a fixed schedule is the operator's: kept as configured
            due = skip_hours(due, result.hints.skip_hours)
        delivered = self.pushed(source.id)
        if delivered:  # the hub delivers it: polled only as a safety net, at the slowest interval
            due = max(due, now + timedelta(seconds=bounds(source, self.config)[1]))
        new = state.model_copy(update=dict(
            url=result.new_url or state.url, recent=chosen.recent, consecutive_failures=0,
            redirected_from=source.url if result.new_url else state.redirected_from,
            etag=result.etag if not result.not_modified else (result.etag or state.etag),
            last_modified=result.last_modified if not result.not_modified else (result.last_modified or state.last_modified),
            cursor=result.cursor if result.cursor is not None else state.cursor,
            last_success_at=now, next_poll_at=due,
            interval_secs=None if source.poll_interval_secs is not None else interval, cadence_secs=cadence,
            gaps_secs=list(gaps), newest_item_at=newest, last_item_delay_secs=_delay(chosen.emit, now, state),
            skip_hours=sorted(result.hints.skip_hours),
            items_emitted_total=state.items_emitted_total + len(chosen.emit), updated_at=now,
            polled_by=self.poller, **_push_fields(state, result, pushed, delivered)))
        if result.new_url and result.new_url != state.url:
            log.info("Source %s moved permanently to %s; polling the new address from now on.", source.id,
                     _without_query(result.new_url))
        return await self._save(new)

    def _count_emitted(self, kind: str, chosen) -> None:
        self.metrics.items_emitted.labels(kind).inc(len(chosen.emit))
        self.metrics.items_duplicate.labels(kind).inc(chosen.duplicates)
        self.metrics.items_revised.labels(kind).inc(chosen.revised)
        for item in chosen.emit:
            lag = (item.fetched_at - item.published_at).total_seconds()
            if lag >= 0 and not item.published_at_estimated:
                self.metrics.ingest_lag.labels(kind).observe(lag)

    async def _produce(self, items: list[Item]) -> None:
        futures = []
        for item in items:
            headers = cloudevent_headers(ce_type_for(item), event_id=f"{item.item_id}#{item.revision}",
                                         time=item.fetched_at)
            futures.append(await self.producer.send(
                self.items_topic, value=item.to_bytes(), key=item.item_id.encode("utf-8"), headers=headers))
        if futures:
            await asyncio.gather(*futures)

    async def _failed(self, source: Source, state: SourceState, exc: ConnectorError) -> SourceState:
        self.metrics.fetch_requests.labels(source.type, exc.kind).inc()
        self.metrics.errors.labels(exc.stage, exc.kind).inc()
        if isinstance(exc, SourceGone):
            log.error("Source %s is gone and is now disabled: %s.", source.id, exc)
            now = self.clock()
            return await self._save(state.model_copy(update=dict(
                disabled=True, disabled_reason=str(exc), last_error=str(exc), last_error_kind=exc.kind,
                last_error_at=now, consecutive_failures=state.consecutive_failures + 1,
                next_poll_at=None, updated_at=now, polled_by=self.poller)))
        delay = self._failure_delay(source, state, exc)
        log.warning("Source %s failed (%s): %s; next try in %.0fs.", source.id, exc.kind, exc, delay)
        return await self._save(self._failure_state(source, state, str(exc), exc.kind, delay))

    def _failure_delay(self, source: Source, state: SourceState, exc: ConnectorError) -> float:
        if isinstance(exc, RetryLater):
            return min(max(exc.retry_after_secs, 1.0), self.config.max_retry_after_secs)
        if isinstance(exc, BadInput):
            return current_interval(source, state, self.config)  # the document will not get better sooner
        return self._backoff(state)

    def _backoff(self, state: SourceState) -> float:
        """Exponential backoff with full jitter (AWS architecture blog): uniform in [0, cap]."""
        cap = min(self.config.backoff_max_secs, self.config.backoff_base_secs * 2 ** min(state.consecutive_failures, 30))
        return max(1.0, self.rng() * cap)

    def _failure_state(self, source: Source, state: SourceState, error: str, kind: str, delay: float) -> SourceState:
        now = self.clock()
        return state.model_copy(update=dict(
            consecutive_failures=state.consecutive_failures + 1, last_error=error[:500],
            last_error_kind=kind, last_error_at=now, next_poll_at=now + timedelta(seconds=delay),
            updated_at=now, polled_by=self.poller))

    async def _save(self, state: SourceState) -> SourceState:
        try:
            await self.store.put(state)
        except Exception as exc:
            # Kept in memory so this process does not re-emit; a restart may (at-least-once).
            self.store.remember(state)
            self.metrics.errors.labels("state", "kafka_error").inc()
            log.error("Source %s: its state was not stored in Kafka (%s); a restart may re-emit items.",
                      state.source_id, type(exc).__name__)
        self._refresh_health()
        return state

    def _refresh_health(self) -> None:
        """Recompute the health gauges (a pass over every source) at most every ``HEALTH_EVERY_SECS``:
        done on every save it made 10,000 sources cost O(n²) per round. A save within the interval
        schedules one refresh at its end, so the gauges are never more than that behind."""
        loop = asyncio.get_running_loop()
        if loop.time() >= self._health_next:
            self._health_next = loop.time() + HEALTH_EVERY_SECS
            self.health.update(self.owned_sources(), self.store.states, self.clock())
        elif self._health_timer is None:
            self._health_timer = loop.call_at(self._health_next, self._deferred_health)

    def _deferred_health(self) -> None:
        self._health_timer = None
        self._refresh_health()


def _push_fields(state: SourceState, result: PollResult, pushed: bool, delivered: bool) -> dict:
    """The WebSub hub and topic a fetched feed advertises (a push or a 304 keeps the ones known), and no
    ``active`` push state left behind by a process that no longer receives the source's pushes."""
    fields = {} if pushed or result.not_modified else dict(
        push_hub=result.hubs[0] if result.hubs else None, push_topic=result.self_url if result.hubs else None)
    if state.push_state == "active" and not delivered:
        fields["push_state"] = "none"
    return fields


def _delay(emitted: list[Item], now: datetime, state: SourceState) -> float | None:
    """Seconds from the publication of the newest item first seen now (with a real timestamp; a
    revision of an old item says nothing about freshness) to now; the last known delay otherwise."""
    newest = newest_published(i for i in emitted if i.revision == 0)
    return round(max(0.0, (now - newest).total_seconds()), 1) if newest is not None else state.last_item_delay_secs


def _without_query(url: str) -> str:
    """A URL fit for a log line: query and fragment dropped (they may carry keys)."""
    return urlsplit(url)._replace(query="", fragment="").geturl()
