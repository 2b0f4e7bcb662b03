"""Kafka plumbing of the benchmarks: the fastest aiokafka produce and consume paths (they are the
limits the pipeline is compared with), reading a drain's outputs once its processes are quiet, and
drain rates read from the records' own timestamps."""

from __future__ import annotations

import asyncio
import time

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner

from core.kafka import client_kwargs, make_consumer, start_producer
from core.settings import Settings

_partition = DefaultPartitioner()

POLL_SECS = 0.2
"""How often ``read_until`` with ``quiet_secs`` asks for end offsets."""
QUIET_READ_SECS = 1.0
"""What ``read_until`` with ``quiet_secs`` and ``settle_secs`` allows for reading what came, past ``quiet_secs``."""


async def produce_batched(settings: Settings, topic: str, pairs: list[tuple[bytes, bytes]]) -> float:
    """Produce every (key, value) with ``send_batch``, keyed like ``send`` would; return the seconds
    from the first append to the last acknowledgement."""
    producer = await start_producer(settings, linger_ms=5, max_batch_size=1024 * 1024)
    try:
        partitions = sorted(await producer.partitions_for(topic))
        started = time.perf_counter()
        builders: dict[int, object] = {}
        futures = []
        for key, value in pairs:
            part = _partition(key, partitions, partitions)
            builder = builders.get(part) or builders.setdefault(part, producer.create_batch())
            if builder.append(key=key, value=value, timestamp=None) is None:
                futures.append(await producer.send_batch(builder, topic, partition=part))
                builder = builders[part] = producer.create_batch()
                builder.append(key=key, value=value, timestamp=None)
        for part, builder in builders.items():
            if builder.record_count():
                futures.append(await producer.send_batch(builder, topic, partition=part))
        await asyncio.gather(*futures)
        return time.perf_counter() - started
    finally:
        await producer.stop()


async def consume_count(settings: Settings, topic: str, count: int, timeout_secs: float = 120.0) -> float:
    """Read ``count`` records of ``topic`` from the beginning (manual assignment, no group join);
    return the seconds from the first fetch to the last record."""
    consumer = make_consumer(settings, group_id=None, max_partition_fetch_bytes=4 * 1024 * 1024,
                             fetch_max_bytes=32 * 1024 * 1024)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        seen = 0
        started = time.perf_counter()
        deadline = time.monotonic() + timeout_secs
        while seen < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: read {seen} of {count} records within {timeout_secs:.0f}s")
            batches = await consumer.getmany(timeout_ms=200, max_records=10000)
            seen += sum(len(part) for part in batches.values())
        return time.perf_counter() - started
    finally:
        await consumer.stop()


async def read_until(settings: Settings, wanted: dict[str, int], timeout_secs: float, on_record=None,
                     check=None, settle_secs: float = 0.0, quiet_secs: float = 0.0) -> dict[str, int]:
    """Read each topic from the beginning until it gave at least its wanted number of records, and
    then until no record came for ``settle_secs``.

    Counted by reading, not by end offsets: the embedded broker reports a partition's end offset
    as the base offset of its last batch (+1), short of the records that batch holds.
    ``on_record(record)`` sees every record; ``check()`` runs about once a second (it may raise).

    With ``quiet_secs``, records are read only once the topics' end offsets have not moved for that
    long: while the processes measured still write, this reader only asks for end offsets (one small
    request every ``POLL_SECS``) instead of taking a share of the CPU they run on. Every record is
    still read and seen by ``on_record``, later: a drain's rate comes from the records' own timestamps. A
    ``settle_secs`` shorter than ``quiet_secs`` (+ ``QUIET_READ_SECS``) is lengthened to it, so that records written
    while it settles are read too.
    """
    if quiet_secs and settle_secs:
        # A record seen only as moving end offsets is read ``quiet_secs`` later: settle past that, and a read.
        settle_secs = max(settle_secs, quiet_secs + QUIET_READ_SECS)
    consumer = make_consumer(settings, group_id=None, fetch_max_bytes=32 * 1024 * 1024)
    await consumer.start()
    try:
        tps = [TopicPartition(t, p) for t in wanted for p in sorted(consumer.partitions_for_topic(t) or [])]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        counts = dict.fromkeys(wanted, 0)
        deadline = time.monotonic() + timeout_secs
        last_check = 0.0
        last_record = time.monotonic()
        ends, still_since = None, time.monotonic()
        while any(counts[t] < n for t, n in wanted.items()) or time.monotonic() - last_record < settle_secs:
            now = time.monotonic()
            if now > deadline:
                raise TimeoutError(f"waited {timeout_secs:.0f}s for {wanted}; have {counts}")
            if check is not None and now - last_check > 1.0:
                check()
                last_check = now
            if quiet_secs:
                moved = await consumer.end_offsets(tps)
                if moved != ends:  # still being written: counts as a record for ``settle_secs``
                    ends, still_since = moved, now
                    last_record = max(last_record, now)
                if now - still_since < quiet_secs:
                    await asyncio.sleep(POLL_SECS)
                    continue
            for tp, part in (await consumer.getmany(timeout_ms=200, max_records=10000)).items():
                last_record = time.monotonic()
                counts[tp.topic] += len(part)
                if on_record is not None:
                    for record in part:
                        on_record(record)
        return counts
    finally:
        await consumer.stop()


async def wait_for_groups(settings: Settings, groups: list[str], members: int, timeout_secs: float,
                          check=None) -> None:
    """Until each consumer group of ``groups`` is stable with ``members`` members (the broker's DescribeGroups),
    so every process measured holds its share of the partitions before the first record is there to read.

    A drain's processes start together, but the embedded broker closes a group's first generation about
    5 s after the first join: a process that joins after that waits for the next rebalance, and a drain of
    20,000 items can be over by then, read by the others alone. ``check()`` runs about once a second.
    """
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        deadline = time.monotonic() + timeout_secs
        last_check = 0.0
        while True:
            states = {}
            for name in groups:  # one group a request: the embedded broker answers several with a malformed response
                for response in await admin.describe_consumer_groups([name]):
                    for group in response.to_object()["groups"]:
                        states[group["group"]] = (group["state"], len(group["members"]))
            if all(states.get(name) == ("Stable", members) for name in groups):
                return
            now = time.monotonic()
            if now > deadline:
                raise TimeoutError(f"waited {timeout_secs:.0f}s for {groups} to be stable with {members} members; "
                                   f"have {states}")
            if check is not None and now - last_check > 1.0:
                check()
                last_check = now
            await asyncio.sleep(POLL_SECS)
    finally:
        await admin.close()


def drain_rate(timestamps_ms: list[int], trim: float = 0.05) -> float:
    """Records per second over the middle of the run: from the 5th to the 95th percentile record.

    Record timestamps are set by the producing process when it sends, so the rate excludes the
    consumer-group join (the embedded broker delays every first join by ~5 s) and the bench's own
    reading; trimming both ends removes the first batch (all of whose outputs carry nearly the same
    timestamp) and the stragglers, the same way for a per-message agent and a batched stage.
    """
    ordered = sorted(timestamps_ms)
    lo, hi = int(len(ordered) * trim), int(len(ordered) * (1 - trim)) - 1
    span = (ordered[hi] - ordered[lo]) / 1000.0
    return (hi - lo) / span if span > 0 else float("inf")
