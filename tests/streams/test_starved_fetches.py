"""The embedded broker lists every batch it stores for a partition on each fetch and answers with
nothing when the fetch's wait runs out first, so a follower with a short wait on a long topic would
never read again. Followers and stages raise their wait when fetches come back empty while they are
behind (``core.kafka.StarvedFetches``); here a 1 ms follower catches up with a topic long enough that a
plain 1 ms consumer reads nothing (2,500 batches on a loaded machine, more on a quick one: the topic grows
until the broker starves such a consumer)."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import TopicPartition
from aiokafka.admin import NewTopic

from core.kafka import make_consumer, start_producer
from streams.follower import TopicFollower
from tests.conftest import wait_until

BATCHES = 2500
MAX_BATCHES = 40_000  # twice what starved even a 10 ms fetch when measured (20,000): a 1 ms one starves well before


async def create_topic(settings, topic: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    from core.kafka import client_kwargs

    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()


async def add_batches(settings, topic: str, start: int, count: int) -> None:
    producer = await start_producer(settings, linger_ms=0)
    try:
        for n in range(start, start + count):  # one acknowledged send at a time: one stored batch each
            await producer.send_and_wait(topic, b"%d" % n, key=b"k%d" % n)
    finally:
        await producer.stop()


async def first_record_within(settings, topic: str, secs: float, fetch_max_wait_ms: int) -> bool:
    consumer = make_consumer(settings, group_id=None, fetch_max_wait_ms=fetch_max_wait_ms)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        deadline = asyncio.get_running_loop().time() + secs
        while asyncio.get_running_loop().time() < deadline:
            if await consumer.getmany(timeout_ms=200):
                return True
        return False
    finally:
        await consumer.stop()


async def test_a_follower_whose_fetches_starve_on_a_long_topic_raises_its_wait_and_reads_it_all(settings, caplog):
    topic = f"{settings.topic_prefix}many-batches"
    await create_topic(settings, topic)
    # The broker's behaviour this guards against: on a long enough topic a plain 1 ms consumer reads nothing
    # at all. How long is long enough depends on the machine's speed, so the topic grows until it does.
    batches = 0
    while True:
        await add_batches(settings, topic, batches, BATCHES)
        batches += BATCHES
        if not await first_record_within(settings, topic, 1.5, fetch_max_wait_ms=1):
            break
        assert batches < MAX_BATCHES, f"a plain 1 ms consumer still reads a topic of {batches} batches"

    seen: list[bytes] = []
    follower = TopicFollower(settings, topic, lambda record: seen.append(record.value), fetch_max_wait_ms=1)
    with caplog.at_level(logging.WARNING, logger="core.kafka"):
        await follower.start()
        try:
            # 60 s for 2,500 batches, and a second more for every further 250.
            await wait_until(lambda: len(seen) >= batches, timeout_secs=60 + (batches - BATCHES) / 250,
                             what="the follower to read every batch")
        finally:
            await follower.stop()
    assert seen == [b"%d" % n for n in range(batches)]
    raised = [r.getMessage() for r in caplog.records if "fetch wait raised" in r.getMessage()]
    assert raised and raised[0].startswith(f"Following {topic}: fetches came back empty")


class Consumer:
    """What ``StarvedFetches`` reads of an ``AIOKafkaConsumer``: its assignment, high watermarks,
    positions, and the fetcher's wait (the attribute aiokafka 0.14 keeps it in)."""

    def __init__(self, behind: int, wait_ms: int):
        self.tp = TopicPartition("t", 0)
        self.high, self.at = behind, 0
        self._fetcher = type("Fetcher", (), {"_fetch_max_wait_ms": wait_ms})()

    def assignment(self):
        return {self.tp}

    def highwater(self, tp):
        return self.high

    async def position(self, tp):
        return self.at


async def test_the_wait_doubles_only_after_empty_polls_spanning_three_waits_so_short_polls_never_run_away():
    from core.kafka import StarvedFetches

    consumer, now = Consumer(behind=10, wait_ms=100), [0.0]
    starved = StarvedFetches(consumer, "stage", clock=lambda: now[0])
    for _ in range(20):  # 20 polls of 10 ms each: 200 ms, under three 100 ms waits
        await starved.check(False)
        now[0] += 0.010
    assert consumer._fetcher._fetch_max_wait_ms == 100
    now[0] += 0.200
    await starved.check(False)
    assert consumer._fetcher._fetch_max_wait_ms == 200
    await starved.check(True)  # records arrived: the streak starts over
    for _ in range(3):
        await starved.check(False)
        now[0] += 0.15
    assert consumer._fetcher._fetch_max_wait_ms == 200, "0.3 s of empty polls is under three 200 ms waits"
    now[0] += 0.3
    await starved.check(False)
    assert consumer._fetcher._fetch_max_wait_ms == 400
    consumer.at = consumer.high  # caught up: an empty poll is just a quiet topic
    for _ in range(10):
        await starved.check(False)
        now[0] += 1.0
    assert consumer._fetcher._fetch_max_wait_ms == 400
