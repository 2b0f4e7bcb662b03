"""Fixtures for the stream pipeline: a small rule pack written here, and the pipeline service
running in the test's event loop against the session broker."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from core.kafka import start_producer
from schemas import Item, RulePack
from streams.pipeline import Pipeline

TEST_PACK = {
    "name": "pipeline-test",
    "themes": [
        {"id": "escalation", "threshold": 1.0,
         "terms": {"nuclear": 1.0, '"nuclear" NEAR/5 "weapon*"': 1.0, "ядерн*": 1.0}},
        {"id": "sanctions", "threshold": 1.0, "terms": {"sanctions package": 1.0, "санкци*": 1.0}},
    ],
    "entities": [
        {"id": "person:medvedev", "name": "Dmitry Medvedev", "type": "person",
         "variants": ["Medvedev", "Медведев*"]},
        {"id": "org:eu", "name": "European Union", "type": "organisation", "variants": ["EU", "European Union"]},
    ],
    "triggers": [
        {"id": "nuclear-threat", "severity": "critical", "description": "Nuclear threat by a named person",
         "when": "theme:escalation AND entity_type:person"},
        {"id": "new-sanctions", "severity": "warning", "description": "A new sanctions package",
         "when": "theme:sanctions AND entity:org:eu"},
    ],
}


def write_pack(path, pack: dict) -> None:
    path.write_text(yaml.safe_dump(pack, allow_unicode=True), encoding="utf-8")


def make_item(n: int, text: str, *, title: str = "", source: str = "feed-a", **extra) -> Item:
    published = datetime.now(timezone.utc) - timedelta(minutes=5)
    return Item(item_id=f"rss:{source}:{n}", source_type="rss", source_id=source, url=f"https://example.org/{n}",
                title=title, text=text, published_at=published, fetched_at=published + timedelta(minutes=1),
                **extra)


async def produce(settings, topic: str, values: list[tuple[bytes | None, bytes | None]]) -> None:
    producer = await start_producer(settings)
    try:
        for key, value in values:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


async def produce_items(settings, topic: str, items: list[Item]) -> None:
    await produce(settings, topic, [(i.item_id.encode(), i.to_bytes()) for i in items])


@pytest.fixture
def rules_file(tmp_path):
    path = tmp_path / "rules.yaml"
    write_pack(path, TEST_PACK)
    return path


@pytest.fixture
async def run_pipeline(settings, topics, rules_file):
    """``await run_pipeline(**setting_overrides)`` starts a Pipeline; all are stopped at the end."""
    running: list[Pipeline] = []

    async def start(**overrides) -> Pipeline:
        # Item-level alerting unless a test asks for stories (tests/streams/stories/).
        values = {"worker_metrics_port": -1, "rules_path": rules_file, "alert_cooldown_secs": 0,
                  "story_grouping": False, **overrides}
        pipeline = Pipeline(settings.model_copy(update=values), loop=asyncio.get_running_loop())
        await pipeline.start()
        running.append(pipeline)
        return pipeline

    yield start
    for pipeline in running:
        await pipeline.stop()


__all__ = ["RulePack", "TEST_PACK", "make_item", "produce", "produce_items", "write_pack"]
