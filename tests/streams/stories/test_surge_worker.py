"""Stories and surges in real ``watchfloor worker`` processes (the Faust app hosts the surge agent;
the story stages run in the pipeline service), with one worker and with two sharing the partitions."""

from __future__ import annotations

from core.kafka import worker_group
from schemas import Alert
from streams.alerts.build import alert_id_for
from tests.conftest import consume_until, read_to_end, wait_until
from tests.streams.conftest import produce, produce_items, write_pack
from tests.streams.stories.conftest import (
    alerts_until,
    copy_item,
    faust_group,
    start_worker,
    stop_workers,
    storied,
    stories_pack,
    wait_committed,
)
from tests.streams.stories.corpus import syndicated_copies
from tests.streams.stories.surge_corpus import burst, one_source, steady


async def run_workers(settings, topics, tmp_path, count: int, items: list, first: list = (),
                      noise: list = ()) -> list[Alert]:
    """Start ``count`` workers, feed ``first`` (and wait until it is storied), then ``items``; wait
    until every mention was counted; return every alert."""
    rules = tmp_path / "stories-rules.yaml"
    write_pack(rules, stories_pack())
    workers = [start_worker(settings, rules, tmp_path / f"worker{i}.log") for i in range(count)]
    try:
        if first:
            await produce_items(settings, topics["items_raw"], list(first))
            await consume_until(settings, topics["items_stories"], lambda rs: len(rs) >= len(first), timeout_secs=90)
        if noise:  # malformed records on the mentions topic, read by the surge agent before the items
            await produce(settings, topics["mentions"], list(noise))
        await produce_items(settings, topics["items_raw"], items)
        items = [*first, *items]
        await consume_until(settings, topics["items_stories"], lambda rs: len(rs) >= len(items), timeout_secs=90)
        # The alert stage writes the mentions before it commits items.stories; then the agent counts them.
        await wait_committed(settings, worker_group(settings, "alert"), topics["items_stories"])
        await wait_committed(settings, faust_group(settings), topics["mentions"], timeout_secs=60)
        assert all(w.poll() is None for w in workers), "a worker exited"
        return [Alert.model_validate_json(r.value) for r in await read_to_end(settings, topics["alerts"])]
    finally:
        stop_workers(workers)


def assert_one_surge_for_the_burst_only(alerts: list[Alert]) -> None:
    surges = [a for a in alerts if a.kind == "surge"]
    assert len(surges) == 1, [a.description for a in surges]
    surge = surges[0]
    assert surge.trigger_id == "surge:escalation" and [e.id for e in surge.entities] == ["person:medvedev"]
    assert surge.source_count >= 3 and "stories mentioning escalation × Dmitry Medvedev" in surge.description
    assert surge.snippet.startswith("Items: ") and surge.snippet.count("(outlet-") >= 5


async def test_one_worker_raises_one_surge_for_a_burst_and_none_for_a_steady_stream_or_a_lone_source(
    settings, topics, tmp_path
):
    noise = [(b"escalation|person:medvedev", b"{not json"), (b"k", b"\xff\xfe\x00"), (None, b"{}"),
             (b"k", None), (b"k", b"[1, 2, 3]"), (b"k", b"x" * 200_000)]
    alerts = await run_workers(settings, topics, tmp_path, 1, steady() + one_source() + burst(), noise=noise)
    assert_one_surge_for_the_burst_only(alerts)


async def test_two_workers_group_syndicated_copies_into_one_story_and_raise_one_surge(settings, topics, tmp_path):
    copies = [copy_item(3000 + i, text, f"syndicate-{i}") for i, text in enumerate(syndicated_copies(20))]
    # The wire story's first copy is indexed before the other 19 arrive, spread over both workers.
    alerts = await run_workers(settings, topics, tmp_path, 2, copies[1:] + steady() + one_source() + burst(),
                               first=copies[:1])
    ids = [a.alert_id for a in alerts]
    assert len(ids) == len(set(ids)), "an alert id reached the topic twice"
    assert_one_surge_for_the_burst_only(alerts)
    copy_ids = {c.item_id for c in copies}
    stories = {a.story_id for a in alerts if a.item_id in copy_ids}
    assert len(stories) == 1, f"the copies split into {len(stories)} stories"
    story_id = stories.pop()
    assert alert_id_for("nuclear-threat", story_id) in ids
    updates = sorted(a.source_count for a in alerts if a.kind == "story" and a.story_id == story_id)
    assert updates == [2, 3, 5, 10, 20]


async def test_two_workers_given_near_copies_in_the_same_instant_open_one_story_and_raise_one_alert(
    settings, topics, tmp_path
):
    rules = tmp_path / "stories-rules.yaml"
    write_pack(rules, stories_pack())
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    workers = [start_worker(settings, rules, path) for path in logs]
    try:
        # Both workers own half the raw partitions before any copy exists: neither has seen the story.
        split = f"assigned {settings.topic_partitions // 2} partitions of {topics['items_raw']}"
        await wait_until(lambda: all(path.exists() and split in path.read_text() for path in logs),
                         timeout_secs=90, what="both workers to share the partitions")
        copies = [copy_item(4000 + i, text, f"wire-{i}") for i, text in enumerate(syndicated_copies(12))]
        await produce_items(settings, topics["items_raw"], copies)
        by_item = await storied(settings, topics["items_stories"], len(copies), timeout_secs=90)
        assert {c.item_id for c in copies} <= set(by_item)
        classify_logs = [path.read_text() for path in logs]
        stories = {by_item[c.item_id].story_id for c in copies}
        assert len(stories) == 1, f"near-copies split into {len(stories)} stories"
        alerts = await alerts_until(settings, topics["alerts"], lambda a: any(x.source_count == 10 for x in a),
                                    timeout_secs=60)  # the milestone the 12 sources pass last
        first = [a for a in alerts if a.kind == "item"]
        assert [a.alert_id for a in first] == [alert_id_for("nuclear-threat", stories.pop())], "one story, one alert"
        assert all("Story claims" not in text for text in classify_logs)
        assert all(w.poll() is None for w in workers), "a worker exited"
    finally:
        stop_workers(workers)
