"""The connector process (``watchfloor connect``): every enabled source of the configured list, with
the adapter its type names, polled by one ``PollingLoop`` into Kafka.

Lifecycle: load sources (file, then the sources topic) → create the topics it uses if missing
→ start the producer (acks=all, idempotent where the cluster allows) → load source states from their
topic → serve /metrics from this process's own registry → join the connectors' group
(``connectors/members.py``) and poll the sources this process is given, following the sources topic
for additions and removals → with WATCHFLOOR_WEBSUB_CALLBACK_URL set, serve the WebSub callback and
subscribe the feeds that advertise a hub (``connectors/websub.py``) → run until ``stop`` is set
(SIGTERM/SIGINT in the command) → unsubscribe and stop serving the callback → leave the group → stop
the loop → close adapters and the HTTP session → flush and stop the producer.

Several connector processes share the sources: each source is polled by one of them, and the sources
of a process that stops or dies are taken over by the others (after the group's session timeout
for one that died). A process that takes a source over reads its latest state from the topic first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket

from prometheus_client import CollectorRegistry

from connectors.http import make_session
from connectors.loop import PollingLoop
from connectors.members import Membership
from connectors.registry import build_adapters
from connectors.rss.source import RssSource
from connectors.sources import follow_sources, load_sources
from connectors.state import SourceStateStore
from connectors.websub import WebSubSubscriber
from core.kafka import create_topics, start_producer
from core.metrics import ConnectorMetrics
from core.metrics_http import serve_metrics
from core.netpolicy import AddressPolicy
from core.retry import run_forever
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
    await create_topics(settings, [TOPICS["items_raw"], TOPICS["source_state"], TOPICS["sources"],
                                   TOPICS["connect_slots"]])
    registry = registry or CollectorRegistry()
    port = settings.connect_metrics_port if metrics_port is None else metrics_port
    server = None if port < 0 else (await serve_metrics(registry, settings.web_host, port))[0]
    producer = await start_producer(settings)
    session = make_session(policy=AddressPolicy(settings.fetch_allowed_networks),
                           limit=settings.connect_max_concurrency * 2)
    adapters = {}
    membership: Membership | None = None
    websub: WebSubSubscriber | None = None
    follower: asyncio.Task | None = None
    runner: asyncio.Task | None = None
    try:
        store = SourceStateStore(settings, producer)
        await store.load()
        adapters = build_adapters({s.type for s in enabled}, session, settings)
        loop = PollingLoop(
            sources=sources, adapters=adapters, producer=producer,
            items_topic=TOPICS["items_raw"].name(settings.topic_prefix), store=store,
            metrics=ConnectorMetrics(registry), config=settings.polling,
            max_concurrency=settings.connect_max_concurrency,
            owns=lambda source_id: membership is not None and membership.owns(source_id),
            poller=f"{socket.gethostname()}:{os.getpid()}")

        async def load_states(_slots: frozenset[int]) -> None:
            # Sources taken over: their newest state (etag, recent ids) from the topic first.
            for attempt in range(3):
                try:
                    await store.load()
                    return
                except Exception as exc:
                    log.warning("Reading the source states failed (%s: %s)%s.", type(exc).__name__, exc,
                                "; again" if attempt < 2 else "; polling from the states in memory")

        async def on_slots(_slots: frozenset[int]) -> None:
            await loop.update()
            if websub is not None:  # subscribe the sources taken over, unsubscribe those given up
                websub.wake()

        membership = Membership(settings, on_slots, prepare=load_states,
                                session_timeout_ms=settings.connect_session_timeout_ms)
        runner = asyncio.create_task(loop.run())
        await membership.start()
        follower = asyncio.create_task(_follow_forever(settings, loop), name="connect-sources")
        if settings.websub.callback_url is not None:
            parser = adapters.get("rss") or RssSource(session, settings.rss)
            websub = WebSubSubscriber(settings.websub, loop, session, parser, loop.metrics)
            await websub.start()
        await stop.wait()
        log.info("Connector stopping: finishing in-flight polls, then leaving the group.")
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        if websub is not None:  # before the loop stops: nothing is pushed into a stopped loop
            await websub.stop()
            websub = None
        loop.stop()
        await runner
        await membership.stop()  # after the polls: no source is polled by two processes at once
    finally:
        if follower is not None and not follower.done():
            follower.cancel()
        if websub is not None:  # start-up failed after the callback was served
            await websub.stop()
        if runner is not None and not runner.done():  # start-up failed after the loop started
            loop.stop()
            await asyncio.gather(runner, return_exceptions=True)
        await _close(adapters.values(), session, producer, server)
    log.info("Connector stopped.")
    return 0


async def _follow_forever(settings: Settings, loop: PollingLoop) -> None:
    """Follow the sources topic into the loop; after a failure (the broker away), again from the start."""
    await run_forever(lambda: follow_sources(settings, loop.update), what="Following the sources topic", logger=log)


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
