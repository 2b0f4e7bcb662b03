"""The story replica and the surge judge as plain functions: one story per near-copies whatever
the order, agreement between workers, restore from the compacted log, the window, hysteresis."""

from __future__ import annotations

from array import array
from collections import Counter

import pytest

from schemas.story import MentionEvent, SurgeThresholds
from streams.alerts.surge import MAX_LISTED_ITEMS, MAX_TRACKED_STORIES, add_mentions, judge
from streams.stories.grouping import band_buckets, shingles, signature, similarity, story_id_for
from streams.stories.replica import Match, StoryReplica, claim
from tests.streams.stories.corpus import APART_A, APART_B, WIRE, syndicated_copies

LIMITS = SurgeThresholds()


def new_replica(**kwargs) -> StoryReplica:
    return StoryReplica(**{"window_secs": 3600, "min_similarity": 0.3, **kwargs})


def record_for(replica: StoryReplica, item_id: str, text: str, at: float, writer: str = "w1"):
    """What a worker writes for an item, given what its replica knows (``StoryAssigner.handle``)."""
    sig = signature(shingles(text))
    buckets = band_buckets(sig)
    found = replica.lookup(buckets, sig, own=story_id_for(item_id))
    if found is not None:
        return claim(item_id, buckets, sig, at, found, open_=False, writer=writer)
    return claim(item_id, buckets, sig, at, Match(story_id_for(item_id), at), open_=True, writer=writer)


def compacted(log: list, released: set[str]) -> list:
    """The log as compaction leaves it: released records tombstoned, the rest in their order."""
    return [(key, value) for key, value in log if key not in released]


def test_signatures_of_edited_copies_are_similar_and_of_stories_sharing_phrases_are_not():
    copies = [signature(shingles(t)) for t in syndicated_copies(20)]
    # The least similar copy's exact Jaccard similarity is 0.38; story_min_similarity is 0.3.
    assert min(similarity(copies[0], s) for s in copies[1:]) >= 0.35
    a, b, wire = (signature(shingles(t)) for t in (APART_A, APART_B, WIRE))
    assert max(similarity(a, b), similarity(a, wire), similarity(b, wire)) < 0.2
    assert shingles("too short to compare") == []


def test_copies_arriving_after_the_first_all_join_the_first_story_and_unrelated_texts_do_not():
    replica = new_replica()
    copies = syndicated_copies(20)
    first, _ = replica.apply(*record_for(replica, "wire/0", copies[0], 100.0))
    assert first.story_id == story_id_for("wire/0")
    for n in reversed(range(1, 20)):  # the newest copies first
        key, value = record_for(replica, f"copy/{n}", copies[n], 100.0 + n)
        assert not value["open"], "a copy found the story in the replica: its story is final at once"
        assert replica.apply(key, value)[0] == first
    for n, text in enumerate((APART_A, APART_B)):
        key, value = record_for(replica, f"apart/{n}", text, 200.0 + n)
        assert value["open"] and replica.apply(key, value)[0].story_id == story_id_for(f"apart/{n}")


def test_two_workers_that_claim_near_copies_at_once_both_settle_on_the_claim_logged_first():
    copies = syndicated_copies(2)
    one, two = new_replica(), new_replica()
    # Both replicas are empty: each worker claims a new story. y's stamp is the older one, but x's
    # claim reached the log first.
    x = record_for(one, "x", copies[0], 20.0, writer="w1")
    y = record_for(two, "y", copies[1], 10.0, writer="w2")
    assert x[1]["open"] and y[1]["open"]
    log = [x, y]
    for replica in (one, two):
        assert [replica.apply(key, value)[0].story_id for key, value in log] == [story_id_for("x")] * 2
        assert {b.story_id for b in replica.buckets.values()} == {story_id_for("x")}, \
            "no bucket is left to the story that lost, which never alerted"
    assert one.buckets == two.buckets
    later = record_for(two, "z", syndicated_copies(3)[2], 30.0)
    assert two.apply(*later)[0].story_id == story_id_for("x")


def test_a_replica_rebuilt_from_the_compacted_log_holds_what_the_original_holds():
    # A small cap forces evictions, an unrelated story expires, copies join and lose claims: every
    # kind of release is in the log.
    original = new_replica(max_buckets=45)
    log, released = [], set()

    def write(item_id, text, at):
        key, value = record_for(original, item_id, text, at)
        log.append((key, value))
        released.update(original.apply(key, value)[1])

    write("apart", APART_A, -5000.0)
    for n, text in enumerate(syndicated_copies(6)):
        write(f"i{n}", text, float(n))
    write("other", APART_B, 50.0)
    assert released and "apart@-5000.0" in released, "the expired story's record is released"
    rebuilt = new_replica(max_buckets=45)
    for key, value in compacted(log, released):
        rebuilt.apply(key, value)
    assert rebuilt.buckets == original.buckets and rebuilt.records == original.records
    assert list(rebuilt.records) == list(original.records) and rebuilt.signatures == original.signatures
    probe = syndicated_copies(8)[7]
    assert record_for(rebuilt, "late", probe, 60.0) == record_for(original, "late", probe, 60.0)


