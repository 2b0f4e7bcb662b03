"""Telegram sources in the shared polling loop on the real embedded broker: a restart emits nothing
twice, switching the source to the MTProto adapter emits nothing twice, and an edit emits exactly
one revision."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime, timezone

from prometheus_client import CollectorRegistry

from connectors.http import make_session
from connectors.loop import PollingLoop
from connectors.state import SourceStateStore
from connectors.telegram.adapter import TelegramAdapter
from connectors.telegram.mtproto import TelegramMtprotoSource
from connectors.telegram.source import TelegramChannelSource
from core.kafka import start_producer
from core.metrics import ConnectorMetrics
from core.settings import PollingSettings, TelegramSettings
from schemas import Item, Source
from tests.conftest import LOCAL, consume_until
from tests.connectors.telegram.fake_telethon import fixture_client
from tests.connectors.telegram.tg_helpers import serve_preview

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
WEB = TelegramSettings(host_min_interval_secs=0, host_jitter_secs=0)
API = TelegramSettings(api_id="918273", api_hash="0123456789abcdef", session="")


@asynccontextmanager
async def connector_process(settings, topics, source: Source, client):
    """One connector process in miniature: producer, state read back from the topic, loop."""
    producer = await start_producer(settings)
    session = make_session(policy=LOCAL)
    mtproto = TelegramMtprotoSource(API, client_factory=lambda cfg: client)
    try:
        store = SourceStateStore(settings, producer, topics["source_state"])
        await store.load()
        adapter = TelegramAdapter(TelegramChannelSource(session, WEB), mtproto)
        yield PollingLoop(sources=[source], adapters={"telegram": adapter}, producer=producer,
                          items_topic=topics["items_raw"], store=store,
                          metrics=ConnectorMetrics(CollectorRegistry()), config=PollingSettings(),
                          clock=lambda: NOW, rng=lambda: 0.5)
    finally:
        await session.close()
        await producer.stop()


async def poll_in_new_process(settings, topics, source: Source, client=None):
    async with connector_process(settings, topics, source, client or fixture_client()) as loop:
        return await loop.poll_once(loop.sources[0])


async def test_restart_and_adapter_switch_emit_nothing_twice_and_an_edit_emits_one_revision(settings, topics):
    async with serve_preview() as (base, site):
        web = Source(id="tg-some", type="telegram", channel="somechannel", base_url=base, backfill_pages=2)
        first = await poll_in_new_process(settings, topics, web)
        restarted = await poll_in_new_process(settings, topics, web)
        api = fixture_client()
        switched = await poll_in_new_process(settings, topics, web.model_copy(update={"adapter": "mtproto"}), api)
        site.pages[("somechannel", None)] = "somechannel_page1_edited.html"
        edited = await poll_in_new_process(settings, topics, web)
    assert (first.items_emitted_total, first.cursor) == (12, 120)
    assert (restarted.items_emitted_total, restarted.cursor, restarted.consecutive_failures) == (12, 120, 0)
    assert (switched.items_emitted_total, switched.last_error) == (12, None)
    assert ("iter_messages", "SomeChannel", 100, 100) in api.calls  # the API adapter did read the posts
    assert (edited.items_emitted_total, edited.cursor) == (14, 121)
    assert site.requests.count("/s/somechannel") == 3  # after the first run, page 1 alone covers the cursor

    records = await consume_until(settings, topics["items_raw"], lambda r: len(r) >= 14, timeout_secs=20)
    items = [Item.from_bytes(r.value) for r in records]
    assert len(items) == 14
    keys = sorted((i.telegram.message_id, i.revision) for i in items)
    assert keys == sorted([(m, 0) for m in (105, 107, 109, 111, 112, 113, 115, 116, 117, 118, 119, 120, 121)]
                          + [(115, 1)])
    revised = next(i for i in items if i.revision == 1)
    assert "15 entities listed" in revised.text and revised.item_id == "telegram:somechannel:115"
    assert all(r.key == Item.from_bytes(r.value).item_id.encode() for r in records)


async def test_telegram_sources_report_received_emitted_and_errors_metrics(settings, topics):
    async with serve_preview() as (base, _):
        good = Source(id="tg-some", type="telegram", channel="somechannel", base_url=base)
        closed = Source(id="tg-closed", type="telegram", channel="closedchannel", base_url=base)
        async with connector_process(settings, topics, good, fixture_client()) as loop:
            loop.all_sources = loop.sources = [good, closed]
            await loop.poll_once(good)
            failed = await loop.poll_once(closed)
            sample = loop.metrics.registry.get_sample_value
    assert sample("watchfloor_items_received_total", {"source_type": "telegram"}) == 8
    assert sample("watchfloor_items_emitted_total", {"source_type": "telegram"}) == 8
    assert sample("watchfloor_fetch_requests_total", {"source_type": "telegram", "outcome": "ok"}) == 1
    assert sample("watchfloor_fetch_requests_total", {"source_type": "telegram", "outcome": "no_preview"}) == 1
    assert sample("watchfloor_connector_errors_total", {"stage": "fetch", "error_type": "no_preview"}) == 1
    assert sample("watchfloor_fetch_received_bytes_total", {"source_type": "telegram"}) > 10_000
    assert failed.last_error_kind == "no_preview" and failed.consecutive_failures == 1
    assert failed.last_error.startswith("tg-closed: channel closedchannel has no public preview")
