"""``StoryResolveStage``: an item's votes → its story (step 3 of ``streams/stories/stages.py``).

Contract: consumes ``story-votes`` (keyed by item_id, so an item's votes share a partition);
produces the ``ClassifiedItem`` with ``story_id`` to ``items.stories`` keyed by story_id (the
carried record with the id spliced in, not parsed), and "bind"
probes to the partitions that voted for a newer story. Offsets are committed only below the
oldest item still waiting for votes, so a crash re-reads every vote of an undecided item; a
re-decided item produces the same story id (idempotent downstream).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from aiokafka import TopicPartition
from mode import Service

from schemas.story import StoryProbe, StoryVote
from streams.stage import BatchStage, Output
from streams.stories.grouping import resolve
from streams.stories.stages import VOTE_TIMEOUT_SECS, storied_output

log = logging.getLogger(__name__)


@dataclass
class Pending:
    started: float
    tp: TopicPartition  # an item's votes share a partition (keyed by item_id)
    first: int
    last: int
    votes: dict[int, StoryVote] = field(default_factory=dict)  # index partition → vote


class StoryResolveStage(BatchStage):
    def __init__(self, settings, *, stories_topic: str, probes_topic: str, clock=time.monotonic, **kwargs):
        self.stories_topic = stories_topic
        self.probes_topic = probes_topic
        self.clock = clock
        self.pending: dict[str, Pending] = {}
        self.spans: list[tuple[TopicPartition, int, int]] = []  # decided items' vote offsets, until committed
        super().__init__(settings, **kwargs)

    def process(self, records: list) -> list[Output]:
        out: list[Output] = []
        now = self.clock()
        for record in records:
            vote = self.decode(record, StoryVote)
            if isinstance(vote, Output):
                out.append(vote)
                continue
            tp = TopicPartition(record.topic, record.partition)
            entry = self.pending.setdefault(vote.item_id, Pending(now, tp, record.offset, record.offset))
            entry.last = record.offset
            entry.votes[vote.partition] = vote  # a re-delivered vote replaces its twin
            if len(entry.votes) >= vote.probes:
                out.extend(self.decide(vote.item_id))
        return out

    def decide(self, item_id: str) -> list[Output]:
        entry = self.pending.pop(item_id)
        self.spans.append((entry.tp, entry.first, entry.last))
        votes = list(entry.votes.values())
        carrier = next((v for v in votes if v.payload), None)
        if carrier is None:
            log.warning("Story votes for %s arrived without the item; it was decided elsewhere or lost.", item_id)
            return []
        story_id, story_seen_at = resolve([(v.story_id, v.story_seen_at) for v in votes])
        out = [storied_output(self.stories_topic, carrier.payload.encode("utf-8"), item_id, carrier.revision, story_id)]
        for v in votes:
            if v.story_id != story_id and v.buckets:
                bind = StoryProbe(kind="bind", item_id=item_id, buckets=v.buckets, signature=v.signature,
                                  story_id=story_id, story_seen_at=story_seen_at)
                out.append(Output(self.probes_topic, v.buckets[0].encode(), bind.to_bytes()))
        return out

    def commit_offsets(self, batches: dict) -> dict:
        """Per partition: past the batch, unless an undecided item's first vote is older; and never
        between two votes of a decided item, so a re-read never finds half an item's votes."""
        offsets = {}
        for tp, part in batches.items():
            offset = min([part[-1].offset + 1] + [e.first for e in self.pending.values() if e.tp == tp])
            spans = [(first, last) for t, first, last in self.spans if t == tp]
            while straddled := [first for first, last in spans if first < offset <= last]:
                offset = min(straddled)
            offsets[tp] = offset
        self.spans = [(t, f, last) for t, f, last in self.spans if t not in offsets or last >= offsets[t]]
        return offsets

    @Service.timer(1.0)
    async def _give_up_waiting(self) -> None:
        now = self.clock()
        late = [item_id for item_id, e in self.pending.items() if now - e.started > VOTE_TIMEOUT_SECS]
        out: list[Output] = []
        for item_id in late:
            log.warning("Deciding the story of %s without all its votes after %.0fs.", item_id, VOTE_TIMEOUT_SECS)
            out.extend(self.decide(item_id))
        if out:
            await self.deliver(out)
