"""``watchfloor connect`` killed with SIGKILL in the middle of a poll, then started again: no item is
lost and none is on the raw topic twice.

Two feeds of 150 items. The kill comes when feed ``done`` was fully polled (its state record, written
only after Kafka acknowledged its items, is on the source-state topic) and the request for feed
``held`` is in flight (the server holds it). After the restart the connector loads the states, does
not emit ``done`` again, and polls ``held`` from scratch.

(At-least-once allows one kind of duplicate: a kill after Kafka acknowledged a poll's items and before
its state record was written. Consumers recognise those by key; this test kills where a correct
connector must produce exactly once.)
"""

from __future__ import annotations

import asyncio
import signal

from aiokafka import TopicPartition

from core.kafka import make_consumer, start_producer
from schemas import Item, SourceState
from tests.conftest import consume_until, wait_until
from tests.faults.conftest import Feeds, process_env, serve_feeds, start, stop

PER_FEED = 150


async def read_all_items(settings, topic: str) -> list[Item]:
    """Every item on ``topic``. A one-record marker is appended to each partition first: the embedded
    broker reports a partition's end as its last batch's base offset + 1, exact only for a batch of one."""
    producer = await start_producer(settings)
    consumer = make_consumer(settings, group_id=None)
    try:
        await consumer.start()
        partitions = sorted(consumer.partitions_for_topic(topic))
        for p in partitions:
            await producer.send_and_wait(topic, b"marker", key=b"marker", partition=p)
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for part in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(part)
        return [Item.from_bytes(r.value) for r in records if r.key != b"marker"]
    finally:
        await producer.stop()
        await consumer.stop()


async def test_connector_killed_mid_poll_loses_and_duplicates_no_item_after_restart(settings, topics, tmp_path):
    feeds = Feeds()
    for name in ("done", "held"):
        feeds.entries[name] = [(f"{name}-{n}", f"Story {n} of the {name} feed, told in full.") for n in range(PER_FEED)]
    feeds.hold("held")
    async with serve_feeds(feeds) as base:
        sources = tmp_path / "sources.yaml"
        sources.write_text("sources:\n" + "".join(
            f"  - {{id: {name}, type: rss, url: '{base}/{name}', poll_interval_secs: 600}}\n" for name in ("done", "held")))
        env = process_env(settings, WATCHFLOOR_SOURCES_PATH=str(sources))
        first = start("connect", env, tmp_path / "connect1.log")
        try:
            await consume_until(settings, topics["source_state"],
                                lambda rs: any(r.key == b"done" for r in rs), timeout_secs=60)
            await asyncio.wait_for(feeds.arrived["held"].wait(), 30)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            stop(first)
        feeds.release("held")

        second = start("connect", env, tmp_path / "connect2.log")
        try:
            states = await consume_until(settings, topics["source_state"],
                                         lambda rs: any(r.key == b"held" for r in rs), timeout_secs=60)
            await wait_until(lambda: feeds.hits["held"] >= 2, 10, "the restarted connector's poll")
        finally:
            assert stop(second) == 0
    items = await read_all_items(settings, topics["items_raw"])
    ids = [i.item_id for i in items]
    assert len(ids) == len(set(ids)) == 2 * PER_FEED
    assert {i.source_id for i in items} == {"done", "held"}
    assert feeds.hits["done"] == 1, "the restarted connector polled the finished feed again before its time"
    held = [SourceState.from_bytes(r.value) for r in states if r.key == b"held"][-1]
    assert held.consecutive_failures == 0
