"""The RSS/Atom connector's configuration: its settings section (``core.settings.RssSettings``,
``WATCHFLOOR_RSS_*``) turned into the limits of one fetch, and what a feed request accepts."""

from __future__ import annotations

from connectors.http import FetchLimits
from core.settings import RssSettings

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.5"
)


def rss_limits(config: RssSettings) -> FetchLimits:
    return FetchLimits(
        deadline_secs=config.request_deadline_secs,
        max_body_bytes=config.max_body_bytes,
        max_redirects=config.max_redirects,
        default_retry_after_secs=config.default_retry_after_secs,
    )
