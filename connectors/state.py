"""Per-source state (``schemas.SourceState``) kept on the compacted ``watchfloor.source-state.v1`` topic.

The topic is the only durable copy: at start the store reads it to its end (manual partition
assignment, no consumer group, so it is immediate and independent of other instances), then keeps the
newest state per source in memory. ``put`` writes a state and waits for the broker's acknowledgement
before the in-memory copy changes, so what the loop sees is what a restart would see.
"""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaProducer
from pydantic import ValidationError

from core.kafka import ce_type_for, cloudevent_headers, read_since
from core.settings import Settings
from schemas import SourceState
from schemas.topics import TOPICS

log = logging.getLogger(__name__)


def state_topic(settings: Settings) -> str:
    return TOPICS["source_state"].name(settings.topic_prefix)


async def read_topic_to_end(settings: Settings, topic: str, timeout_secs: float = 30.0) -> list[tuple[str | None, bytes | None, str]]:
    """Every record of ``topic`` up to its current end as ``(key, value, "topic[partition]@offset")``."""
    records = await read_since(settings, topic, timeout_secs=timeout_secs)
    return [(r.key.decode("utf-8", "replace") if r.key else None, r.value, f"{topic}[{r.partition}]@{r.offset}")
            for r in records]


async def read_states(settings: Settings, topic: str | None = None, timeout_secs: float = 30.0) -> dict[str, SourceState]:
    """Every source's newest state on the topic (tombstones remove); unreadable records are skipped."""
    states: dict[str, SourceState] = {}
    for key, value, where in await read_topic_to_end(settings, topic or state_topic(settings), timeout_secs):
        if value is None:
            states.pop(key, None)
            continue
        try:
            state = SourceState.from_bytes(value)
        except ValidationError as exc:
            log.warning("Skipped an unreadable source state at %s: %s.", where, exc.errors()[0]["msg"])
            continue
        states[state.source_id] = state
    return states


class SourceStateStore:
    """In-memory view of the source-state topic, written through to it.

    Contract: ``load`` once before use; ``get`` is a dict lookup; ``put`` returns only after the broker
    acknowledged the record (acks=all producer handed in), and raises if it did not, leaving the
    previous state in place.
    """

    def __init__(self, settings: Settings, producer: AIOKafkaProducer, topic: str | None = None):
        self.settings = settings
        self.producer = producer
        self.topic = topic or state_topic(settings)
        self.states: dict[str, SourceState] = {}

    async def load(self) -> dict[str, SourceState]:
        self.states = await read_states(self.settings, self.topic)
        log.info("Loaded the state of %d sources from %s.", len(self.states), self.topic)
        return self.states

    def get(self, source_id: str) -> SourceState | None:
        return self.states.get(source_id)

    def remember(self, state: SourceState) -> None:
        """Keep ``state`` in memory only (used when the broker refused it; the next ``put`` retries)."""
        self.states[state.source_id] = state

    async def put(self, state: SourceState) -> None:
        headers = cloudevent_headers(ce_type_for(state), time=state.updated_at)
        await self.producer.send_and_wait(
            self.topic, value=state.to_bytes(), key=state.source_id.encode("utf-8"), headers=headers
        )
        self.states[state.source_id] = state
