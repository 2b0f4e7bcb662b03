"""Every per-item structure the worker keeps is bounded by count, not only by time: the alert
ledger's ids and cooldown windows, the story book's entries, the story replica's buckets, records and
signatures. Each test drives more items than the bound, with no time passing, and checks what is
kept, what is tombstoned, and that a replay of the topic records rebuilds the same bounded state."""

from __future__ import annotations

import asyncio
from collections import namedtuple
from datetime import datetime, timezone

from schemas import ClassifiedItem, Item
from streams.alerts.ledger import AlertLedger
from streams.alerts.storybook import StoryBook
from streams.stories.grouping import story_id_for
from streams.stories.replica import Match, StoryReplica, claim
from tests.streams.alerts.test_ledger import T0, make_alert

Record = namedtuple("Record", "key value")


def replay(out, apply) -> None:
    for o in out:
        apply(Record(o.key, o.value))


def tombstoned(out, prefix: bytes = b"") -> set[bytes]:
    return {o.key for o in out if o.value is None and o.key.startswith(prefix)}


def test_ledger_never_holds_more_than_max_ids_and_tombstones_the_oldest():
    ledger, out = AlertLedger("ledger", cooldown_secs=0, max_ids=100), []
    for n in range(250):
        assert ledger.decide(make_alert(f"a{n}"), f"k{n % 7}", T0, out).emit
    assert len(ledger.alerted) == 100
    assert set(ledger.alerted) == {f"a{n}" for n in range(150, 250)}
    assert tombstoned(out, b"a:") == {f"a:a{n}".encode() for n in range(150)}
    assert ledger.decide(make_alert("a249"), "k0", T0, out).reason == "duplicate"
    follower = AlertLedger("ledger", cooldown_secs=0, max_ids=100)
    replay(out, follower.apply_record)
    assert set(follower.alerted) == set(ledger.alerted)


def test_ledger_follower_bounds_ids_even_without_tombstones():
    ledger, out = AlertLedger("ledger", cooldown_secs=0, max_ids=1000), []
    for n in range(300):
        ledger.decide(make_alert(f"a{n}"), "k", T0, out)
    small = AlertLedger("ledger", cooldown_secs=0, max_ids=50)
    replay(out, small.apply_record)
    assert set(small.alerted) == {f"a{n}" for n in range(250, 300)}


def test_ledger_keeps_at_most_max_windows_and_drops_the_longest_open():
    ledger, out = AlertLedger("ledger", cooldown_secs=60, max_windows=10), []
    for n in range(30):
        ledger.decide(make_alert(f"a{n}"), f"trigger|entity-{n}", T0 + n, out)
    assert list(ledger.windows) == [f"trigger|entity-{n}" for n in range(20, 30)]
    assert tombstoned(out, b"c:") == {f"c:trigger|entity-{n}".encode() for n in range(20)}
    # A reopened window counts as the newest: the oldest other one goes first.
    ledger.decide(make_alert("again"), "trigger|entity-20", T0 + 100, out)
    ledger.decide(make_alert("new"), "trigger|entity-new", T0 + 101, out)
    assert "trigger|entity-20" in ledger.windows and "trigger|entity-21" not in ledger.windows
    assert len(ledger.windows) == 10


def classified(n: int, story: str, source: str) -> ClassifiedItem:
    ts = datetime.fromtimestamp(T0, tz=timezone.utc)
    item = Item(item_id=f"rss:{source}:{n}", source_type="rss", source_id=source, url=f"https://example.org/{n}",
                text="text", published_at=ts, fetched_at=ts)
    return ClassifiedItem(item=item, rules_version="v", classified_at=ts, story_id=story)


def test_story_book_keeps_at_most_max_entries_least_recently_seen_out_first():
    book, out = StoryBook("book", window_secs=86400, milestones=[2, 3], max_entries=20), []
    for n in range(50):
        book.observe(classified(n, f"story-{n}", "feed-a"), T0, out)
    book.observe(classified(100, "story-30", "feed-b"), T0, out)  # seen again: now the newest
    book.observe(classified(101, "story-new", "feed-a"), T0, out)
    assert len(book.entries) == 20
    assert "story-30" in book.entries and "story-31" not in book.entries
    assert book.entries["story-30"].sources == ["feed-a", "feed-b"]
    assert tombstoned(out) == {f"story-{n}".encode() for n in range(32) if n != 30}
    follower = StoryBook("book", window_secs=86400, milestones=[2, 3], max_entries=20)
    replay(out, follower.apply_record)
    assert set(follower.entries) == set(book.entries)


