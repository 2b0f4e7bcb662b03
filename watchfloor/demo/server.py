"""A local HTTP server that plays the demo set: RSS feeds at ``/feeds/{feed}.xml`` and Telegram web
previews at ``/s/{channel}``, in the same markup as t.me. Each story appears ``at_secs`` after the
server started, so a new user watches items arrive and alerts fire. Loopback only."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from pathlib import Path

import yaml
from aiohttp import web

STORIES_PATH = Path(__file__).with_name("stories.yaml")
PAGE_SIZE = 20
FIRST_MESSAGE_ID = 1000


@dataclass(frozen=True)
class Story:
    number: int
    source: str
    at_secs: float
    text: str
    title: str = ""


class DemoSet:
    def __init__(self, path: Path = STORIES_PATH, *, started: float | None = None, speed: float = 1.0):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.feeds: dict = data["feeds"]
        self.channels: dict = data["channels"]
        self.stories = [Story(number=i, **s) for i, s in enumerate(data["stories"])]
        self.started = time.time() if started is None else started
        self.speed = speed

    def released(self, source: str, now: float | None = None) -> list[Story]:
        elapsed = ((now or time.time()) - self.started) * self.speed
        return [s for s in self.stories if s.source == source and s.at_secs <= elapsed]

    def published_at(self, story: Story) -> datetime:
        return datetime.fromtimestamp(self.started + story.at_secs / self.speed, tz=timezone.utc)

    def sources_yaml(self, base_url: str, poll_interval_secs: float) -> str:
        """The demo's source list, pointing at this server."""
        sources = [
            {"id": f"demo-{feed}", "type": "rss", "url": f"{base_url}/feeds/{feed}.xml", "name": meta["title"],
             "lang": meta["lang"], "poll_interval_secs": poll_interval_secs, "tags": ["demo"]}
            for feed, meta in self.feeds.items()
        ] + [
            {"id": f"demo-tg-{channel}", "type": "telegram", "channel": channel, "base_url": base_url,
             "name": meta["title"], "poll_interval_secs": poll_interval_secs, "tags": ["demo"]}
            for channel, meta in self.channels.items()
        ]
        return yaml.safe_dump({"sources": sources}, allow_unicode=True, sort_keys=False)


def render_rss(demo: DemoSet, feed: str, base_url: str) -> str:
    meta = demo.feeds[feed]
    items = []
    for story in reversed(demo.released(feed)):
        link = f"{base_url}/articles/{feed}/{story.number}"
        items.append(
            f"<item><title>{escape(story.title)}</title><link>{link}</link>"
            f"<guid isPermaLink=\"false\">demo-{feed}-{story.number}</guid>"
            f"<pubDate>{format_datetime(demo.published_at(story))}</pubDate>"
            f"<description>{escape(story.text)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(meta['title'])}</title><link>{base_url}/</link><language>{meta['lang']}</language>"
        f"<description>watchfloor demo feed</description>{''.join(items)}</channel></rss>\n"
    )


def render_preview(demo: DemoSet, channel: str, before: int | None) -> str:
    posts = [(FIRST_MESSAGE_ID + s.number, s) for s in demo.released(channel)]
    if before is not None:
        posts = [p for p in posts if p[0] < before]
    page = posts[-PAGE_SIZE:]
    title = escape(demo.channels[channel]["title"])
    messages = "".join(_message_html(demo, channel, title, mid, story) for mid, story in page)
    more = ""
    if page and page[0][0] > FIRST_MESSAGE_ID:
        more = f'<a class="tme_messages_more js-messages_more" data-before="{page[0][0]}" href="/s/{channel}?before={page[0][0]}"></a>'
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title} – Telegram</title></head>'
        f'<body class="widget_frame_base tgme_webpreview"><section class="tgme_channel_history js-message_history">'
        f"{more}{messages}</section></body></html>"
    )


def _message_html(demo: DemoSet, channel: str, title: str, mid: int, story: Story) -> str:
    when = demo.published_at(story).isoformat()
    return (
        '<div class="tgme_widget_message_wrap js-widget_message_wrap">'
        f'<div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="{channel}/{mid}">'
        '<div class="tgme_widget_message_bubble">'
        f'<div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" '
        f'href="https://t.me/{channel}"><span dir="auto">{title}</span></a></div>'
        f'<div class="tgme_widget_message_text js-message_text" dir="auto">{escape(story.text)}</div>'
        '<div class="tgme_widget_message_footer compact js-message_footer"><div class="tgme_widget_message_info short js-message_info">'
        f'<span class="tgme_widget_message_views">{1000 + 37 * mid % 900}</span><span class="copyonly"> views</span>'
        f'<span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" href="https://t.me/{channel}/{mid}">'
        f'<time datetime="{when}" class="time">{when[11:16]}</time></a></span></div></div></div></div></div>'
    )


def make_app(demo: DemoSet) -> web.Application:
    async def feed(request: web.Request) -> web.Response:
        name = request.match_info["feed"]
        if name not in demo.feeds:
            raise web.HTTPNotFound()
        base = f"{request.scheme}://{request.host}"
        return web.Response(text=render_rss(demo, name, base), content_type="application/rss+xml")

    async def preview(request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        if channel not in demo.channels:
            raise web.HTTPFound(f"/{channel}")
        before = request.query.get("before")
        html = render_preview(demo, channel, int(before) if before and before.isdigit() else None)
        return web.Response(text=html, content_type="text/html")

    async def article(request: web.Request) -> web.Response:
        return web.Response(text="<!DOCTYPE html><p>watchfloor demo article</p>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/feeds/{feed}.xml", feed)
    app.router.add_get("/s/{channel}", preview)
    app.router.add_get("/articles/{feed}/{number}", article)
    return app


def backdated(demo: DemoSet, secs: float) -> DemoSet:
    """The same demo as if it had started ``secs`` ago (tests use it to release everything)."""
    demo.started -= secs
    return demo


__all__ = ["DemoSet", "make_app", "backdated", "timedelta"]
