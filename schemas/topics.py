"""Every topic declared once: name, key, value model, partitions and cleanup policy.

Import ``TOPICS`` (or ``core.kafka.topic_name(settings, key)`` / ``topic_names(settings)`` for the
prefixed names) everywhere; nothing else spells a
topic name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from schemas import Alert, ClassifiedItem, DeskAction, Item, RulePack, Source, SourceState
from schemas.story import MentionEvent, StoryEntry


@dataclass(frozen=True)
class TopicSpec:
    key: str
    """Short name, used in code (``TOPICS["items_raw"]``)."""
    suffix: str
    """Name after the configurable prefix, e.g. ``items.raw.v1``."""
    key_field: str
    """What the Kafka key holds."""
    value: type[BaseModel] | None
    """Value model; None for dead letters, which keep the original bytes."""
    partitioned: bool = True
    """Partitioned topics take ``topic_partitions``; the others have one partition."""
    compacted: bool = False
    description: str = ""
    fixed_partitions: int | None = None
    """A partition count that does not follow ``topic_partitions``."""

    @property
    def cleanup_policy(self) -> Literal["compact", "delete"]:
        return "compact" if self.compacted else "delete"

    def name(self, prefix: str = "watchfloor.") -> str:
        return f"{prefix}{self.suffix}"

    def partitions(self, default: int) -> int:
        if self.fixed_partitions is not None:
            return self.fixed_partitions
        return default if self.partitioned else 1


_SPECS = [
    TopicSpec("sources", "sources.v1", "source id", Source, partitioned=False, compacted=True,
              description="Configured sources; compacted, a tombstone removes one."),
    TopicSpec("items_raw", "items.raw.v1", "item_id", Item,
              description="Normalised items from the connectors."),
    TopicSpec("items_classified", "items.classified.v1", "item_id", ClassifiedItem,
              description="Items with themes, entities, trigger hits and the rules version."),
    TopicSpec("alerts", "alerts.v1", "alert_id", Alert,
              description="Explained alerts, one per alert_id."),
    # One partition: a GlobalTable over it must not loop in recovery (faust #283).
    TopicSpec("rules", "rules.v1", "pack name", RulePack, partitioned=False, compacted=True,
              description="Rule packs, hot-reloaded by every worker."),
    TopicSpec("source_state", "source-state.v1", "source id", SourceState, compacted=True,
              description="Per-source cursor and health."),
    # Internal: every worker reads it whole (see streams/alerts/ledger.py); one partition keeps that cheap.
    TopicSpec("alert_ledger", "alert-ledger.v1", "a:<alert_id> or c:<trigger>|<entity>", None,
              partitioned=False, compacted=True,
              description="Internal: alerts raised and cooldown windows, shared by every worker."),
    TopicSpec("items_stories", "items.stories.v1", "story_id", ClassifiedItem,
              description="Classified items with their near-duplicate story_id, keyed by it (docs/stories.md)."),
    # Internal: every worker reads it whole and applies it in one order (streams/stories/replica.py).
    TopicSpec("story_index", "story-index.v2", "<item_id>@<stamp>", None, partitioned=False, compacted=True,
              description="Internal: items' band buckets and the story each joins or claims, in log order."),
    # Internal: every worker reads it whole, like the alert ledger; one partition keeps that cheap.
    TopicSpec("story_book", "story-book.v1", "story_id", StoryEntry, partitioned=False, compacted=True,
              description="Internal: the sources carrying each story."),
    TopicSpec("mentions", "mentions.v1", "theme|entity", MentionEvent,
              description="Theme × entity mentions of alerting-relevant items, counted by the surge detector."),
    # One partition: every desk process reads it whole, and an alert's actions stay in order.
    TopicSpec("desk_actions", "desk-actions.v1", "action_id", DeskAction, partitioned=False, compacted=True,
              description="What people did on the desks (ack, assign, snooze, resolve, notes), shared by every desk."),
    # Never written: `watchfloor connect` processes join one consumer group on it, and the partitions
    # each is assigned say which sources it polls (connectors/members.py).
    TopicSpec("connect_slots", "connect-slots.v1", "(none)", None, fixed_partitions=60,
              description="Internal: never written; its partitions share the sources among connector processes."),
    TopicSpec("deadletter", "deadletter.v1", "original key", None,
              description="Messages that could not be processed; reason, stage and origin in headers."),
]

TOPICS: dict[str, TopicSpec] = {spec.key: spec for spec in _SPECS}