def buckets_of(n: int, count: int = 5) -> list[str]:
    return [f"b{band}:{n:016x}" for band in range(count)]


def sig_of(n: int) -> list[int]:
    return [(n * 7919 + k) % 2**32 for k in range(60)]


def open_claim(n: int, at: float, buckets: list[str] | None = None, sig: list[int] | None = None):
    item_id = f"item-{n}"
    return claim(item_id, buckets or buckets_of(n), sig or sig_of(n), at, Match(story_id_for(item_id), at),
                 open_=True, writer="w")


def test_story_replica_evicts_whole_records_and_drops_the_signature_of_an_evicted_story():
    replica = StoryReplica(window_secs=86400, min_similarity=0.3, max_buckets=50)
    log, released = [], set()
    for n in range(40):
        log.append(open_claim(n, 1000.0 + n))
        released.update(replica.apply(*log[-1])[1])
    assert len(replica.buckets) == 50
    assert set(replica.signatures) == {b.story_id for b in replica.buckets.values()}
    assert len(replica.signatures) == 10 and len(replica.refs) == 10 and len(replica.records) == 10
    assert released == {f"item-{n}@{1000.0 + n!r}" for n in range(30)}
    restored = StoryReplica(window_secs=86400, min_similarity=0.3, max_buckets=50)
    for key, value in log:
        if key not in released:  # what compaction leaves
            restored.apply(key, value)
    assert restored.buckets == replica.buckets and list(restored.records) == list(replica.records)
    assert restored.signatures == replica.signatures


def test_story_replica_keeps_a_signature_while_any_bucket_of_its_story_lives():
    replica = StoryReplica(window_secs=86400, min_similarity=0.3, max_buckets=7)
    first, _ = replica.apply(*open_claim(1, 10.0))
    # A copy with the same signature reaches the first story through a shared bucket: its claim is
    # lost, and its two new buckets go to the first story.
    copy, _ = replica.apply(*open_claim(2, 11.0, buckets_of(1)[:1] + buckets_of(2, 2), sig_of(1)))
    assert copy == first and replica.refs[first.story_id] == 7
    replica.apply(*open_claim(3, 12.0, buckets_of(3, 3)))  # evicts the first record, 4 of its buckets
    assert len(replica.buckets) == 6 and replica.refs[first.story_id] == 3 and first.story_id in replica.signatures
    replica.apply(*open_claim(4, 13.0, buckets_of(4, 2)))  # and now the copy's record, its last three
    assert first.story_id not in replica.signatures and first.story_id not in replica.refs


def test_the_bounds_come_from_the_settings():
    from core.settings import Settings
    from streams.pipeline import Pipeline

    settings = Settings(alert_ledger_max_ids=11, alert_ledger_max_windows=12, story_book_max_entries=13,
                        story_index_max_buckets=14, worker_metrics_port=-1)
    pipeline = Pipeline(settings, loop=asyncio.new_event_loop())
    assert (pipeline.ledger.max_ids, pipeline.ledger.max_windows) == (11, 12)
    assert pipeline.story_book.max_entries == 13
    assert pipeline.story_replica.max_buckets == 14
    pipeline.loop.close()


def test_ledger_flush_forgets_ids_past_the_horizon_oldest_first_and_keeps_the_rest():
    ledger, out = AlertLedger("ledger", cooldown_secs=0, horizon_secs=100), []
    for n in range(10):
        ledger.decide(make_alert(f"a{n}"), "k", T0 + 10 * n, out)
    ledger.flush(T0 + 145, out)  # a0..a4 are older than 100 s
    assert list(ledger.alerted) == [f"a{n}" for n in range(5, 10)]
    assert tombstoned(out, b"a:") == {f"a:a{n}".encode() for n in range(5)}
