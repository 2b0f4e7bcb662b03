"""Politeness per host for feeds (``connectors.hosts.HostGate`` in ``RssSource``): at most N requests
in flight to one host whatever the number of feeds on it, spaced starts, per-host overrides, and a
429 on one feed holds the host for the others. Real local HTTP servers; two host names for one
machine show the limits are per host, not global."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web

from connectors.errors import RetryLater
from connectors.http import make_session
from connectors.rss.source import RssSource
from core.settings import RssSettings
from schemas import Source, SourceState
from tests.conftest import LOCAL
from tests.faults.conftest import rss_feed


class Server:
    """Feeds that answer after ``delay`` seconds; records, per Host header, the requests in flight."""

    def __init__(self, delay: float = 0.3):
        self.delay = delay
        self.in_flight: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.starts: dict[str, list[float]] = {}
        self.status: dict[str, int] = {}

    async def handle(self, request: web.Request) -> web.Response:
        host = request.host.split(":")[0]
        self.starts.setdefault(host, []).append(time.monotonic())
        self.in_flight[host] = self.in_flight.get(host, 0) + 1
        self.peak[host] = max(self.peak.get(host, 0), self.in_flight[host])
        try:
            await asyncio.sleep(self.delay)
            status = self.status.get(request.match_info["name"], 200)
            if status != 200:
                return web.Response(status=status, headers={"Retry-After": "30"})
            return web.Response(body=rss_feed([("g1", "A sentence.")]), content_type="application/rss+xml")
        finally:
            self.in_flight[host] -= 1


@pytest.fixture
async def server():
    served = Server()
    app = web.Application()
    app.router.add_get("/{name}", served.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    served.port = site._server.sockets[0].getsockname()[1]
    yield served
    await runner.cleanup()


def feeds(port: int, host: str, count: int) -> list[Source]:
    return [Source(id=f"{host}-{n}", type="rss", url=f"http://{host}:{port}/f{n}") for n in range(count)]


async def test_no_host_gets_more_requests_in_flight_than_its_limit_and_starts_are_spaced(server):
    config = RssSettings(host_max_in_flight=2, host_min_interval_secs=0.05, host_jitter_secs=0,
                         host_limits={"localhost": 1})
    sources = feeds(server.port, "127.0.0.1", 8) + feeds(server.port, "localhost", 4)
    async with make_session(policy=LOCAL) as session:
        adapter = RssSource(session, config)
        results = await asyncio.gather(*(adapter.poll(s, SourceState(source_id=s.id)) for s in sources))
    assert all(len(r.items) == 1 for r in results)
    assert server.peak == {"127.0.0.1": 2, "localhost": 1}  # the default, and the override
    for host, starts in server.starts.items():
        gaps = [b - a for a, b in zip(starts, starts[1:])]
        # The spacing is kept between request starts in the client; the server sees them arrive a few
        # milliseconds apart either way (one request's connection set up faster than the other's).
        assert min(gaps) >= 0.035, (host, gaps)


async def test_a_429_on_one_feed_holds_its_host_for_the_other_feeds(server):
    server.status["f0"] = 429
    config = RssSettings(host_max_in_flight=2, host_min_interval_secs=0, host_jitter_secs=0, max_host_wait_secs=5)
    first, second = feeds(server.port, "127.0.0.1", 2)
    async with make_session(policy=LOCAL) as session:
        adapter = RssSource(session, config)
        with pytest.raises(RetryLater):
            await adapter.poll(first, SourceState(source_id=first.id))
        with pytest.raises(RetryLater, match="host 127.0.0.1 is rate limited"):  # not fetched at all
            await adapter.poll(second, SourceState(source_id=second.id))
    assert len(server.starts["127.0.0.1"]) == 1
