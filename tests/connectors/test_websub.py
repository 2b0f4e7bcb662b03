"""WebSub push against a real local hub (``websub_hub.py``), local feed servers and the real broker:
a feed that advertises a hub is subscribed and verified, pushed entries are emitted once through the
poll's dedupe path, forged pushes are ignored and counted, leases are renewed, polling takes over when
pushes stop, and the callback port refuses what browsers could send it."""

from __future__ import annotations

import asyncio
import socket
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from connectors import websub
from connectors.http import make_session
from connectors.loop import PollingLoop
from connectors.rss.hubs import discover
from connectors.rss.source import RssSource
from connectors.runner import run_connector
from connectors.state import SourceStateStore
from connectors.websub import WebSubSubscriber, subscription_secret
from connectors.websub_callback import signature_ok
from core.errors import ConfigError
from core.kafka import start_producer
from core.metrics import ConnectorMetrics
from core.settings import PollingSettings, Settings, WebSubSettings, load_settings
from schemas import Item, Source
from tests.conftest import LOCAL, consume_until, read_to_end, wait_until
from tests.connectors.rss_helpers import serve
from tests.connectors.websub_hub import LocalHub

SECRET = "master-secret-for-tests-0123456789"
SLOW_SECS = 3600.0
"""The slowest interval of the tests' sources: while pushes arrive, they are polled only that often."""


def atom(hub: str, self_url: str, *entries: tuple[str, str]) -> bytes:
    """An Atom feed advertising ``hub`` with ``(id, title)`` entries, newest first, an hour apart."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    parts = [f"<entry><id>urn:test:{eid}</id><title>{title}</title><link href=\"https://news.example/{eid}\"/>"
             f"<updated>{(now - timedelta(hours=n)).isoformat()}</updated><summary>{title}.</summary></entry>"
             for n, (eid, title) in enumerate(entries)]
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Wire</title>'
            f'<id>urn:test:feed</id><updated>{now.isoformat()}</updated><link rel="hub" href="{hub}"/>'
            f'<link rel="self" href="{self_url}"/>{"".join(parts)}</feed>').encode()


class Feed:
    """A feed server's document, and how often it was fetched."""

    def __init__(self):
        self.body = b""
        self.hits = 0

    async def handler(self, request):
        self.hits += 1
        return web.Response(body=self.body, content_type="application/atom+xml")


@dataclass
class Harness:
    loop: PollingLoop
    subscriber: WebSubSubscriber
    registry: CollectorRegistry
    topic: str
    hub: LocalHub
    feed: Feed
    source: Source

    def state(self):
        return self.loop.store.get(self.source.id)

    def metric(self, outcome: str) -> float:
        return self.registry.get_sample_value("watchfloor_websub_notifications_total", {"outcome": outcome}) or 0.0

    def callback(self) -> str:
        return [r for r in self.hub.requests if r["hub.mode"] == "subscribe"][-1]["hub.callback"]

    async def active(self) -> None:
        """Wait until the subscription is verified and the source is polled only at its slowest interval."""
        def slow():
            state = self.state()
            return (state is not None and state.push_state == "active" and state.next_poll_at is not None
                    and state.next_poll_at > datetime.now(timezone.utc) + timedelta(seconds=SLOW_SECS / 2))
        await wait_until(slow, 10, "a verified subscription and a slow schedule")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def pushed_feed(settings, topics, *, lease_secs: int = 60, owns=lambda source_id: True, **hub_options):
    """A local hub, a feed advertising it (polled every second) and a connector with WebSub on."""
    port = free_port()
    config = WebSubSettings(callback_url=f"http://127.0.0.1:{port}/websub", port=port, secret=SecretStr(SECRET),
                            lease_secs=lease_secs)
    feed = Feed()
    async with LocalHub(**hub_options) as hub, serve({"/feed": feed.handler}) as base:
        topic = f"{base}/feed"
        feed.body = atom(hub.url, topic, ("a", "First"), ("b", "Second"))
        source = Source(id="wire", type="rss", url=f"{topic}?via=poll", poll_interval_secs=1)
        producer = await start_producer(settings)
        session = make_session(policy=LOCAL)
        registry = CollectorRegistry()
        metrics = ConnectorMetrics(registry)
        try:
            store = SourceStateStore(settings, producer, topics["source_state"])
            await store.load()
            rss = RssSource(session)
            loop = PollingLoop(sources=[source], adapters={"rss": rss}, producer=producer,
                               items_topic=topics["items_raw"], store=store, metrics=metrics,
                               config=PollingSettings(adaptive_max_secs=SLOW_SECS, backoff_base_secs=1), owns=owns)
            running = asyncio.create_task(loop.run())
            subscriber = WebSubSubscriber(config, loop, session, rss, metrics, tick_secs=0.1)
            await subscriber.start()
            try:
                yield Harness(loop, subscriber, registry, topic, hub, feed, source)
            finally:
                await subscriber.stop()
                loop.stop()
                await running
        finally:
            await session.close()
            await producer.stop()


