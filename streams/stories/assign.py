"""``StoryAssigner``: the story of each relevant item, decided in the classify stage's own pass.

Chained in the classify stage (``streams/classify.py``), so story grouping adds no hop of its own
between a raw item and its storied record (``items.stories``, keyed by story_id, read by the alert
stage). The worker holds the whole story index (``streams/stories/replica.py``), fed by a follower
of the one-partition ``story-index`` topic that every worker writes and reads:

- an item whose band buckets lead to a similar story in the replica joins it at once; its record
  registers its new buckets (no record when there is nothing new);
- an item that finds none writes an *open* claim. After the batch's outputs are acknowledged,
  ``settle`` waits until the follower has applied the batch's claims; applying decides each one
  (won: the item's own new story; lost: the story of the claim that reached the log first), the same
  way on every worker, and only then are those items written to ``items.stories``. So near-copies
  that two workers see in the same instant still make one story and one alert. A lost claim is
  written again, under its key, as the join it became (a replay of the compacted topic then needs
  no decision).

Costs: one index record per item that opens a story or brings new buckets, and per batch with
claims one wait for the follower's next fetch (``INDEX_FETCH_WAIT_MS``). Texts under 6 words are
their own story at once. Offsets are committed only after the storied records are acknowledged, so
a crash in between replays the batch; its claims are in the log already, so the replayed items find
the story they were given.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from array import array
from dataclasses import dataclass

from pydantic_core import to_json

from core.kafka import cloudevent_headers
from core.metrics import STORY_OUTCOMES, WorkerMetrics
from schemas import ClassifiedItem, utcnow
from streams.classify import CE_CLASSIFIED
from streams.stage import Handoff, Output
from streams.stories.grouping import band_buckets, shingles, signature, story_id_for, text_for_grouping
from streams.stories.replica import Match, StoryReplica, claim

log = logging.getLogger(__name__)

INDEX_FETCH_WAIT_MS = 10  # the follower's fetch wait: the embedded broker holds every fetch this long
# Index records this worker wrote and has not read back yet, kept decoded (``StoryAssigner.written``): a
# batch's claims and joins. ~6 KB each with their bytes, so ~23 MB at most, while the follower is behind.
WRITTEN_MAX = 4_000
SETTLE_WARN_SECS = 10.0

STORY_ID_NULL = b',"story_id":null}'


def with_story_id(value: bytes, story_id: str) -> bytes:
    """A ``ClassifiedItem`` record with ``story_id`` set, without parsing it: ``story_id`` is the
    model's last field, so our own encoding ends with ``"story_id":null}``. Anything else (another
    producer's spelling) is parsed and encoded again — slower, same result."""
    if value.endswith(STORY_ID_NULL):
        return b"%s,\"story_id\":%s}" % (value[:-len(STORY_ID_NULL)], to_json(story_id))
    return ClassifiedItem.model_validate_json(value).model_copy(update={"story_id": story_id}).to_bytes()


def with_story(classified: ClassifiedItem, story_id: str) -> ClassifiedItem:
    """What decoding ``with_story_id(classified.to_bytes(), story_id)`` gives, without the bytes."""
    return classified.model_copy(update={"story_id": story_id})


@dataclass(slots=True)
class Claimed:
    classified: ClassifiedItem
    value: bytes  # its record as written
    buckets: list[str]
    sig: list[int]
    at: float


