"""Helpers for connector tests: real aiohttp servers on 127.0.0.1 (never the internet), and feeds."""

from __future__ import annotations

import inspect
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from email.utils import format_datetime

from aiohttp import web


@asynccontextmanager
async def serve(routes: dict[str, object]):
    """Serve ``{path: handler}`` on a free loopback port; yield the base URL (no trailing slash)."""
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_route("GET", path, _as_coroutine(handler))
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def _as_coroutine(handler):
    """aiohttp deprecates plain functions as handlers; tests write short ones as lambdas."""
    if inspect.iscoroutinefunction(handler):
        return handler

    async def handle(request):
        result = handler(request)
        return await result if inspect.isawaitable(result) else result

    return handle


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


class ThreadedServer:
    """An aiohttp server on its own thread and loop, for synchronous callers (CLI runs, subprocesses)."""

    def __init__(self, routes: dict[str, object]):
        import asyncio
        import threading

        self._routes = routes
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.base = ""

    def __enter__(self) -> "ThreadedServer":
        import asyncio

        self._thread.start()
        self._cm = serve(self._routes)
        self.base = asyncio.run_coroutine_threadsafe(self._cm.__aenter__(), self._loop).result(10)
        return self

    def __exit__(self, *exc) -> None:
        import asyncio

        asyncio.run_coroutine_threadsafe(self._cm.__aexit__(None, None, None), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def corpus_route(root):
    """A handler serving ``root``'s files, with the Content-Type a file's ``Header:`` comment declares."""
    import re
    from pathlib import Path

    header = re.compile(rb"^Header:\s*Content-type:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
    root = Path(root)

    async def handler(request):
        path = (root / request.match_info["path"]).resolve()
        if root.resolve() not in path.parents or not path.is_file():
            return web.Response(status=404)
        data = path.read_bytes()
        found = header.search(data[:1000])
        headers = {"Content-Type": found.group(1).decode("latin-1") if found else "application/xml"}
        return web.Response(body=data, headers=headers)

    return handler
