"""The story step chained in the classify stage: only items with a theme or a trigger go through
story grouping (the rest cannot alert or count towards a surge, and most news matches nothing); an
item that finds its story in the replica is storied in the same pass; a claimed one after its claim
was read back from the index topic, as the record the classify stage wrote with its story spliced in."""

from __future__ import annotations

import asyncio
import json
from collections import namedtuple

from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry

from core.kafka import key_partition
from core.metrics import WorkerMetrics
from core.settings import Settings
from schemas import ClassifiedItem
from streams.alerts.ledger import AlertLedger
from streams.alerts.stage import Alerter, AlertStage
from streams.alerts.storybook import StoryBook
from streams.classify import ClassifyStage
from streams.rules import compile_pack
from streams.rules.runtime import RulesHolder
from streams.stage import Handoff
from streams.stories.assign import StoryAssigner, with_story_id
from streams.stories.grouping import story_id_for
from streams.stories.replica import StoryReplica
from tests.streams.conftest import TEST_PACK, RulePack, make_item

Record = namedtuple("Record", "topic partition offset key value headers")


def classify_stage() -> ClassifyStage:
    metrics = WorkerMetrics(CollectorRegistry())
    assigner = StoryAssigner(StoryReplica(window_secs=3600, min_similarity=0.3), index_topic="index",
                             stories_topic="stories", writer="w1", metrics=metrics)
    return ClassifyStage(Settings(), rules=RulesHolder(compile_pack(RulePack.model_validate(TEST_PACK))),
                         classified_topic="classified", steps=(assigner,), source_topic="raw", group_id="g",
                         producer=None, deadletter_topic="dl", metrics=metrics)


def outcomes(stage: ClassifyStage) -> dict[str, float]:
    """``watchfloor_stories_assigned_total`` by outcome, as /metrics would show it."""
    registry = stage.metrics.registry
    return {o: registry.get_sample_value("watchfloor_stories_assigned_total", {"outcome": o}) or 0
            for o in ("opened", "joined", "raced", "short")}


def raw(n: int, text: str) -> Record:
    item = make_item(n, text)
    return Record("raw", 0, n, item.item_id.encode(), item.to_bytes(), ())


class IndexLog:
    """The index topic as the follower reads it: what a batch delivered is applied in order."""

    def __init__(self, stage: ClassifyStage):
        self.assigner = stage.steps[0]
        self.offset = 0
        self.delivered: list = []

    async def deliver(self, outputs) -> None:
        self.delivered += outputs
        for o in outputs:
            if o.topic == "index":
                self.offset += 1
                self.assigner.apply_record(Record("index", 0, self.offset, o.key, o.value, ()))


async def run_batch(stage: ClassifyStage, log: IndexLog, records: list) -> list:
    """``process`` then ``settle``, as ``BatchStage._consume`` runs them; every output of the batch."""
    stage.deliver = log.deliver
    rest = await stage.settle(stage.process_safely(records))
    await log.deliver(rest)
    return log.delivered


PLAIN = "The council voted to repair tram line number {n} near the old market square on Monday."
THEMED = "The EU agreed a new sanctions package against the shipping firms on Monday, officials said {n}."


async def test_items_without_theme_or_trigger_are_classified_but_never_reach_the_story_index():
    stage = classify_stage()
    out = await run_batch(stage, IndexLog(stage), [raw(1, PLAIN.format(n=1)), raw(2, THEMED.format(n=2)),
                                                   raw(3, PLAIN.format(n=3))])
    assert [o.key for o in out if o.topic == "classified"] == [b"rss:feed-a:1", b"rss:feed-a:2", b"rss:feed-a:3"]
    claims = [json.loads(o.value) for o in out if o.topic == "index"]
    assert [c["item"] for c in claims] == ["rss:feed-a:2"] and claims[0]["open"]
    assert sorted(c["buckets"][n].split(":")[0] for c in claims for n in range(20)) == sorted(
        f"b{n}" for n in range(20)), "every band once"
    assert [ClassifiedItem.model_validate_json(o.value).item.item_id for o in out if o.topic == "stories"] == \
        ["rss:feed-a:2"]


async def test_a_claimed_item_is_storied_after_its_claim_is_read_back_as_the_record_written():
    stage = classify_stage()
    log = IndexLog(stage)
    out = await run_batch(stage, log, [raw(2, THEMED.format(n=2))])
    topics = [o.topic for o in out]
    assert topics.index("stories") > topics.index("index"), "storied only after the claim was delivered"
    record = next(o.value for o in out if o.topic == "classified")
    storied = next(o for o in out if o.topic == "stories")
    assert storied.key == story_id_for("rss:feed-a:2").encode()
    assert storied.value == with_story_id(record, story_id_for("rss:feed-a:2"))
    assert ClassifiedItem.model_validate_json(storied.value).model_copy(update={"story_id": None}).to_bytes() == record


