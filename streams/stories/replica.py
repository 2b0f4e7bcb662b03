"""``StoryReplica``: the story index (band bucket → story) as a state machine over one log.

Every worker holds the whole index and builds it the same way: by applying, in log order, the
records of the one-partition ``story-index`` topic, its own and every other worker's. A worker
never writes to its replica directly; it writes a record and reads it back. So every replica that
has applied the same prefix of the log holds the same state, and every decision taken while
applying a record is the same on every worker.

A record (key ``<item_id>@<at>``, value from ``claim``) says "item I, seen at ``at``, has these
buckets and this signature, and belongs to story S":

- a **join** (``open`` false): the worker found S, a story already in its replica, holding one of
  the item's buckets with a similar signature. S was decided before, so the item's story is final
  at once; the record only registers the item's new buckets for S.
- an **open** claim (``open`` true, S = the item's own story): the worker knew no similar story.
  Whether it is one is decided when the record is applied: if by then (in log order) a similar
  story holds one of its buckets, the claim is lost and the item joins that story (the oldest one
  by seen time, then id). Two workers that open a story for near-copies in the same instant thus
  agree: the claim written first to the log wins, the other joins it, and only one story alerts.

Buckets: a record takes every bucket of its item that is free or held by its own story (so a
story's buckets belong to its newest record) or by a newer story (so a lost race leaves no bucket to
a story that never alerted); an older story keeps its bucket. A worker writes no join record when
every bucket is already its story's and written within a tenth of the window (``stale``).

Bounds, in log order too, always whole records, oldest first: a record older than ``window_secs``
of log time (the newest ``at`` applied) expires with its buckets; beyond ``max_buckets`` the oldest
records are evicted. A story's signature is its newest record's, and lives exactly as long as one
of its buckets (``refs``).

Compaction: ``apply`` returns the keys of the records that now hold nothing (taken over, expired,
evicted, or a record that took nothing). Only the worker that wrote the record whose application
released them tombstones them (``writer``), so each tombstone is written once. Because releases are
whole records at the front, or records emptied by later ones, a replay of the compacted log (the
live records in their order) rebuilds the same story for every bucket. A lost claim is written
again by its writer as the join it became (same key), so a replay never decides it anew; the one
difference left is a bucket of a chance collision between unrelated stories, which no lookup
follows (the signatures differ).
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from dataclasses import dataclass

from streams.stories.grouping import similarity


@dataclass(frozen=True, slots=True)  # one per live record, shared by the buckets it holds
class Bucket:
    story_id: str
    story_seen_at: float
    origin: str  # key of the live record that holds it


@dataclass(slots=True)
class Held:
    """A live record: its story, its log time, and the buckets it still holds."""

    story_id: str
    at: float
    buckets: set[str]


@dataclass(frozen=True)
class Match:
    story_id: str
    story_seen_at: float


def claim(item_id: str, buckets: list[str], sig: list[int], at: float, story: Match, *, open_: bool,
          writer: str) -> tuple[str, dict]:
    """The index record of an item: (key, value) for ``StoryReplica.apply`` (see the module)."""
    return f"{item_id}@{at!r}", {"item": item_id, "story": story.story_id, "story_at": story.story_seen_at,
                                 "at": at, "open": open_, "buckets": buckets, "sig": sig, "w": writer}


class StoryReplica:
    """The story index, built only by ``apply`` (see the module)."""

    def __init__(self, *, window_secs: float, min_similarity: float, max_buckets: int = 200_000):
        self.window_secs = window_secs
        self.min_similarity = min_similarity
        self.max_buckets = max_buckets
        self.buckets: dict[str, Bucket] = {}
        self.records: OrderedDict[str, Held] = OrderedDict()  # live records, in log order
        self.signatures: dict[str, array] = {}
        self.refs: dict[str, int] = {}  # story → how many buckets point to it
        self.now = 0.0  # log time: the newest ``at`` applied

    def lookup(self, buckets: list[str], sig, own: str = "") -> Match | None:
        """The oldest story other than ``own`` that holds one of ``buckets`` with a signature
        similar to ``sig``; None if there is none (a shared bucket alone may be a chance collision)."""
        best: Match | None = None
        unlike: set[str] = set()  # stories whose signature was compared and is not similar
        for key in buckets:
            bucket = self.buckets.get(key)
            if bucket is None or bucket.story_id == own or bucket.story_id in unlike:
                continue
            if best is not None and (best.story_seen_at, best.story_id) <= (bucket.story_seen_at, bucket.story_id):
                continue
            if similarity(sig, self.signatures.get(bucket.story_id, ())) >= self.min_similarity:
                best = Match(bucket.story_id, bucket.story_seen_at)
            else:
                unlike.add(bucket.story_id)
        return best

    def stale(self, buckets: list[str], story: Match, at: float) -> bool:
        """Whether a join of ``story`` with these buckets is worth a record: a bucket is free, held by a
        younger story (the join would take it over), or last written a tenth of the window before
        ``at``. A bucket an older story holds stays with it whatever is written (``apply``), so it
        asks for nothing: a copy whose band collides with an unrelated older story writes no record."""
        refresh = self.window_secs / 10
        rank = (story.story_seen_at, story.story_id)
        for key in buckets:
            bucket = self.buckets.get(key)
            if bucket is None:
                return True
            if bucket.story_id != story.story_id:
                if rank < (bucket.story_seen_at, bucket.story_id):
                    return True
            elif at - self.records[bucket.origin].at > refresh:
                return True
        return False

    def apply(self, key: str, value: dict | None) -> tuple[Match | None, list[str]]:
        """Apply one index record: (the story the record's item belongs to, None for a tombstone;
        the keys of the live records that now hold nothing)."""
        if value is None:
            self._drop(key)
            return None, []
        # Every field is read first: a malformed record raises before anything changed.
        at, opened = float(value["at"]), bool(value["open"])
        # A bucket named twice counts once (ours never do: each key names its band).
        buckets, sig = list(dict.fromkeys(str(key) for key in value["buckets"])), array("I", value["sig"])
        story = Match(str(value["story"]), float(value["story_at"]))
        self._drop(key)  # written again (a lost claim, as the join it became): it moves to the end
        self.now = max(self.now, at)
        released = self._expire(self.now - self.window_secs)
        if opened:
            story = self.lookup(buckets, sig, own=story.story_id) or story
        rank = (story.story_seen_at, story.story_id)
        mark = Bucket(story.story_id, story.story_seen_at, key)  # every bucket the record takes shares it
        held: set[str] = set()
        for bucket_key in buckets:
            bucket = self.buckets.get(bucket_key)
            if bucket is not None:
                if bucket.story_id != story.story_id and rank > (bucket.story_seen_at, bucket.story_id):
                    continue  # an older story keeps it
                # Taken over: the newest record of a story holds its buckets. (Our own story's count may
                # touch zero here and drop its signature; both are set again below.)
                self._unref(bucket.story_id)
                released += self._release(bucket.origin, bucket_key)
            self.buckets[bucket_key] = mark
            held.add(bucket_key)
        if held:
            self.refs[story.story_id] = self.refs.get(story.story_id, 0) + len(held)
            self.records[key] = Held(story.story_id, at, held)
            self.signatures[story.story_id] = sig  # the newest copy stands for the story, as on a replay
            released += self._evict_overflow()
        if key not in self.records and key not in released:
            released.append(key)  # it holds nothing
        return story, released

    def _drop(self, key: str) -> None:
        """Forget a record and every bucket it holds."""
        record = self.records.pop(key, None)
        if record is not None:
            for bucket_key in record.buckets:  # each names the record, hence its story
                del self.buckets[bucket_key]
            self._unref(record.story_id, len(record.buckets))

    def _expire(self, cutoff: float) -> list[str]:
        released: list[str] = []
        while self.records:
            key, record = next(iter(self.records.items()))
            if record.at >= cutoff:
                break
            self._drop(key)
            released.append(key)
        return released

    def _evict_overflow(self) -> list[str]:
        """Whole records, oldest first, so that the compacted log holds exactly what stays."""
        released: list[str] = []
        while len(self.buckets) > self.max_buckets:
            key = next(iter(self.records))
            self._drop(key)
            released.append(key)
        return released

    def _release(self, origin: str, bucket_key: str) -> list[str]:
        """``origin`` no longer holds ``bucket_key``; its key is returned once it holds nothing."""
        record = self.records[origin]
        record.buckets.discard(bucket_key)
        if record.buckets:
            return []
        del self.records[origin]
        return [origin]

    def _unref(self, story_id: str, count: int = 1) -> None:
        """``count`` buckets fewer point to ``story_id``; its signature goes with its last bucket."""
        left = self.refs.get(story_id, 0) - count
        if left > 0:
            self.refs[story_id] = left
        else:
            self.refs.pop(story_id, None)
            self.signatures.pop(story_id, None)