def test_the_buckets_a_live_record_holds_share_one_entry_and_each_story_counts_its_buckets():
    # Memory: one small object per record, not one per bucket (a record holds up to twenty buckets). Copies
    # take buckets over, a small cap evicts, a short window expires: the counts hold through each.
    replica = new_replica(max_buckets=70, window_secs=50)
    texts = [*syndicated_copies(5), APART_A, APART_B, WIRE, *syndicated_copies(7)[5:]]
    for n, text in enumerate(texts):
        replica.apply(*record_for(replica, f"i{n}", text, float(n * 10)))
        marks = {id(bucket): bucket for bucket in replica.buckets.values()}
        assert sorted(bucket.origin for bucket in marks.values()) == sorted(replica.records)
        assert all(replica.buckets[key].origin == origin and replica.buckets[key].story_id == held.story_id
                   for origin, held in replica.records.items() for key in held.buckets)
        assert replica.refs == Counter(bucket.story_id for bucket in replica.buckets.values())
        assert set(replica.signatures) == set(replica.refs)
    assert len(replica.buckets) > 2 * len(replica.records) and len(replica.records) < len(texts)


def test_a_record_naming_a_bucket_twice_is_applied_as_if_it_named_it_once():
    once, twice = new_replica(), new_replica()
    key, value = record_for(once, "i", WIRE, 1.0)
    doubled = {**value, "buckets": [*value["buckets"], value["buckets"][0]]}
    assert once.apply(key, value) == twice.apply(key, doubled)
    assert (once.buckets, once.records, once.refs, once.signatures) == \
        (twice.buckets, twice.records, twice.refs, twice.signatures)


def test_the_replica_forgets_buckets_older_than_the_window_in_log_time_and_releases_their_record():
    replica = new_replica(window_secs=100)
    old_key, old = record_for(replica, "old", WIRE, 0.0)
    replica.apply(old_key, old)
    assert replica.buckets and replica.signatures
    new_key, new = record_for(replica, "new", APART_A, 500.0)
    story, released = replica.apply(new_key, new)
    assert released == [old_key] and story.story_id == story_id_for("new")
    assert {b.story_id for b in replica.buckets.values()} == {story_id_for("new")}
    assert set(replica.signatures) == {story_id_for("new")} and set(replica.records) == {new_key}


def test_a_join_takes_its_storys_buckets_over_and_a_record_that_takes_nothing_is_released_at_once():
    replica = new_replica()
    replica.apply(*record_for(replica, "first", WIRE, 10.0))
    sig = signature(shingles(WIRE))
    first = Match(story_id_for("first"), 10.0)
    assert not replica.stale(band_buckets(sig), first, 11.0), "nothing new: the worker writes nothing"
    assert replica.stale(band_buckets(sig), first, 10.0 + 3600 / 10 + 1), "refreshed at a tenth"
    key, value = claim("copy", band_buckets(sig), sig, 400.0, first, open_=False, writer="w1")
    assert replica.apply(key, value) == (first, ["first@10.0"])
    assert set(replica.records) == {key}
    newer = claim("newer", band_buckets(sig), sig, 401.0, Match("story-newer", 401.0), open_=False, writer="w1")
    assert replica.apply(*newer) == (Match("story-newer", 401.0), [newer[0]]), "the older story keeps them all"
    assert {b.story_id for b in replica.buckets.values()} == {first.story_id}


def test_a_join_writes_nothing_for_a_bucket_an_older_unrelated_story_holds():
    sig, other = signature(shingles(WIRE)), signature(shingles(APART_A))
    buckets = band_buckets(sig)
    first, older, younger = Match("story-first", 10.0), Match("story-older", 5.0), Match("story-younger", 50.0)
    # One band of the wire copy collides with a bucket of an unrelated, older story.
    replica = new_replica()
    replica.apply(*claim("old", buckets[:1], other, 5.0, older, open_=False, writer="w1"))
    replica.apply(*claim("first", buckets, sig, 10.0, first, open_=False, writer="w1"))
    assert replica.buckets[buckets[0]].story_id == older.story_id
    assert not replica.stale(buckets, first, 11.0), "the older story keeps that bucket whatever is written"
    # The same band held by a younger story: a join of the first story takes it over, so it is worth a record.
    replica = new_replica()
    replica.apply(*claim("first", buckets[1:], sig, 10.0, first, open_=False, writer="w1"))
    replica.apply(*claim("young", buckets[:1], other, 50.0, younger, open_=False, writer="w1"))
    assert replica.stale(buckets, first, 51.0)
    replica.apply(*claim("copy", buckets, sig, 51.0, first, open_=False, writer="w1"))
    assert replica.buckets[buckets[0]].story_id == first.story_id


