"""The story index and the surge judge as plain functions: convergence, restore, hysteresis."""

from __future__ import annotations

from core.kafka import key_partition
from schemas.story import MentionEvent, SurgeThresholds
from streams.alerts.surge import add_mention, judge
from streams.stories.grouping import (
    StoryIndex,
    band_buckets,
    resolve,
    shingles,
    signature,
    similarity,
    story_id_for,
)
from tests.streams.stories.corpus import APART_A, APART_B, WIRE, syndicated_copies

LIMITS = SurgeThresholds()


def probe_all(indexes: dict[int, StoryIndex], item_id: str, text: str, seen_at: float, order=None):
    """Probe every partition holding one of the item's buckets; the resolved story and the votes."""
    sig = signature(shingles(text))
    groups: dict[int, list[str]] = {}
    for key in band_buckets(sig):
        groups.setdefault(key_partition(key.encode(), len(indexes)), []).append(key)
    votes = []
    for p in order or sorted(groups):
        if p in groups:
            match, _, _ = indexes[p].probe(item_id, groups[p], sig, seen_at)
            votes.append((match.story_id, match.story_seen_at))
    return resolve(votes)[0], votes


def new_indexes(n: int = 4) -> dict[int, StoryIndex]:
    return {p: StoryIndex(window_secs=3600, min_similarity=0.3) for p in range(n)}


def test_signatures_of_edited_copies_are_similar_and_of_stories_sharing_phrases_are_not():
    copies = [signature(shingles(t)) for t in syndicated_copies(20)]
    assert min(similarity(copies[0], s) for s in copies[1:]) >= 0.4
    a, b, wire = (signature(shingles(t)) for t in (APART_A, APART_B, WIRE))
    assert max(similarity(a, b), similarity(a, wire), similarity(b, wire)) < 0.2
    assert shingles("too short to compare") == set()


def test_copies_probed_in_any_order_after_the_first_all_join_the_first_story():
    indexes = new_indexes()
    copies = syndicated_copies(20)
    first, _ = probe_all(indexes, "wire/0", copies[0], 100.0)
    assert first == story_id_for("wire/0")
    for n in reversed(range(1, 20)):  # reverse arrival: newest copies first
        story, _ = probe_all(indexes, f"copy/{n}", copies[n], 100.0 + n, order=[3, 1, 2, 0])
        assert story == first


def test_two_partitions_that_saw_two_copies_in_opposite_orders_resolve_both_to_the_older():
    copies = syndicated_copies(2)
    sig_x, sig_y = signature(shingles(copies[0])), signature(shingles(copies[1]))
    shared = sorted(set(band_buckets(sig_x)) & set(band_buckets(sig_y)))
    p0, p1 = new_indexes(2).values()
    # Partition 0 sees x then y; partition 1 sees y then x.
    x0, _, _ = p0.probe("x", shared, sig_x, 10.0)
    y0, _, _ = p0.probe("y", shared, sig_y, 20.0)
    y1, _, _ = p1.probe("y", shared, sig_y, 20.0)
    x1, _, _ = p1.probe("x", shared, sig_x, 10.0)
    as_pairs = lambda *ms: [(m.story_id, m.story_seen_at) for m in ms]  # noqa: E731
    assert resolve(as_pairs(x0, x1)) == resolve(as_pairs(y0, y1)) == (story_id_for("x"), 10.0)
    # The resolver's bind moves partition 1's buckets to the older story for later copies.
    p1.bind("x", shared, story_id_for("x"), 10.0, sig_x)
    later, _, _ = p1.probe("z", shared, sig_y, 30.0)
    assert later.story_id == story_id_for("x")


def test_an_index_rebuilt_from_its_change_records_answers_like_the_original():
    # A small cap forces evictions; a bind moves buckets; an unrelated story expires: every kind of
    # change (records, overwrites, tombstones) is in the log.
    original = StoryIndex(window_secs=3600, min_similarity=0.3, max_buckets=45)
    sig_a = signature(shingles(APART_A))
    log = original.probe("apart", band_buckets(sig_a), sig_a, -5000.0)[2]
    for n, text in enumerate(syndicated_copies(5)):
        sig = signature(shingles(text))
        log += original.probe(f"i{n}", band_buckets(sig), sig, float(n))[2]
    sig_b = signature(shingles(syndicated_copies(5)[4]))
    log += original.bind("i4", band_buckets(sig_b), "story-older", -1.0, sig_b)
    log += original.expire(now=100.0)
    assert any(value is None for _, value in log) and original.holders
    rebuilt = StoryIndex(window_secs=3600, min_similarity=0.3, max_buckets=45)
    for key, value in log:
        rebuilt.apply(key, value)
    rebuilt.prune_signatures()
    original.prune_signatures()
    assert rebuilt.buckets == original.buckets and rebuilt.signatures == original.signatures
    assert rebuilt.holders == original.holders
    sig = signature(shingles(syndicated_copies(7)[6]))
    assert rebuilt.probe("late", band_buckets(sig), sig, 9.0)[0] == original.probe("late", band_buckets(sig), sig, 9.0)[0]


def test_the_index_forgets_buckets_older_than_its_window_and_tombstones_them():
    index = StoryIndex(window_secs=100, min_similarity=0.3)
    sig = signature(shingles(WIRE))
    index.probe("old", band_buckets(sig), sig, 0.0)
    changes = index.expire(now=500.0)
    assert not index.buckets and not index.signatures and not index.holders
    assert changes == [(f"p:old@{0.0!r}", None)], "one record per probe, one tombstone for it"


