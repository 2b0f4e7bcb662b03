"""Signed webhook delivery with retry, driven by the delivery log in the alert store.

Wire format, the Standard Webhooks specification: ``POST`` of the alert JSON (the stored body, byte
for byte) with ``Content-Type: application/json``, ``webhook-id`` (the alert id: the same on every
retry, so a receiver drops what it has seen), ``webhook-timestamp`` (Unix seconds of this attempt)
and ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``, plus
``X-Watchfloor-Attempt``. Id, time and body are signed together, so a captured delivery cannot be
replayed once the receiver's tolerance window (5 minutes in the standard libraries) has passed.

The secret is the endpoint's ``secret_env`` value: a ``whsec_…`` base64 secret, as the standard
libraries generate and expect, or any other string of at least 16 characters, used as its UTF-8
bytes. ``docs/security.md`` shows a receiver.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from urllib.parse import quote

import aiohttp
import yaml
from pydantic import SecretStr, ValidationError
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from core import __version__
from core.errors import ConfigError
from core.metrics import DeskMetrics
from core.netpolicy import AddressPolicy, AddressRefused
from core.settings import describe_validation_error
from desk.filters import AlertFilter
from desk.store import AlertStore, StoredAlert
from schemas import Alert, WebhookConfig, WebhookEndpoint
from schemas.base import utcnow

log = logging.getLogger(__name__)
MAX_RESPONSE_BYTES = 4096  # of a receiver's answer body; the rest is discarded unread

CONCURRENCY_PER_ENDPOINT = 4
STOP_GRACE_SECS = 5.0
"""How long a stopping desk waits for the webhook deliveries in flight to be answered."""
OUTBOX_PAGE = 100  # deliveries read from the outbox at a time


@dataclass(frozen=True)
class WebhookTarget:
    """An endpoint with its filter and its secret resolved from the environment."""

    endpoint: WebhookEndpoint
    secret: SecretStr

    @property
    def name(self) -> str:
        return self.endpoint.name

    @cached_property
    def filter(self) -> AlertFilter:
        return AlertFilter.for_endpoint(self.endpoint)

    def wants(self, alert: Alert) -> bool:
        return self.filter.matches(alert)


def load_webhooks(path: Path | None) -> list[WebhookTarget]:
    """Read the webhooks file and resolve each secret; any problem is one ``ConfigError`` line
    naming the file and the field (a secret's value is never part of it)."""
    if path is None:
        return []
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        config = WebhookConfig.model_validate(document)
        return [WebhookTarget(endpoint, endpoint.secret()) for endpoint in config.webhooks]
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the webhooks file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, prefix=f"{path}: ")) from None
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def signer(secret: SecretStr) -> Webhook:
    """The Standard Webhooks signer for a secret (see the module docstring for its two forms)."""
    value = secret.get_secret_value()
    key = value if value.startswith("whsec_") else value.encode("utf-8")
    return Webhook(key)


