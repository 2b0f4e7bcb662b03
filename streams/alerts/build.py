"""Turning a classified item into explained alerts: plain functions, no broker.

``alert_id`` is a hash of the trigger and the item (or story), so the same alert is recognised
wherever it shows up again. The explanation an alert carries: the trigger's description, themes with
their scores and matched terms, entities with their mentions, every matched span with offsets into
the analysed document, and a snippet around the first of them.
"""

from __future__ import annotations

from datetime import datetime

from core.ids import stable_hash
from schemas import Alert, ClassifiedItem, EntityHit, Match, TriggerHit
from schemas.item import document_of
from streams.rules.built import ModelBuilder

SNIPPET_CONTEXT_CHARS = 90


def alert_id_for(trigger_id: str, subject_id: str) -> str:
    """Deterministic alert id for a trigger firing on an item or a story."""
    return f"alert-{stable_hash(trigger_id, subject_id)}"


def all_matches(classified: ClassifiedItem, trigger: TriggerHit) -> list[Match]:
    """Every matched span that explains the alert, once each, in document order."""
    spans: dict[tuple[int, int], Match] = {}
    for theme in classified.themes:
        for m in theme.matches:
            spans.setdefault((m.start, m.end), m)
    for entity in classified.entities:
        for m in entity.mentions:
            spans.setdefault((m.start, m.end), m)
    for m in trigger.keywords:
        spans.setdefault((m.start, m.end), m)
    return [spans[k] for k in sorted(spans)]


def snippet_around(document: str, matches: list[Match], context: int = SNIPPET_CONTEXT_CHARS) -> tuple[str, int]:
    """(snippet, offset of its first character): the first matches with some words either side."""
    if not matches:
        return document[: 2 * context].strip(), 0
    start = max(0, matches[0].start - context)
    end = min(len(document), max(m.end for m in matches if m.start < matches[0].start + context) + context)
    # Widen to word boundaries so the snippet does not start or end mid-word.
    while start > 0 and not document[start - 1].isspace():
        start -= 1
    while end < len(document) and not document[end].isspace():
        end += 1
    return document[start:end], start


def headline(text: str, limit: int = 140) -> str:
    """A display title for an item without one (a Telegram post): its first line, cut at a word."""
    line = next((ln.strip() for ln in text.split("\n") if ln.strip()), "")
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0] or line[: limit - 1]
    return cut.rstrip() + "…"


def primary_entity(entities: list[EntityHit]) -> EntityHit | None:
    """The entity an alert is about: most mentions, then earliest mention."""
    if not entities:
        return None
    return max(entities, key=lambda e: (len(e.mentions), -min((m.start for m in e.mentions), default=0)))


_ALERT = ModelBuilder(Alert)


def build_alert(classified: ClassifiedItem, trigger: TriggerHit, now: datetime, *, folded_count: int = 0,
                alert_id: str | None = None, source_count: int = 1) -> Alert:
    item = classified.item
    matches = all_matches(classified, trigger)
    snippet, offset = snippet_around(document_of(classified.item.text, classified.item.title), matches)
    return _ALERT.build({
        "schema_version": 1,
        "alert_id": alert_id or alert_id_for(trigger.id, item.item_id),
        "kind": "item",
        "trigger_id": trigger.id,
        "severity": trigger.severity,
        "description": trigger.description,
        "themes": list(classified.themes),
        "entities": list(classified.entities),
        "matches": matches,
        "snippet": snippet,
        "snippet_offset": offset,
        "rules_version": classified.rules_version,
        "source_type": item.source_type,
        "source_id": item.source_id,
        "item_id": item.item_id,
        "url": item.url,
        "title": item.title or headline(item.text),
        "lang": item.lang,
        "published_at": item.published_at,
        "fetched_at": item.fetched_at,
        "classified_at": classified.classified_at,
        "alerted_at": now,
        "folded_count": folded_count,
        "story_id": classified.story_id,
        "source_count": source_count,
    })


def cooldown_subject(classified: ClassifiedItem) -> str:
    """What an item's alerts are about, for their cooldown: its primary entity, or "-"."""
    entity = primary_entity(classified.entities)
    return entity.id if entity else "-"


def cooldown_key(trigger_id: str, subject: str) -> str:
    """Alerts of one trigger about one entity (``cooldown_subject``) share a cooldown."""
    return f"{trigger_id}|{subject}"
