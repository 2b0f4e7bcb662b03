"""``send_all`` and the story router place keyed records with ``key_partition``, not aiokafka's
partitioner: it must give every key the partition Kafka's default partitioner gives it, or a key's
records would split across partitions (and the story index would live on the wrong one)."""

from __future__ import annotations

import random

from aiokafka.partitioner import DefaultPartitioner

from core.kafka import key_partition


def test_key_partition_matches_kafkas_default_partitioner_for_every_key_length():
    rng = random.Random(7)
    keys = [f"b{rng.randrange(20)}:{rng.getrandbits(64):016x}".encode() for _ in range(2000)]
    keys += ["".join(chr(rng.randrange(32, 0x500)) for _ in range(n)).encode() for n in range(0, 40)]
    keys += [bytes(rng.randrange(256) for _ in range(n)) for n in range(0, 40)]  # not text at all
    reference = DefaultPartitioner()
    for count in (1, 3, 4, 12):
        partitions = list(range(count))
        assert [key_partition(k, count) for k in keys] == [reference(k, partitions, partitions) for k in keys]
