"""Near-duplicate grouping: MinHash signatures, LSH band buckets and the per-partition story index.
Plain functions and classes, no broker; ``streams/stories/stages.py`` runs them across workers.

Why MinHash/LSH and not SimHash: syndicated copies are short (a wire paragraph, a Telegram post)
and differ by a few words. SimHash on 40 words flips ~10 of 64 bits for such an edit, far beyond
the 3-bit distance its block tables can find; MinHash over word 3-grams estimates Jaccard
similarity directly, and banding it (``BANDS`` × ``ROWS``) makes a pair with Jaccard 0.6 meet in at
least one bucket with probability 1 - (1 - 0.6³)²⁰ ≈ 0.99, while unrelated texts that share a few
phrases (Jaccard ≈ 0.1) rarely meet, and when they do the signature check (``similarity``) keeps
them apart.

Why no numpy or datasketch: the worker does not otherwise need numpy, and a signature is cheap in
the standard library: one ``shake_128`` digest per shingle yields all ``PERMUTATIONS`` 32-bit hash
values at once (independent hash functions, a random oracle being stronger than datasketch's
universal hashing), and ``streams.stories.minhash.column_minima`` takes the column minima of all rows at
once with big-integer arithmetic (a third faster than ``map(min, zip(*rows))``).
"""

from __future__ import annotations

import hashlib
from array import array
from collections import OrderedDict
from dataclasses import dataclass

from core.ids import stable_hash
from streams.rules.normalize import normalize
from streams.stories.minhash import column_minima

BANDS = 20
ROWS = 3
PERMUTATIONS = BANDS * ROWS
SHINGLE_WORDS = 3
MIN_WORDS = 6  # below this a text is too short to call anything its duplicate


