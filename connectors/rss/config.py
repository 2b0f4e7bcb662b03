"""Configuration of the RSS/Atom connector: the limits of one fetch (names with units)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from connectors.http import FetchLimits

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.5"
)


class RssConfig(BaseModel):
    """Limits applied to every feed fetch; defaults suit public news feeds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_deadline_secs: float = Field(30.0, gt=0, description="Total time allowed for one fetch, body included.")
    max_body_bytes: int = Field(5 * 1024 * 1024, gt=0, description="Largest feed body accepted, after decompression.")
    max_redirects: int = Field(5, ge=0, le=20, description="Redirect hops followed before giving up.")
    default_retry_after_secs: float = Field(
        300.0, gt=0, description="Wait after a 429/503 that carries no usable Retry-After.")

    def limits(self) -> FetchLimits:
        return FetchLimits(
            deadline_secs=self.request_deadline_secs,
            max_body_bytes=self.max_body_bytes,
            max_redirects=self.max_redirects,
            default_retry_after_secs=self.default_retry_after_secs,
        )
