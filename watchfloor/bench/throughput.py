"""Throughput phases of ``watchfloor bench pipeline``: the limits (raw produce, raw consume, the rule
engine alone) and the drain rate of a consumer process (the Faust peer, our worker, two workers).

Drain rate: the processes start, and once each of them holds its share of the partitions and has read some
other items (``measure_drain``), every item is written to the raw topic at once; an item is done when its last
output was produced (the classified record, or its alert when it triggers). The rate is taken over the middle
90% of those completion times (``kafka_io.drain_rate``).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from functools import cache

from core.kafka import create_topics, topic_name
from core.settings import Settings
from schemas import Item
from streams.rules import compile_pack, load_pack
from watchfloor.bench.corpus import encode_items, make_items
from watchfloor.bench.harness import Children
from watchfloor.bench.kafka_io import consume_count, drain_rate, produce_batched, read_until, wait_for_groups

DRAIN_TIMEOUT_SECS = 600.0
GROUP_TIMEOUT_SECS = 120.0
# Items that go through before the measured ones (``measure_drain``), and how long their alerts must have
# stopped coming: 200 items put ~50 on each of the 4 partitions, a third of them relevant.
WARMUP_ITEMS = 200
WARMUP_SETTLE_SECS = 2.0
# The outputs are read once they stopped growing for this long (``read_until``): longer than a worker
# takes over one batch between two deliveries (~0.5 s for 4,000 items without grouping, ~1 s with it),
# so the reader does not compete with the drain for the machine's cores (two workers and the broker on
# two cores).
QUIET_SECS = 2.0


@dataclass
class Limits:
    produce_items_per_s: float
    consume_items_per_s: float
    classify_items_per_s: float
    expected_alerts: int


async def measure_limits(settings: Settings, items: list[Item], pairs: list[tuple[bytes, bytes]]) -> Limits:
    await create_topics(settings)
    raw = topic_name(settings, "items_raw")
    produce_secs = await produce_batched(settings, raw, pairs)
    consume_secs = await consume_count(settings, raw, len(pairs))
    classify_secs, alerts = await asyncio.to_thread(classify_only, items)
    n = len(pairs)
    return Limits(n / produce_secs, n / consume_secs, n / classify_secs, alerts)


def classify_only(items: list[Item]) -> tuple[float, int]:
    """Seconds for the default pack to classify every item in-process, and the trigger hits."""
    rules = compile_pack(load_pack(None))
    started = time.perf_counter()
    hits = sum(len(rules.classify(i.text, title=i.title or None, lang=i.lang).triggers) for i in items)
    return time.perf_counter() - started, hits


@cache
def warmup_items() -> tuple[list[tuple[bytes, bytes]], int]:
    """The warm-up items of every drain (``measure_drain``) as (key, value) pairs, and the alerts they raise:
    worked out once a run, not once a drain."""
    items = make_items(WARMUP_ITEMS, seed=5, prefix="warmup")
    return encode_items(items), classify_only(items)[1]


async def measure_drain(settings: Settings, pairs: list[tuple[bytes, bytes]], argv: list[str], *, groups: list[str],
                        processes: int = 1, expected_alerts: int | None = None) -> float:
    """Items/s of ``processes`` copies of ``argv`` draining the raw topic (module docstring).

    Before the items are written, every process holds its share of the partitions and reads them: each
    consumer group of ``groups`` (those reading the raw topic, and the storied items with grouping) is stable
    with ``processes`` members (``kafka_io.wait_for_groups``), and ``WARMUP_ITEMS`` other items went through
    (their classified records, and their alerts where ``expected_alerts`` says alerts come). A stable group
    alone did not do: on the embedded broker one of two members took its partitions a second after the other,
    while a drain of 20,000 items lasts about two. Then the items are written as fast as the producer goes
    (~100,000 items/s), so the processes find a backlog at once.

    An item is done at its classified record, or at its alert when it raises one (the story hops,
    when on, lie between the two). With ``expected_alerts`` the reading goes on until the alerts
    stop coming: story grouping may fold a few, so their count alone cannot tell.
    """
    await create_topics(settings)
    raw, classified = topic_name(settings, "items_raw"), topic_name(settings, "items_classified")
    alerts = topic_name(settings, "alerts")
    warmup, warmup_alerts = await asyncio.to_thread(warmup_items)
    measured = {key.decode("utf-8") for key, _ in pairs}
    wanted = {classified: len(warmup) + len(pairs)}
    if expected_alerts is not None:
        wanted[alerts] = warmup_alerts + int(expected_alerts * 0.8)
    done: dict[str, int] = {}

    def completed(record) -> None:
        key = json.loads(record.value)["item_id"] if record.topic == alerts else record.key.decode("utf-8")
        if key in measured:
            done[key] = max(done.get(key, 0), record.timestamp)

    with Children(settings, argv, processes) as children:
        await wait_for_groups(settings, groups, processes, GROUP_TIMEOUT_SECS, check=children.check_alive)
        await produce_batched(settings, raw, warmup)
        await read_until(settings, {classified: len(warmup), **({alerts: 1} if expected_alerts is not None else {})},
                         GROUP_TIMEOUT_SECS, check=children.check_alive,
                         settle_secs=WARMUP_SETTLE_SECS if expected_alerts is not None else 0.0)
        await produce_batched(settings, raw, pairs)
        await read_until(settings, wanted, DRAIN_TIMEOUT_SECS, on_record=completed, check=children.check_alive,
                         settle_secs=3.0 if expected_alerts is not None else 0.0, quiet_secs=QUIET_SECS)
    return drain_rate(list(done.values()))
