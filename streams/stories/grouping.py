"""Near-duplicate grouping: MinHash signatures and LSH band buckets. Plain functions, no broker;
``streams/stories/replica.py`` keeps the index of them, ``streams/stories/assign.py`` runs it in the worker.

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