def mention(n: int, source: str, story: str | None = None) -> MentionEvent:
    return MentionEvent(theme="escalation", entity_id="person:x", entity_name="X", entity_type="person",
                        item_id=f"i{n}", source_id=source, source_type="rss", story_id=story, at=float(n))


def window_of(mentions) -> dict:
    window: dict = {}
    for m in mentions:
        window = add_mention(window, m)
    return window


def test_a_window_counts_stories_once_and_every_source():
    window = window_of([mention(1, "a", "s1"), mention(2, "b", "s1"), mention(3, "c", "s2"), mention(3, "c", "s2")])
    assert window["count"] == 2 and window["sources"] == ["a", "b", "c"] and len(window["items"]) == 3


def test_judge_opens_on_a_spread_burst_only_and_severity_rises_with_the_ratio():
    burst = window_of(mention(n, f"src{n % 4}") for n in range(12))
    assert judge(burst, [1, 1, 1], 1, {}, 0.0, LIMITS) == judge(burst, [1, 1, 1], 1, {}, 0.0, LIMITS)
    verdict = judge(burst, [1, 1, 1], 1, {}, 0.0, LIMITS)
    assert verdict.alert and verdict.active and verdict.ratio == 12 and verdict.severity == "critical"
    assert judge(window_of(mention(n, "src") for n in range(6)), [1], 1, {}, 0.0, LIMITS).severity == "warning"
    lone = window_of(mention(n, "only-source") for n in range(12))
    assert not judge(lone, [1, 1, 1], 1, {}, 0.0, LIMITS).alert
    steady = window_of(mention(n, f"src{n % 4}") for n in range(8))
    assert not judge(steady, [8, 8, 7, 9, 8, 8], 8, {}, 0.0, LIMITS).alert


def test_judge_holds_an_open_surge_until_the_ratio_falls_below_the_clear_ratio_and_respects_cooldown():
    burst = window_of(mention(n, f"src{n % 4}") for n in range(12))
    held = judge(burst, [1], 1, {"active": True, "last_alert_at": 0.0}, 10.0, LIMITS)
    assert not held.alert and held.active
    quiet = window_of([mention(1, "a")])
    assert not judge(quiet, [1, 1], 1, {"active": True}, 10.0, LIMITS).active
    cooling = judge(burst, [1], 1, {"active": False, "last_alert_at": 0.0}, 60.0, LIMITS)
    assert cooling.active and not cooling.alert
    assert judge(burst, [1], 1, {"last_alert_at": 0.0}, LIMITS.cooldown_secs + 1, LIMITS).alert


def test_the_resolver_never_commits_between_two_votes_of_one_item():
    from types import SimpleNamespace

    from aiokafka import TopicPartition

    from schemas.story import StoryVote
    from streams.stories.resolve import StoryResolveStage

    stage = StoryResolveStage.__new__(StoryResolveStage)  # process() and commit_offsets() need no broker
    stage.pending, stage.spans, stage.clock = {}, [], lambda: 0.0
    stage.stories_topic, stage.probes_topic, stage.mentions_topic = "stories", "probes", None

    def record(offset, item, partition, probes=2):
        vote = StoryVote(item_id=item, partition=partition, probes=probes, story_id="s", story_seen_at=1.0)
        return SimpleNamespace(topic="votes", partition=0, offset=offset, key=item.encode(), value=vote.to_bytes())

    tp = TopicPartition("votes", 0)
    # x's votes at 10 and 12, y's first at 11: y holds the commit at 11, x is decided (no payload).
    batch = [record(10, "x", 0), record(11, "y", 0), record(12, "x", 1)]
    stage.process(batch)
    assert "x" not in stage.pending and "y" in stage.pending
    assert stage.commit_offsets({tp: batch}) == {tp: 10}, "restarting at 11 would re-read half of x"
    stage.process(more := [record(13, "y", 1)])
    assert stage.commit_offsets({tp: more}) == {tp: 14}


def test_mentions_of_a_batch_are_one_record_per_key_and_window_and_parse_back():
    from datetime import datetime, timezone

    from schemas import ClassifiedItem, EntityHit, ThemeHit, utcnow
    from streams.alerts.surge import mention_outputs, parse_mentions
    from tests.streams.conftest import make_item

    def storied(n: int, at: float, entities: list[str]) -> ClassifiedItem:
        item = make_item(n, f"Report {n}", source=f"feed-{n}").model_copy(
            update={"fetched_at": datetime.fromtimestamp(at, tz=timezone.utc)})
        return ClassifiedItem(item=item, themes=[ThemeHit(theme="escalation", score=1.0)],
                              entities=[EntityHit(id=e, name=e, type="person") for e in entities],
                              rules_version="v", classified_at=utcnow(), story_id=f"story-{n}")

    batch = [storied(1, 1000.0, ["person:a", "person:b"]), storied(2, 1100.0, ["person:a"]),
             storied(3, 1700.0, ["person:a"])]  # window 600 s: 1000 and 1100 share one, 1700 is the next
    out = mention_outputs("mentions", batch, 600.0)
    records = {(o.key, o.timestamp_ms): parse_mentions(o.value) for o in out}
    assert sorted(records) == [(b"escalation|person:a", 1_000_000), (b"escalation|person:a", 1_700_000),
                               (b"escalation|person:b", 1_000_000)]
    assert [m.item_id for m in records[(b"escalation|person:a", 1_000_000)]] == ["rss:feed-1:1", "rss:feed-2:2"]
    assert [m.story_id for m in records[(b"escalation|person:a", 1_700_000)]] == ["story-3"]
    assert mention_outputs(None, batch, 600.0) == []
    single = mention(5, "src")
    assert parse_mentions(single.to_bytes()) == [single]  # one event per record is still read
