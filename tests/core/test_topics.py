"""Topics are declared once and created idempotently on the real broker."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient

from core.kafka import client_kwargs, create_topics, list_topics
from schemas.topics import TOPICS


async def test_create_topics_twice_creates_each_topic_once(settings):
    first = await create_topics(settings)
    second = await create_topics(settings)
    expected = {spec.name(settings.topic_prefix) for spec in TOPICS.values()}
    assert set(first) == expected
    assert second == []
    assert expected <= set(await list_topics(settings))


async def test_created_topics_have_the_declared_partition_counts(settings):
    await create_topics(settings)
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        names = [spec.name(settings.topic_prefix) for spec in TOPICS.values()]
        described = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(names)}
    finally:
        await admin.close()
    for spec in TOPICS.values():
        assert described[spec.name(settings.topic_prefix)] == spec.partitions(settings.topic_partitions), spec.key


def test_topic_names_follow_the_prefix_and_compaction_is_declared_for_state_topics():
    assert TOPICS["items_raw"].name("watchfloor.") == "watchfloor.items.raw.v1"
    assert TOPICS["source_state"].name("x.") == "x.source-state.v1"
    assert {k for k, s in TOPICS.items() if s.compacted} == {"sources", "rules", "source_state", "alert_ledger",
                                                                  "story_index", "story_book", "desk_actions"}
    assert TOPICS["connect_slots"].partitions(8) == 60  # fixed: the connectors' slots
    assert TOPICS["rules"].partitions(8) == 1
