"""Signatures and bucket keys are persisted in the story index topic, so they must not change under
an upgrade, and the signature must behave like MinHash with independent hash functions: bands meet
as often as the theory says, and equal positions estimate the Jaccard similarity."""

from __future__ import annotations

import base64
import random
import struct

from streams.stories.grouping import BANDS, ROWS, band_buckets, shingles, signature, similarity
from tests.streams.stories.corpus import syndicated_copies

TEXT = "Officials said the sanctions package would be signed in Brussels on Friday"


def test_a_band_key_is_its_rows_and_copies_sharing_a_band_share_its_key():
    sig = signature(shingles(TEXT))
    keys = band_buckets(sig)
    assert len(keys) == BANDS and len(set(keys)) == BANDS
    for band, key in enumerate(keys):
        prefix, _, rows = key.partition(":")
        assert prefix == f"b{band}" and len(rows) == 16
        assert list(struct.unpack(">3I", base64.b64decode(rows))) == sig[band * ROWS:(band + 1) * ROWS]
    other = list(sig)
    other[0] += 1  # one value of band 0 differs: only that band's key changes
    assert [a == b for a, b in zip(band_buckets(other), keys)] == [False] + [True] * (BANDS - 1)


def test_the_signature_of_a_text_is_the_one_the_index_already_holds():
    # Pinned values: a library or seed that hashes differently would split every story alive.
    assert signature(shingles(TEXT))[:6] == [3221989887, 3314753737, 3223855991, 1973835243, 380832197, 173687915]
    assert len(signature(shingles(TEXT))) == BANDS * ROWS and signature(set()) == []
    # Shingles come as a list, repeats kept: the minima, hence the signature, are those of the set.
    twice = shingles(f"{TEXT} {TEXT}")
    assert len(twice) > len(set(twice)) and signature(twice) == signature(set(twice)) == signature(sorted(set(twice)))


def pairs_with_jaccard(rng: random.Random, jaccard: float, count: int, size: int = 60):
    """``count`` pairs of shingle sets of ``size`` each whose Jaccard similarity is exactly ``jaccard``."""
    shared = round(2 * size * jaccard / (1 + jaccard))
    for n in range(count):
        common = {f"c{n}-{rng.getrandbits(48):x}" for _ in range(shared)}
        yield (common | {f"a{n}-{k}" for k in range(size - shared)},
               common | {f"b{n}-{k}" for k in range(size - shared)})


def test_equal_positions_estimate_the_jaccard_similarity_without_bias():
    rng = random.Random(5)
    for jaccard in (0.2, 0.5, 0.8):
        estimates = []
        for a, b in pairs_with_jaccard(rng, jaccard, 100):
            exact = len(a & b) / len(a | b)
            estimates.append(similarity(signature(a), signature(b)) - exact)
        assert abs(sum(estimates) / len(estimates)) < 0.02, jaccard


def test_the_similarity_of_syndicated_copies_is_read_close_to_their_exact_jaccard():
    # Copies of one text share most shingles, unlike independent random sets: an estimator whose
    # hash functions are not independent enough errs here (the old signature by up to 0.14, rensa's
    # CMinHash by up to 0.16, reading copies below story_min_similarity and splitting them).
    copies = [set(shingles(t)) for t in syndicated_copies(20)]
    first = signature(copies[0])
    errors = [abs(similarity(first, signature(c)) - len(c & copies[0]) / len(c | copies[0])) for c in copies[1:]]
    assert sum(errors) / len(errors) < 0.04 and max(errors) < 0.1, errors


def test_bands_meet_as_often_as_for_independent_hash_functions():
    # P(at least one of 20 bands of 3 equal) = 1 - (1 - J³)²⁰ for independent hash functions.
    rng = random.Random(8)
    for jaccard in (0.3, 0.45, 0.6):
        pairs = list(pairs_with_jaccard(rng, jaccard, 300))
        met = sum(bool(set(band_buckets(signature(a))) & set(band_buckets(signature(b)))) for a, b in pairs)
        exact = len(pairs[0][0] & pairs[0][1]) / len(pairs[0][0] | pairs[0][1])
        expected = 1 - (1 - exact ** ROWS) ** BANDS
        assert abs(met / len(pairs) - expected) < 0.07, (jaccard, met / len(pairs), expected)
