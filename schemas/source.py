"""``Source`` (config: what to poll) and ``SourceState`` (the connector's cursor and health)."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from schemas.base import ConfigDocument, Message, SourceType, UtcDatetime

_ID = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,127}$")
PushState = Literal["none", "pending", "active", "denied", "lapsed"]


class Source(ConfigDocument):
    """One feed or channel to poll, as written in ``sources.yaml`` or on ``watchfloor.sources.v1``."""

    schema_version: Literal[1] = 1
    id: str = Field(description="Unique id: lower case letters, digits, '_', '.', ':' and '-'.")
    type: SourceType = Field(description="'rss' for RSS/Atom feeds, 'telegram' for public channels.")
    url: str | None = Field(None, description="Feed URL (rss): http or https only.")
    channel: str | None = Field(None, description="Channel username (telegram), without '@'.")
    base_url: str = Field("https://t.me", description="Telegram web preview base (telegram, web adapter).")
    adapter: Literal["web", "mtproto"] = Field("web", description="Telegram adapter (telegram only).")
    poll_interval_secs: float | None = Field(
        None, gt=0, description="Seconds between polls when healthy, fixed. Unset: adaptive, learned from how "
        "often the source publishes (connectors/cadence.py).")
    min_interval_secs: float | None = Field(
        None, gt=0, description="Adaptive schedule: the shortest interval (unset: WATCHFLOOR_POLLING_ADAPTIVE_MIN_SECS).")
    max_interval_secs: float | None = Field(
        None, gt=0, description="Adaptive schedule: the longest interval (unset: WATCHFLOOR_POLLING_ADAPTIVE_MAX_SECS).")
    backfill_pages: int = Field(1, ge=1, le=100, description="Telegram preview pages read on the first run.")
    enabled: bool = Field(True, description="Disabled sources are not polled.")
    lang: str | None = Field(None, description="Language to assume when the source declares none.")
    name: str | None = Field(None, description="Display name.")
    tags: list[str] = Field(default_factory=list, description="Free labels for filtering on the desk.")

    @model_validator(mode="after")
    def _check(self) -> "Source":
        if not _ID.match(self.id):
            raise ValueError(f"id {self.id!r} must match {_ID.pattern}")
        if self.type == "rss" and not self.url:
            raise ValueError("an rss source needs 'url'")
        if self.url is not None and urlsplit(self.url).scheme.lower() not in ("http", "https"):
            raise ValueError(f"url {self.url[:80]!r} must be an http or https URL")
        if self.type == "telegram" and not self.channel:
            raise ValueError("a telegram source needs 'channel'")
        return self


class SeenItem(Message):
    item_id: str
    content_hash: str
    revision: int = 0


class SourceState(Message):
    """Per-source cursor and health, compacted on ``watchfloor.source-state.v1`` keyed by source id.

    Written only after the broker acknowledged the items it accounts for.
    """

    schema_version: Literal[1] = 1
    source_id: str
    url: str | None = Field(None, description="Current URL (updated after a permanent redirect).")
    redirected_from: str | None = Field(
        None, description="The configured URL that permanently redirected to ``url``; ``url`` is polled only "
        "while the source is still configured with it.")
    etag: str | None = None
    last_modified: str | None = None
    cursor: int | None = Field(None, description="Telegram: highest message id emitted.")
    recent: list[SeenItem] = Field(
        default_factory=list, description="Bounded list of recently emitted items, newest last."
    )
    consecutive_failures: int = 0
    last_success_at: UtcDatetime | None = None
    last_error_at: UtcDatetime | None = None
    last_error: str | None = None
    last_error_kind: str | None = None
    next_poll_at: UtcDatetime | None = None
    disabled: bool = Field(False, description="True after a 410 Gone or an operator action.")
    disabled_reason: str | None = None
    items_emitted_total: int = 0
    updated_at: UtcDatetime | None = None
    interval_secs: float | None = Field(
        None, description="Adaptive schedule: the interval the last successful poll chose (jitter included).")
    cadence_secs: float | None = Field(
        None, description="Median gap between the publication times of the source's newest items.")
    skip_hours: list[int] = Field(
        default_factory=list, description="UTC hours the feed asks not to be polled in (RSS skipHours).")
    gaps_secs: list[float] = Field(
        default_factory=list, description="Gaps between the publication times of the source's newest items, "
        "shortest first: the adaptive schedule's idea of when the next item comes.")
    newest_item_at: UtcDatetime | None = Field(
        None, description="Publication time of the newest item the source carried (one with a real timestamp).")
    last_item_delay_secs: float | None = Field(
        None, description="For the newest item of the last poll or push that emitted any: seconds from its "
        "publication to its emission (how fresh the source is kept).")
    polled_by: str | None = Field(
        None, description="The connector process that wrote this state (host:pid): with several "
        "`watchfloor connect` processes, which one polls the source.")
    push_hub: str | None = Field(
        None, description="WebSub: the hub the feed advertised at its last full fetch (link rel=hub), if any.")
    push_topic: str | None = Field(
        None, description="WebSub: the feed's own URL (link rel=self) it advertised with the hub: the topic "
        "subscribed to (unset: the polled URL).")
    push_state: PushState = Field(
        "none", description="WebSub subscription of the process polling the source: none, pending (asked, not "
        "verified), active (verified: polled only at its slowest interval), denied (the hub refused), lapsed "
        "(lease ran out or pushes stopped: polled normally).")
    push_lease_until: UtcDatetime | None = Field(None, description="WebSub: when the verified lease ends.")
    push_last_at: UtcDatetime | None = Field(None, description="WebSub: when the hub last pushed content.")
