"""``TelegramChannelSource``: the web-preview adapter (no credentials), and ``make_adapter``, the
registry's factory, which serves each telegram source with the adapter its ``Source.adapter`` names."""

from __future__ import annotations

import asyncio
import codecs
import logging
import re
from urllib.parse import quote, urlsplit

import aiohttp

from connectors.base import PollResult, SourceAdapter
from connectors.errors import BadInput, ConnectorError, RetryLater
from connectors.http import fetch
from connectors.telegram.config import TelegramWebConfig
from connectors.telegram.page import PreviewPage, parse_preview
from connectors.telegram.post import Post, post_to_item
from connectors.telegram.ratelimit import HostRateLimiter
from schemas import Source, SourceState
from schemas.base import utcnow
from watchfloor.errors import ConfigError

log = logging.getLogger(__name__)
_CHANNEL = re.compile(r"^[A-Za-z0-9_]{1,64}$")


class NoPublicPreview(BadInput):
    """The channel shows no public web preview (t.me redirects away from ``/s/``, or the page has
    no messages): a property of the source, retried only at its normal interval."""

    kind = "no_preview"
    stage = "fetch"


def is_channel_name(name: str) -> bool:
    return bool(_CHANNEL.match(name))


def channel_of(source: Source) -> str:
    channel = (source.channel or "").strip().lstrip("@")
    if not is_channel_name(channel):
        raise BadInput(f"{source.id}: channel {source.channel!r} is not a Telegram username (letters, digits, '_')")
    return channel


class TelegramChannelSource:
    """Reads a public channel through ``{source.base_url}/s/{channel}``, newest page first.

    Lifecycle: built with the shared ``aiohttp`` session (not owned) and its config → ``poll`` once
    per due source, never concurrently for one source → ``close``. ``poll`` pages backwards with
    ``?before=<id>`` until it reaches ``state.cursor`` or the page cap (``source.backfill_pages``
    on the first run, ``config.max_pages`` after), and returns every post of those pages oldest
    first, posts at or below the cursor included, so that the loop sees edits of recent posts and
    emits them as new revisions. ``PollResult.cursor`` is the highest message id seen.
    Requests are spaced per host (``HostRateLimiter``); a 429 reschedules the source (``RetryLater``).
    """

    source_type = "telegram"

    def __init__(self, session: aiohttp.ClientSession, config: TelegramWebConfig | None = None,
                 limiter: HostRateLimiter | None = None):
        self.session = session
        self.config = config or TelegramWebConfig()
        self.limiter = limiter or HostRateLimiter(
            self.config.host_min_interval_secs, self.config.host_jitter_secs, self.config.max_host_wait_secs)

    async def poll(self, source: Source, state: SourceState) -> PollResult:
        channel = channel_of(source)
        pages = source.backfill_pages if state.cursor is None else self.config.max_pages
        posts: dict[int, Post] = {}
        seen_ids: list[int] = []
        result = PollResult()
        before: int | None = None
        for number in range(pages):
            page, size = await self._page(source, channel, before)
            result.received_bytes += size
            result.warnings.extend(page.warnings)
            if number == 0 and not page.message_ids:
                raise NoPublicPreview(f"{source.id}: channel {channel} shows no messages in its public preview")
            posts.update((p.message_id, p) for p in page.posts)
            seen_ids.extend(page.message_ids)
            if not _older_page_needed(page, before, state.cursor):
                break
            before = page.before
        fetched_at = utcnow()
        result.items = [post_to_item(posts[i], source_id=source.id, fetched_at=fetched_at, lang=source.lang)
                        for i in sorted(posts)]
        result.cursor = max(seen_ids + [state.cursor or 0]) or None
        return result

    async def _page(self, source: Source, channel: str, before: int | None) -> tuple[PreviewPage, int]:
        url = f"{source.base_url.rstrip('/')}/s/{quote(channel)}" + (f"?before={before}" if before else "")
        host = urlsplit(url).netloc
        await self.limiter.acquire(host, source.id)
        try:
            response = await fetch(self.session, url, limits=self.config.limits(), name=source.id,
                                   accept="text/html,application/xhtml+xml")
        except RetryLater as exc:
            self.limiter.defer(host, exc.retry_after_secs)
            raise
        landed = urlsplit(response.url).path
        if not landed.startswith("/s/"):
            raise NoPublicPreview(f"{source.id}: channel {channel} has no public preview (redirected to {landed})")
        body = response.body.decode(_charset(response.headers), errors="replace")
        # Parsing is CPU work on input we do not control: keep it off the event loop.
        page = await asyncio.to_thread(parse_preview, body, channel)
        return page, len(response.body)

    async def close(self) -> None:
        return None


def _older_page_needed(page: PreviewPage, before: int | None, cursor: int | None) -> bool:
    if page.before is None or not page.message_ids:
        return False  # the start of the channel
    if cursor is not None and page.message_ids[0] <= cursor + 1:
        return False  # every id above the cursor is on the pages read so far
    return before is None or page.before < before  # a link that does not go back would loop


def _charset(headers) -> str:
    match = re.search(r"charset=\"?([\w-]+)", headers.get("Content-Type", "") if headers else "")
    try:
        return codecs.lookup(match.group(1)).name if match else "utf-8"
    except LookupError:
        return "utf-8"


class TelegramAdapter:
    """The registry's one telegram adapter: each source is polled by the adapter its
    ``Source.adapter`` names. The MTProto adapter is built on first use, so a process without
    Telethon or without credentials still polls its web-preview sources."""

    source_type = "telegram"

    def __init__(self, web: TelegramChannelSource, mtproto: SourceAdapter | None = None):
        self.web = web
        self._mtproto = mtproto

    async def poll(self, source: Source, state: SourceState) -> PollResult:
        if source.adapter == "mtproto":
            return await self._mtproto_adapter(source).poll(source, state)
        return await self.web.poll(source, state)

    def _mtproto_adapter(self, source: Source) -> SourceAdapter:
        if self._mtproto is None:
            try:
                from connectors.telegram.mtproto import TelegramMtprotoSource
                from connectors.telegram.config import load_mtproto_config

                self._mtproto = TelegramMtprotoSource(load_mtproto_config())
                log.info("Built the MTProto adapter for telegram sources with adapter: mtproto.")
            except ImportError:
                raise ConnectorError(f"{source.id}: the MTProto adapter needs Telethon: "
                                     "pip install 'watchfloor[telegram]'", kind="http_error") from None
            except ConfigError as exc:
                raise BadInput(f"{source.id}: the MTProto adapter is not configured: {exc}") from None
        return self._mtproto

    async def close(self) -> None:
        await self.web.close()
        if self._mtproto is not None:
            await self._mtproto.close()


def make_adapter(session: aiohttp.ClientSession, settings=None) -> TelegramAdapter:
    """Registry factory (``connectors.registry``): web config from ``WATCHFLOOR_TELEGRAM_*``."""
    return TelegramAdapter(TelegramChannelSource(session, TelegramWebConfig()))
