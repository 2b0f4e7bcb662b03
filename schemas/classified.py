"""``ClassifiedItem``: an item with the themes, entities and triggers the rule engine found in it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import EntityType, Message, Severity, UtcDatetime
from schemas.item import Item


class Match(Message):
    """One matched span. Offsets index ``item.title + "\\n" + item.text`` (or ``text`` alone when
    the title is empty), so ``doc[start:end] == text``."""

    text: str = Field(description="The matched text exactly as it appears in the original.")
    start: int = Field(ge=0, description="Start offset (characters) into the analysed document.")
    end: int = Field(ge=0, description="End offset (exclusive).")
    term: str | None = Field(None, description="The rule term that matched, as written in the rule pack.")


class ThemeHit(Message):
    theme: str = Field(description="Theme id, e.g. 'escalation'.")
    score: float = Field(description="Sum of the weights of the matched terms.")
    matches: list[Match] = Field(
        default_factory=list,
        description="The matched terms' words; when the learned model assigned the theme, also the words "
        "that counted most for it (term 'model').")
    model: float | None = Field(
        None, description="The rule pack's learned model's probability for the theme (absent when the "
        "pack has no model).")


class EntityHit(Message):
    id: str = Field(description="Canonical entity id from the gazetteer.")
    name: str = Field(description="Canonical display name.")
    type: EntityType
    mentions: list[Match] = Field(default_factory=list)


class TriggerHit(Message):
    id: str = Field(description="Trigger id.")
    severity: Severity
    description: str = Field("", description="What the trigger watches for, from the rule pack.")
    keywords: list[Match] = Field(default_factory=list, description="Keyword matches the trigger used.")


class ClassifiedItem(Message):
    """Written to ``watchfloor.items.classified.v1``, keyed by ``item.item_id``."""

    schema_version: Literal[1] = 1
    item: Item
    themes: list[ThemeHit] = Field(default_factory=list, description="Themes whose threshold was met.")
    entities: list[EntityHit] = Field(default_factory=list)
    triggers: list[TriggerHit] = Field(default_factory=list, description="Triggers that fired.")
    rules_version: str = Field(description="Content hash of the rule pack used.")
    classified_at: UtcDatetime
    story_id: str | None = Field(None, description="Near-duplicate story group, when grouping ran.")