async def test_a_copy_of_a_known_story_is_storied_in_the_same_pass_and_a_copy_in_the_same_batch_joins_it():
    stage = classify_stage()
    log = IndexLog(stage)
    await run_batch(stage, log, [raw(2, THEMED.format(n=2))])
    log.delivered.clear()
    # A copy in a later batch finds the story in the replica; two copies of a new story in one batch
    # both claim, and the second claim, applied after the first, joins it and is written again.
    other = "Kremlin officials threatened a nuclear strike on Monday if the sanctions package was signed, {n}."
    batch = [raw(5, THEMED.format(n=2)), raw(6, other.format(n=6)), raw(7, other.format(n=6))]
    out = await run_batch(stage, log, batch)
    stories = {ClassifiedItem.model_validate_json(o.value).item.item_id: o.key.decode()
               for o in out if o.topic == "stories"}
    assert stories == {"rss:feed-a:5": story_id_for("rss:feed-a:2"), "rss:feed-a:6": story_id_for("rss:feed-a:6"),
                       "rss:feed-a:7": story_id_for("rss:feed-a:6")}
    index = [json.loads(o.value) for o in out if o.topic == "index" and o.value is not None]
    assert [(r["item"], r["open"]) for r in index] == [("rss:feed-a:6", True), ("rss:feed-a:7", True),
                                                       ("rss:feed-a:7", False)]
    assert index[-1]["story"] == story_id_for("rss:feed-a:6")
    # Counted once a batch: the first batch opened a story; this one joined it (5), opened one (6), and
    # lost the race to it (7). Both batches waited for claims.
    assert outcomes(stage) == {"opened": 2, "joined": 1, "raced": 1, "short": 0}
    assert stage.metrics.registry.get_sample_value("watchfloor_story_claim_wait_seconds_count") == 2


async def test_a_text_too_short_to_compare_is_its_own_story_at_once_and_counted_so():
    stage = classify_stage()
    log = IndexLog(stage)
    out = await run_batch(stage, log, [raw(3, "EU sanctions package agreed.")])
    assert [o.topic for o in out if o.topic in ("index", "stories")] == ["stories"], "no claim, no wait"
    assert next(o.key for o in out if o.topic == "stories") == story_id_for("rss:feed-a:3").encode()
    assert outcomes(stage) == {"opened": 0, "joined": 0, "raced": 0, "short": 1}
    assert stage.metrics.registry.get_sample_value("watchfloor_story_claim_wait_seconds_count") == 0


async def test_a_short_text_is_its_own_story_at_once_with_the_story_id_spliced_in():
    stage = classify_stage()
    out = await run_batch(stage, IndexLog(stage), [raw(4, "EU sanctions package.")])
    stories = [o for o in out if o.topic == "stories"]
    assert len(stories) == 1 and not [o for o in out if o.topic == "index"]
    storied = ClassifiedItem.model_validate_json(stories[0].value)
    assert storied.story_id and stories[0].key == storied.story_id.encode()
    assert storied.model_copy(update={"story_id": None}).to_bytes() == \
        next(o.value for o in out if o.topic == "classified")


async def test_a_batch_that_fails_and_is_processed_again_record_by_record_waits_only_for_claims_it_wrote():
    stage = classify_stage()
    log = IndexLog(stage)
    records = [raw(2, THEMED.format(n=2)), Record("raw", 0, 3, b"k", b"{not json", ()),
               raw(4, "EU sanctions package agreed.")]
    calls = []
    process = stage.process

    def flaky(batch):
        calls.append(len(batch))
        out = process(batch)
        if len(batch) > 1:
            raise RuntimeError("a bug after the claims were made")
        return out
    stage.process = flaky
    out = await asyncio.wait_for(run_batch(stage, log, records), 5)
    assert calls == [3, 1, 1, 1]
    assert sorted(o.topic for o in out if o.topic in ("stories", "dl")) == ["dl", "stories", "stories"]
    assert len([o for o in out if o.topic == "index"]) == 1, "the thrown-away attempt's claim was never written"
    assert not stage.steps[0].written.entries, "nor is it kept to be read back"
    assert outcomes(stage) == {"opened": 1, "joined": 0, "raced": 0, "short": 1}, "nor counted twice"


def alert_stage(handoff: Handoff | None) -> AlertStage:
    metrics = WorkerMetrics(CollectorRegistry())
    ledger = AlertLedger("ledger", 0, owner="w1")
    book = StoryBook("book", window_secs=3600, milestones=[2, 3])
    alerter = Alerter(ledger=ledger, alerts_topic="alerts", metrics=metrics, story_book=book, clock=lambda: 1.8e9)
    return AlertStage(Settings(), alerter=alerter, source_topic="stories", group_id="g", producer=None,
                      deadletter_topic="dl", metrics=metrics, handoff=handoff)


