"""A small server-sent-events reader for tests (what EventSource does, minus reconnecting)."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp


async def read_events(session: aiohttp.ClientSession, url: str, count: int, *, last_event_id: str | None = None,
                      timeout_secs: float = 20.0) -> list[dict]:
    """Connect to ``url`` and return the first ``count`` events as {event, id, data}."""
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    events: list[dict] = []
    current: dict = {}
    deadline = time.monotonic() + timeout_secs
    async with session.get(url, headers=headers) as response:
        assert response.status == 200, response.status
        assert response.headers["Content-Type"].startswith("text/event-stream")
        while len(events) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"got {len(events)} of {count} events from {url}")
            line = await asyncio.wait_for(response.content.readline(), remaining)
            if not line:
                raise EOFError(f"stream ended after {len(events)} events")
            text = line.decode("utf-8").rstrip("\n")
            if not text:
                if "data" in current:
                    current["data"] = json.loads(current["data"])
                    events.append(current)
                current = {}
            elif not text.startswith(":") and ":" in text:
                field, value = text.split(":", 1)
                current[field] = value[1:] if value.startswith(" ") else value
    return events
