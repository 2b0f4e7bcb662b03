"""``watchfloor connect`` as a real process against the embedded broker: sources from the YAML file
and the sources topic, items on the raw topic, /metrics served, a clean exit on SIGTERM; then
``watchfloor sources status`` shows the health it stored."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import urllib.request

from aiohttp import web

from connectors.sources import publish_source
from schemas import Item, Source
from tests.conftest import consume_until
from tests.connectors.rss_helpers import rss, serve


def env_for(settings, sources_file) -> dict[str, str]:
    return {
        **os.environ,
        "WATCHFLOOR_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "WATCHFLOOR_TOPIC_PREFIX": settings.topic_prefix,
        "WATCHFLOOR_TOPIC_PARTITIONS": "2",
        "WATCHFLOOR_SOURCES_PATH": str(sources_file),
        "WATCHFLOOR_CONNECT_METRICS_PORT": "0",
        "WATCHFLOOR_FETCH_ALLOWED_NETWORKS": json.dumps(settings.fetch_allowed_networks),
    }


async def read_metrics_port(proc, seen: list[str]) -> int:
    while True:
        line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
        seen.append(line)
        assert line, "connect exited before serving metrics: " + "".join(seen)
        found = re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", line)
        if found:
            return int(found.group(1))


async def test_connect_polls_file_and_topic_sources_serves_metrics_and_stops_on_sigterm(settings, topics, tmp_path):
    one = rss(("a", "Referendum date set", "x"), ("b", "Sanctions", "y"))
    two = rss(("c", "Shelling reported", "z"))
    routes = {"/one": lambda r: web.Response(body=one, content_type="application/rss+xml"),
              "/two": lambda r: web.Response(body=two, content_type="application/rss+xml")}
    async with serve({p: _handler(f) for p, f in routes.items()}) as base:
        sources_file = tmp_path / "sources.yaml"
        sources_file.write_text(f"sources:\n  - {{id: wire-one, type: rss, url: '{base}/one'}}\n")
        await publish_source(settings, "wire-two", Source(id="wire-two", type="rss", url=f"{base}/two"))
        env = env_for(settings, sources_file)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "watchfloor", "connect", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        seen: list[str] = []
        try:
            port = await read_metrics_port(proc, seen)
            records = await consume_until(settings, topics["items_raw"], lambda r: len(r) >= 3, timeout_secs=30)
            metrics = await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/metrics")
        finally:
            proc.send_signal(signal.SIGTERM)
            rest = await asyncio.wait_for(proc.stderr.read(), 30)
            code = await asyncio.wait_for(proc.wait(), 30)
    log = "".join(seen) + rest.decode()
    assert code == 0 and "Connector stopped." in log and "Traceback" not in log, log
    assert sorted(Item.from_bytes(r.value).title for r in records) == [
        "Referendum date set", "Sanctions", "Shelling reported"]
    assert 'watchfloor_items_emitted_total{source_type="rss"} 3.0' in metrics

    status = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "watchfloor", "sources", "status", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(status.communicate(), 30)
    rows = {line.split()[0]: line.split() for line in out.decode().splitlines()[1:]}
    assert status.returncode == 0, err.decode()
    assert rows["wire-one"][1:3] == ["rss", "active"] and rows["wire-two"][1:3] == ["rss", "active"]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def _handler(make):
    async def handler(request):
        return make(request)
    return handler
