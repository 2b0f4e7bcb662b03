"""``RssSource``: the RSS/Atom adapter of the shared polling loop."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from connectors.base import PollResult
from connectors.cadence import feed_hints
from connectors.errors import BadInput, FetchError, RetryLater
from connectors.hosts import HostGate, HostRateLimiter
from connectors.http import fetch
from connectors.rss.config import FEED_ACCEPT, rss_limits
from connectors.rss.hubs import discover, link_header_values
from connectors.rss.normalise import normalise_feed
from connectors.rss.parse import parse_feed
from core.settings import RssSettings
from schemas import Item, Source, SourceState
from schemas.base import utcnow


class RssSource:
    """Fetch and parse one RSS/Atom/JSON feed per ``poll``.

    Lifecycle: built with its config and the shared ``aiohttp`` session (which it does not own) →
    ``poll(source, state)`` once per due source, never concurrently for one source → ``close``.
    ``poll`` sends a conditional GET from ``state`` (the loop's cursor) and returns every entry it
    could normalise; deduplication and revisions are the loop's job. A ``source.url`` without an
    http(s) scheme is read as a local file (tests, ``watchfloor fetch rss PATH``).
    Errors are ``connectors.errors`` classes whose message names the source and the reason.
    Requests are polite per host (``connectors.hosts.HostGate``): at most ``host_max_in_flight`` at a
    time to one host and their starts spaced, shared by every feed on it; a 429/503 holds the host.
    """

    source_type = "rss"

    def __init__(self, session: aiohttp.ClientSession, config: RssSettings | None = None, gate: HostGate | None = None):
        self.session = session
        self.config = config or RssSettings()
        c = self.config
        self.gate = gate or HostGate(
            c.host_max_in_flight, HostRateLimiter(c.host_min_interval_secs, c.host_jitter_secs, c.max_host_wait_secs),
            c.host_limits)

    async def poll(self, source: Source, state: SourceState) -> PollResult:
        url = polled_url(source, state)
        if not is_http(url):
            raise BadInput(f"{source.id}: url must be http or https")
        host = urlsplit(url).hostname or ""
        async with self.gate.slot(host, source.id):
            try:
                response = await fetch(
                    self.session, url, limits=rss_limits(self.config), etag=state.etag,
                    last_modified=state.last_modified, name=source.id, accept=FEED_ACCEPT,
                )
            except RetryLater as exc:  # the host asked everyone to wait, not just this feed
                self.gate.limiter.defer(host, exc.retry_after_secs)
                raise
        if response.not_modified:
            return PollResult(not_modified=True, etag=response.etag or state.etag,
                              last_modified=response.last_modified or state.last_modified,
                              new_url=response.permanent_url,
                              hints=feed_hints(response.headers, None, None, state.skip_hours))
        result = await self._parse(source, response.body, url=response.url, headers=dict(response.headers),
                                   links=link_header_values(response.headers))
        result.etag = response.etag
        result.last_modified = response.last_modified
        result.new_url = response.permanent_url
        return result

    async def parse_bytes(self, source: Source, data: bytes, *, url: str | None = None,
                          headers: dict | None = None) -> PollResult:
        """A feed read elsewhere (``watchfloor fetch rss PATH``, a WebSub push to ``url``'s topic):
        parsed like a fetched one."""
        return await self._parse(source, data, url=url, headers=headers or {})

    async def _parse(self, source: Source, data: bytes, *, url: str | None, headers: dict,
                     links: list[str] | tuple = ()) -> PollResult:
        # Parsing is CPU work on hostile input: keep it off the event loop.
        items, warnings, ttl, feed_links = await asyncio.to_thread(parse_document, source, data, url, headers)
        hubs, self_url = discover(links, feed_links, url)
        return PollResult(items=items, warnings=warnings, received_bytes=len(data),
                          hints=feed_hints(headers, ttl, data), hubs=hubs, self_url=self_url)

    async def close(self) -> None:
        return None


def parse_items(source: Source, data: bytes, url: str | None, headers: dict) -> tuple[list[Item], list[str]]:
    """Bytes of one feed → normalised items and warnings; ``BadInput`` if there is no usable feed."""
    items, warnings, _ttl = parse_with_ttl(source, data, url, headers)
    return items, warnings


def parse_with_ttl(source: Source, data: bytes, url: str | None, headers: dict) -> tuple[list[Item], list[str], object]:
    """``parse_items`` and the channel's ``ttl`` (minutes, as written; None without one)."""
    items, warnings, ttl, _links = parse_document(source, data, url, headers)
    return items, warnings, ttl


def parse_document(source: Source, data: bytes, url: str | None,
                   headers: dict) -> tuple[list[Item], list[str], object, list]:
    """``parse_with_ttl`` and the feed's ``<link>`` elements (feedparser's ``feed.links``: rel, href)."""
    parsed, warnings = parse_feed(data, url=url, headers=headers, name=source.id)
    items, skipped = normalise_feed(parsed, source=source, base_url=url, fetched_at=utcnow(), name=source.id)
    return items, warnings + skipped, parsed.feed.get("ttl"), list(parsed.feed.get("links") or [])


def polled_url(source: Source, state: SourceState) -> str:
    """The configured URL, or where it permanently redirected to while it is still the configured one:
    a URL on the state topic never replaces the configuration on its own."""
    if state.url and state.redirected_from == source.url and is_http(state.url):
        return state.url
    return source.url or ""


def is_http(url: str) -> bool:
    return urlsplit(url).scheme.lower() in ("http", "https")


def read_file(target: str, max_bytes: int, name: str) -> bytes:
    """A local feed file, for ``watchfloor fetch rss PATH`` only (sources are http(s))."""
    path = Path(target[len("file://"):] if target.startswith("file://") else target)
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise FetchError(f"{name}: cannot read {path}: {exc.strerror or type(exc).__name__}",
                         kind="network_error") from None
    if len(data) > max_bytes:
        raise FetchError(f"{name}: file larger than {max_bytes} bytes", kind="too_large")
    return data


def make_adapter(session: aiohttp.ClientSession, settings=None) -> RssSource:
    """Registry factory (``connectors.registry``)."""
    return RssSource(session, settings.rss if settings is not None else RssSettings())
