"""The story stages: classified items → ``items.stories`` (the same items with a ``story_id``, keyed by
it), correct with any number of workers.

Three steps, two of them hops, because near-duplicates must meet on one partition but an item has
20 band buckets:

1. ``StoryRouter`` (chained in the classify stage, which is keyed by item_id too → ``story-probes``):
   signature and band buckets of each relevant item; the buckets are grouped by the partition Kafka
   gives their key, one probe per partition. Only one probe carries the item itself (its classified
   record, as written). Texts too short to compare skip to step 3's output.
2. ``StoryIndexStage`` (``story-probes`` → ``story-votes``): each partition owns the buckets that
   hash to it (``stories.StoryIndex``) and votes for the oldest similar story, or the item's own.
   Every index change is written to the compacted ``story-index`` topic, to the same partition
   number; a worker that is assigned a partition replays that index partition first, so a restart
   or a rebalance does not split stories.
3. ``StoryResolveStage`` (``story-votes`` keyed by item_id → ``items.stories``): waits for the item's
   votes, takes the oldest story (by the router's stamp, then id: a total order, so two
   partitions that saw two copies in opposite orders still agree), and tells the partitions that voted for a newer story to move the item's buckets
   to the chosen one ("bind" probes), so later copies meet the oldest story wherever they probe.
   The storied record is the classified record with ``story_id`` spliced in (``with_story_id``),
   not parsed again. Offsets are committed only below the oldest undecided item.

Trade-offs: a story costs ~3p + 1 records per item over p ≤ partitions probes (probes, votes, index
records; then the storied item), and three hops of latency before the alert stage (~tens of ms
each). The index is bounded by a time window (``story_window_secs``) and a
bucket cap; a story that goes quiet longer than the window starts afresh. A vote that never arrives
(a stuck partition) is waited for ``VOTE_TIMEOUT_SECS``, then the item is decided without it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from aiokafka import TopicPartition
from mode import Service
from pydantic_core import to_json

from core.kafka import cloudevent_headers, key_partition, make_consumer
from schemas import ClassifiedItem, utcnow
from schemas.story import StoryProbe, StoryVote
from streams.classify import CE_CLASSIFIED
from streams.stage import BatchStage, Output, RoutedOutput, _CountRebalances
from streams.stories.grouping import (
    StoryIndex,
    band_buckets,
    shingles,
    signature,
    story_id_for,
    text_for_grouping,
)

log = logging.getLogger(__name__)

VOTE_TIMEOUT_SECS = 30.0


STORY_ID_NULL = b',"story_id":null}'


def with_story_id(value: bytes, story_id: str) -> bytes:
    """A ``ClassifiedItem`` record with ``story_id`` set, without parsing it: ``story_id`` is the
    model's last field, so our own encoding ends with ``"story_id":null}``. Anything else (another
    producer's spelling) is parsed and encoded again — slower, same result."""
    if value.endswith(STORY_ID_NULL):
        return b"%s,\"story_id\":%s}" % (value[:-len(STORY_ID_NULL)], to_json(story_id))
    return ClassifiedItem.model_validate_json(value).model_copy(update={"story_id": story_id}).to_bytes()


def storied_output(topic: str, value: bytes, item_id: str, revision: int, story_id: str) -> Output:
    headers = cloudevent_headers(CE_CLASSIFIED, event_id=f"{item_id}#{revision}", time=utcnow())
    return Output(topic, story_id.encode(), with_story_id(value, story_id), headers)


class StoryRouter:
    """Step 1, chained in the classify stage: an item's signature and band buckets, grouped by the
    partition Kafka gives their key, one probe per partition (only the first carries the item);
    a text too short to compare is its own story at once."""

    name = "story-route"

    def __init__(self, *, probes_topic: str, stories_topic: str, partitions: int = 1):
        self.probes_topic = probes_topic
        self.stories_topic = stories_topic
        self.partitions = partitions  # of the probes topic; the pipeline sets it at start
        self.stamped = 0.0

    def handle(self, classified: ClassifiedItem, value: bytes, out: list[Output]) -> None:
        item = classified.item
        grams = shingles(text_for_grouping(item.title, item.text))
        if not grams:
            out.append(storied_output(self.stories_topic, value, item.item_id, item.revision,
                                      story_id_for(item.item_id)))
            return
        out.extend(self.probes(classified, signature(grams), value.decode("utf-8")))

    def probes(self, classified: ClassifiedItem, sig: list[int], payload: str) -> list[Output]:
        groups: dict[int, list[str]] = {}
        for key in band_buckets(sig):
            groups.setdefault(key_partition(key.encode("utf-8"), self.partitions), []).append(key)
        item = classified.item
        # The order stories are told apart by: when this step saw the item, strictly increasing.
        # Index partitions receive probes in (nearly) this order, so "the story a bucket already
        # has" and "the oldest story voted for" agree; fetch times do not (feeds arrive late).
        self.stamped = max(time.time(), self.stamped + 1e-6)
        out = []
        for n, (partition, keys) in enumerate(sorted(groups.items())):
            probe = StoryProbe(item_id=item.item_id, revision=item.revision, buckets=keys, signature=sig,
                               seen_at=self.stamped, probes=len(groups), payload=payload if n == 0 else None)
            # The partition is known: the producer need not hash the key again.
            out.append(RoutedOutput(self.probes_topic, keys[0].encode(), probe.to_bytes(), partition=partition))
        return out


