"""``RulePack``: themes, entities and triggers, as published on the compacted ``watchfloor.rules.v1``.

The rule engine (``streams/rules``) refines the term syntax; this document is the contract.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import ConfigDocument, EntityType, Severity


class ThemeRule(ConfigDocument):
    id: str = Field(description="Theme id, e.g. 'escalation'.")
    description: str = ""
    threshold: float = Field(1.0, description="Minimum summed weight for the theme to be assigned.")
    terms: dict[str, float] = Field(
        default_factory=dict,
        description="Term expression to weight: phrases, prefix wildcards ('референдум*'), "
        "proximity ('\"nuclear\" NEAR/5 \"use\"').",
    )
    exclude: list[str] = Field(
        default_factory=list, description="Context expressions that veto the theme when present."
    )


class EntityDef(ConfigDocument):
    id: str = Field(description="Canonical entity id.")
    name: str = Field(description="Canonical display name.")
    type: EntityType
    variants: list[str] = Field(
        default_factory=list,
        description="Spellings across scripts, transliterations and inflected forms; '*' for a prefix.",
    )


class TriggerRule(ConfigDocument):
    id: str
    severity: Severity
    description: str = ""
    when: str = Field(
        description="Boolean expression over theme:X, entity:Y, entity_type:Z and keyword \"...\" with "
        "AND, OR, NOT and parentheses."
    )


class RulePack(ConfigDocument):
    schema_version: Literal[1] = 1
    name: str = "default"
    version: str = Field("", description="Content hash; filled in when the pack is compiled.")
    themes: list[ThemeRule] = Field(default_factory=list)
    entities: list[EntityDef] = Field(default_factory=list)
    triggers: list[TriggerRule] = Field(default_factory=list)
