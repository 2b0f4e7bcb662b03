"""Malformed records on every topic the worker reads — bad JSON, the wrong shape, a null key, an empty
value, a huge value, garbage headers, a classified item without its story, another message's shape —
interleaved with good items: the worker neither crashes nor stops, every good item before and after
them is classified and grouped into its story, and each bad stream record is in the dead letters."""

from __future__ import annotations

import json
import random

from core.kafka import start_producer
from tests.conftest import consume_until
from tests.streams.conftest import make_item
from tests.streams.test_pipeline import NUCLEAR, SANCTIONS, UNRELATED

# Topics the worker's stages consume (a bad record there goes to dead letters) and the state topics
# it follows (a bad record there is skipped and counted: compaction keeps it).
STREAM_TOPICS = ("items_raw", "items_stories")
STATE_TOPICS = ("alert_ledger", "story_book", "story_index", "rules")


def malformed(rng: random.Random, good_item: bytes) -> list[tuple[bytes | None, bytes | None, list]]:
    """(key, value, headers) of every kind of bad record, the huge one different each run."""
    classified_without_story = json.dumps({
        "schema_version": 1, "item": json.loads(good_item), "themes": [], "entities": [], "triggers": [],
        "rules_version": "x", "classified_at": "2026-11-20T10:00:00Z"}).encode()
    return [
        (b"k-bad-json", b"{not json", []),
        (b"k-empty-object", b"{}", []),
        (None, b'{"a": 1}', []),
        (b"k-empty", b"", []),
        (b"k-huge", bytes(rng.getrandbits(8) for _ in range(200_000)), []),
        (b"k-headers", b'{"x": [1, 2', [("ce_type", b"\xff\xfe\x00"), ("wf_relevant", b"\x00" * 40)]),
        (b"k-no-story", classified_without_story, [("ce_type", b"watchfloor.ClassifiedItem.v1")]),
        (b"k-vote", json.dumps({"item_id": 7, "story_id": None, "stamp": "soon", "votes": "many"}).encode(), []),
        (b"a:\xff\xfe-not-utf8", b"[]", []),
    ]


async def produce_raw(settings, topic: str, records: list[tuple[bytes | None, bytes | None, list]]) -> None:
    producer = await start_producer(settings)
    try:
        for key, value, headers in records:
            await producer.send_and_wait(topic, value, key=key, headers=headers or None)
    finally:
        await producer.stop()


def good_items(start: int, count: int) -> list:
    texts = [NUCLEAR, SANCTIONS, UNRELATED]
    return [make_item(n, f"{texts[n % 3]} Dispatch {n}.", source=f"feed-{n % 5}") for n in range(start, start + count)]


async def test_malformed_records_on_every_worker_topic_neither_crash_nor_stall_it(settings, topics, run_pipeline):
    rng = random.Random(20261201)
    await run_pipeline(story_grouping=True)
    first, second = good_items(0, 30), good_items(100, 30)
    bad = malformed(rng, first[0].to_bytes())

    # Good and bad records interleaved on the raw topic.
    mixed = []
    for n, item in enumerate(first):
        mixed.append((item.item_id.encode(), item.to_bytes(), []))
        if n % 4 == 0:
            mixed.append(bad[(n // 4) % len(bad)])
    await produce_raw(settings, topics["items_raw"], mixed)
    # Every kind of bad record on every other topic the worker reads.
    for key in STREAM_TOPICS[1:] + STATE_TOPICS:
        await produce_raw(settings, topics[key], bad)
    # More good items after them: the stages must still be running.
    await produce_raw(settings, topics["items_raw"], [(i.item_id.encode(), i.to_bytes(), []) for i in second])

    wanted = {i.item_id for i in first + second}
    classified = await consume_until(settings, topics["items_classified"],
                                     lambda rs: wanted <= {r.key.decode() for r in rs if r.key}, timeout_secs=120)
    assert wanted <= {r.key.decode() for r in classified if r.key}
    relevant = {i.item_id for i in first + second if UNRELATED not in i.text}
    storied = await consume_until(
        settings, topics["items_stories"],
        lambda rs: relevant <= {json.loads(r.value)["item"]["item_id"] for r in rs if _storied(r)}, timeout_secs=120)
    assert relevant <= {json.loads(r.value)["item"]["item_id"] for r in storied if _storied(r)}

    # The bad stream records, those of the raw topic included, are dead letters with their origin.
    letters = await consume_until(settings, topics["deadletter"],
                                  lambda rs: {dict(r.headers)["wf_origin_topic"].decode() for r in rs}
                                  >= {topics[k] for k in STREAM_TOPICS}, timeout_secs=120)
    origins = {dict(r.headers)["wf_origin_topic"].decode() for r in letters}
    assert {topics[k] for k in STREAM_TOPICS} <= origins
    assert not origins & {topics[k] for k in STATE_TOPICS}  # state records are skipped, not dead-lettered


def _storied(record) -> bool:
    try:
        return json.loads(record.value)["story_id"] is not None
    except (TypeError, ValueError, KeyError):
        return False
