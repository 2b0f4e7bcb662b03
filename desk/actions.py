"""Desk actions shared by every desk process through ``watchfloor.desk-actions.v1``.

An action taken on this desk (acknowledge, assign, snooze, resolve, reopen, a note, "not relevant")
is applied to the local store at once and kept there in an outbox; ``ActionSync`` sends the outbox to
the topic and marks what the broker acknowledged, so an action taken during a broker outage is sent
once the broker is back, and one taken just before a crash is sent after the restart. Every desk
follows the topic from its beginning (it is compacted and keyed by action id, so it holds every
action once) and applies what it has not seen: an action taken on one desk shows on every other
within the topic's fetch wait, and a new desk process starts with the whole team's history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from core.kafka import decode_value, follow_topic, send_all, start_producer
from core.metrics import DeskMetrics
from core.retry import run_forever
from core.settings import Settings
from desk.live import LiveHub
from desk.store import AlertStore
from schemas.desk import DeskAction
from schemas.topics import TOPICS

log = logging.getLogger(__name__)

RETRY_MAX_SECS = 30.0
PUBLISH_EVERY_SECS = 5.0
"""How often the outbox is looked at without being woken (a send that failed is retried then)."""
FETCH_WAIT_MS = 200


@dataclass(frozen=True)
class _Out:
    topic: str
    key: bytes
    value: bytes
    headers: tuple = ()


class ActionSync:
    """Two supervised loops: ``_publish`` empties the outbox onto the topic, ``_follow`` applies the
    topic to the store and tells the live page what changed. Either one failing (a broker outage) is
    logged once per failure and retried with backoff; the desk keeps serving meanwhile."""

    def __init__(self, settings: Settings, store: AlertStore, hub: LiveHub, metrics: DeskMetrics):
        self.topic = TOPICS["desk_actions"].name(settings.topic_prefix)
        self.settings, self.store, self.hub, self.metrics = settings, store, hub, metrics
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self.caught_up = asyncio.Event()
        """Set once the topic was read to its end after start."""

    def notify(self) -> None:
        """An action was taken here: send the outbox now."""
        self._wake.set()

    async def start(self) -> None:
        # A broker outage: the store keeps the truth; each side starts again after a backoff.
        self._tasks = [
            asyncio.create_task(run_forever(self._publish, what=f"Desk actions: publishing to {self.topic}",
                                            logger=log, max_delay_secs=RETRY_MAX_SECS), name="desk-actions-out"),
            asyncio.create_task(run_forever(self._follow, what=f"Desk actions: following {self.topic}",
                                            logger=log, max_delay_secs=RETRY_MAX_SECS), name="desk-actions-in")]

    async def stop(self, flush_secs: float = 3.0) -> None:
        """Stop, after a short wait for the outbox to empty (what is left is sent at the next start)."""
        deadline = asyncio.get_running_loop().time() + flush_secs
        while self._tasks and await asyncio.to_thread(self.store.unpublished, 1):
            if asyncio.get_running_loop().time() > deadline:
                log.warning("Stopping with desk actions not yet sent; they are sent at the next start.")
                break
            self.notify()
            await asyncio.sleep(0.1)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _publish(self) -> None:
        producer: AIOKafkaProducer = await start_producer(self.settings)
        try:
            while True:
                while batch := await asyncio.to_thread(self.store.unpublished):
                    await send_all(producer, [_Out(self.topic, a.action_id.encode(), a.to_bytes()) for a in batch])
                    await asyncio.to_thread(self.store.mark_published, [a.action_id for a in batch])
                    self.metrics.desk_actions.labels("sent").inc(len(batch))
                self.metrics.desk_actions_unsent.set(0)
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), PUBLISH_EVERY_SECS)
                except TimeoutError:
                    pass
        finally:
            self.metrics.desk_actions_unsent.set(len(await asyncio.to_thread(self.store.unpublished)))
            try:  # stopping flushes; with the broker away that would wait out the request timeout
                await asyncio.wait_for(producer.stop(), 10)
            except Exception as exc:
                log.debug("Stopping the desk actions producer: %s", exc)

    async def _follow(self) -> None:
        batches = follow_topic(self.settings, self.topic, fetch_max_wait_ms=FETCH_WAIT_MS)
        async with contextlib.aclosing(batches):  # its consumer stops when this task does
            async for records, caught_up in batches:
                actions = [a for r in records if (a := self._decode(r)) is not None]
                if actions:
                    changed = await asyncio.to_thread(self.store.apply, actions, published=True)
                    if changed:
                        self.metrics.desk_actions.labels("received").inc(len(changed))
                        self.hub.publish("update", changed)
                if caught_up:
                    self.caught_up.set()

    def _decode(self, record) -> DeskAction | None:
        action, reason = decode_value(DeskAction, record)
        if action is None:
            self.metrics.desk_actions.labels("invalid").inc()
            log.warning("Skipped record %s[%d]@%d: not a valid DeskAction (%s).", record.topic, record.partition,
                        record.offset, reason)
        return action
