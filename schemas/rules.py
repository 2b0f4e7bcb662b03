"""``RulePack``: themes, entities and triggers, as published on the compacted ``watchfloor.rules.v1``.

The rule engine (``streams/rules``) refines the term syntax; this document is the contract.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import ConfigDocument, EntityType, Severity


class ConceptDef(ConfigDocument):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Name a term uses as '@id'.")
    description: str = ""
    phrases: list[str] = Field(
        min_length=1,
        description="Phrases any of which stands for the concept where a term writes '@id' "
        "('\"@sanction_word\" NEAR/6 \"@sanctioner\"'); matched like term phrases, lemmas included. A phrase that "
        "is only '@id' includes that concept's phrases (vote_word includes '@vote_generic').",
    )
    model_feature: bool = Field(
        True,
        description="Whether the learned model reads a hit of this concept as a feature (the default). "
        "False for a concept written only to narrow an exclusion, such as a part of a concept the model "
        "reads already: a near-copy of a feature only moves the model's weights about.",
    )


class ThemeRule(ConfigDocument):
    id: str = Field(description="Theme id, e.g. 'escalation'.")
    description: str = ""
    threshold: float = Field(1.0, description="Minimum summed weight for the theme to be assigned.")
    terms: dict[str, float] = Field(
        default_factory=dict,
        description="Term expression to weight: phrases, prefix wildcards ('референдум*'), "
        "proximity ('\"nuclear\" NEAR/5 \"use\"'), exclusion ('sanction* NOT \"league\"'). A term counts "
        "once however often it matches; negative weights lower the score.",
    )
    exclude: list[str] = Field(
        default_factory=list,
        description="Context expressions (phrases, prefixes, NEAR) whose matches veto the theme's term "
        "matches they overlap: 'nuclear fusion' keeps the 'nuclear' in it from counting.",
    )
    caution: list[str] = Field(
        default_factory=list,
        description="Context expressions of look-alikes the terms need not meet (tariffs, a budget's oil "
        "revenue): they veto no term, but wherever one matches in a document the learned model needs "
        "the theme's caution bar (``ModelTheme.caution``) to assign the theme alone.",
    )
    silence: list[str] = Field(
        default_factory=list,
        description="Context expressions of stances that say the opposite of the theme in its own words (an "
        "attack plan called nonsense): wherever one matches, the learned model cannot assign the theme alone, "
        "at any probability; the terms still can.",
    )


class EntityDef(ConfigDocument):
    id: str = Field(description="Canonical entity id.")
    name: str = Field(description="Canonical display name.")
    type: EntityType
    variants: list[str] = Field(
        default_factory=list,
        description="Spellings across scripts, transliterations and inflected forms; '*' for a prefix; "
        "'=US' for a spelling that must match letter case exactly (not the pronoun 'us').",
    )
    tags: list[str] = Field(
        default_factory=list,
        description="Groups a trigger can name with entity_tag:TAG, e.g. 'official', 'occupied_region'.",
    )
    hides: list[str] = Field(
        default_factory=list,
        description="Ids of entities whose spellings, found inside a longer mention of this entity, are part of "
        "its name and no mention of their own: 'un' inside 'Kim Jong Un', 'belgorod' inside "
        "'Bilhorod-Dnistrovskyi'.",
    )


class TriggerRule(ConfigDocument):
    id: str
    severity: Severity
    description: str = ""
    when: str = Field(
        description="Boolean expression over theme:X, entity:Y, entity_type:Z, entity_tag:T and "
        "keyword \"...\" with AND, OR, NOT and parentheses."
    )


# The model's bar for a theme where an exclusion vetoed one of its terms, when training chose none higher
# (``ModelTheme.vetoed``; streams.rules.model says why 0.80).
VETOED_THRESHOLD = 0.80


class ModelTheme(ConfigDocument):
    bias: float = Field(description="Intercept of the theme's logistic model.")
    threshold: float = Field(
        0.5, gt=0.0, lt=1.0,
        description="Probability at or above which the model assigns the theme when the terms do not.")
    with_terms: float | None = Field(
        None, gt=0.0, lt=1.0,
        description="A lower probability that is enough when the theme's terms found part of it (at least half "
                    "the theme's threshold, none vetoed by an exclusion, and no caution context matched); None: the "
                    "model needs ``threshold``.")
    vetoed: float | None = Field(
        None, ge=VETOED_THRESHOLD, lt=1.0,
        description="The probability the model needs where an exclusion of the pack vetoed one of the theme's terms in "
                    "the document (at least 0.80, and never below ``threshold``); None: 0.80.")
    caution: float | None = Field(
        None, ge=VETOED_THRESHOLD, lt=1.0,
        description="The probability the model needs where one of the theme's caution contexts matched (at least "
                    "0.80, and never below ``threshold``; where an exclusion also vetoed a term, the higher of this "
                    "and ``vetoed``); None: 0.80.")
    weights: str = Field(
        description="Base64 of 2**bits little-endian float16 weights, one per feature bucket.")


class TextModel(ConfigDocument):
    """A linear model per theme over hashed lemma features: a second opinion beside the terms, for
    passages that say a theme without its vocabulary. Written by ``watchfloor rules train``."""

    features: Literal["lemma-ngrams-v1", "lemma-ngrams-concepts-v2"] = Field(
        "lemma-ngrams-v1",
        description="Feature set. v1: each lemma, its character 4- and 5-grams, and adjacent lemma pairs, "
        "hashed (CRC-32; a pair mixes its words' hashes) into 2**bits buckets; a document's features are present or absent, scaled by "
        "1/sqrt(max(number present, min_buckets)). v2: v1 plus one bucket per concept of the pack the "
        "document hit, hashed by its name ('@threat_verb').")
    bits: int = Field(15, ge=8, le=16, description="2**bits buckets; 2 bytes each per modelled theme.")
    min_buckets: int = Field(
        200, ge=1, description="A document with fewer buckets present is scaled as if it had this many, "
        "so that the few words of a headline cannot carry a theme on their own.")
    trained_on: str = Field("", description="What the model was trained on (sets, counts), for the record.")
    themes: dict[str, ModelTheme] = Field(default_factory=dict)


class RulePack(ConfigDocument):
    schema_version: Literal[1] = 1
    name: str = "default"
    version: str = Field("", description="Content hash; filled in when the pack is compiled.")
    concepts: list[ConceptDef] = Field(
        default_factory=list, description="Named groups of phrases that terms refer to as '@id'.")
    themes: list[ThemeRule] = Field(default_factory=list)
    entities: list[EntityDef] = Field(default_factory=list)
    triggers: list[TriggerRule] = Field(default_factory=list)
    model: TextModel | None = Field(
        None, description="Optional learned model; a theme is assigned when its terms reach the "
        "threshold or the model's probability reaches its own.")
