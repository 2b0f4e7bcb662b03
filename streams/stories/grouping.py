"""Near-duplicate grouping: MinHash signatures and LSH band buckets. Plain functions, no broker;
``streams/stories/replica.py`` keeps the index of them, ``streams/stories/assign.py`` runs it in the worker.

Why MinHash/LSH and not SimHash: syndicated copies are short (a wire paragraph, a Telegram post)
and differ by a few words. SimHash on 40 words flips ~10 of 64 bits for such an edit, far beyond
the 3-bit distance its block tables can find; MinHash over word 3-grams estimates Jaccard
similarity directly, and banding it (``BANDS`` × ``ROWS``) makes a pair with Jaccard 0.6 meet in at
least one bucket with probability 1 - (1 - 0.6³)²⁰ ≈ 0.99, while unrelated texts that share a few
phrases (Jaccard ≈ 0.1) rarely meet, and when they do the signature check (``similarity``) keeps
them apart.

Why ``rensa``: the signature is the hot part of grouping (a pure-Python MinHash, one ``shake_128``
digest per shingle and big-integer column minima, took ~160 µs per item, a tenth of a worker's
time); rensa's ``RMinHash`` (Rust) computes the 60 values in ~3.4 µs. Measured against the exact
word-3-gram Jaccard similarity (docs/benchmarks.md), its estimates are the closest of the three
tried: on the syndicated copies of the story tests within 0.03 of the exact value, where the old
signature erred by up to 0.14 and rensa's ``CMinHash`` read 0.23 for a true 0.39, splitting
copies. The hash values are persisted in the story index topic, so the version is pinned and the
seed fixed: other values would split every story alive across an upgrade
(``tests/streams/stories/test_story_hashing.py``).
"""

from __future__ import annotations

import struct
from array import array
from base64 import b64encode
from operator import eq

from rensa import RMinHash

from core.ids import stable_hash
from streams.rules import native
from streams.rules.normalize import normalize

BANDS = 20
ROWS = 3
PERMUTATIONS = BANDS * ROWS
SHINGLE_WORDS = 3
SEED = 20261202  # rensa's permutations: part of the persisted format, like PERMUTATIONS
MIN_WORDS = 6  # below this a text is too short to call anything its duplicate


def shingles(text: str) -> list[str]:
    """Word 3-grams of the normalised text (case, script quirks and punctuation folded), in text order,
    a repeated one repeated (the signature's minima are the same: a set only cost hashing them); none
    for a text under ``MIN_WORDS`` words."""
    return (native.shingles or word_shingles)(normalize(text).text, SHINGLE_WORDS, MIN_WORDS)


def word_shingles(text: str, size: int, min_words: int) -> list[str]:
    """Every run of ``size`` consecutive words of ``text``, joined by one space, in order; none under
    ``min_words`` words. (``native.shingles`` does the same in C, about twice as fast on the bench's texts.)"""
    words = text.split()
    if len(words) < min_words:
        return []
    return [" ".join(words[i:i + size]) for i in range(len(words) - size + 1)]


def signature(grams) -> list[int]:
    """MinHash signature: per hash function, the minimum over the shingles (rensa, seeded); a shingle
    given twice counts once, as in a set."""
    if not grams:
        return []
    minhash = RMinHash(num_perm=PERMUTATIONS, seed=SEED)
    minhash.update(grams if type(grams) is list else list(grams))
    return minhash.digest()


def similarity(a, b) -> float:
    """Estimated Jaccard similarity of two signatures: the share of equal positions. Two ``array('I')``
    (as the story index holds them) are compared in C, ~0.2 µs against ~3 for the sum below; the lookups
    of one item compare ~6 pairs on the bench's items, whose filler phrases collide in buckets."""
    if not a or len(a) != len(b):
        return 0.0
    if native.agreement is not None and type(a) is array and type(b) is array and a.typecode == b.typecode == "I":
        return native.agreement(a, b) / len(a)
    return sum(map(eq, a, b)) / len(a)


_PACK = struct.Struct(f">{PERMUTATIONS}I").pack
_BAND_CHARS = 4 * ROWS * 4 // 3  # base64 of one band's rows: 12 bytes → 16 characters, no padding
_BANDS = [(f"b{band}:", band * _BAND_CHARS, (band + 1) * _BAND_CHARS) for band in range(BANDS)]


def band_buckets(sig: list[int]) -> list[str]:
    """One bucket key per band; near-duplicates share at least one with high probability. The key
    is the band's rows themselves (base64 of their big-endian bytes): they are uniform hash values
    already, so hashing them again (blake2b per band, as before) only cost time."""
    rows = b64encode(_PACK(*sig)).decode("ascii")
    return [prefix + rows[start:end] for prefix, start, end in _BANDS]


def story_id_for(item_id: str) -> str:
    """A story is named after the item that opened it: deterministic, so replays agree."""
    return f"story-{stable_hash(item_id)}"


def text_for_grouping(title: str, text: str) -> str:
    """The body; the title joins it only for a short body (titles differ most between outlets)."""
    # Split at most that far: counting every word of a long body cost more than the check needs.
    return text if len(text.split(None, 2 * MIN_WORDS - 1)) >= 2 * MIN_WORDS else f"{title}\n{text}"
