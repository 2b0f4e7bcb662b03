"""Which sources this connector process polls, when several ``watchfloor connect`` processes run.

Every connector joins one Kafka consumer group on ``connect-slots.v1``, a topic nobody writes to: the
group coordinator hands each member a share of its partitions (slots), and reassigns them when a
member joins, leaves or stops heartbeating. A source belongs to the slot its id hashes to, so it is
polled by exactly the member holding that slot: consistent hashing, with Kafka's group protocol as the
membership service. A member that leaves gives its slots up (and finishes its in-flight polls) before
the group reassigns them; one that dies loses them after the session timeout.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener

from core.kafka import make_consumer
from core.settings import Settings
from schemas.topics import TOPICS

log = logging.getLogger(__name__)

SLOTS = TOPICS["connect_slots"].fixed_partitions or 1


def slot_of(source_id: str) -> int:
    """The slot a source belongs to: stable across processes and restarts (CRC-32 of its id)."""
    return zlib.crc32(source_id.encode("utf-8")) % SLOTS


def group_id(settings: Settings) -> str:
    return f"{settings.topic_prefix}connect"


class Membership(ConsumerRebalanceListener):
    """This process's slots. ``on_change`` is awaited with the slots held after every change: with
    none while the group rebalances (the caller stops polling the sources it gives up), then with the
    new share once assigned."""

    def __init__(self, settings: Settings, on_change: Callable[[frozenset[int]], Awaitable[None]], *,
                 session_timeout_ms: int = 10_000):
        self.settings = settings
        self.on_change = on_change
        self.slots: frozenset[int] = frozenset()
        self.session_timeout_ms = session_timeout_ms
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task | None = None
        self.assigned = asyncio.Event()
        """Set once the group assigned this member its first share."""

    def owns(self, source_id: str) -> bool:
        return slot_of(source_id) in self.slots

    async def start(self) -> None:
        self._consumer = make_consumer(self.settings, group_id=group_id(self.settings),
                                       session_timeout_ms=self.session_timeout_ms,
                                       heartbeat_interval_ms=max(1000, self.session_timeout_ms // 4))
        self._consumer.subscribe([TOPICS["connect_slots"].name(self.settings.topic_prefix)], listener=self)
        await self._consumer.start()
        self._task = asyncio.create_task(self._poll(), name="connect-membership")

    async def _poll(self) -> None:
        # Nothing is ever written to the topic; polling keeps the member's assignment current.
        while True:
            try:
                await self._consumer.getmany(timeout_ms=1000)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker away: the coordinator rejoins when it is back
                log.warning("Connector membership: %s: %s; retrying.", type(exc).__name__, exc)
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        """Leave the group (the others take this member's slots at once)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def on_partitions_revoked(self, revoked) -> None:
        if self.slots:
            log.info("Connector membership: giving up %d slots for a rebalance.", len(self.slots))
        self.slots = frozenset()
        await self.on_change(self.slots)

    async def on_partitions_assigned(self, assigned) -> None:
        self.slots = frozenset(tp.partition for tp in assigned)
        log.info("Connector membership: this process holds %d of %d slots.", len(self.slots), SLOTS)
        await self.on_change(self.slots)
        self.assigned.set()
