"""The contract between the shared polling loop and each connector.

A connector supplies only "fetch and parse one source" (``SourceAdapter.poll``). The loop
(``connectors.loop``) owns everything else: scheduling, the global concurrency limit, backoff,
dedupe against ``SourceState.recent``, producing to Kafka, and advancing the state only after the
broker acknowledged the items.

Lifecycle of an adapter: constructed with its config and the shared HTTP session → ``poll`` called
once per due source, never concurrently for the same source → ``close`` at shutdown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from connectors.cadence import Hints
from schemas import Item, Source, SourceState


@dataclass
class PollResult:
    """What one poll found. ``items`` oldest first; the loop dedupes and assigns revisions."""

    items: list[Item] = field(default_factory=list)
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    new_url: str | None = None
    """Set after a permanent redirect: the loop stores it as the source's URL."""
    cursor: int | None = None
    """Telegram: the highest message id seen."""
    warnings: list[str] = field(default_factory=list)
    """Non-fatal problems (a bozo feed that still had entries), logged and counted by the loop."""
    received_bytes: int = 0
    """Body bytes fetched (after decompression), for ``watchfloor_fetch_received_bytes_total``."""
    hints: Hints = field(default_factory=Hints)
    """What the publisher says about polling it (max-age, ttl, skipHours)."""
    hubs: list[str] = field(default_factory=list)
    """WebSub hubs the feed advertises (``Link: rel="hub"`` headers, else ``<link rel="hub">`` in the
    document), absolute http(s) URLs in the publisher's order; ``connectors.websub`` subscribes to the first."""
    self_url: str | None = None
    """The feed's own canonical URL (``rel="self"``): the WebSub topic, when it advertises a hub."""


class SourceAdapter(Protocol):
    source_type: str

    async def poll(self, source: Source, state: SourceState) -> PollResult:
        """Fetch and parse one source. Raise a ``connectors.errors`` error on failure."""
        ...

    async def close(self) -> None: ...