@pytest.mark.parametrize("broken", [{"at": "soon"}, {"sig": ["x"]}, {"open": None, "at": None}, {"buckets": 5}])
def test_a_malformed_record_raises_before_it_changes_the_replica(broken):
    replica = new_replica()
    replica.apply(*record_for(replica, "first", WIRE, 10.0))
    before = (dict(replica.buckets), dict(replica.refs), list(replica.records.items()), replica.now)
    key, value = record_for(replica, "bad", APART_A, 5000.0)
    with pytest.raises((TypeError, ValueError, KeyError)):
        replica.apply(key, {**value, **broken})
    assert (dict(replica.buckets), dict(replica.refs), list(replica.records.items()), replica.now) == before
    assert isinstance(replica.signatures[story_id_for("first")], array)


def mention(n: int, source: str, story: str | None = None) -> MentionEvent:
    return MentionEvent(theme="escalation", entity_id="person:x", entity_name="X", entity_type="person",
                        item_id=f"i{n}", source_id=source, source_type="rss", story_id=story, at=float(n))


def window_of(mentions) -> dict:
    return add_mentions({}, list(mentions))


def one_by_one(window: dict, m: MentionEvent) -> dict:
    """The window's definition, a mention at a time: what ``add_mentions`` must give."""
    stories, sources, story = window.get("stories", []), window.get("sources", []), m.story_id or m.item_id
    if story in stories and m.source_id in sources:
        return window
    return {"count": window.get("count", 0) + (story not in stories),
            "stories": stories if story in stories else [*stories, story][-MAX_TRACKED_STORIES:],
            "sources": sources if m.source_id in sources else [*sources, m.source_id],
            "items": [*window.get("items", []), [m.item_id, m.source_id, m.title]][-MAX_LISTED_ITEMS:]}


def test_mentions_added_in_one_pass_make_the_window_that_adding_them_one_by_one_makes():
    import random

    rng = random.Random(7)
    for trial in range(60):
        # few stories and sources (repeats and re-deliveries), or many (past the tracked stories' cap)
        spread = rng.choice([3, 40, 2 * MAX_TRACKED_STORIES])
        mentions = [mention(n, f"src{rng.randrange(spread // 2 + 1)}", rng.choice([None, f"s{rng.randrange(spread)}"]))
                    for n in range(rng.randrange(1, 3 * MAX_TRACKED_STORIES if spread > 100 else 80))]
        expected: dict = {}
        for m in mentions:
            expected = one_by_one(expected, m)
        cut = rng.randrange(len(mentions) + 1)  # a window carried over from an earlier record
        assert add_mentions(add_mentions({}, mentions[:cut]), mentions[cut:]) == expected, trial
    window = window_of([mention(1, "a", "s1")])
    assert add_mentions(window, [mention(1, "a", "s1")]) is window, "a re-delivered mention changes nothing"


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


def test_mentions_of_a_batch_are_one_record_per_key_and_window_and_parse_back():
    from datetime import datetime, timezone

    from schemas import ClassifiedItem, EntityHit, ThemeHit, utcnow
    from streams.alerts.surge import mention_outputs, mentions_of, parse_mentions
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
    # Built without validation (every value is a validated item's): the events validating each field gives,
    # for a titled item with a link and for one with neither.
    bare = batch[1].model_copy(update={"item": batch[1].item.model_copy(update={"title": "", "url": None})})
    for classified in (batch[0], bare):
        item = classified.item
        expected = [MentionEvent(theme=t.theme, entity_id=e.id, entity_name=e.name, entity_type=e.type,
                                 item_id=item.item_id, source_id=item.source_id, source_type=item.source_type,
                                 title=item.title or item.text[:120], url=item.url,
                                 rules_version=classified.rules_version, story_id=classified.story_id,
                                 at=item.fetched_at.timestamp())
                    for t in classified.themes for e in classified.entities]
        built = mentions_of(classified)
        assert built == expected and [m.to_bytes() for m in built] == [m.to_bytes() for m in expected]
        assert all(type(m.at) is float for m in built)
    assert bare.item.url is None and mentions_of(bare)[0].title == bare.item.text[:120]
    assert mentions_of(batch[0].model_copy(update={"item": batch[0].item.model_copy(update={"revision": 1})})) == []
    single = mention(5, "src")
    assert parse_mentions(single.to_bytes()) == [single]  # one event per record is still read
