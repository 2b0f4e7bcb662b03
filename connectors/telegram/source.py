"""``TelegramChannelSource``: the web-preview adapter (no credentials)."""

from __future__ import annotations

import asyncio
import codecs
import logging
import re
from urllib.parse import quote, urlsplit

import aiohttp

from connectors.base import PollResult
from connectors.errors import RetryLater
from connectors.hosts import HostRateLimiter
from connectors.http import fetch
from connectors.telegram.channel import NoPublicPreview, channel_of
from connectors.telegram.config import web_limits
from connectors.telegram.page import PreviewPage, parse_preview
from connectors.telegram.post import Post, post_to_item
from core.settings import TelegramSettings
from schemas import Source, SourceState
from schemas.base import utcnow

log = logging.getLogger(__name__)


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

    def __init__(self, session: aiohttp.ClientSession, config: TelegramSettings | None = None,
                 limiter: HostRateLimiter | None = None):
        self.session = session
        self.config = config or TelegramSettings()
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
            response = await fetch(self.session, url, limits=web_limits(self.config), name=source.id,
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