async def test_a_feed_advertising_a_hub_is_subscribed_verified_and_unsubscribed_on_stop(settings, topics):
    async with pushed_feed(settings, topics) as c:
        await c.active()
        state, callback = c.state(), c.callback()
        assert c.subscriber.pushed("wire") and [s.callback for s in c.hub.active(c.topic)] == [callback]
    [asked] = [r for r in c.hub.requests if r["hub.mode"] == "subscribe"]
    # The topic is the feed's rel=self URL, not the URL it is polled at; the secret is derived, not the master.
    assert asked["hub.topic"] == c.topic and asked["hub.lease_seconds"] == "60"
    assert callback.startswith(f"{c.subscriber.base}/") and len(callback) > len(c.subscriber.base) + 20
    assert asked["hub.secret"] == subscription_secret(SecretStr(SECRET), "wire", callback) != SECRET
    assert (state.push_hub, state.push_topic) == (c.hub.url, c.topic)
    assert timedelta(seconds=50) < state.push_lease_until - datetime.now(timezone.utc) <= timedelta(seconds=60)
    assert ("subscribe", callback, 200, True) in c.hub.verifications
    assert ("unsubscribe", callback, 200, True) in c.hub.verifications and c.hub.active(c.topic) == []


async def test_a_pushed_entry_is_emitted_within_seconds_and_once_though_a_poll_finds_it_again(settings, topics):
    async with pushed_feed(settings, topics) as c:
        await c.active()
        updated = atom(c.hub.url, c.topic, ("c", "Breaking"), ("a", "First"), ("b", "Second"))
        started = time.monotonic()
        assert await c.hub.publish(c.topic, updated) == [202]
        await consume_until(settings, topics["items_raw"], lambda r: any(b"Breaking" in x.value for x in r), 10)
        took = time.monotonic() - started
        assert c.state().items_emitted_total == 3 and c.state().push_last_at is not None
        c.feed.body = updated
        polled = await c.loop.poll_once(c.source)  # the safety net finds the pushed entry: not emitted again
        assert c.metric("accepted") == 1
    items = [Item.from_bytes(r.value) for r in await read_to_end(settings, topics["items_raw"])]
    assert took < 5.0
    assert sorted(i.title for i in items) == ["Breaking", "First", "Second"] and polled.items_emitted_total == 3


async def test_a_push_the_broker_does_not_take_is_answered_503_so_the_hub_sends_it_again(settings, topics):
    async with pushed_feed(settings, topics) as c:
        await c.active()
        produce = c.loop._produce

        async def broker_away(items):
            raise ConnectionError("broker away")

        c.loop._produce = broker_away
        updated = atom(c.hub.url, c.topic, ("c", "Breaking"), ("a", "First"), ("b", "Second"))
        assert await c.hub.publish(c.topic, updated) == [503]  # not acknowledged: the hub keeps it
        assert c.metric("failed") == 1 and c.metric("accepted") == 0
        c.loop._produce = produce
        assert await c.hub.publish(c.topic, updated) == [202]  # the hub's next try
        await consume_until(settings, topics["items_raw"], lambda r: any(b"Breaking" in x.value for x in r), 10)
    titles = [Item.from_bytes(r.value).title for r in await read_to_end(settings, topics["items_raw"])]
    assert titles.count("Breaking") == 1


