"""Fixtures of the fault tests: the stream fixtures (``run_pipeline``, ``rules_file``), a local RSS
server whose feeds the test edits while it runs, and processes started with a test's settings.

The fault of a worker killed with SIGKILL mid-stream is tested in
``tests/streams/test_two_workers.py`` (every item classified, no alert id twice); the tests here
cover the connector, the broker, poison messages and bad configuration.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from aiohttp import web

from tests.streams.conftest import rules_file, run_pipeline  # noqa: F401  (fixtures used here)


def rss_feed(entries: list[tuple[str, str]]) -> bytes:
    """RSS 2.0 with ``(guid, text)`` entries; the newest first, one minute apart."""
    day = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
    parts = [
        f"<item><guid>{guid}</guid><title>Item {guid}</title><link>https://news.example/{guid}</link>"
        f"<description>{text}</description><pubDate>{format_datetime(day - timedelta(minutes=n))}</pubDate></item>"
        for n, (guid, text) in enumerate(entries)
    ]
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
            f"<language>en</language><link>https://news.example/</link>{''.join(parts)}</channel></rss>").encode()


class Feeds:
    """Feeds served at ``/<name>``; ``hold(name)`` makes requests wait until ``release(name)``."""

    def __init__(self):
        self.entries: dict[str, list[tuple[str, str]]] = {}
        self.hits: dict[str, int] = {}
        self.held: dict[str, asyncio.Event] = {}
        self.arrived: dict[str, asyncio.Event] = {}

    def hold(self, name: str) -> None:
        self.held[name] = asyncio.Event()
        self.arrived[name] = asyncio.Event()

    def release(self, name: str) -> None:
        self.held.pop(name).set()

    async def handler(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.hits[name] = self.hits.get(name, 0) + 1
        if name in self.held:
            self.arrived[name].set()
            await self.held[name].wait()
        body = rss_feed(list(reversed(self.entries.get(name, []))))
        return web.Response(body=body, content_type="application/rss+xml")


@asynccontextmanager
async def serve_feeds(feeds: Feeds):
    app = web.Application()
    app.router.add_get("/{name}", feeds.handler)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    finally:
        for name in list(feeds.held):
            feeds.release(name)
        await runner.cleanup()


def process_env(settings, **extra) -> dict[str, str]:
    return {
        **os.environ,
        "WATCHFLOOR_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "WATCHFLOOR_TOPIC_PREFIX": settings.topic_prefix,
        "WATCHFLOOR_TOPIC_PARTITIONS": str(settings.topic_partitions),
        "WATCHFLOOR_DATA_DIR": str(settings.data_dir),
        "WATCHFLOOR_KAFKA_IDEMPOTENCE": "off",
        "WATCHFLOOR_WORKER_METRICS_PORT": "-1",
        "WATCHFLOOR_CONNECT_METRICS_PORT": "-1",
        "WATCHFLOOR_ALERT_COOLDOWN_SECS": "0",
        "WATCHFLOOR_FETCH_ALLOWED_NETWORKS": json.dumps(settings.fetch_allowed_networks),
        **extra,
    }


def start(command: str, env: dict[str, str], log_path) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "watchfloor", command], env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def stop(proc: subprocess.Popen) -> int | None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    return proc.returncode
