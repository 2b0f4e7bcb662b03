"""The bench's reader of a drain's outputs (``kafka_io.read_until``) on the real broker: with
``quiet_secs`` it stays off the CPU while the measured processes still write, and still reads every
record once they stop."""

from __future__ import annotations

import asyncio
import time

import pytest

from core.kafka import start_producer
from tests.conftest import wait_until
from watchfloor.bench.kafka_io import read_until

QUIET_SECS = 3.0  # far above the writer's 20 ms between records, so a slow machine does not read early


async def write(producer, topic: str, numbers: range, every_secs: float = 0.0) -> float:
    """Send one record per number, each acknowledged, ``every_secs`` apart; return when the last was (monotonic)."""
    for i in numbers:
        await producer.send_and_wait(topic, key=f"k{i}".encode(), value=f"v{i}".encode())
        if every_secs:
            await asyncio.sleep(every_secs)
    return time.monotonic()


async def test_read_until_quiet_reads_nothing_while_the_topic_grows_and_then_every_record(settings, topics):
    topic = topics["items_classified"]
    seen: list[tuple[float, bytes]] = []
    producer = await start_producer(settings)
    try:
        await write(producer, topic, range(1))  # the topic grows from before the reader starts
        reader = asyncio.create_task(read_until(
            settings, {topic: 50}, timeout_secs=60.0, on_record=lambda r: seen.append((time.monotonic(), r.value)),
            quiet_secs=QUIET_SECS))
        last_written = await write(producer, topic, range(1, 50), every_secs=0.02)
    finally:
        await producer.stop()
    counts = await asyncio.wait_for(reader, timeout=60.0)

    assert counts == {topic: 50}
    assert sorted(value for _, value in seen) == sorted(f"v{i}".encode() for i in range(50))
    first_read = min(at for at, _ in seen)
    assert first_read > last_written, f"read {last_written - first_read:.2f}s before the writer stopped"


async def test_read_until_quiet_reads_what_comes_while_it_settles(settings, topics):
    # Records written after the wanted count was met, within settle_secs, are read too; a settle_secs shorter
    # than quiet_secs is lengthened so that they are.
    topic = topics["items_classified"]
    seen: list[bytes] = []
    producer = await start_producer(settings)
    try:
        await write(producer, topic, range(5))
        reader = asyncio.create_task(read_until(
            settings, {topic: 5}, timeout_secs=60.0, on_record=lambda r: seen.append(r.value),
            settle_secs=1.0, quiet_secs=QUIET_SECS))
        await wait_until(lambda: len(seen) == 5, timeout_secs=30.0, what="the first five read")
        await write(producer, topic, range(5, 10))
    finally:
        await producer.stop()
    counts = await asyncio.wait_for(reader, timeout=60.0)
    assert counts == {topic: 10}
    assert sorted(seen) == sorted(f"v{i}".encode() for i in range(10))


async def test_read_until_quiet_still_gives_up_at_its_deadline(settings, topics):
    with pytest.raises(TimeoutError, match="waited 2s"):
        await read_until(settings, {topics["items_classified"]: 1}, timeout_secs=2.0, quiet_secs=0.5)


async def test_wait_for_groups_returns_once_every_member_joined_and_names_the_states_at_its_deadline(settings, topics):
    from core.kafka import make_consumer
    from watchfloor.bench.kafka_io import wait_for_groups

    group = f"{settings.topic_prefix}members"
    consumers, readers = [], []

    async def join() -> None:
        consumer = make_consumer(settings, topics["items_raw"], group_id=group)
        await consumer.start()
        consumers.append(consumer)
        readers.append(asyncio.create_task(keep_reading(consumer)))

    async def keep_reading(consumer) -> None:
        while True:
            await consumer.getmany(timeout_ms=200)

    try:
        await join()
        with pytest.raises(TimeoutError, match=f"{group}.*members"):
            await wait_for_groups(settings, [group], 2, timeout_secs=3.0)
        await join()
        await wait_for_groups(settings, [group], 2, timeout_secs=60.0)
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        for consumer in consumers:
            await consumer.stop()
