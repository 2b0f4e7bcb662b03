"""Only items with a theme or a trigger go through story grouping: the rest cannot alert or count
towards a surge, and most news matches nothing, so skipping them keeps the pipeline fast. The
router runs chained in the classify stage, on the classified record it just wrote."""

from __future__ import annotations

import json
from collections import namedtuple

from prometheus_client import CollectorRegistry

from core.metrics import WorkerMetrics
from core.settings import Settings
from schemas import ClassifiedItem
from streams.classify import ClassifyStage
from streams.rules import compile_pack
from streams.rules.runtime import RulesHolder
from streams.stories.stages import StoryRouter
from tests.streams.conftest import TEST_PACK, RulePack, make_item

Record = namedtuple("Record", "topic partition offset key value headers")


def classify_stage(partitions: int = 4) -> ClassifyStage:
    router = StoryRouter(probes_topic="probes", stories_topic="stories", partitions=partitions)
    return ClassifyStage(Settings(), rules=RulesHolder(compile_pack(RulePack.model_validate(TEST_PACK))),
                         classified_topic="classified", steps=(router,), source_topic="raw", group_id="g",
                         producer=None, deadletter_topic="dl", metrics=WorkerMetrics(CollectorRegistry()))


def raw(n: int, text: str) -> Record:
    item = make_item(n, text)
    return Record("raw", 0, n, item.item_id.encode(), item.to_bytes(), ())


PLAIN = "The council voted to repair tram line number {n} near the old market square on Monday."
THEMED = "The EU agreed a new sanctions package against the shipping firms on Monday, officials said {n}."


def test_items_without_theme_or_trigger_are_classified_but_not_probed():
    out = classify_stage().process([raw(1, PLAIN.format(n=1)), raw(2, THEMED.format(n=2)), raw(3, PLAIN.format(n=3))])
    classified = [o for o in out if o.topic == "classified"]
    assert [o.key for o in classified] == [b"rss:feed-a:1", b"rss:feed-a:2", b"rss:feed-a:3"]
    probes = [json.loads(o.value) for o in out if o.topic == "probes"]
    assert probes and {p["item_id"] for p in probes} == {"rss:feed-a:2"}
    assert {o.topic for o in out} == {"classified", "probes"}


def test_exactly_one_probe_carries_the_classified_record_as_written():
    out = classify_stage().process([raw(2, THEMED.format(n=2))])
    record = next(o.value for o in out if o.topic == "classified")
    probes = [json.loads(o.value) for o in out if o.topic == "probes"]
    carriers = [p for p in probes if p["payload"] is not None]
    assert len(carriers) == 1 and carriers[0]["payload"].encode() == record
    assert all(p["probes"] == len(probes) for p in probes)
    buckets = [b for p in probes for b in p["buckets"]]
    assert sorted(b.split(":")[0] for b in buckets) == sorted(f"b{n}" for n in range(20))  # every band once


def test_a_short_text_is_its_own_story_at_once_with_the_story_id_spliced_in():
    out = classify_stage().process([raw(4, "EU sanctions package.")])
    stories = [o for o in out if o.topic == "stories"]
    assert len(stories) == 1 and not [o for o in out if o.topic == "probes"]
    storied = ClassifiedItem.model_validate_json(stories[0].value)
    assert storied.story_id and stories[0].key == storied.story_id.encode()
    assert storied.model_copy(update={"story_id": None}).to_bytes() == \
        next(o.value for o in out if o.topic == "classified")
