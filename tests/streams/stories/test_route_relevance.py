"""Only items with a theme or a trigger go through story grouping: the rest cannot alert or count
towards a surge, and most news matches nothing, so skipping them keeps the pipeline fast."""

from __future__ import annotations

from collections import namedtuple

from prometheus_client import CollectorRegistry

from schemas import ClassifiedItem, ThemeHit, utcnow
from streams.classify import RELEVANT_HEADER
from streams.story_stage import StoryRouteStage
from tests.streams.conftest import make_item
from watchfloor.metrics import WorkerMetrics
from watchfloor.settings import Settings

Record = namedtuple("Record", "topic partition offset key value headers")


def route_stage() -> StoryRouteStage:
    return StoryRouteStage(Settings(), probes_topic="probes", stories_topic="stories", mentions_topic=None,
                           source_topic="classified", group_id="g", producer=None, deadletter_topic="dl",
                           metrics=WorkerMetrics(CollectorRegistry()))


def record(classified: ClassifiedItem, relevant: bytes | None) -> Record:
    headers = ((RELEVANT_HEADER, relevant),) if relevant is not None else ()
    return Record("classified", 0, 0, classified.item.item_id.encode(), classified.to_bytes(), headers)


def classified(n: int, themes: list[ThemeHit]) -> ClassifiedItem:
    text = f"The council voted to repair tram line number {n} near the old market square."
    return ClassifiedItem(item=make_item(n, text), themes=themes, rules_version="v", classified_at=utcnow())


def test_items_without_theme_or_trigger_are_skipped_and_the_others_are_probed():
    stage = route_stage()
    plain = classified(1, [])
    themed = classified(2, [ThemeHit(theme="sanctions", score=1.0)])
    out = stage.process([record(plain, b"0"), record(themed, b"1"), record(plain, None)])
    assert out, "the themed item must be routed"
    assert {o.topic for o in out} == {"probes"}
    assert all(b"rss:feed-a:1" not in (o.value or b"") for o in out)
    assert any(b"rss:feed-a:2" in (o.value or b"") for o in out)