async def test_a_source_is_handed_on_only_after_the_push_being_ingested_is_written(settings, topics):
    async with pushed_feed(settings, topics) as c:
        await c.active()
        produce, entered, release = c.loop._produce, asyncio.Event(), asyncio.Event()

        async def slow_broker(items):
            entered.set()
            await release.wait()
            await produce(items)

        c.loop._produce = slow_broker
        updated = atom(c.hub.url, c.topic, ("c", "Breaking"), ("a", "First"), ("b", "Second"))
        push = asyncio.create_task(c.hub.publish(c.topic, updated))
        await wait_until(entered.is_set, 10, "the push being ingested")
        handing_on = asyncio.create_task(c.loop.update([]))  # the source leaves this process
        done, _ = await asyncio.wait({handing_on}, timeout=0.5)
        assert not done  # another process would read a state without the pushed item
        release.set()
        await asyncio.wait_for(handing_on, 10)
        assert c.state().items_emitted_total == 3  # written before the source was let go
        assert await asyncio.wait_for(push, 10) == [202]


async def test_a_push_with_a_wrong_or_missing_signature_is_acknowledged_ignored_and_counted(settings, topics, caplog):
    async with pushed_feed(settings, topics) as c:
        await c.active()
        forged = atom(c.hub.url, c.topic, ("x", "Forged"), ("a", "First"), ("b", "Second"))
        assert await c.hub.publish(c.topic, forged, secret="not-the-subscription-secret") == [202]
        assert await c.hub.publish(c.topic, forged, signed=False) == [202]
        assert c.metric("bad_signature") == 2 and c.metric("accepted") == 0
        assert c.state().items_emitted_total == 2
    records = await read_to_end(settings, topics["items_raw"])
    assert len(records) == 2 and not any(b"Forged" in r.value for r in records)
    ignored = [r.getMessage() for r in caplog.records if "signature" in r.getMessage()]
    assert len(ignored) == 2 and all(SECRET not in line and "\n" not in line for line in ignored)


async def test_verification_of_an_unknown_token_topic_or_unasked_mode_gets_404(settings, topics):
    async with pushed_feed(settings, topics) as c:
        await c.active()
        callback = c.callback()
        asks = {
            "unknown token": (f"{c.subscriber.base}/no-such-token", "subscribe", c.topic),
            "other topic": (callback, "subscribe", "http://127.0.0.1:1/other"),
            "unsubscribe not asked": (callback, "unsubscribe", c.topic),
        }
        statuses = {}
        async with aiohttp.ClientSession() as http:
            for name, (url, mode, topic) in asks.items():
                query = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": "c1", "hub.lease_seconds": "60"}
                async with http.get(url, params=query) as response:
                    statuses[name] = response.status
            async with http.get(callback, params={"hub.mode": "subscribe", "hub.topic": c.topic,
                                                  "hub.challenge": "<b>c2</b>", "hub.lease_seconds": "60"}) as ok:
                echoed = (ok.status, await ok.text(), ok.headers["Content-Type"], ok.headers["X-Content-Type-Options"])
        assert c.subscriber.pushed("wire")
    assert statuses == {"unknown token": 404, "other topic": 404, "unsubscribe not asked": 404}
    assert echoed == (200, "<b>c2</b>", "text/plain; charset=utf-8", "nosniff")


async def test_the_lease_is_renewed_before_it_runs_out(settings, topics, caplog):
    async with pushed_feed(settings, topics, lease_secs=2) as c:
        await c.active()

        def renewals():
            return [v for v in c.hub.verifications if v[0] == "subscribe" and v[2] == 200]

        await wait_until(lambda: len(renewals()) >= 3, 8, "two renewals")
        asked = [r["at"] for r in c.hub.requests if r["hub.mode"] == "subscribe"]
        assert c.subscriber.pushed("wire") and c.state().push_state == "active"
        assert len({v[1] for v in renewals()}) == 1  # renewed on the same callback: the same subscription
    gaps = [b - a for a, b in zip(asked, asked[1:])]
    assert all(1.0 < gap < 2.0 for gap in gaps[:2]), gaps  # at ~80 % of the 2 s lease, never after it
    assert not [r for r in caplog.records if "ran out" in r.getMessage()]


async def test_polling_resumes_at_the_normal_interval_when_the_hub_stops_and_the_lease_lapses(settings, topics):
    async with pushed_feed(settings, topics, lease_secs=2) as c:
        await c.active()
        c.hub.refuse_with, c.hub.delivering = 503, False  # renewals fail; nothing is pushed any more
        hits = c.feed.hits
        await wait_until(lambda: c.state().push_state == "lapsed", 5, "the lease to lapse")
        assert not c.subscriber.pushed("wire")
        await wait_until(lambda: c.feed.hits >= hits + 3, 6, "polls every second again")
        assert c.state().next_poll_at < datetime.now(timezone.utc) + timedelta(seconds=5)
        assert c.registry.get_sample_value("watchfloor_websub_subscriptions", {"state": "lapsed"}) == 1


