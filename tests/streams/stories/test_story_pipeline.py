"""Near-duplicate stories on the real broker: syndicated copies across RSS and Telegram become one
story with one alert and its source-count updates; unrelated texts sharing phrases stay apart."""

from __future__ import annotations

from streams.alerts.build import alert_id_for
from tests.streams.conftest import produce_items
from tests.streams.stories.conftest import alerts_until, copy_item, storied
from tests.streams.stories.corpus import APART_A, APART_B, WIRE, syndicated_copies

MILESTONES = [2, 3, 5, 10, 20]


async def test_twenty_syndicated_copies_raise_one_alert_then_one_update_per_source_milestone(
    settings, topics, run_pipeline
):
    pipeline = await run_pipeline(story_grouping=True)
    items = [copy_item(i, text, f"outlet-{i}") for i, text in enumerate(syndicated_copies(20))]
    await produce_items(settings, topics["items_raw"], items)

    by_item = await storied(settings, topics["items_stories"], 20)
    story_ids = {c.story_id for c in by_item.values()}
    assert len(story_ids) == 1, f"the copies split into {len(story_ids)} stories"
    story_id = story_ids.pop()

    alerts = await alerts_until(settings, topics["alerts"], lambda a: any(x.source_count == 20 for x in a))
    assert len({a.alert_id for a in alerts}) == len(alerts), "an alert id reached the topic twice"
    first = [a for a in alerts if a.kind == "item"]
    assert [a.alert_id for a in first] == [alert_id_for("nuclear-threat", story_id)]
    assert first[0].story_id == story_id and first[0].item_id in by_item
    updates = sorted((a for a in alerts if a.kind == "story"), key=lambda a: a.source_count)
    assert [u.source_count for u in updates] == MILESTONES
    assert all(u.story_id == story_id and u.trigger_id == "nuclear-threat" for u in updates)
    assert "now 20 sources; first seen at 2026-11-28 12:00 UTC on outlet-0" in updates[-1].description
    assert len(alerts) == 1 + len(MILESTONES)
    assert pipeline.stories.handoff.taken > 0, "the alert stage decoded every storied item this worker wrote"

    # What an operator reads on /metrics: each copy counted once, and the bounded states against their caps.
    def sample(name: str, **labels) -> float | None:
        return pipeline.registry.get_sample_value(name, labels)
    outcomes = {o: sample("watchfloor_stories_assigned_total", outcome=o) or 0 for o in ("opened", "joined", "raced")}
    assert outcomes["opened"] == 1 and outcomes["joined"] + outcomes["raced"] == 19, outcomes
    assert sample("watchfloor_story_claim_wait_seconds_count") >= 1
    held = {"story_index_buckets": len(pipeline.story_replica.buckets), "story_book_entries": 1,
            "alert_ledger_ids": len(pipeline.ledger.alerted)}
    assert held["story_index_buckets"] > 0 and held["alert_ledger_ids"] >= len(alerts)
    for state, entries in held.items():
        assert sample("watchfloor_state_entries", state=state) == entries, state
    assert sample("watchfloor_state_max_entries", state="story_index_buckets") == settings.story_index_max_buckets
    assert sample("watchfloor_state_max_entries", state="alert_ledger_ids") == settings.alert_ledger_max_ids


async def test_two_stories_sharing_stock_phrases_stay_apart_from_each_other_and_the_wire(
    settings, topics, run_pipeline
):
    await run_pipeline(story_grouping=True)
    items = [copy_item(0, WIRE, "wire"), copy_item(1, APART_A, "tass-tg"), copy_item(2, APART_B, "ria"),
             copy_item(4, syndicated_copies(5)[4], "outlet-4")]
    await produce_items(settings, topics["items_raw"], items)
    by_item = await storied(settings, topics["items_stories"], 4)
    stories = {i.item_id: by_item[i.item_id].story_id for i in items}
    assert stories[items[0].item_id] == stories[items[3].item_id], "a wire copy was not grouped"
    assert len({stories[i.item_id] for i in items[:3]}) == 3, f"unrelated texts were grouped: {stories}"


async def test_a_restarted_worker_rebuilds_the_index_and_book_so_later_copies_join_the_story(
    settings, topics, run_pipeline
):
    copies = [copy_item(i, text, f"outlet-{i}") for i, text in enumerate(syndicated_copies(5))]
    first = await run_pipeline(story_grouping=True)
    await produce_items(settings, topics["items_raw"], copies[:1])
    story_id = (await storied(settings, topics["items_stories"], 1))[copies[0].item_id].story_id
    await first.stop()

    await run_pipeline(story_grouping=True)  # a new worker: nothing in memory, everything from topics
    await produce_items(settings, topics["items_raw"], copies[1:])
    by_item = await storied(settings, topics["items_stories"], 5)
    assert {c.story_id for c in by_item.values()} == {story_id}
    alerts = await alerts_until(settings, topics["alerts"], lambda a: any(x.source_count == 5 for x in a))
    assert sorted((a.kind, a.source_count) for a in alerts) == [("item", 1), ("story", 2), ("story", 3), ("story", 5)]
