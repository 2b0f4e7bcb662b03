"""Several desk processes, one truth: actions taken on one desk reach the others through the
desk-actions topic on the real broker, a desk started later gets the whole history, and an action
taken while the broker cannot take it is sent once it can."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import aiohttp

from desk.service import Desk
from schemas.base import iso_utc, utcnow
from tests.conftest import read_to_end, wait_until
from tests.desk.alerts import make_alert, produce_alerts
from tests.desk.sse import read_events


def _desk(settings, tmp_path, name: str) -> Desk:
    return Desk(settings.model_copy(update={"web_port": 0, "desk_name": name, "data_dir": tmp_path / name}),
                targets=[])


async def _alert(session, desk: Desk, alert_id: str) -> dict | None:
    async with session.get(f"{desk.url}/api/alerts/{alert_id}") as response:
        return await response.json() if response.status == 200 else None


async def _act(session, desk: Desk, ids: list[str], **body) -> dict:
    async with session.post(f"{desk.url}/api/actions", json={"alert_ids": ids, **body}) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def test_actions_taken_on_one_desk_show_on_the_other_and_on_a_desk_started_later(settings, topics, tmp_path):
    story, other = make_alert(), make_alert()
    await produce_alerts(settings, topics["alerts"], [story, other])
    async with _desk(settings, tmp_path, "room-a") as a, _desk(settings, tmp_path, "room-b") as b, \
            aiohttp.ClientSession() as session:
        for desk in (a, b):  # each desk stores every alert: its own consumer group
            await wait_until(lambda d=desk: _alert(session, d, other.alert_id), 30, f"the alerts on {desk.url}")
        listening = asyncio.ensure_future(read_events(session, f"{b.url}/events", 1))
        await wait_until(lambda: len(b.state.hub) == 1, 10, "the page on desk B")

        started = time.monotonic()
        await _act(session, a, [story.alert_id], action="assign", by="anna", value="boris")
        [event] = await listening
        seen_after = time.monotonic() - started
        assert event["event"] == "update" and event["data"]["assignee"] == "boris"
        assert seen_after < 10, seen_after

        await _act(session, a, [story.alert_id], action="note", by="anna", value="Confirmed by the Kyiv office.")
        await _act(session, a, [story.alert_id], action="ack", by="anna")
        await wait_until(lambda: _has(session, b, story.alert_id, status="acknowledged", notes=1), 10,
                         "the note and acknowledgement on desk B")
        # And back the other way: B resolves, A sees it, with who did what in the trail on both.
        await _act(session, b, [story.alert_id], action="resolve", by="boris")
        await wait_until(lambda: _has(session, a, story.alert_id, status="resolved", resolved_by="boris"), 10,
                         "the resolution on desk A")
        trail_a = (await _alert(session, a, story.alert_id))["trail"]
        trail_b = (await _alert(session, b, story.alert_id))["trail"]
        assert [(x["action"], x["by"]) for x in trail_a] == [("assign", "anna"), ("note", "anna"), ("ack", "anna"),
                                                              ("resolve", "boris")]
        assert trail_a == trail_b
        assert {x["desk"].split("@")[0] for x in trail_a} == {"room-a", "room-b"}
        assert (await _alert(session, b, other.alert_id))["status"] == "open"  # only the alert acted on

    # A third desk with an empty store reads the actions topic from its beginning.
    async with _desk(settings, tmp_path, "room-c") as c, aiohttp.ClientSession() as session:
        await wait_until(lambda: _has(session, c, story.alert_id, status="resolved", assignee="boris", notes=1),
                         30, "the team's history on a new desk")
    records = await read_to_end(settings, topics["desk_actions"])
    assert len({r.key for r in records}) == 4  # every action once on the topic


async def _has(session, desk: Desk, alert_id: str, **expected) -> bool:
    found = await _alert(session, desk, alert_id)
    return found is not None and all(found.get(k) == v for k, v in expected.items())


async def test_bad_actions_are_refused_and_a_snoozed_alert_leaves_every_desks_active_view_until_its_time(
        settings, topics, tmp_path):
    alert = make_alert()
    await produce_alerts(settings, topics["alerts"], [alert])
    async with _desk(settings, tmp_path, "room-a") as a, _desk(settings, tmp_path, "room-b") as b, \
            aiohttp.ClientSession() as session:
        for desk in (a, b):
            await wait_until(lambda d=desk: _alert(session, d, alert.alert_id), 30, "the alert")
        # A malformed action is refused with the field named, and leaves no trace.
        for body, status, words in (
                ({"alert_ids": [alert.alert_id], "action": "escalate"}, 400, "action"),
                ({"alert_ids": [alert.alert_id], "action": "note"}, 400, "note needs"),
                ({"alert_ids": [alert.alert_id], "action": "snooze", "until": "tomorrow"}, 400, "until"),
                ({"alert_ids": [], "action": "ack"}, 400, "alert_ids"),
                ({"alert_ids": ["alert-unknown"], "action": "ack"}, 404, "alert-unknown")):
            async with session.post(f"{a.url}/api/actions", json=body) as response:
                assert response.status == status, body
                assert words in await response.text(), body
        assert (await _alert(session, a, alert.alert_id))["trail"] == []

        async def view(desk, status: str) -> set[str]:
            async with session.get(f"{desk.url}/api/alerts?status={status}") as response:
                return {x["alert"]["alert_id"] for x in (await response.json())["alerts"]}

        later = utcnow() + timedelta(hours=1)
        await _act(session, a, [alert.alert_id], action="snooze", by="anna", until=iso_utc(later))
        await wait_until(lambda: _has(session, b, alert.alert_id, snoozed_until=iso_utc(later)), 10, "the snooze on B")
        for desk in (a, b):
            assert alert.alert_id not in await view(desk, "active")
            assert alert.alert_id in await view(desk, "snoozed")
        # Snoozed again, until two seconds from now: back in the active view of both desks at that time.
        soon = utcnow() + timedelta(seconds=2)
        await _act(session, b, [alert.alert_id], action="snooze", by="boris", until=iso_utc(soon))
        await wait_until(lambda: _has(session, a, alert.alert_id, snoozed_until=iso_utc(soon)), 10,
                         "the new snooze on A")
        await wait_until(lambda: utcnow() > soon, 10, "the end of the snooze")
        for desk in (a, b):
            assert alert.alert_id in await view(desk, "active")
            assert alert.alert_id not in await view(desk, "snoozed")