async def test_a_denial_from_the_hub_leaves_the_source_polled_normally(settings, topics):
    async with pushed_feed(settings, topics) as c:
        await c.active()
        assert await c.hub.deny(c.topic, c.callback()) == 200
        hits = c.feed.hits
        await wait_until(lambda: c.state().push_state == "denied", 5, "the denial recorded")
        await wait_until(lambda: c.feed.hits >= hits + 2, 5, "polls every second again")
        assert not c.subscriber.pushed("wire")


async def test_a_source_given_up_is_unsubscribed_and_taken_back_with_a_new_callback(settings, topics):
    owned = {"wire": True}
    async with pushed_feed(settings, topics, owns=lambda source_id: owned.get(source_id, False)) as c:
        await c.active()
        first = c.callback()
        owned["wire"] = False  # another connector process took it over
        await c.loop.update()
        c.subscriber.wake()
        await wait_until(lambda: c.hub.active(c.topic) == [], 5, "the unsubscription verified")
        async with aiohttp.ClientSession() as http, http.post(
                first, data=b"<feed/>", headers={"Content-Type": "application/atom+xml"}) as late:
            assert late.status == 410  # a hub still pushing to it is told to drop it
        owned["wire"] = True  # and handed back
        await c.loop.update()
        c.subscriber.wake()
        await wait_until(lambda: [s.callback for s in c.hub.active(c.topic)] not in ([], [first]), 5, "resubscribed")
        await c.active()
    assert ("unsubscribe", first, 200, True) in c.hub.verifications


async def test_the_connector_process_serves_websub_when_configured_and_unsubscribes_when_it_stops(
        settings, topics, tmp_path, monkeypatch):
    monkeypatch.setattr(websub, "TICK_SECS", 0.2)  # the hub found by the first poll is subscribed at once
    port = free_port()
    configured = settings.model_copy(update={"sources_path": tmp_path / "sources.yaml", "websub": WebSubSettings(
        callback_url=f"http://localhost:{port}/push", port=port, secret=SecretStr(SECRET))})
    feed, registry, stop = Feed(), CollectorRegistry(), asyncio.Event()
    async with LocalHub() as hub, serve({"/feed": feed.handler}) as base:
        topic = f"{base}/feed"
        feed.body = atom(hub.url, topic, ("a", "First"))
        configured.sources_path.write_text(f"sources:\n  - {{id: wire, type: rss, url: '{topic}', "
                                           "poll_interval_secs: 1}\n")
        running = asyncio.create_task(run_connector(configured, stop, registry=registry, metrics_port=-1))
        try:
            await wait_until(lambda: hub.active(topic) or running.done(), 25, "the connector's subscription")
            assert hub.active(topic)[0].callback.startswith(f"http://localhost:{port}/push/")
            assert await hub.publish(topic, atom(hub.url, topic, ("z", "Pushed"), ("a", "First"))) == [202]
            await consume_until(settings, topics["items_raw"], lambda r: any(b"Pushed" in x.value for x in r), 10)
        finally:
            stop.set()
            assert await asyncio.wait_for(running, 30) == 0
        assert hub.active(topic) == []
    assert registry.get_sample_value("watchfloor_websub_notifications_total", {"outcome": "accepted"}) == 1