def shingles(text: str) -> set[str]:
    """Word 3-grams of the normalised text (case, script quirks and punctuation folded)."""
    words = normalize(text).text.split()
    if len(words) < MIN_WORDS:
        return set()
    return {" ".join(words[i:i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def signature(grams: set[str]) -> list[int]:
    """MinHash signature: per hash function, the minimum over the shingles."""
    shake = hashlib.shake_128
    rows = b"".join([shake(g.encode("utf-8")).digest(4 * PERMUTATIONS) for g in grams])
    return column_minima(rows, len(grams))


def similarity(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity of two signatures: the share of equal positions."""
    if not a or len(a) != len(b):
        return 0.0
    return sum(x == y for x, y in zip(a, b)) / len(a)


def band_buckets(sig: list[int]) -> list[str]:
    """One bucket key per band; near-duplicates share at least one with high probability."""
    # ``stable_hash(*map(str, rows), size=8)`` inlined: the same keys, without a call per band.
    blake2b, sep = hashlib.blake2b, "\x1f"
    return [
        f"b{band}:" + blake2b(sep.join(map(str, sig[band * ROWS:(band + 1) * ROWS])).encode(),
                              digest_size=8).hexdigest()
        for band in range(BANDS)
    ]


def story_id_for(item_id: str) -> str:
    """A story is named after the item that opened it: deterministic, so replays agree."""
    return f"story-{stable_hash(item_id)}"


def text_for_grouping(title: str, text: str) -> str:
    """The body; the title joins it only for a short body (titles differ most between outlets)."""
    return text if len(text.split()) >= 2 * MIN_WORDS else f"{title}\n{text}"


@dataclass(slots=True)  # hundreds of thousands live per partition: no __dict__ each
class Bucket:
    story_id: str
    story_seen_at: float
    last_seen: float
    origin: str = ""  # key of the index record that wrote it last


@dataclass(frozen=True)
class Match:
    story_id: str
    story_seen_at: float


Change = tuple[str, dict | None]


class StoryIndex:
    """Band buckets → story, for one partition; plus each story's representative signature.

    Contract: ``probe`` is deterministic given the order of calls, bounded by ``max_buckets``
    (least recently seen evicted first) and by ``window_secs`` (``expire``). Each call returns its
    changes as records for the compacted index topic: one record per probe or bind (key
    ``p:<item>@<seen_at>`` or ``b:<item>``) listing the buckets it wrote, with their stories'
    signatures; a record whose buckets were all overwritten, expired or evicted is tombstoned. A
    restart rebuilds the same index by ``apply``-ing the records in order.

    Memory: buckets (and the ``holders`` of their records) are bounded by ``max_buckets``; a story's
    signature is kept, as a compact ``array('I')``, exactly while one of its buckets is (``refs``
    counts them), so evicting or expiring a story's last bucket drops its signature at once. An
    evicted story is only forgotten early: a later copy opens a new story.
    """

    def __init__(self, *, window_secs: float, min_similarity: float, max_buckets: int = 200_000):
        self.window_secs = window_secs
        self.min_similarity = min_similarity
        self.max_buckets = max_buckets
        self.buckets: OrderedDict[str, Bucket] = OrderedDict()
        self.signatures: dict[str, array] = {}
        self.refs: dict[str, int] = {}  # story → how many buckets point to it
        self.holders: dict[str, set[str]] = {}  # record key → the buckets it still holds

    def probe(self, item_id: str, buckets: list[str], sig: list[int], seen_at: float
              ) -> tuple[Match, list[str], list[Change]]:
        """(the oldest similar story known here, else the item's own; buckets given to the item's
        own story; changes). An existing story wins over the item's own even when the item is
        older: every partition then agrees with the order the items arrived in."""
        own = Match(story_id_for(item_id), seen_at)
        best: Match | None = None
        for key in buckets:
            bucket = self.buckets.get(key)
            if bucket is None or bucket.story_id == own.story_id:
                continue
            if similarity(sig, self.signatures.get(bucket.story_id, [])) < self.min_similarity:
                continue  # a chance collision: the texts are not alike
            found = Match(bucket.story_id, bucket.story_seen_at)
            if best is None or (found.story_seen_at, found.story_id) < (best.story_seen_at, best.story_id):
                best = found
        chosen = best or own
        origin, writes, registered = f"p:{item_id}@{seen_at!r}", [], []
        for key in buckets:
            bucket = self.buckets.get(key)
            if bucket is None:
                registered.append(key)
                writes.append((key, Bucket(own.story_id, own.story_seen_at, seen_at, origin)))
            elif bucket.story_id == chosen.story_id and seen_at - bucket.last_seen > self.window_secs / 10:
                # Keep a live story's buckets, refreshed at a tenth of the window's granularity so a
                # busy story is not rewritten by every copy.
                writes.append((key, Bucket(bucket.story_id, bucket.story_seen_at, seen_at, origin)))
        if registered:
            self.signatures.setdefault(own.story_id, array("I", sig))
        return chosen, registered, self._write(origin, writes) + self._evict_overflow()

    def bind(self, item_id: str, buckets: list[str], story_id: str, story_seen_at: float, sig: list[int]
             ) -> list[Change]:
        """The resolver put an item with these buckets into ``story_id``: buckets held by a newer
        story move to it, so later copies meet the oldest story wherever they probe."""
        origin = f"b:{item_id}"
        writes = [(key, Bucket(story_id, story_seen_at, bucket.last_seen, origin)) for key in buckets
                  if (bucket := self.buckets.get(key)) is not None
                  and (story_seen_at, story_id) < (bucket.story_seen_at, bucket.story_id)]
        if writes:
            self.signatures.setdefault(story_id, array("I", sig))
        return self._write(origin, writes)

    def expire(self, now: float) -> list[Change]:
        """Forget buckets not seen within the window, and signatures no bucket points to."""
        changes: list[Change] = []
        while self.buckets:
            key, bucket = next(iter(self.buckets.items()))
            if now - bucket.last_seen <= self.window_secs:
                break
            del self.buckets[key]
            self._unref(bucket.story_id)
            changes += self._release(bucket.origin, key)
        return changes

    def prune_signatures(self) -> None:
        """Drop signatures no bucket points to (``refs`` already does; kept for restores)."""
        live = {b.story_id for b in self.buckets.values()}
        for story_id in [s for s in self.signatures if s not in live]:
            del self.signatures[story_id]

    def apply(self, key: str, value: dict | None) -> None:
        """Replay one index-topic record (restore after a restart or a rebalance)."""
        if value is None:
            for bucket_key in self.holders.pop(key, ()):
                self._unref(self.buckets.pop(bucket_key).story_id)
            return
        self.signatures.update((s, array("I", sig)) for s, sig in value["sigs"].items())
        self._write(key, [(k, Bucket(story, story_at, at, key)) for k, story, story_at, at in value["sets"]])
        self._evict_overflow()  # single buckets evicted by the cap have no record of their own

    def _write(self, origin: str, writes: list[tuple[str, Bucket]]) -> list[Change]:
        if not writes:
            return []
        changes: list[Change] = []
        for key, bucket in writes:
            old = self.buckets.get(key)
            self.buckets[key] = bucket
            self.buckets.move_to_end(key)
            self.refs[bucket.story_id] = self.refs.get(bucket.story_id, 0) + 1
            self.holders.setdefault(origin, set()).add(key)
            if old is not None:
                self._unref(old.story_id)
                if old.origin != origin:
                    changes += self._release(old.origin, key)
        stories = {b.story_id for _, b in writes}
        record = {"sets": [[k, b.story_id, b.story_seen_at, b.last_seen] for k, b in writes],
                  "sigs": {s: self.signatures[s].tolist() for s in stories if s in self.signatures}}
        return [(origin, record), *changes]

    def _release(self, origin: str, key: str) -> list[Change]:
        """``origin`` no longer holds ``key``; its record is tombstoned when it holds nothing."""
        held = self.holders.get(origin)
        if held is None:
            return []
        held.discard(key)
        if held:
            return []
        del self.holders[origin]
        return [(origin, None)]

    def _evict_overflow(self) -> list[Change]:
        changes: list[Change] = []
        while len(self.buckets) > self.max_buckets:
            key, bucket = self.buckets.popitem(last=False)
            self._unref(bucket.story_id)
            changes += self._release(bucket.origin, key)
        return changes

    def _unref(self, story_id: str) -> None:
        """One bucket fewer points to ``story_id``; its signature goes with its last bucket."""
        left = self.refs.get(story_id, 0) - 1
        if left > 0:
            self.refs[story_id] = left
        else:
            self.refs.pop(story_id, None)
            self.signatures.pop(story_id, None)


def resolve(votes: list[tuple[str, float]]) -> tuple[str, float]:
    """The story an item belongs to: the oldest of its votes (seen time, then id: a total order, so
    two items that two partitions saw in opposite orders still settle on the same story)."""
    return min(votes, key=lambda v: (v[1], v[0]))
