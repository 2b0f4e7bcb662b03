"""Story grouping and surge detection: the story book entry, the mention events the surge detector
counts, and the surge thresholds.

The internal topics (``story-book``, ``mentions``) are read only by watchfloor workers; their
models still live here because pydantic models in ``schemas/`` are the only message contract (the
``story-index`` records are the story replica's own: ``streams/stories/replica.py``). See
``docs/stories.md``.
"""

from __future__ import annotations

from pydantic import Field

from schemas.base import ConfigDocument, EntityType, Message, SourceType, UtcDatetime


class StoryEntry(Message):
    """Story book entry (compacted ``story-book`` topic, key = story_id): who carries the story."""

    story_id: str
    first_seen_at: UtcDatetime
    first_source_id: str
    first_item_id: str
    sources: list[str] = Field(default_factory=list, description="Distinct source ids, in arrival order.")
    items: int = Field(1, ge=1, description="Items seen in the story (revisions not counted twice).")
    last_seen: float = Field(0.0, description="Unix time of the newest item; expiry runs on it.")


class MentionEvent(Message):
    """One theme × entity mention of one classified item (``mentions`` topic, key = theme|entity)."""

    theme: str
    entity_id: str
    entity_name: str
    entity_type: EntityType
    item_id: str
    source_id: str
    source_type: SourceType
    title: str = ""
    url: str | None = None
    rules_version: str = ""
    story_id: str | None = None
    at: float = Field(description="Event time (Unix seconds): the item's fetch time; windows use it.")


class SurgeThresholds(ConfigDocument):
    """When a theme × entity count is a surge. Every field has a default (docs/stories.md)."""

    min_count: int = Field(5, ge=1, description="Mentions in the window below which nothing is a surge.")
    min_sources: int = Field(3, ge=1, description="Distinct sources the window's mentions must come from.")
    ratio: float = Field(3.0, gt=1, description="Count over baseline that opens a surge.")
    clear_ratio: float = Field(1.5, ge=0, description="A surge ends once a window falls below this ratio.")
    baseline_floor: float = Field(1.0, gt=0, description="Baseline used when the history is quieter.")
    cooldown_secs: float = Field(3600.0, ge=0, description="No second surge alert for the key within this.")


class SurgeSettings(ConfigDocument):
    """Defaults for every theme, and per-theme overrides (whole ``SurgeThresholds`` documents)."""

    enabled: bool = True
    window_secs: float = Field(600.0, gt=0, description="Length of one counting window (one for all themes).")
    baseline_windows: int = Field(6, ge=1, description="Previous windows averaged into the baseline.")
    default: SurgeThresholds = Field(default_factory=SurgeThresholds)
    themes: dict[str, SurgeThresholds] = Field(default_factory=dict)

    def for_theme(self, theme: str) -> SurgeThresholds:
        return self.themes.get(theme, self.default)
