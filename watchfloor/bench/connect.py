"""``watchfloor bench connect``: can one connector process keep N sources at their intervals, and at
what CPU cost.

A fresh embedded broker; a feed server in a child process (``python -m watchfloor.bench.connect
--serve``) with N feeds that answer a conditional GET with 304 until they change (each gets a new
item every ``CHANGE_SECS``, at its own phase); and the real polling loop in this process, with the
RSS adapter, the source-state store and an acks=all producer, polling N sources on a fixed interval.
Per-host politeness is lifted for the one local host (it would cap the bench at its spacing, not at
the CPU). After the first round (every source due at once), for ``minutes``: polls per second
against those due, how late each poll started against its schedule, and this process's CPU time
(user + system) per wall second: 1.0 is one core.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from prometheus_client import CollectorRegistry

from connectors.http import make_session
from connectors.loop import PollingLoop
from connectors.rss.source import RssSource
from connectors.state import SourceStateStore
from core.kafka import create_topics, start_producer
from core.metrics import ConnectorMetrics
from core.netpolicy import AddressPolicy
from core.settings import RssSettings, Settings
from schemas import Source
from schemas.base import utcnow
from schemas.topics import TOPICS
from watchfloor.bench.stats import cpu_seconds, percentile
from watchfloor.broker import EmbeddedBroker

CHANGE_SECS = 600.0
ITEMS = 5


class TimedLoop(PollingLoop):
    """The polling loop, noting how late each poll started against the time it was due."""

    lateness: list[float]

    async def poll_once(self, source: Source):
        state = self.store.get(source.id)
        if state is not None and state.next_poll_at is not None and self.recording:
            self.lateness.append((self.clock() - state.next_poll_at).total_seconds())
        return await super().poll_once(source)


async def _measure(settings: Settings, base: str, sources: int, interval: float, minutes: float, say) -> dict:
    await create_topics(settings, [TOPICS["items_raw"], TOPICS["source_state"]])
    listed = [Source(id=f"s{n:05d}", type="rss", url=f"{base}/f/{n}", poll_interval_secs=interval)
              for n in range(sources)]
    producer = await start_producer(settings)
    session = make_session(policy=AddressPolicy(["127.0.0.0/8"]), limit=256)
    rss = RssSettings(host_limits={"127.0.0.1": 64}, host_min_interval_secs=0.0, host_jitter_secs=0.0)
    registry = CollectorRegistry()
    try:
        store = SourceStateStore(settings, producer)
        await store.load()
        loop = TimedLoop(sources=listed, adapters={"rss": RssSource(session, rss)}, producer=producer,
                         items_topic=TOPICS["items_raw"].name(settings.topic_prefix), store=store,
                         metrics=ConnectorMetrics(registry), max_concurrency=64)
        loop.lateness, loop.recording = [], False
        runner = asyncio.create_task(loop.run())
        started = time.monotonic()
        while len(store.states) < sources:  # the first round: every source due at once
            await asyncio.sleep(0.5)
        first_round = time.monotonic() - started
        say(f"first round: {sources} sources polled in {first_round:.1f}s")
        loop.recording = True
        polls_before, cpu_before, wall_before = len(loop.lateness), cpu_seconds(), time.monotonic()
        requests_before = _requests(registry)
        await asyncio.sleep(minutes * 60)
        wall = time.monotonic() - wall_before
        cpu = cpu_seconds() - cpu_before
        requests = _requests(registry) - requests_before
        late = loop.lateness[polls_before:]
        loop.stop()
        await runner
    finally:
        await session.close()
        await producer.stop()
    return {
        "sources": sources, "interval_secs": interval, "minutes": minutes,
        "first_round_secs": round(first_round, 1),
        "polls_per_sec": round(requests / wall, 1), "due_per_sec": round(sources / interval, 1),
        "late_p50_secs": round(percentile(late, 0.5), 2), "late_p95_secs": round(percentile(late, 0.95), 2),
        "late_max_secs": round(max(late, default=float("nan")), 2),
        "cpu_cores": round(cpu / wall, 3), "requests_per_source_per_hour": round(requests / sources * 3600 / wall, 1),
    }


def _requests(registry: CollectorRegistry) -> float:
    return sum(s.value for m in registry.collect() if m.name == "watchfloor_fetch_requests"
               for s in m.samples if s.name.endswith("_total"))


def run(*, sources: int, interval: float, minutes: float, say=print) -> dict:
    with EmbeddedBroker("127.0.0.1", 0) as broker, tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        server = subprocess.Popen([sys.executable, "-m", "watchfloor.bench.connect", "--serve", str(port_file),
                                   str(sources)], stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while not port_file.exists() or not port_file.read_text().strip():
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the feed server did not start")
                time.sleep(0.1)
            base = f"http://127.0.0.1:{port_file.read_text().strip()}"
            settings = Settings(kafka_bootstrap=broker.bootstrap, data_dir=Path(tmp), kafka_idempotence="off",
                                topic_prefix=f"bench{os.getpid()}.")
            return asyncio.run(_measure(settings, base, sources, interval, minutes, say))
        finally:
            server.terminate()
            server.wait(timeout=10)


def _serve(port_file: Path, feeds: int) -> None:
    """The feed server: /f/<n> is a small RSS feed whose newest item changes every CHANGE_SECS (feed n
    at its own phase); a request whose If-None-Match names the current version gets 304."""
    from aiohttp import web

    started = time.time()

    def version(n: int) -> int:
        return int((time.time() - started + n * CHANGE_SECS / max(feeds, 1)) // CHANGE_SECS)

    async def feed(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        current = version(n)
        etag = f'"{n}-{current}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        items = "".join(f"<item><guid>{n}-{v}</guid><title>Item {v} of feed {n}</title>"
                        f"<link>https://feeds.example/{n}/{v}</link><description>News {v}.</description>"
                        f"<pubDate>{utcnow().strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>"
                        for v in range(current, current - ITEMS, -1))
        body = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
                f"<link>https://feeds.example/{n}</link>{items}</channel></rss>")
        return web.Response(text=body, content_type="application/rss+xml", headers={"ETag": etag})

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/f/{n}", feed)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port_file.write_text(str(runner.addresses[0][1]))
        await asyncio.Event().wait()

    asyncio.run(main())


if __name__ == "__main__" and sys.argv[1:2] == ["--serve"]:
    _serve(Path(sys.argv[2]), int(sys.argv[3]))
