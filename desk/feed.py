"""The alert feed: consume ``watchfloor.alerts.v1`` into the store, then fan out."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from core.kafka import batches_to_end, decode_value, desk_group, make_consumer
from core.metrics import DeskMetrics
from core.retry import run_forever
from core.settings import Settings
from desk.live import LiveHub
from desk.store import AlertStore
from desk.webhooks import WebhookDispatcher
from schemas import Alert
from schemas.topics import TOPICS

log = logging.getLogger(__name__)

MAX_BATCH = 500
RETRY_MAX_SECS = 30.0
DRAIN_SECS = 10.0


class AlertFeed:
    """Consumes the alerts topic in its own consumer group.

    Per batch: decode (a record that is not an ``Alert`` is logged, counted and skipped) → store
    the new ones with their pending webhook deliveries in one transaction → commit the offsets →
    publish to live clients and wake the webhook dispatcher. Offsets are committed only after the
    store has the alerts, so a crash replays them, and the store recognises the replay by
    ``alert_id``: every alert is shown and delivered once.

    Supervised: if consuming fails (a broker error the client does not retry, a consumer stopped
    under it), the feed logs one line, drops the consumer, waits with backoff and starts a new one in
    the same group, from the committed offsets. ``running`` is true only while a consumer is live,
    and ``/healthz`` says so.
    """

    def __init__(self, settings: Settings, store: AlertStore, hub: LiveHub, dispatcher: WebhookDispatcher,
                 metrics: DeskMetrics, group_id: str | None = None):
        self.topic = TOPICS["alerts"].name(settings.topic_prefix)
        self.settings = settings
        self.store, self.hub, self.dispatcher, self.metrics = store, hub, dispatcher, metrics
        self.group_id = group_id or desk_group(settings)
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task | None = None
        self.restarts = 0
        self.last_error: str | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done() and self._consumer is not None

    async def start(self) -> None:
        await self._connect()
        self._task = asyncio.create_task(self._supervise(), name="desk-alert-feed")
        log.info("Consuming %s in group %s.", self.topic, self.group_id)

    async def _connect(self) -> None:
        consumer = make_consumer(self.settings, self.topic, group_id=self.group_id)
        await consumer.start()
        self._consumer = consumer

    async def _drop_consumer(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            try:
                await consumer.stop()
            except Exception as exc:  # it failed already; stopping it is best effort
                log.debug("Stopping the failed alert consumer: %s", exc)

    async def _supervise(self) -> None:
        async def consume() -> None:
            if self._consumer is None:
                await self._connect()
                log.info("Consuming %s again (restart %d).", self.topic, self.restarts)
            await self._run()

        async def restart(exc: Exception) -> None:
            self.restarts += 1
            self.last_error = f"{type(exc).__name__}: {exc}"[:300]
            await self._drop_consumer()

        await run_forever(consume, what=f"The alert feed on {self.topic}", on_error=restart, logger=log,
                          level=logging.ERROR, max_delay_secs=RETRY_MAX_SECS)

    async def stop(self) -> None:
        """Stop consuming, after storing what is on the topic now: on the embedded broker the topic
        does not outlive the pipeline, so an alert the workers produced just before a shutdown would
        otherwise be raised (and in the ledger) but never reach the desk."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._consumer is not None:
            try:
                await asyncio.wait_for(self._drain(), DRAIN_SECS)
            except Exception as exc:  # the broker may be gone already; the offsets say what is stored
                log.warning("Stopped before the alerts topic was drained (%s: %s).", type(exc).__name__, exc)
            await self._consumer.stop()
            self._consumer = None

    async def _drain(self) -> None:
        consumer = self._consumer
        parts = list(consumer.assignment())
        if not parts:
            return
        for tp in parts:  # a batch fetched but not yet stored when the task was cancelled is read again
            committed = await consumer.committed(tp)
            if committed is None:  # nothing committed yet: the group starts at the beginning
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, committed)
        async for records in batches_to_end(consumer, parts, max_records=MAX_BATCH):
            await self.handle(records)
            await consumer.commit()

    async def lag(self) -> int | None:
        """Records on the topic not yet stored and committed (over the assigned partitions);
        None until partitions are assigned."""
        consumer = self._consumer
        parts = list(consumer.assignment()) if consumer is not None else []
        if not parts:
            return None
        ends = await consumer.end_offsets(parts)
        committed = [await consumer.committed(tp) or 0 for tp in parts]
        return sum(max(0, ends[tp] - done) for tp, done in zip(parts, committed))

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batch = await self._consumer.getmany(timeout_ms=1000, max_records=MAX_BATCH)
            records = [record for part in batch.values() for record in part]
            if not records:
                continue
            await self._store_with_retry(records)
            await self._consumer.commit()

    async def _store_with_retry(self, records: list[ConsumerRecord]) -> None:
        # A store failure (disk full, locked file) must not drop the batch: the offsets are not
        # committed yet, so keep trying the same records until it works or the desk stops.
        delay = 1.0
        while True:
            try:
                await self.handle(records)
                return
            except Exception as exc:
                log.error("Could not store %d alerts (%s: %s); retrying in %.0fs.",
                          len(records), type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECS)

    async def handle(self, records: list[ConsumerRecord]) -> int:
        """Store, publish and dispatch one batch; return how many alerts were new."""
        pairs = []
        for record in records:
            alert = self._decode(record)
            if alert is not None:
                pairs.append((alert, self.dispatcher.endpoints_for(alert)))
        added = await asyncio.to_thread(self.store.add_many, pairs)
        self.metrics.alerts_stored.inc(len(added))
        new_ids = {stored.alert.alert_id for stored in added}
        replayed = sum(len(endpoints) for alert, endpoints in pairs if alert.alert_id not in new_ids)
        if replayed:
            self.metrics.webhook_deliveries.labels("skipped_duplicate").inc(replayed)
        if added:
            self.hub.publish("alert", added)
            self.dispatcher.notify()
        return len(added)

    def _decode(self, record: ConsumerRecord) -> Alert | None:
        alert, reason = decode_value(Alert, record)
        if alert is None:
            self.metrics.alerts_invalid.inc()
            log.warning("Skipped record %s[%d]@%d: not a valid Alert (%s).", record.topic, record.partition,
                        record.offset, reason)
        return alert
