"""The desk's alert consumer is supervised: when it dies, /healthz says so (503, degraded), the feed
starts a new consumer in the same group, and alerts published meanwhile still reach the store."""

from __future__ import annotations

import aiohttp

from desk.service import Desk
from desk.store import AlertStore
from tests.conftest import wait_until
from tests.desk.alerts import make_alert, produce_alerts


async def _health(session: aiohttp.ClientSession, desk: Desk) -> tuple[int, dict]:
    async with session.get(f"{desk.url}/healthz") as response:
        return response.status, await response.json()


async def test_a_dead_alert_consumer_is_restarted_and_healthz_tells_the_truth(settings, topics):
    first, second = make_alert(), make_alert()
    async with Desk(settings.model_copy(update={"web_port": 0}), targets=[]) as desk, \
            aiohttp.ClientSession() as session:
        await produce_alerts(settings, topics["alerts"], [first])
        await wait_until(lambda: desk.store.get(first.alert_id) is not None, 60, "the first alert in the store")
        assert (await _health(session, desk))[0] == 200

        await desk.feed._consumer.stop()  # the consumer dies under the feed, as on a fatal client error
        seen: list[tuple[int, dict]] = []

        async def degraded() -> bool:
            seen.append(await _health(session, desk))
            return seen[-1][0] == 503

        await wait_until(degraded, 30, "/healthz to report the dead consumer")
        assert seen[-1][1]["status"] == "degraded" and seen[-1][1]["consuming"] is False

        await produce_alerts(settings, topics["alerts"], [second])
        await wait_until(lambda: desk.store.get(second.alert_id) is not None, 90, "an alert after the restart")
        status, body = await _health(session, desk)
        assert status == 200 and body["consuming"] is True and desk.feed.restarts >= 1


async def test_a_desk_stopping_stores_every_alert_already_on_the_topic(settings, topics):
    """On the embedded broker the alerts topic does not outlive the pipeline: alerts produced just
    before the desk stops must be stored before it goes, or they are lost (while the ledger says raised)."""
    async with Desk(settings.model_copy(update={"web_port": 0}), targets=[]) as desk:
        await wait_until(lambda: desk.feed.running and desk.feed._consumer.assignment(), 30, "the feed assigned")
        alerts = [make_alert() for _ in range(40)]
        await produce_alerts(settings, topics["alerts"], alerts)
        # ...and the desk is stopped at once, without waiting for its next poll.
    store = AlertStore.in_data_dir(settings.data_dir)
    try:
        assert {s.alert.alert_id for s in store.query(limit=1000)} == {a.alert_id for a in alerts}
    finally:
        store.close()