async def test_the_callback_refuses_unknown_hosts_web_pages_other_content_and_large_bodies():
    port = free_port()
    config = WebSubSettings(callback_url=f"http://127.0.0.1:{port}/websub", port=port, secret=SecretStr(SECRET),
                            max_body_bytes=1000)
    registry = CollectorRegistry()
    metrics = ConnectorMetrics(registry)
    loop = PollingLoop(sources=[], adapters={}, producer=None, items_topic="items", metrics=metrics,
                       store=SourceStateStore(Settings(), producer=None, topic="states"))
    async with make_session(policy=LOCAL) as session:
        subscriber = WebSubSubscriber(config, loop, session, RssSource(session), metrics, tick_secs=0.1)
        await subscriber.start()
        url, feed = f"http://127.0.0.1:{port}/websub/some-token", {"Content-Type": "application/atom+xml"}
        try:
            async with aiohttp.ClientSession() as http:
                checks = [
                    http.get(url, headers={"Host": "rebound.example"}),
                    http.post(url, data=b"<feed/>", headers={**feed, "Origin": "http://127.0.0.1:8000"}),
                    http.post(url, data=b"<feed/>", headers={"Content-Type": "text/plain"}),
                    http.post(url, data=b"<feed>" + b"x" * 2000 + b"</feed>", headers=feed),
                    http.post(url, data=b"<feed/>", headers={"Content-Type": "application/rss+xml; charset=utf-8"}),
                ]
                statuses = []
                for request in checks:
                    async with request as response:
                        statuses.append(response.status)
        finally:
            await subscriber.stop()
    assert statuses == [421, 403, 415, 413, 410]  # the last one passed the checks: an unknown subscription
    assert registry.get_sample_value("watchfloor_websub_notifications_total", {"outcome": "refused"}) == 4


@pytest.mark.parametrize("method", ["sha1", "sha256", "sha384", "sha512"])
def test_each_signature_method_of_the_recommendation_is_checked(method):
    import hashlib
    import hmac

    body = b"<feed>content</feed>"
    good = hmac.new(b"s3cret", body, getattr(hashlib, method)).hexdigest()
    assert signature_ok(f"{method}={good}", body, "s3cret")
    assert signature_ok(f"{method.upper()}={good.upper()}", body, "s3cret")
    assert not signature_ok(f"{method}={good}", body + b" ", "s3cret")
    assert not signature_ok(f"{method}={good}", body, "other")
    assert not signature_ok(f"md5={good}", body, "s3cret") and not signature_ok(None, body, "s3cret")
    assert not signature_ok(f"{method}=é{good[1:]}", body, "s3cret")


def test_hubs_come_from_link_headers_first_then_from_the_feed():
    links = [{"rel": "hub", "href": "https://body-hub.example/"}, {"rel": "self", "href": "/feed.xml"},
             {"rel": "hub", "href": "ftp://nope.example/"}]
    assert discover([], links, "https://news.example/x") == (["https://body-hub.example/"],
                                                             "https://news.example/feed.xml")
    headers = ['<https://hub-a.example/>; rel="hub", </topic>; rel=self', '<https://hub-b.example/>; rel="hub other"']
    assert discover(headers, links, "https://news.example/x") == (
        ["https://hub-a.example/", "https://hub-b.example/"], "https://news.example/topic")
    assert discover(['<https://x.example/>; rel="alternate"'], [], None) == ([], None)


def test_websub_needs_a_long_enough_secret_with_its_callback_and_never_echoes_it(monkeypatch):
    monkeypatch.setenv("WATCHFLOOR_WEBSUB_CALLBACK_URL", "https://push.example.org/websub/")
    with pytest.raises(ConfigError, match="WATCHFLOOR_WEBSUB_SECRET is not"):
        load_settings()
    monkeypatch.setenv("WATCHFLOOR_WEBSUB_SECRET", "short-secret")
    with pytest.raises(ConfigError, match="WATCHFLOOR_WEBSUB_SECRET") as caught:
        load_settings()
    assert "short-secret" not in str(caught.value) and "\n" not in str(caught.value)
    monkeypatch.setenv("WATCHFLOOR_WEBSUB_SECRET", SECRET)
    websub = load_settings().websub
    assert websub.callback_url == "https://push.example.org/websub" and SECRET not in repr(websub)
    monkeypatch.setenv("WATCHFLOOR_WEBSUB_CALLBACK_URL", "https://push.example.org/websub?key=1")
    with pytest.raises(ConfigError, match="WATCHFLOOR_WEBSUB_CALLBACK_URL"):
        load_settings()


def test_a_pushed_source_is_not_counted_stale_between_its_safety_polls():
    from connectors.health import is_stale
    from schemas import SourceState

    now = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    source = Source(id="wire", type="rss", url="https://news.example/feed")
    polled = SourceState(source_id="wire", interval_secs=300, last_success_at=now - timedelta(minutes=40))
    pushed = polled.model_copy(update={"push_state": "active", "push_hub": "https://hub.example/"})
    assert is_stale(source, polled, now, now) and not is_stale(source, pushed, now, now)
