"""The connector process (``watchfloor connect``): every enabled source of the configured list, with
the adapter its type names, polled by one ``PollingLoop`` into Kafka.

Lifecycle: load sources (file, then the sources topic) → create the two topics it writes if missing
→ start the producer (acks=all, idempotent where the cluster allows) → load source states from their
topic → serve /metrics from this process's own registry → run until ``stop`` is set (SIGTERM/SIGINT
in the command) → stop the loop → close adapters and the HTTP session → flush and stop the producer.
"""

from __future__ import annotations

import asyncio
import logging

from prometheus_client import CollectorRegistry

from connectors.http import make_session
from connectors.loop import PollingLoop
from connectors.registry import build_adapters
from connectors.sources import load_sources
from connectors.state import SourceStateStore
from core.kafka import create_topics, start_producer
from core.metrics import ConnectorMetrics
from core.metrics_http import serve_metrics
from core.netpolicy import AddressPolicy
from core.settings import Settings
from schemas import Source
from schemas.topics import TOPICS

log = logging.getLogger(__name__)


async def run_connector(settings: Settings, stop: asyncio.Event, *, sources: list[Source] | None = None,
                        registry: CollectorRegistry | None = None, metrics_port: int | None = None) -> int:
    """Run until ``stop`` is set; return the exit status."""
    sources = sources if sources is not None else await load_sources(settings)
    enabled = [s for s in sources if s.enabled]
    log.info("Connector starting with %d sources (%d enabled).", len(sources), len(enabled))
    await create_topics(settings, [TOPICS["items_raw"], TOPICS["source_state"]])
    registry = registry or CollectorRegistry()
    port = settings.connect_metrics_port if metrics_port is None else metrics_port
    server = None if port < 0 else (await serve_metrics(registry, settings.web_host, port))[0]
    producer = await start_producer(settings)
    session = make_session(policy=AddressPolicy(settings.fetch_allowed_networks),
                           limit=settings.connect_max_concurrency * 2)
    adapters = {}
    try:
        store = SourceStateStore(settings, producer)
        await store.load()
        adapters = build_adapters({s.type for s in enabled}, session, settings)
        loop = PollingLoop(
            sources=sources, adapters=adapters, producer=producer,
            items_topic=TOPICS["items_raw"].name(settings.topic_prefix), store=store,
            metrics=ConnectorMetrics(registry), config=settings.polling,
            max_concurrency=settings.connect_max_concurrency)
        runner = asyncio.create_task(loop.run())
        await stop.wait()
        log.info("Connector stopping: finishing in-flight polls.")
        loop.stop()
        await runner
    finally:
        await _close(adapters.values(), session, producer, server)
    log.info("Connector stopped.")
    return 0


async def _close(adapters, session, producer, server) -> None:
    for adapter in adapters:
        try:
            await adapter.close()
        except Exception as exc:  # one adapter failing to close must not keep the producer unflushed
            log.warning("An adapter failed to close: %s: %s.", type(exc).__name__, exc)
    await session.close()
    try:
        await producer.flush()
    finally:
        await producer.stop()
    if server is not None:
        await server.cleanup()
