"""``Alert``: what a monitoring desk sees, with everything needed to say why it fired."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import Message, Severity, SourceType, UtcDatetime
from schemas.classified import EntityHit, Match, ThemeHit


class Alert(Message):
    """Written to ``watchfloor.alerts.v1``, keyed by ``alert_id``.

    ``alert_id`` is deterministic (trigger + item, or trigger + story), so a replayed alert is
    recognised by every sink and shown once.
    """

    schema_version: Literal[1] = 1
    alert_id: str = Field(description="Deterministic id: derived from the trigger and the item or story.")
    kind: Literal["item", "story", "surge"] = Field("item", description="What the alert is about.")
    trigger_id: str
    severity: Severity
    description: str = Field("", description="The trigger's description from the rule pack.")
    themes: list[ThemeHit] = Field(default_factory=list)
    entities: list[EntityHit] = Field(default_factory=list)
    matches: list[Match] = Field(default_factory=list, description="Every matched term with offsets.")
    snippet: str = Field("", description="Plain text around the first matches.")
    snippet_offset: int = Field(0, description="Offset of the snippet's first character in the document.")
    rules_version: str
    source_type: SourceType
    source_id: str
    item_id: str
    url: str | None = None
    title: str = ""
    lang: str | None = None
    published_at: UtcDatetime
    fetched_at: UtcDatetime
    classified_at: UtcDatetime
    alerted_at: UtcDatetime
    folded_count: int = Field(
        0, ge=0, description="Alerts of the same trigger and entity folded into this one by the cooldown."
    )
    story_id: str | None = None
    source_count: int = Field(1, ge=1, description="Distinct sources carrying the story so far.")
