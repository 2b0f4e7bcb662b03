"""The RSS adapter against real local HTTP servers: conditional GET, redirects, status codes, and the
limits that protect a worker from hostile servers (deadline, size cap, gzip bomb)."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from aiohttp import web

from connectors.errors import FetchError, RetryLater, SourceGone
from connectors.http import USER_AGENT, make_session, parse_retry_after
from connectors.rss.source import RssSource
from core.settings import RssSettings
from schemas import Source, SourceState
from tests.conftest import LOCAL
from tests.connectors.rss_helpers import rss, serve

FEED = rss(("a-1", "Referendum called", "Vote on <b>Sunday</b>"), ("a-2", "Talks", "Second"))


def source(url: str) -> Source:
    return Source(id="test-feed", type="rss", url=url)


async def poll(url: str, state: SourceState | None = None, config: RssSettings | None = None):
    async with make_session(policy=LOCAL) as session:
        return await RssSource(session, config).poll(source(url), state or SourceState(source_id="test-feed"))


async def test_etag_round_trip_returns_304_and_skips_parsing():
    seen: list[tuple[str | None, str | None]] = []

    async def handler(request):
        seen.append((request.headers.get("If-None-Match"), request.headers.get("User-Agent")))
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        return web.Response(body=FEED, content_type="application/rss+xml", headers={"ETag": '"v1"'})

    async with serve({"/feed": handler}) as base:
        first = await poll(f"{base}/feed")
        second = await poll(f"{base}/feed", SourceState(source_id="test-feed", etag=first.etag))
    assert first.etag == '"v1"' and len(first.items) == 2
    assert second.not_modified and second.items == [] and second.etag == '"v1"'
    assert seen == [(None, USER_AGENT), ('"v1"', USER_AGENT)]


async def test_last_modified_is_sent_back_as_if_modified_since():
    stamp = "Sat, 21 Nov 2026 10:00:00 GMT"

    async def handler(request):
        if request.headers.get("If-Modified-Since") == stamp:
            return web.Response(status=304)
        return web.Response(body=FEED, content_type="application/rss+xml", headers={"Last-Modified": stamp})

    async with serve({"/feed": handler}) as base:
        first = await poll(f"{base}/feed")
        second = await poll(f"{base}/feed", SourceState(source_id="test-feed", last_modified=first.last_modified))
    assert first.last_modified == stamp and not first.not_modified
    assert second.not_modified and second.last_modified == stamp


async def test_permanent_redirect_reports_the_new_url_and_temporary_does_not():
    routes = {
        "/old": lambda r: web.HTTPMovedPermanently("/new"),
        "/tmp": lambda r: web.HTTPFound("/new"),
        "/new": lambda r: web.Response(body=FEED, content_type="application/rss+xml"),
    }
    async with serve({k: _async(v) for k, v in routes.items()}) as base:
        moved = await poll(f"{base}/old")
        temporary = await poll(f"{base}/tmp")
    assert moved.new_url == f"{base}/new" and len(moved.items) == 2
    assert temporary.new_url is None and len(temporary.items) == 2


async def test_redirect_loop_stops_at_the_redirect_limit():
    async with serve({"/loop": _async(lambda r: web.HTTPFound("/loop"))}) as base:
        with pytest.raises(FetchError, match="more than 3 redirects") as caught:
            await poll(f"{base}/loop", config=RssSettings(max_redirects=3))
    assert caught.value.kind == "http_error"


async def test_410_raises_source_gone():
    async with serve({"/feed": _async(lambda r: web.Response(status=410))}) as base:
        with pytest.raises(SourceGone, match="test-feed: HTTP 410"):
            await poll(f"{base}/feed")


@pytest.mark.parametrize("status", [429, 503])
async def test_rate_limit_honours_retry_after_seconds(status):
    async with serve({"/feed": _async(lambda r: web.Response(status=status, headers={"Retry-After": "120"}))}) as base:
        with pytest.raises(RetryLater) as caught:
            await poll(f"{base}/feed")
    assert caught.value.retry_after_secs == 120 and caught.value.kind == "rate_limited"


def test_retry_after_as_http_date_gives_the_seconds_until_that_date():
    now = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    header = format_datetime(now + timedelta(minutes=5), usegmt=True)
    assert parse_retry_after(header, default=60.0, now=now) == 300.0
    assert parse_retry_after("soon", default=60.0, now=now) == 60.0
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), 60.0, now) == 0.0


async def test_server_error_is_a_fetch_error_with_its_status():
    async with serve({"/feed": _async(lambda r: web.Response(status=500))}) as base:
        with pytest.raises(FetchError, match="HTTP 500") as caught:
            await poll(f"{base}/feed")
    assert caught.value.kind == "http_error"


async def test_trickling_server_hits_the_total_deadline():
    async def trickle(request):
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        for byte in FEED * 100:  # a byte every 50 ms: each read is quick, the whole never ends
            await response.write(bytes([byte]))
            await asyncio.sleep(0.05)
        return response

    async with serve({"/feed": trickle}) as base:
        with pytest.raises(FetchError, match="no complete response within 1s") as caught:
            await poll(f"{base}/feed", config=RssSettings(request_deadline_secs=1.0))
    assert caught.value.kind == "timeout"


async def test_oversized_body_is_refused_while_streaming():
    async def big(request):
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        response.enable_chunked_encoding()  # no Content-Length: the cap must act on the stream
        await response.prepare(request)
        for _ in range(64):
            await response.write(b"x" * 65536)
        return response

    async with serve({"/feed": big}) as base:
        with pytest.raises(FetchError, match="larger than 100000 bytes") as caught:
            await poll(f"{base}/feed", config=RssSettings(max_body_bytes=100_000))
    assert caught.value.kind == "too_large"


async def test_gzip_bomb_stops_at_the_cap_after_decompression():
    bomb = _gzip_of_zeros(100 * 1024 * 1024)  # ~100 KB on the wire, 100 MB inflated

    async def handler(request):
        return web.Response(body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"})

    async with serve({"/feed": handler}) as base:
        with pytest.raises(FetchError, match="after decompression") as caught:
            await poll(f"{base}/feed", config=RssSettings(max_body_bytes=1_000_000))
    assert len(bomb) < 1_000_000 and caught.value.kind == "too_large"


async def test_gzip_feed_within_the_cap_is_decompressed_and_parsed():
    async def handler(request):
        return web.Response(body=gzip.compress(FEED), headers={"Content-Encoding": "gzip",
                                                              "Content-Type": "application/rss+xml"})

    async with serve({"/feed": handler}) as base:
        result = await poll(f"{base}/feed")
    assert [i.title for i in result.items] == ["Talks", "Referendum called"]
    assert result.received_bytes == len(FEED)


async def test_unreachable_server_is_a_network_error():
    async with serve({}) as base:
        dead = base
    with pytest.raises(FetchError) as caught:
        await poll(f"{dead}/feed")
    assert caught.value.kind == "network_error" and "test-feed" in str(caught.value)


def _gzip_of_zeros(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    return b"".join([packer.compress(block) for _ in range(size >> 20)] + [packer.flush()])


def _async(make):
    async def handler(request):
        result = make(request)
        if isinstance(result, web.HTTPException) and not isinstance(result, web.HTTPSuccessful):
            raise result
        return result
    return handler


@pytest.mark.parametrize("url", ["/etc/passwd", "file:///etc/passwd", "ftp://news.example/feed", "feed.xml"])
def test_a_source_url_must_be_http_or_https(url):
    with pytest.raises(ValueError, match="must be an http or https URL"):
        Source(id="local", type="rss", url=url)


async def test_a_url_on_the_state_topic_never_replaces_the_configured_one_on_its_own():
    async with serve({"/feed": lambda r: web.Response(body=FEED, content_type="application/rss+xml"),
                      "/moved": lambda r: web.Response(body=rss(("m-1", "Moved", "x")),
                                                       content_type="application/rss+xml")}) as base:
        planted = SourceState(source_id="test-feed", url="/etc/passwd")
        assert sorted(i.title for i in (await poll(f"{base}/feed", planted)).items) == ["Referendum called", "Talks"]
        elsewhere = SourceState(source_id="test-feed", url=f"{base}/moved", redirected_from="https://old.example/")
        assert len((await poll(f"{base}/feed", elsewhere)).items) == 2
        # A permanent redirect of this very URL is followed.
        redirected = SourceState(source_id="test-feed", url=f"{base}/moved", redirected_from=f"{base}/feed")
        assert [i.title for i in (await poll(f"{base}/feed", redirected)).items] == ["Moved"]
