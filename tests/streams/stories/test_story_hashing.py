"""The story stages' fast paths compute exactly what the reference functions compute: bucket keys
and their partitions are persisted in the index topic, so a change would split stories."""

from __future__ import annotations

import random

from streams.alerting import stable_hash
from streams.stories import BANDS, ROWS, band_buckets, partition_of, shingles, signature
from streams.story_stage import bucket_partition


def test_bucket_partition_matches_kafkas_murmur2_partitioner_for_every_key_length():
    rng = random.Random(7)
    keys = [f"b{rng.randrange(20)}:{rng.getrandbits(64):016x}" for _ in range(2000)]
    keys += ["".join(chr(rng.randrange(32, 0x500)) for _ in range(n)) for n in range(0, 40)]
    for partitions in (1, 3, 4, 12):
        assert [bucket_partition(k, partitions) for k in keys] == [partition_of(k, partitions) for k in keys]


def test_band_buckets_are_stable_hashes_of_each_bands_rows():
    sig = signature(shingles("Officials said the sanctions package would be signed in Brussels on Friday"))
    expected = [f"b{band}:{stable_hash(*map(str, sig[band * ROWS:(band + 1) * ROWS]), size=8)}"
                for band in range(BANDS)]
    assert band_buckets(sig) == expected
