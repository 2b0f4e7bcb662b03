"""The story stages' fast paths compute exactly what the reference functions compute: bucket keys
and their partitions are persisted in the index topic, so a change would split stories."""

from __future__ import annotations

import hashlib
import random
import struct

from core.ids import stable_hash
from streams.stories.grouping import BANDS, PERMUTATIONS, ROWS, band_buckets, shingles, signature


def test_band_buckets_are_stable_hashes_of_each_bands_rows():
    sig = signature(shingles("Officials said the sanctions package would be signed in Brussels on Friday"))
    expected = [f"b{band}:{stable_hash(*map(str, sig[band * ROWS:(band + 1) * ROWS]), size=8)}"
                for band in range(BANDS)]
    assert band_buckets(sig) == expected


def reference_signature(grams: set[str]) -> list[int]:
    """The signature as first written: per position, ``min`` over each shingle's unpacked digest."""
    unpack = struct.Struct(f"<{PERMUTATIONS}I").unpack
    rows = [unpack(hashlib.shake_128(g.encode("utf-8")).digest(4 * PERMUTATIONS)) for g in grams]
    return list(map(min, zip(*rows)))


def test_signature_equals_the_column_minima_for_any_number_of_shingles():
    rng = random.Random(11)
    # Odd and even counts, powers of two and their neighbours, and more rows than the masks cache.
    for count in [0, 1, 2, 3, 4, 5, 7, 8, 9, 63, 64, 65, 127, 1023, 1024, 1025, 2500]:
        grams = {f"{rng.getrandbits(40):x} слово {n}" for n in range(count)}
        assert signature(grams) == reference_signature(grams), count
