"""Helpers for connector tests: real aiohttp servers on 127.0.0.1 (never the internet), and feeds."""

from __future__ import annotations

from contextlib import asynccontextmanager
from email.utils import format_datetime
from datetime import datetime, timezone

from aiohttp import web


@asynccontextmanager
async def serve(routes: dict[str, object]):
    """Serve ``{path: handler}`` on a free loopback port; yield the base URL (no trailing slash)."""
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_route("GET", path, handler)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def rss(*entries: tuple[str, str, str], lang: str = "en") -> bytes:
    """An RSS 2.0 document with ``(guid, title, description)`` entries, newest first."""
    day = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
    parts = []
    for n, (guid, title, text) in enumerate(entries):
        date = format_datetime(day.replace(hour=12 - n))
        parts.append(
            f"<item><guid>{guid}</guid><title>{title}</title><link>https://news.example/{guid}</link>"
            f"<description>{text}</description><pubDate>{date}</pubDate></item>"
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Test</title>'
        f"<language>{lang}</language><link>https://news.example/</link>{''.join(parts)}</channel></rss>"
    ).encode("utf-8")