class StoryAssigner:
    """The chained story step (see the module). ``apply_record`` is the index follower's callback;
    ``settle`` runs after each batch's outputs were acknowledged."""

    name = "story-assign"

    def __init__(self, replica: StoryReplica, *, index_topic: str, stories_topic: str, writer: str,
                 handoff: Handoff | None = None, metrics: WorkerMetrics | None = None):
        self.replica = replica
        self.handoff = handoff  # the alert stage of this process takes the storied items from it
        self.index_topic = index_topic
        self.stories_topic = stories_topic
        self.writer = writer  # this worker's mark on its records: it tombstones what they release
        self.following = None  # the index's TopicFollower: until it caught up, tombstone every release
        self.stamped = 0.0
        self.claimed: dict[str, Claimed] = {}  # claim key → item, until its record is applied
        self.decided: dict[str, Match] = {}  # claim key → story, applied and not yet settled
        self.tombstones: list[Output] = []
        # Our own index records as written, so that reading them back skips decoding them (~13 µs a
        # record, a third of applying one); another worker's record, or ours after a restart, is decoded.
        self.written = Handoff(max_entries=WRITTEN_MAX)
        self._applied = asyncio.Event()
        self.metrics = metrics
        # Outcomes counted in plain ints per item and added to the counter once a batch (``_count``).
        self.outcomes = dict.fromkeys(STORY_OUTCOMES, 0)

    def handle(self, classified: ClassifiedItem, value: bytes, out: list[Output]) -> None:
        item = classified.item
        grams = shingles(text_for_grouping(item.title, item.text))
        if not grams:
            self.outcomes["short"] += 1
            out.append(self._storied(classified, value, story_id_for(item.item_id)))
            return
        sig = signature(grams)
        buckets = band_buckets(sig)
        # The order stories are told apart by: when a worker saw the item, strictly increasing here.
        self.stamped = at = max(time.time(), self.stamped + 1e-6)
        own = story_id_for(item.item_id)
        found = self.replica.lookup(buckets, array("I", sig), own=own)  # as the index holds signatures
        if found is not None:
            self.outcomes["joined"] += 1
            if self.replica.stale(buckets, found, at):
                out.append(self._record(*claim(item.item_id, buckets, sig, at, found, open_=False,
                                               writer=self.writer)))
            out.append(self._storied(classified, value, found.story_id))
            return
        key, record = claim(item.item_id, buckets, sig, at, Match(own, at), open_=True, writer=self.writer)
        out.append(self._record(key, record))
        self.claimed[key] = Claimed(classified, value, buckets, sig, at)

    def _storied(self, classified: ClassifiedItem, value: bytes, story_id: str) -> Output:
        """The item's record on ``items.stories``: the classified record with its story, keyed by story."""
        item = classified.item
        headers = cloudevent_headers(CE_CLASSIFIED, event_id=f"{item.item_id}#{item.revision}", time=utcnow())
        key, storied = story_id.encode(), with_story_id(value, story_id)
        if self.handoff is not None:
            self.handoff.put(key, storied, with_story, classified, story_id)
        return Output(self.stories_topic, key, storied, headers)

    def _record(self, key: str, value: dict | None) -> Output:
        if value is None:
            return Output(self.index_topic, key.encode(), None)
        data = to_json(value)
        self.written.put(b"", data, dict, value)
        return Output(self.index_topic, key.encode(), data)

    def apply_record(self, record) -> None:
        """The index follower's callback: apply the record; settle a claim of ours; tombstone what
        our records released (raises on a malformed record: the follower skips and counts it)."""
        key = record.key.decode("utf-8")
        value = None if record.value is None else self.written.take(record.value) or json.loads(record.value)
        story, released = self.replica.apply(key, value)
        catching_up = self.following is None or not self.following.caught_up.is_set()
        if value is not None and (catching_up or value.get("w") == self.writer):
            self.tombstones.extend(self._record(k, None) for k in released)
        if key in self.claimed and story is not None:
            self.decided[key] = story
            self._applied.set()

    async def settle(self, outputs: list[Output], deliver) -> list[Output]:
        """The batch's outputs still to deliver. With claims: ``deliver(outputs)`` (claims included)
        first, wait until every claim was applied, then the storied records of those items; and the
        tombstones due."""
        if not self.claimed:
            self._count()
            outputs.extend(self.tombstones)
            self.tombstones.clear()
            return outputs
        await deliver(outputs)
        started = time.monotonic()
        while len(self.decided) < len(self.claimed):
            self._applied.clear()
            try:
                await asyncio.wait_for(self._applied.wait(), SETTLE_WARN_SECS)
            except asyncio.TimeoutError:  # the broker is away: the follower reads on when it is back
                log.warning("Story claims: %d of %d not read back from %s after %.0fs; waiting on.",
                            len(self.claimed) - len(self.decided), len(self.claimed), self.index_topic,
                            time.monotonic() - started)
        if self.metrics is not None:
            self.metrics.story_claim_wait.observe(time.monotonic() - started)
        out = []
        for key, c in self.claimed.items():
            story = self.decided[key]
            item_id = c.classified.item.item_id
            out.append(self._storied(c.classified, c.value, story.story_id))
            if story.story_id != story_id_for(item_id):  # lost: written again as the join it became
                self.outcomes["raced"] += 1
                out.append(self._record(*claim(item_id, c.buckets, c.sig, c.at, story, open_=False,
                                               writer=self.writer)))
            else:
                self.outcomes["opened"] += 1
        self._count()
        self.claimed.clear()
        self.decided.clear()
        out.extend(self.tombstones)
        self.tombstones.clear()
        return out

    def _count(self) -> None:
        """Add the batch's outcomes to the counter (a labelled ``inc`` per item cost more than the rest of
        the bookkeeping)."""
        for outcome, count in self.outcomes.items():
            if count:
                if self.metrics is not None:
                    self.metrics.stories_assigned.labels(outcome).inc(count)
                self.outcomes[outcome] = 0

    def abandon(self) -> None:
        """The batch's outputs are thrown away (it is processed again record by record): forget its
        claims, which were never written (nor read back: a join of the batch before is then decoded), and
        what it counted."""
        self.outcomes = dict.fromkeys(STORY_OUTCOMES, 0)
        self.claimed.clear()
        self.decided.clear()
        self.written.entries.clear()
