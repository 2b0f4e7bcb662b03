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

from core.errors import ConfigError
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
    new share once assigned. ``prepare`` is awaited with a new share before ``owns`` answers for it
    (the caller reads the state of the sources it takes over)."""

    def __init__(self, settings: Settings, on_change: Callable[[frozenset[int]], Awaitable[None]], *,
                 prepare: Callable[[frozenset[int]], Awaitable[None]] | None = None,
                 session_timeout_ms: int = 10_000):
        self.settings = settings
        self.on_change = on_change
        self.prepare = prepare
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
        topic = TOPICS["connect_slots"].name(self.settings.topic_prefix)
        await self._consumer.start()
        await self._consumer.topics()
        found = len(self._consumer.partitions_for_topic(topic) or ())
        if found != SLOTS:  # made by hand or auto-created: the sources of the missing slots would go unpolled
            await self._consumer.stop()
            raise ConfigError(f"topic {topic} has {found} partitions; the connectors need exactly {SLOTS} "
                              "(delete it and let `watchfloor connect` create it)")
        self._consumer.subscribe([topic], listener=self)
        self._task = asyncio.create_task(self._poll(), name="connect-membership")

    async def _poll(self) -> None:
        # Nothing is ever written to the topic; polling keeps the member's assignment current.
        fenced = False
        while True:
            try:
                await self._consumer.getmany(timeout_ms=1000)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # cut off from the group: stop polling until it is rejoined
                log.warning("Connector membership: %s: %s; polling nothing until the group is rejoined.",
                            type(exc).__name__, exc)
                fenced = True
                if self.slots:
                    self.slots = frozenset()
                    await self.on_change(self.slots)
                await asyncio.sleep(1.0)
                continue
            if fenced:  # back, and still a member (a rebalance would have called the listener)
                fenced = False
                share = frozenset(tp.partition for tp in self._consumer.assignment())
                if share and share != self.slots:
                    await self.on_partitions_assigned(self._consumer.assignment())

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
        share = frozenset(tp.partition for tp in assigned)
        try:
            if self.prepare is not None and share:
                await self.prepare(share)
        finally:  # aiokafka swallows a listener's error: the share must reach the loop regardless
            self.slots = share
            log.info("Connector membership: this process holds %d of %d slots.", len(share), SLOTS)
            await self.on_change(self.slots)
            self.assigned.set()
