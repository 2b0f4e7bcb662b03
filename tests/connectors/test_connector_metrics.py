"""Source compliance (Vector's ``assert_source_compliance``): a connector run exports received,
emitted and ``errors_total{stage,error_type}`` with label values from the fixed sets only."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry

from connectors.http import make_session
from connectors.loop import PollingLoop
from connectors.rss.source import RssSource
from connectors.state import SourceStateStore
from core.kafka import start_producer
from core.metrics import CONNECTOR_STAGES, FETCH_OUTCOMES, ConnectorMetrics
from core.settings import PollingSettings
from schemas import Source
from tests.conftest import LOCAL, wait_until
from tests.connectors.rss_helpers import rss, serve


async def test_rss_connector_emits_received_emitted_and_error_metrics(settings, topics):
    registry = CollectorRegistry()
    good = rss(("a", "One", "x"), ("b", "Two", "y"))
    bozo = good.replace(b"</rss>", b"<broken")
    routes = {
        "/good": lambda r: web.Response(body=good, content_type="application/rss+xml"),
        "/bozo": lambda r: web.Response(body=bozo, content_type="application/rss+xml"),
        "/junk": lambda r: web.Response(body=b"<html>no feed", content_type="text/html"),
        "/down": lambda r: web.Response(status=502),
    }
    producer = await start_producer(settings)
    try:
        async with make_session(policy=LOCAL) as session, serve({p: _handler(f) for p, f in routes.items()}) as base:
            store = SourceStateStore(settings, producer, topics["source_state"])
            await store.load()
            sources = [Source(id=p.strip("/"), type="rss", url=base + p) for p in routes]
            loop = PollingLoop(sources=sources, adapters={"rss": RssSource(session)}, producer=producer,
                               items_topic=topics["items_raw"], store=store,
                               metrics=ConnectorMetrics(registry), config=PollingSettings())
            for s in loop.sources:
                await loop.poll_once(s)
    finally:
        await producer.stop()

    def value(name, **labels):
        return registry.get_sample_value(name, labels) or 0.0

    assert value("watchfloor_items_received_total", source_type="rss") == 4
    assert value("watchfloor_items_emitted_total", source_type="rss") == 4
    assert value("watchfloor_fetch_requests_total", source_type="rss", outcome="ok") == 2
    assert value("watchfloor_fetch_requests_total", source_type="rss", outcome="parse_error") == 1
    assert value("watchfloor_fetch_requests_total", source_type="rss", outcome="http_error") == 1
    assert value("watchfloor_connector_errors_total", stage="parse", error_type="parse_error") == 1
    assert value("watchfloor_connector_errors_total", stage="parse", error_type="warning") == 1
    assert value("watchfloor_connector_errors_total", stage="fetch", error_type="http_error") == 1
    # The health gauges are refreshed at most once a second (a pass over every source): wait for it.
    await wait_until(lambda: value("watchfloor_sources", state="failing") == 2
                     and value("watchfloor_sources", state="active") == 2, 5, "the health gauges")
    assert value("watchfloor_fetch_duration_seconds_count", source_type="rss") == 4
    for metric in registry.collect():
        for sample in metric.samples:
            assert sample.labels.get("outcome", "ok") in FETCH_OUTCOMES, sample
            assert sample.labels.get("stage", "fetch") in CONNECTOR_STAGES, sample


def _handler(make):
    async def handler(request):
        return make(request)
    return handler