def standard_headers(msg_id: str, body: bytes, secret: SecretStr, now: float | None = None) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    signature = signer(secret).sign(msg_id, datetime.fromtimestamp(timestamp, timezone.utc), body.decode("utf-8"))
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def verify(body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """What a receiver does (any Standard Webhooks library does the same): check the signature over
    id, timestamp and body, and that the timestamp is within five minutes of now."""
    try:
        signer(SecretStr(secret)).verify(body, dict(headers), json_parse=False)
        return True
    except (WebhookVerificationError, ValueError):
        return False


class AttemptFailed(Exception):
    """One delivery attempt failed; ``permanent`` means retrying cannot help (a 4xx answer)."""

    def __init__(self, reason: str, permanent: bool = False):
        super().__init__(reason)
        self.permanent = permanent


class WebhookDispatcher:
    """Delivers every pending row of the delivery log, per endpoint, with exponential backoff.

    Lifecycle: ``start`` (also resumes deliveries left pending by a previous run) → ``notify``
    after new alerts are stored → ``stop``. Each alert is delivered once per endpoint: the log row
    is closed as soon as the endpoint answered 2xx, and a closed row is never sent again. After
    ``max_attempts`` failures, or a 4xx answer other than 408/429, the row is marked failed.
    """

    def __init__(self, store: AlertStore, targets: list[WebhookTarget], metrics: DeskMetrics, *,
                 policy: AddressPolicy):
        self.store = store
        self.targets = targets
        self.metrics = metrics
        self._wake = {t.name: asyncio.Event() for t in targets}
        self._tasks: list[asyncio.Task] = []
        self._closing = False
        self._session: aiohttp.ClientSession | None = None
        self.policy = policy

    def endpoints_for(self, alert: Alert) -> list[str]:
        return [t.name for t in self.targets if t.wants(alert)]

    async def start(self) -> None:
        # Receivers are reached under the same address policy as feeds (core.netpolicy).
        self._session = self.policy.session(headers={"User-Agent": f"watchfloor-desk/{__version__}"})
        self._tasks = [asyncio.create_task(self._endpoint_loop(t), name=f"webhook-{t.name}") for t in self.targets]
        for target in self.targets:
            log.info("Webhook %s is configured (min severity %s).", target.name, target.endpoint.min_severity)

    def notify(self) -> None:
        for event in self._wake.values():
            event.set()

    async def stop(self, grace_secs: float = STOP_GRACE_SECS) -> None:
        """Stop after the deliveries in flight are answered and recorded (up to ``grace_secs``): one
        cancelled between the receiver's answer and its record would be sent again after a restart."""
        self._closing = True
        for wake in self._wake.values():
            wake.set()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=grace_secs)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self._tasks = []
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _endpoint_loop(self, target: WebhookTarget) -> None:
        """Page through the endpoint's outbox: deliver every due delivery once (a few at a time),
        record the outcome with its own next attempt time, and go on with the next page; with nothing
        due, sleep until the earliest retry or until a new alert arrives."""
        limit = asyncio.Semaphore(CONCURRENCY_PER_ENDPOINT)
        wake = self._wake[target.name]
        while not self._closing:
            wake.clear()
            page = await asyncio.to_thread(self.store.due, target.name, OUTBOX_PAGE)
            if page:
                await asyncio.gather(*(self._deliver(target, stored, attempts, limit) for stored, attempts in page))
                continue
            upcoming = await asyncio.to_thread(self.store.next_due, target.name)
            timeout = None if upcoming is None else max(0.01, (upcoming - utcnow()).total_seconds())
            try:
                await asyncio.wait_for(wake.wait(), timeout)
            except TimeoutError:
                pass

    async def _deliver(self, target: WebhookTarget, stored: StoredAlert, attempts: int,
                       limit: asyncio.Semaphore) -> None:
        endpoint, alert_id = target.endpoint, stored.alert.alert_id
        async with limit:
            if self._closing:  # stopping: not sent now, sent after the restart
                return
            error = await self._attempt(target, stored, attempts + 1)
        attempts += 1
        give_up = error is not None and (error.permanent or attempts >= endpoint.max_attempts)
        delay = min(endpoint.backoff_initial_secs * 2 ** (attempts - 1), endpoint.backoff_max_secs)
        await asyncio.to_thread(self.store.record_attempt, alert_id, target.name, delivered=error is None,
                                error=None if error is None else str(error), give_up=give_up,
                                retry_after_secs=delay)
        if error is None:
            self.metrics.webhook_deliveries.labels("delivered").inc()
        elif give_up:
            self.metrics.webhook_deliveries.labels("failed").inc()
            log.error("Webhook %s gave up on alert %s after %d attempts: %s.", target.name, alert_id, attempts, error)
        else:
            self.metrics.webhook_deliveries.labels("retry").inc()
            log.warning("Webhook %s failed for alert %s (attempt %d of %d: %s); retrying in %.1fs.",
                        target.name, alert_id, attempts, endpoint.max_attempts, error, delay)

    async def _attempt(self, target: WebhookTarget, stored: StoredAlert, attempt: int) -> AttemptFailed | None:
        body = stored.body.encode("utf-8")
        # quote(): an alert id is data; it must never be able to break the header line.
        msg_id = quote(stored.alert.alert_id, safe=":/._-@")
        headers = {
            "Content-Type": "application/json",
            **standard_headers(msg_id, body, target.secret),
            "X-Watchfloor-Alert-Id": msg_id,
            "X-Watchfloor-Attempt": str(attempt),
        }
        timeout = aiohttp.ClientTimeout(total=target.endpoint.timeout_secs)
        assert self._session is not None, "WebhookDispatcher.start() was not called"
        try:
            # The URL is never logged or stored: chat webhooks carry their credential in the path.
            async with self._session.post(target.endpoint.url, data=body, headers=headers, timeout=timeout,
                                          allow_redirects=False) as response:
                # Only the status matters. Read a little (so a small answer keeps the connection
                # reusable) and drop the rest unread: a receiver answering 300 MB costs us 4 KB.
                await response.content.read(MAX_RESPONSE_BYTES)
                if not response.content.at_eof():
                    response.close()
                if 200 <= response.status < 300:
                    return None
                permanent = 400 <= response.status < 500 and response.status not in (408, 429)
                return AttemptFailed(f"HTTP {response.status}", permanent=permanent)
        except TimeoutError:
            return AttemptFailed(f"timed out after {target.endpoint.timeout_secs:g}s")
        except AddressRefused as exc:  # names the host only, never the URL; retrying cannot help
            return AttemptFailed(f"refused by the address policy: {exc}", permanent=True)
        except aiohttp.ClientError as exc:
            return AttemptFailed(f"connection failed ({type(exc).__name__})")
