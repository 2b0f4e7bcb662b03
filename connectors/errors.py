"""Connector errors with a defined meaning (Benthos-style sentinels). The polling loop acts on the
class; the message is one line naming the source and the reason.

- ``RetryLater``: the source asked us to wait (429/503 with Retry-After, Telegram FloodWait).
- ``SourceGone``: never poll again (410 Gone); the source is disabled.
- ``BadInput``: the fetched document is unusable; counted, no retry sooner than the interval.
- ``FetchError``: transport trouble (timeout, DNS, 5xx); exponential backoff with full jitter.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every connector error. ``kind`` is a short label from ``FETCH_OUTCOMES``."""

    kind = "http_error"
    stage = "fetch"

    def __init__(self, message: str, *, kind: str | None = None):
        super().__init__(message)
        if kind is not None:
            self.kind = kind


class FetchError(ConnectorError):
    kind = "network_error"


class RetryLater(ConnectorError):
    kind = "rate_limited"

    def __init__(self, message: str, retry_after_secs: float, *, kind: str | None = None):
        super().__init__(message, kind=kind)
        self.retry_after_secs = retry_after_secs


class SourceGone(ConnectorError):
    kind = "gone"


class BadInput(ConnectorError):
    kind = "parse_error"
    stage = "parse"
