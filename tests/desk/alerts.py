"""Builders for desk tests: alerts as the alert stage writes them, and producing them to the topic."""

from __future__ import annotations

import itertools
from datetime import timedelta

from core.kafka import ce_type_for, cloudevent_headers, make_producer
from core.settings import Settings
from schemas import Alert
from schemas.base import utcnow
from schemas.classified import EntityHit, Match, ThemeHit

_counter = itertools.count(1)


def make_alert(**overrides) -> Alert:
    """A realistic alert: the title+text document, a snippet cut from it, matches with offsets."""
    n = next(_counter)
    title = overrides.pop("title", f"Ministry announces new sanctions package {n}")
    text = overrides.pop("text", "Officials in Kyiv said the sanctions target energy exports from Moscow.")
    doc = f"{title}\n{text}"
    snippet_offset = len(title) + 1
    snippet = text
    matches = [Match(text=term, start=doc.index(term), end=doc.index(term) + len(term), term=term.lower())
               for term in ("sanctions", "Kyiv", "Moscow") if term in text]
    now = utcnow() + timedelta(milliseconds=n)
    fields = dict(
        alert_id=f"alert-{n:06d}-{now.timestamp():.0f}",
        trigger_id="sanctions-energy",
        severity="high",
        description="New sanctions touching energy exports",
        themes=[ThemeHit(theme="sanctions", score=3.5, matches=[m for m in matches if m.term == "sanctions"])],
        entities=[EntityHit(id="place:kyiv", name="Kyiv", type="place", mentions=[m for m in matches if m.text == "Kyiv"]),
                  EntityHit(id="place:moscow", name="Moscow", type="place",
                            mentions=[m for m in matches if m.text == "Moscow"])],
        matches=matches,
        snippet=snippet,
        snippet_offset=snippet_offset,
        rules_version="rules-3f2a9c",
        source_type="rss",
        source_id="wire-one",
        item_id=f"rss:wire-one:{n}",
        url=f"https://news.example.org/story/{n}",
        title=title,
        published_at=now - timedelta(minutes=3),
        fetched_at=now - timedelta(minutes=1),
        classified_at=now,
        alerted_at=now,
    )
    fields.update(overrides)
    return Alert(**fields)


async def produce_alerts(settings: Settings, topic: str, alerts: list[Alert], raw: list[bytes] = ()) -> None:
    """Produce alerts (and optional raw, possibly invalid, values) the way the alert stage does."""
    # Not idempotent: the embedded broker refuses producer ids, and alert ids make replays harmless.
    producer = make_producer(settings, idempotent=False)
    await producer.start()
    try:
        sent = [await producer.send(topic, alert.to_bytes(), key=alert.alert_id.encode(),
                                    headers=cloudevent_headers(ce_type_for(alert), event_id=alert.alert_id))
                for alert in alerts]
        sent += [await producer.send(topic, value, key=b"raw") for value in raw]
        for future in sent:
            await future
    finally:
        await producer.stop()
