"""End-to-end latency of ``watchfloor bench pipeline`` at a fixed offered load.

Definition: for an item that triggers, latency = the moment a downstream consumer of the alerts
topic (in the bench process, manually assigned, so no group join) receives the alert, minus the
moment the bench handed the raw item to its producer. That is "published to Kafka → alert visible
to the desk", both clocks being this machine's wall clock. The same is reported for every item's
classified record (``classified_p50/p99``).

The load is paced against the monotonic clock in 10 ms ticks (10 items per tick at 1,000/s), from a
producer configured like a connector's; the workers are warmed up first (both stages have joined
their groups and answered one item) so the embedded broker's ~5 s first-join delay is not counted.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

from aiokafka import TopicPartition

from core.kafka import create_topics, make_consumer, start_producer, topic_name
from core.settings import Settings
from watchfloor.bench.corpus import encode_items, make_items
from watchfloor.bench.harness import WORKER_ARGV, Children
from watchfloor.bench.stats import percentile
from watchfloor.bench.throughput import classify_only

TICK_SECS = 0.01
WARMUP_TIMEOUT_SECS = 90.0


@dataclass
class Latency:
    offered_items_per_s: float
    achieved_items_per_s: float
    alerts: int
    p50: float
    p99: float
    max: float
    classified_p50: float
    classified_p99: float


class Arrivals:
    """Follows the classified and alerts topics from their end; records each arrival's wall time."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.classified: dict[str, float] = {}
        self.alerts: dict[str, float] = {}
        self._topics = (topic_name(settings, "items_classified"), topic_name(settings, "alerts"))
        self._last = time.monotonic()

    def quiet(self, secs: float = 2.0) -> bool:
        """No record arrived for ``secs``: story grouping may fold a few alerts, so count alone cannot tell."""
        return time.monotonic() - self._last > secs

    async def run(self) -> None:
        consumer = make_consumer(self.settings, group_id=None, fetch_max_wait_ms=10)
        await consumer.start()
        try:
            tps = [TopicPartition(t, p) for t in self._topics for p in sorted(consumer.partitions_for_topic(t))]
            consumer.assign(tps)
            await consumer.seek_to_end(*tps)
            while True:
                batches = await consumer.getmany(timeout_ms=100, max_records=5000)
                now = time.time()
                if batches:
                    self._last = time.monotonic()
                for tp, records in batches.items():
                    for record in records:
                        if tp.topic == self._topics[0]:
                            self.classified.setdefault(record.key.decode(), now)
                        else:
                            self.alerts.setdefault(json.loads(record.value)["item_id"], now)
        finally:
            await consumer.stop()


async def offer_load(settings: Settings, pairs: list[tuple[bytes, bytes]], rate: float) -> tuple[dict[str, float], float]:
    """Send ``pairs`` at ``rate`` items/s; return item_id → send time and the achieved rate."""
    producer = await start_producer(settings)
    raw = topic_name(settings, "items_raw")
    sent: dict[str, float] = {}
    try:
        started = time.monotonic()
        i = 0
        while i < len(pairs):
            due = min(len(pairs), int((time.monotonic() - started) * rate) + 1)
            for key, value in pairs[i:due]:
                sent[key.decode()] = time.time()
                await producer.send(raw, value, key=key)
            i = max(i, due)
            await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()) or TICK_SECS / 10)
        await producer.flush()
        return sent, len(pairs) / (time.monotonic() - started)
    finally:
        await producer.stop()


async def measure_latency(settings: Settings, *, rate: float = 1000.0, seconds: float = 10.0,
                          processes: int = 1) -> Latency:
    await create_topics(settings)
    items = make_items(int(rate * seconds), seed=11, prefix="latency")
    _, expected_alerts = await asyncio.to_thread(classify_only, items)
    warmup = [i for i in make_items(50, seed=3, prefix="warmup")]
    arrivals = Arrivals(settings)
    with Children(settings, WORKER_ARGV, processes) as children:
        follower = asyncio.create_task(arrivals.run())
        try:
            await offer_load(settings, encode_items(warmup), rate)
            await _until(lambda: len(arrivals.alerts) > 0 and len(arrivals.classified) >= len(warmup),
                         children, WARMUP_TIMEOUT_SECS, "the warm-up items")
            arrivals.alerts.clear()
            sent, achieved = await offer_load(settings, encode_items(items), rate)
            await _until(lambda: len(arrivals.alerts) >= 0.9 * expected_alerts and len(arrivals.classified) >= len(sent)
                         + len(warmup), children, 60.0, "the alerts of the measured load")
            await _until(arrivals.quiet, children, 60.0, "the last alert")
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
    alert_lat = [at - sent[item_id] for item_id, at in arrivals.alerts.items() if item_id in sent]
    classified_lat = [at - sent[key] for key, at in arrivals.classified.items() if key in sent]
    return Latency(rate, achieved, len(alert_lat), percentile(alert_lat, 0.5), percentile(alert_lat, 0.99),
                   max(alert_lat), percentile(classified_lat, 0.5), percentile(classified_lat, 0.99))


async def _until(predicate, children: Children, timeout_secs: float, what: str) -> None:
    deadline = time.monotonic() + timeout_secs
    while not predicate():
        children.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {timeout_secs:.0f}s")
        await asyncio.sleep(0.05)
