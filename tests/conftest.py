"""Shared fixtures: one real embedded broker per session; every test gets its own topic prefix
(so its own topics) and its own consumer group."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable

import pytest

from core.kafka import create_topics, make_consumer, topic_names
from core.netpolicy import AddressPolicy
from core.settings import Settings
from watchfloor.broker import EmbeddedBroker

# The embedded broker holds every consumer group join for half the session timeout. At the lowest
# value the settings allow, each worker, desk and connector the tests start (in-process or as a
# child, which inherits this environment) joins in 3 s instead of 5 s.
os.environ.setdefault("WATCHFLOOR_KAFKA_SESSION_TIMEOUT_MS", "6000")
os.environ.setdefault("WATCHFLOOR_CONNECT_SESSION_TIMEOUT_MS", "6000")


@pytest.fixture(scope="session")
def broker():
    """The embedded tansu broker on a free loopback port, started once per test session."""
    with EmbeddedBroker("127.0.0.1", 0) as running:
        yield running


@pytest.fixture
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}."


LOCAL_NETWORKS = ["127.0.0.0/8", "::1/128"]
LOCAL = AddressPolicy(LOCAL_NETWORKS)
"""The address policy of tests that fetch from, or deliver to, servers on this machine."""


@pytest.fixture
def settings(broker, topic_prefix, tmp_path) -> Settings:
    """Settings pointing at the session broker with this test's own topic prefix and data dir."""
    return Settings(
        kafka_bootstrap=broker.bootstrap,
        topic_prefix=topic_prefix,
        topic_partitions=2,
        data_dir=tmp_path / "data",
        fetch_allowed_networks=LOCAL_NETWORKS,  # the tests' feeds and receivers are local servers
    )


@pytest.fixture
async def topics(settings) -> dict[str, str]:
    """Create this test's topics; return short name → full topic name."""
    await create_topics(settings)
    return topic_names(settings)


async def consume_until(
    settings: Settings,
    topic: str,
    done: Callable[[list], bool],
    timeout_secs: float = 30.0,
    group: str | None = None,
) -> list:
    """Read ``topic`` from the beginning until ``done(records)`` or the deadline; return the records."""
    consumer = make_consumer(settings, topic, group_id=group, auto_offset_reset="earliest")
    await consumer.start()
    records: list = []
    deadline = time.monotonic() + timeout_secs
    try:
        while not done(records):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{topic}: condition not met within {timeout_secs}s; got {len(records)} records")
            batch = await consumer.getmany(timeout_ms=int(min(remaining, 0.5) * 1000))
            for part in batch.values():
                records.extend(part)
    finally:
        await consumer.stop()
    return records


async def wait_until(predicate: Callable[[], object], timeout_secs: float = 30.0, what: str = "condition"):
    """Await until ``predicate()`` is truthy (it may be a coroutine function) or fail at the deadline."""
    deadline = time.monotonic() + timeout_secs
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_secs}s waiting for {what}")
        await asyncio.sleep(0.05)


async def read_to_end(settings: Settings, topic: str, timeout_secs: float = 30.0) -> list:
    """Every record on ``topic`` up to its end offsets at the time of the call."""
    from aiokafka import TopicPartition

    consumer = make_consumer(settings, group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list = []
        deadline = time.monotonic() + timeout_secs
        async def behind() -> bool:
            for tp, end in ends.items():
                if await consumer.position(tp) < end:
                    return True
            return False

        while await behind():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: could not read to the end within {timeout_secs}s")
            for part in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(part)
        return records
    finally:
        await consumer.stop()
