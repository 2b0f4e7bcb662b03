"""``TopicFollower``: every worker reads a whole compacted topic and keeps following it.

Used for the rule packs and the alert ledger, which each worker needs in full (so no consumer
group: partitions are assigned manually, read from the beginning). ``caught_up`` is set once the
follower has applied everything that was on the topic when it started.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiokafka import TopicPartition
from mode import Service

from core.kafka import StarvedFetches, make_consumer
from core.settings import Settings

log = logging.getLogger(__name__)


class TopicFollower(Service):
    def __init__(
        self,
        settings: Settings,
        topic: str,
        apply: Callable[[object], Awaitable[None] | None],
        on_skip: Callable[[object, Exception], None] | None = None,
        fetch_max_wait_ms: int = 100,
        **kwargs,
    ):
        self.settings = settings
        self.topic = topic
        self.apply = apply
        self.on_skip = on_skip
        self.fetch_max_wait_ms = fetch_max_wait_ms
        self.caught_up = asyncio.Event()
        self.consumer = None
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        self.consumer = make_consumer(self.settings, group_id=None, fetch_max_wait_ms=self.fetch_max_wait_ms)
        self._starved = StarvedFetches(self.consumer, f"Following {self.topic}")
        await self.consumer.start()
        partitions = self.consumer.partitions_for_topic(self.topic)
        if not partitions:
            partitions = await self._wait_for_partitions()
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        self.consumer.assign(tps)
        await self.consumer.seek_to_beginning(*tps)
        self._targets = await self.consumer.end_offsets(tps)

    async def _wait_for_partitions(self) -> set[int]:
        for _ in range(100):
            await self.consumer._client.force_metadata_update()
            partitions = self.consumer.partitions_for_topic(self.topic)
            if partitions:
                return partitions
            await asyncio.sleep(0.1)
        raise RuntimeError(f"topic {self.topic} does not exist; run `watchfloor topics create`")

    async def on_stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()
            self.consumer = None

    @Service.task
    async def _follow(self) -> None:
        while not self.should_stop:
            batches = await self.consumer.getmany(timeout_ms=200)
            for part in batches.values():
                for record in part:
                    await self._apply(record)
            await self._starved.check(bool(batches))
            if not self.caught_up.is_set() and await self._reached_targets():
                self.caught_up.set()

    async def _apply(self, record) -> None:
        """Apply one record; one that cannot be applied (bad JSON, a null key, the wrong shape) is
        skipped with one log line and counted: compacted state keeps it, so raising would crash the
        worker again at every start."""
        try:
            result = self.apply(record)
            if asyncio.iscoroutine(result):
                await result
        except Exception as exc:
            log.warning("Skipped record %s[%d]@%d: cannot apply it (%s: %s).", record.topic, record.partition,
                        record.offset, type(exc).__name__, str(exc)[:200])
            if self.on_skip is not None:
                self.on_skip(record, exc)

    async def _reached_targets(self) -> bool:
        for tp, end in self._targets.items():
            if await self.consumer.position(tp) < end:
                return False
        return True