async def test_the_alert_stage_takes_the_storied_items_this_process_wrote_and_raises_what_decoding_them_raises():
    texts = [THEMED.format(n=n) for n in range(6)] + [
        "Kremlin officials threatened a nuclear strike on Monday if the sanctions package was signed, {n}.".format(n=n)
        for n in range(6)] + ["EU sanctions package."]
    stage = classify_stage()
    handoff = stage.steps[0].handoff = Handoff(max_entries=100)
    out = await run_batch(stage, IndexLog(stage), [raw(n, text) for n, text in enumerate(texts)])
    storied = [Record("stories", 0, n, o.key, o.value, o.headers) for n, o in enumerate(o for o in out
                                                                                      if o.topic == "stories")]
    assert len(storied) == len(texts) and len(handoff.entries) == len(texts)
    for record in storied:  # what is handed over is what decoding gives, field for field and byte for byte
        decoded = ClassifiedItem.model_validate_json(record.value)
        make, args = handoff.entries[record.value]
        assert make(*args) == decoded and make(*args).to_bytes() == record.value

    decoding = alert_stage(None)
    decode_calls = []
    handed = alert_stage(handoff)
    handed.decode = lambda record, model: decode_calls.append(record.offset) or AlertStage.decode(handed, record,
                                                                                                    model)
    # The last record was not written by this process (another worker's, or read again after a restart).
    other = storied[-1]._replace(value=storied[-1].value.replace(b'"revision":0', b'"revision": 0'))
    expected = decoding.process(storied[:-1] + [other])
    got = handed.process(storied[:-1] + [other])
    assert [(o.topic, o.key, o.value) for o in got] == [(o.topic, o.key, o.value) for o in expected]
    assert any(o.topic == "alerts" for o in got)
    assert decode_calls == [other.offset] and handoff.taken == len(storied) - 1
    assert handed.process(storied[:1]) and decode_calls == [other.offset, 0], "an item is handed over once"


def test_the_handoff_keeps_at_most_its_cap_dropping_the_oldest_first():
    handoff = Handoff(max_entries=3)
    for n in range(5):
        handoff.put(b"k", b"value %d" % n, str, n)
    assert list(handoff.entries) == [b"value 2", b"value 3", b"value 4"]
    assert handoff.take(b"value 1") is None and handoff.take(None) is None
    assert handoff.take(b"value 3") == "3" and handoff.take(b"value 3") is None and handoff.taken == 1


def test_a_handed_over_item_equals_its_decoded_record_for_every_relevant_bench_item_under_the_shipped_pack():
    """The hand-off is exact only if a classified item survives its own record unchanged: checked on the
    bench's corpus (three languages, every trigger of the shipped pack)."""
    from streams.classify import classify_item
    from streams.rules import load_pack
    from streams.stories.assign import with_story
    from watchfloor.bench.corpus import make_items

    rules = compile_pack(load_pack(None))
    relevant = [c for c in (classify_item(item, rules) for item in make_items(1500)) if c.themes or c.triggers]
    assert len(relevant) > 400
    for classified in relevant:
        story_id = story_id_for(classified.item.item_id)
        record = with_story_id(classified.to_bytes(), story_id)
        assert with_story(classified, story_id) == ClassifiedItem.model_validate_json(record)
        assert with_story(classified, story_id).to_bytes() == record


def test_the_handoff_keeps_only_records_on_the_partitions_its_alert_stage_reads():
    stage = alert_stage(None)
    handoff = Handoff(max_entries=100, wanted=stage.reads)
    keys = [story_id_for(f"rss:feed-a:{n}").encode() for n in range(40)]
    for key in keys:  # before any assignment: nothing is read here
        handoff.put(key, key + b" value", bytes, key)
    assert not handoff.entries
    stage.partition_count = 4
    stage.assigned = {TopicPartition("stories", 1), TopicPartition("stories", 3)}
    for key in keys:
        handoff.put(key, key + b" value", bytes, key)
    ours = [key for key in keys if key_partition(key, 4) in (1, 3)]
    assert 0 < len(ours) < len(keys) and list(handoff.entries) == [key + b" value" for key in ours]


async def test_the_index_records_a_worker_reads_back_are_applied_undecoded_and_leave_the_replica_decoding_would():
    other = "Kremlin officials threatened a nuclear strike on Monday if the sanctions package was signed, {n}."
    texts = [THEMED.format(n=2), THEMED.format(n=2), other.format(n=6), other.format(n=6), other.format(n=9)]
    stage = classify_stage()
    out = await run_batch(stage, IndexLog(stage), [raw(n, text) for n, text in enumerate(texts)])
    index = [(o.key, o.value) for o in out if o.topic == "index"]
    written = [value for _, value in index if value is not None]  # the rest are tombstones
    assert len(written) >= 4 and stage.steps[0].written.taken == len(written), "every own record read back undecoded"
    assert not stage.steps[0].written.entries

    # Another worker (a writer of its own) decodes every one of those records: the same stories, the same state.
    reader = StoryAssigner(StoryReplica(window_secs=3600, min_similarity=0.3), index_topic="index",
                           stories_topic="stories", writer="w2")
    for offset, (key, value) in enumerate(index):
        reader.apply_record(Record("index", 0, offset, key, value, ()))
    assert reader.written.taken == 0
    mine, theirs = stage.steps[0].replica, reader.replica
    assert (mine.buckets, mine.records, mine.signatures, mine.refs, mine.now) == \
        (theirs.buckets, theirs.records, theirs.signatures, theirs.refs, theirs.now)
