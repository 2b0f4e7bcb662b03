"""The alert feed against the real embedded broker, seen through the desk's HTTP API: stored once
by alert_id, bad records skipped with a metric, SSE resumption by Last-Event-ID, restart safety."""

from __future__ import annotations

import asyncio

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from desk.service import Desk
from tests.conftest import wait_until
from tests.desk.alerts import make_alert, produce_alerts
from tests.desk.sse import read_events


def _web(settings):
    return settings.model_copy(update={"web_port": 0})


async def _ids(session, url: str) -> list[str]:
    async with session.get(f"{url}/api/alerts") as response:
        assert response.status == 200
        return [rec["alert"]["alert_id"] for rec in (await response.json())["alerts"]]


def _metric(text: str, name: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return sample.value
    raise AssertionError(f"{name} not exported")


async def test_alerts_from_the_topic_are_stored_once_and_bad_records_are_skipped_with_a_metric(settings, topics):
    good = [make_alert() for _ in range(3)]
    await produce_alerts(settings, topics["alerts"], good[:2],
                         raw=[b"not json", b'{"alert_id": "alert-broken"}', good[0].to_bytes()])
    await produce_alerts(settings, topics["alerts"], good[2:])
    async with Desk(_web(settings), targets=[]) as desk, aiohttp.ClientSession() as session:
        await wait_until(lambda: _count(session, desk.url, 3), 30, "3 alerts")
        replay_then_sentinel = [good[1], make_alert(title="sentinel after the replay")]
        await produce_alerts(settings, topics["alerts"], replay_then_sentinel)
        await wait_until(lambda: _count(session, desk.url, 4), 30, "the sentinel alert")
        ids = await _ids(session, desk.url)
        async with session.get(f"{desk.url}/metrics") as response:
            metrics = await response.text()
    assert sorted(ids) == sorted([a.alert_id for a in good] + [replay_then_sentinel[1].alert_id])
    assert _metric(metrics, "watchfloor_desk_alerts_invalid_total") == 2
    assert _metric(metrics, "watchfloor_desk_alerts_stored_total") == 4


async def _count(session, url: str, n: int) -> bool:
    return len(await _ids(session, url)) >= n


async def test_sse_delivers_new_alerts_live_and_resumes_after_last_event_id_without_duplicates(settings, topics):
    async with Desk(_web(settings), targets=[]) as desk, aiohttp.ClientSession() as session:
        first = [make_alert() for _ in range(3)]
        await produce_alerts(settings, topics["alerts"], first)
        events = await read_events(session, f"{desk.url}/events?after=0", 3)
        assert [e["event"] for e in events] == ["alert"] * 3
        assert sorted(e["data"]["alert"]["alert_id"] for e in events) == sorted(a.alert_id for a in first)
        assert [int(e["id"]) for e in events] == sorted(int(e["id"]) for e in events)
        # The browser reconnects with the id of the last event it saw: only later alerts come.
        second = make_alert()
        await produce_alerts(settings, topics["alerts"], [second])
        resumed = await read_events(session, f"{desk.url}/events?after=0", 1, last_event_id=events[-1]["id"])
        assert [e["data"]["alert"]["alert_id"] for e in resumed] == [second.alert_id]


async def test_acknowledgement_is_stored_and_pushed_to_live_clients(settings, topics):
    alert = make_alert()
    await produce_alerts(settings, topics["alerts"], [alert])
    async with Desk(_web(settings), targets=[]) as desk, aiohttp.ClientSession() as session:
        await wait_until(lambda: _count(session, desk.url, 1), 30, "the alert")
        async with session.get(f"{desk.url}/api/alerts") as response:
            last_seq = (await response.json())["last_seq"]
        listening = asyncio.ensure_future(read_events(session, f"{desk.url}/events?after={last_seq}", 1))
        await wait_until(lambda: len(desk.state.hub) == 1, 10, "the SSE client")
        async with session.post(f"{desk.url}/api/alerts/{alert.alert_id}/ack", json={"by": "night desk"}) as response:
            assert response.status == 200
        [event] = await listening
        async with session.post(f"{desk.url}/api/alerts/alert-unknown/ack", json={}) as missing:
            assert missing.status == 404
        async with session.post(f"{desk.url}/api/alerts/{alert.alert_id}/ack", json={"by": 5}) as bad:
            assert bad.status == 400
    assert event["event"] == "update" and "id" not in event
    assert event["data"]["acked_by"] == "night desk" and event["data"]["acked_at"]


async def test_restart_with_a_fresh_consumer_group_replays_the_topic_without_duplicates(settings, topics):
    alerts = [make_alert() for _ in range(4)]
    await produce_alerts(settings, topics["alerts"], alerts)
    async with Desk(_web(settings), targets=[], group_id="desk-a") as desk, aiohttp.ClientSession() as session:
        await wait_until(lambda: _count(session, desk.url, 4), 30, "4 alerts")
    # Same store, a new group: the whole topic arrives again and every alert_id is recognised.
    sentinel = make_alert()
    await produce_alerts(settings, topics["alerts"], [sentinel])
    async with Desk(_web(settings), targets=[], group_id="desk-b") as desk, aiohttp.ClientSession() as session:
        await wait_until(lambda: _count(session, desk.url, 5), 30, "the sentinel")
        ids = await _ids(session, desk.url)
        async with session.get(f"{desk.url}/metrics") as response:
            stored = _metric(await response.text(), "watchfloor_desk_alerts_stored_total")
    assert sorted(ids) == sorted(a.alert_id for a in [*alerts, sentinel])
    assert stored == 1


async def test_api_rejects_bad_filters_with_a_line_naming_the_parameter(settings):
    async with Desk(_web(settings), targets=[], consume=False) as desk, aiohttp.ClientSession() as session:
        async with session.get(f"{desk.url}/api/alerts?severity=urgent") as response:
            assert response.status == 400
            assert (await response.text()).startswith("severity: must be one of")
        async with session.get(f"{desk.url}/api/alerts?limit=0") as response:
            assert response.status == 400 and "limit" in await response.text()
