"""The shared polling loop against the real embedded broker and local feed servers: no duplicates
across restarts, revisions for edited items, state advanced only after Kafka acknowledged, and the
source's health after redirects, 410 and 429."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone

from aiohttp import web
from prometheus_client import CollectorRegistry

from connectors.http import make_session
from connectors.loop import PollingLoop
from connectors.rss.source import RssSource
from connectors.state import SourceStateStore, read_states
from core.kafka import start_producer
from core.metrics import ConnectorMetrics
from core.settings import PollingSettings
from schemas import Item, Source
from tests.conftest import LOCAL, consume_until, wait_until
from tests.connectors.rss_helpers import rss, serve

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


class Feed:
    """A feed server whose document the test changes; counts requests per path; ignores ETags so
    that dedupe, not a 304, must keep repeats out."""

    def __init__(self, body: bytes):
        self.body = body
        self.hits: dict[str, int] = {}

    async def handler(self, request):
        self.hits[request.path] = self.hits.get(request.path, 0) + 1
        return web.Response(body=self.body, content_type="application/rss+xml")


@asynccontextmanager
async def connector(settings, topics, sources: list[Source], max_concurrency: int = 8, **config):
    """A running connector process in miniature: producer, state loaded from the topic, loop."""
    producer = await start_producer(settings)
    session = make_session(policy=LOCAL)
    try:
        store = SourceStateStore(settings, producer, topics["source_state"])
        await store.load()
        loop = PollingLoop(
            sources=sources, adapters={"rss": RssSource(session)}, producer=producer,
            items_topic=topics["items_raw"], store=store, metrics=ConnectorMetrics(CollectorRegistry()),
            config=PollingSettings(**{"backoff_base_secs": 1.0, **config}), max_concurrency=max_concurrency,
            clock=lambda: NOW, rng=lambda: 0.5)
        yield loop
    finally:
        await session.close()
        await producer.stop()


def source(url: str, **extra) -> Source:
    return Source(id="wire", type="rss", url=url, poll_interval_secs=60, **extra)


async def items_on_topic(settings, topics, count: int) -> list[Item]:
    records = await consume_until(settings, topics["items_raw"], lambda r: len(r) >= count, timeout_secs=20)
    return [Item.from_bytes(r.value) for r in records]


async def test_restart_emits_no_duplicates(settings, topics):
    feed = Feed(rss(("a", "One", "x"), ("b", "Two", "y"), ("c", "Three", "z")))
    async with serve({"/feed": feed.handler}) as base:
        async with connector(settings, topics, [source(f"{base}/feed")]) as loop:
            first = await loop.poll_once(loop.sources[0])
        async with connector(settings, topics, [source(f"{base}/feed")]) as loop:  # a new process
            assert loop.store.get("wire").items_emitted_total == 3
            second = await loop.poll_once(loop.sources[0])
    assert feed.hits["/feed"] == 2
    assert first.items_emitted_total == 3 and second.items_emitted_total == 3
    items = await items_on_topic(settings, topics, 3)
    assert len(items) == 3 and len({i.item_id for i in items}) == 3
    assert {i.revision for i in items} == {0}


async def test_edited_item_is_emitted_again_as_a_revision(settings, topics):
    feed = Feed(rss(("a", "Ceasefire talks", "first draft"), ("b", "Other", "y")))
    async with serve({"/feed": feed.handler}) as base:
        async with connector(settings, topics, [source(f"{base}/feed")]) as loop:
            await loop.poll_once(loop.sources[0])
        feed.body = rss(("a", "Ceasefire talks", "corrected text"), ("b", "Other", "y"))
        async with connector(settings, topics, [source(f"{base}/feed")]) as loop:
            state = await loop.poll_once(loop.sources[0])
    records = await consume_until(settings, topics["items_raw"], lambda r: len(r) >= 3, timeout_secs=20)
    edited = sorted((Item.from_bytes(r.value) for r in records if b"Ceasefire" in r.value), key=lambda i: i.revision)
    assert [(i.revision, i.text) for i in edited] == [(0, "first draft"), (1, "corrected text")]
    assert edited[0].item_id == edited[1].item_id and state.items_emitted_total == 3
    # Records of different partitions come back in no set order: find the revision by its key.
    revised = [r for r in records if r.key == edited[1].item_id.encode() and b'"revision":1' in r.value]
    headers = dict(revised[0].headers)
    assert headers["ce_type"] == b"watchfloor.Item.v1" and headers["ce_id"] == f"{edited[1].item_id}#1".encode()


async def test_state_is_not_advanced_when_kafka_did_not_acknowledge(settings, topics):
    feed = Feed(rss(("a", "One", "x")))
    async with serve({"/feed": feed.handler}) as base:
        async with connector(settings, topics, [source(f"{base}/feed")]) as loop:
            await loop.producer.stop()  # every send now fails
            state = await loop.poll_once(loop.sources[0])
            errors = loop.metrics.errors.labels("produce", "kafka_error")._value.get()
        async with connector(settings, topics, [source(f"{base}/feed")]) as loop:
            assert loop.store.get("wire") is None  # nothing was written for this source
            retried = await loop.poll_once(loop.sources[0])
    assert state.recent == [] and state.consecutive_failures == 1 and state.last_error_kind == "produce_error"
    assert errors == 1 and retried.items_emitted_total == 1 and retried.consecutive_failures == 0


async def test_permanent_redirect_is_stored_and_the_new_url_polled_next(settings, topics):
    feed = Feed(rss(("a", "One", "x")))

    async def moved(request):
        feed.hits["/old"] = feed.hits.get("/old", 0) + 1
        raise web.HTTPMovedPermanently("/new")

    async with serve({"/old": moved, "/new": feed.handler}) as base:
        async with connector(settings, topics, [source(f"{base}/old")]) as loop:
            first = await loop.poll_once(loop.sources[0])
            await loop.poll_once(loop.sources[0])
    assert first.url == f"{base}/new"
    assert feed.hits == {"/old": 1, "/new": 2}


async def test_410_disables_the_source_and_the_loop_stops_polling_it(settings, topics):
    hits = []

    async def gone(request):
        hits.append(1)
        return web.Response(status=410)

    async with serve({"/feed": gone}) as base:
        async with connector(settings, topics, [source(f"{base}/feed")]) as loop:
            state = await loop.poll_once(loop.sources[0])
            task = loop._run_source(loop.sources[0], asyncio.Event())
            await task  # returns at once: a disabled source is never polled again
    stored = await read_states(settings, topics["source_state"])
    assert state.disabled and "410" in state.disabled_reason and state.last_error_kind == "gone"
    assert stored["wire"].disabled and len(hits) == 1


async def test_429_schedules_the_next_poll_after_retry_after(settings, topics):
    async def limited(request):
        return web.Response(status=429, headers={"Retry-After": "900"})

    async with serve({"/feed": limited}) as base:
        async with connector(settings, topics, [source(f"{base}/feed")]) as loop:
            state = await loop.poll_once(loop.sources[0])
            outcome = loop.metrics.fetch_requests.labels("rss", "rate_limited")._value.get()
    assert state.next_poll_at == NOW + timedelta(seconds=900)
    assert state.consecutive_failures == 1 and state.last_error_kind == "rate_limited" and outcome == 1


async def test_network_failures_back_off_exponentially_with_jitter(settings, topics):
    async with serve({}) as base:
        dead = base
    async with connector(settings, topics, [source(f"{dead}/feed")], backoff_base_secs=10.0) as loop:
        delays = []
        for _ in range(3):
            state = await loop.poll_once(loop.sources[0])
            delays.append((state.next_poll_at - NOW).total_seconds())
    # rng() is 0.5, so the delay is half the cap: 10 s, then 20 s, then 40 s.
    assert delays == [5.0, 10.0, 20.0] and state.last_error_kind == "network_error"


async def test_run_polls_due_sources_and_stops_cleanly(settings, topics):
    feeds = [Feed(rss((f"s{n}", f"Story {n}", "t"))) for n in range(3)]
    routes = {f"/f{n}": f.handler for n, f in enumerate(feeds)}
    async with serve(routes) as base:
        sources = [Source(id=f"wire{n}", type="rss", url=f"{base}/f{n}") for n in range(3)]
        sources.append(Source(id="off", type="rss", url=f"{base}/f0", enabled=False))
        async with connector(settings, topics, sources, max_concurrency=2) as loop:
            import asyncio
            runner = asyncio.create_task(loop.run())
            await wait_until(lambda: all(loop.store.get(f"wire{n}") for n in range(3)), 20, "three polls")
            loop.stop()
            await asyncio.wait_for(runner, 10)
            gauge = loop.metrics.sources.labels("disabled")._value.get()
    assert [f.hits.get(f"/f{n}") for n, f in enumerate(feeds)] == [1, 1, 1]
    assert gauge == 1
    assert len(await items_on_topic(settings, topics, 3)) == 3


async def test_global_concurrency_limit_holds_further_sources_until_a_slot_frees(settings, topics):
    import asyncio

    gate = asyncio.Event()
    active = {"now": 0, "peak": 0}

    async def slow(request):
        active["now"] += 1
        active["peak"] = max(active["peak"], active["now"])
        await gate.wait()
        active["now"] -= 1
        return web.Response(body=rss((request.path.strip("/"), "T", "x")), content_type="application/rss+xml")

    async with serve({f"/s{n}": slow for n in range(4)}) as base:
        sources = [Source(id=f"s{n}", type="rss", url=f"{base}/s{n}") for n in range(4)]
        async with connector(settings, topics, sources, max_concurrency=2) as loop:
            runner = asyncio.create_task(loop.run())
            # Two fetches in flight and the other two sources queued on the limit, not fetching.
            await wait_until(lambda: active["now"] == 2 and len(loop._slots._waiters or ()) == 2, 20, "limit")
            gate.set()
            await wait_until(lambda: all(loop.store.get(f"s{n}") for n in range(4)), 20, "all polled")
            loop.stop()
            await asyncio.wait_for(runner, 10)
    assert active["peak"] == 2


async def test_an_adaptive_source_follows_its_cadence_slows_while_quiet_and_honours_the_feeds_ttl(settings, topics):
    feed = Feed(rss(("a", "One", "x"), ("b", "Two", "y"), ("c", "Three", "z"), ("d", "Four", "w")))  # hourly
    async with serve({"/feed": feed.handler}) as base:
        adaptive = Source(id="wire", type="rss", url=f"{base}/feed", max_interval_secs=7200)
        async with connector(settings, topics, [adaptive]) as loop:
            first = await loop.poll_once(adaptive)
            assert (first.cadence_secs, first.interval_secs) == (3600.0, 1800.0)  # half the gap
            assert first.next_poll_at == NOW + timedelta(seconds=1800)
            quiet = await loop.poll_once(adaptive)  # nothing new: half as long again
            assert quiet.interval_secs == 2700.0
            feed.body = rss(("e", "Five", "v"), ("a", "One", "x"), ("b", "Two", "y"), ("c", "Three", "z"))
            fresh = await loop.poll_once(adaptive)
            assert fresh.interval_secs == 1800.0
            feed.body = feed.body.replace(b"<channel>", b"<channel><ttl>100</ttl>")
            asked = await loop.poll_once(adaptive)  # the publisher asked for 100 minutes between polls
            assert asked.interval_secs == 6000.0 and asked.next_poll_at == NOW + timedelta(seconds=6000)
    stored = await read_states(settings, topics["source_state"])
    assert stored["wire"].interval_secs == 6000.0 and stored["wire"].cadence_secs == 3600.0


async def test_updates_racing_each_other_never_poll_one_source_twice_at_once(settings, topics):
    in_flight, most, release = [0], [0], asyncio.Event()

    async def slow(request):
        in_flight[0] += 1
        most[0] = max(most[0], in_flight[0])
        try:
            await release.wait()
            return web.Response(body=rss(("a", "One", "x")), content_type="application/rss+xml")
        finally:
            in_flight[0] -= 1

    async with serve({"/feed": slow}) as base:
        first = Source(id="wire", type="rss", url=f"{base}/feed", poll_interval_secs=1)
        changed = first.model_copy(update={"name": "renamed"})
        async with connector(settings, topics, [first], stop_grace_secs=5.0) as loop:
            runner = asyncio.create_task(loop.run())
            await wait_until(lambda: in_flight[0] == 1, 10, "the first poll in flight")
            # The sources follower and a rebalance both update while that poll runs: the changed
            # source starts only once the old poll is done, once.
            updates = [asyncio.create_task(loop.update([changed])), asyncio.create_task(loop.update())]
            # Give a second poll the time to start (past the host's spacing of 0.5-0.75 s): it must not.
            with contextlib.suppress(TimeoutError):
                await wait_until(lambda: in_flight[0] >= 2, 2.0, "a second poll of the same source")
            release.set()
            await asyncio.gather(*updates)
            await wait_until(lambda: loop.store.get("wire") is not None, 10, "the state of a finished poll")
            loop.stop()
            await runner
    assert most[0] == 1
    assert loop.polled == []


async def test_a_poll_keeps_the_gaps_the_newest_item_and_its_delay_that_the_schedule_and_status_use(settings, topics):
    feed = Feed(rss(("a", "One", "x"), ("b", "Two", "y"), ("c", "Three", "z")))  # hourly, newest 2026-11-20 12:00
    async with serve({"/feed": feed.handler}) as base:
        adaptive = Source(id="wire", type="rss", url=f"{base}/feed")  # no poll_interval_secs: adaptive
        async with connector(settings, topics, [adaptive]) as loop:
            first = await loop.poll_once(loop.sources[0])
            again = await loop.poll_once(loop.sources[0])  # nothing new
    newest = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
    assert first.gaps_secs == [3600.0, 3600.0] and first.newest_item_at == newest
    assert first.last_item_delay_secs == (NOW - newest).total_seconds()  # found eight days late
    # Later than every gap it showed: overdue, polled no slower than its gap, held to the maximum.
    assert first.next_poll_at == NOW + timedelta(seconds=PollingSettings().adaptive_max_secs)
    assert again.last_item_delay_secs == first.last_item_delay_secs and again.gaps_secs == first.gaps_secs