class _RestoreIndex(_CountRebalances):
    async def on_partitions_revoked(self, revoked):
        for tp in revoked:
            self.stage.indexes.pop(tp.partition, None)

    async def on_partitions_assigned(self, assigned):
        await super().on_partitions_assigned(assigned)
        # aiokafka may already fetch for the new assignment: hold every batch until the index is back.
        self.stage.restored.clear()
        try:
            await self.stage.restore([tp.partition for tp in assigned if tp.partition not in self.stage.indexes])
        finally:
            self.stage.restored.set()


class StoryIndexStage(BatchStage):
    """Consumes ``story-probes``; produces votes keyed by item_id, and index changes (see module)."""

    def __init__(self, settings, *, votes_topic: str, index_topic: str, clock=time.time, **kwargs):
        self.votes_topic = votes_topic
        self.index_topic = index_topic
        self.clock = clock
        self.indexes: dict[int, StoryIndex] = {}
        self.restored = asyncio.Event()
        self.restored.set()
        super().__init__(settings, **kwargs)

    def new_index(self) -> StoryIndex:
        return StoryIndex(window_secs=self.settings.story_window_secs,
                          min_similarity=self.settings.story_min_similarity,
                          max_buckets=self.settings.story_index_max_buckets)

    def rebalance_listener(self) -> _RestoreIndex:
        return _RestoreIndex(self)

    async def restore(self, partitions: list[int]) -> None:
        """Replay the index partitions of newly assigned probe partitions before any probe."""
        if not partitions:
            return
        reader = make_consumer(self.settings, group_id=None, fetch_max_wait_ms=100)
        await reader.start()
        try:
            tps = [TopicPartition(self.index_topic, p) for p in partitions]
            reader.assign(tps)
            await reader.seek_to_beginning(*tps)
            ends = await reader.end_offsets(tps)
            indexes = {p: self.new_index() for p in partitions}
            while [tp for tp, end in ends.items() if await reader.position(tp) < end]:
                for tp, part in (await reader.getmany(timeout_ms=200)).items():
                    for r in part:
                        try:
                            indexes[tp.partition].apply(r.key.decode(), json.loads(r.value) if r.value else None)
                        except Exception as exc:  # compacted: it would come back at every restore
                            self.metrics.state_records_skipped.labels("story_index").inc()
                            log.warning("Skipped story index record %s[%d]@%d (%s: %s).", r.topic, r.partition,
                                        r.offset, type(exc).__name__, str(exc)[:200])
            for index in indexes.values():
                index.prune_signatures()
            self.indexes.update(indexes)
            log.info("Story index restored for partitions %s (%d buckets).", partitions,
                     sum(len(i.buckets) for i in indexes.values()))
        finally:
            await reader.stop()

    async def accept(self, batches: dict) -> dict:
        await self.restored.wait()
        return {tp: part for tp, part in batches.items() if tp in self.consumer.assignment()}

    def process(self, records: list) -> list[Output]:
        out: list[Output] = []
        for record in records:
            probe = self.decode(record, StoryProbe)
            if isinstance(probe, Output):
                out.append(probe)
                continue
            index = self.indexes.setdefault(record.partition, self.new_index())
            if probe.kind == "bind":
                changes = index.bind(probe.item_id, probe.buckets, probe.story_id, probe.story_seen_at,
                                     probe.signature)
            else:
                match, _, changes = index.probe(probe.item_id, probe.buckets, probe.signature, probe.seen_at)
                vote = StoryVote(item_id=probe.item_id, revision=probe.revision, partition=record.partition,
                                 probes=probe.probes, story_id=match.story_id, story_seen_at=match.story_seen_at,
                                 buckets=probe.buckets, signature=probe.signature, payload=probe.payload)
                out.append(Output(self.votes_topic, probe.item_id.encode(), vote.to_bytes()))
            out.extend(self._index_outputs(record.partition, changes))
        return out

    def _index_outputs(self, partition: int, changes) -> list[Output]:
        # pydantic_core's encoder: the same JSON as json.dumps without the spaces, ~6× faster; an
        # index record (buckets and a 60-int signature) is written for most probes.
        return [RoutedOutput(self.index_topic, key.encode(), to_json(value) if value else None, partition=partition)
                for key, value in changes]

    @Service.timer(60.0)
    async def _expire(self) -> None:
        now = self.clock()
        out: list[Output] = []
        for partition, index in list(self.indexes.items()):
            out.extend(self._index_outputs(partition, index.expire(now)))
        if out:
            await self.deliver(out)

