"""The WebSub callback server: the HTTP side of ``connectors.websub``'s subscriptions.

Hubs send two kinds of request to ``<callback_url>/<token>``:

- GET, a verification of intent (``hub.mode=subscribe|unsubscribe`` with ``hub.challenge``, echoed with
  200 only for a subscription this process asked for, with the same ``hub.topic``; 404 otherwise) or a
  denial (``hub.mode=denied``);
- POST, content distribution: a feed document signed ``X-Hub-Signature: <method>=<hex HMAC of the
  body>`` with the subscription's secret (sha1, sha256, sha384 or sha512, compared in constant time).
  A missing or wrong signature is answered 202 as the recommendation allows (a forger learns nothing),
  the body ignored, one line logged and the push counted; a good one is handed to the subscriber.
  A token no longer held gets 410 Gone, which lets the hub drop the subscription.

The port is reachable by any web page open in a browser on the same machine, so before that every
request is checked: an unknown ``Host`` is refused with 421 (DNS rebinding), any ``Origin`` header with
403 (hubs send none), a POST that is not a feed type with 415 and a body over ``max_body_bytes`` with
413. Replies are ``text/plain`` with ``nosniff``: an echoed challenge is never read as a page. There is
no access log, since the paths carry the subscription tokens.

Lifecycle: ``CallbackServer(config, subscriptions, metrics)`` → ``start()`` (binds ``host``:``port``,
returns the port) → ``stop()``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from aiohttp import web

from core.metrics import ConnectorMetrics
from core.settings import WebSubSettings, is_loopback


class Pushed(Protocol):
    """What the callback reads of one subscription (``connectors.websub.Subscription``)."""

    source_id: str
    topic: str
    secret: str
    leaving_since: datetime | None


class Subscriptions(Protocol):
    """What the callback asks of the subscriber whose callbacks it serves (``connectors.websub.
    WebSubSubscriber``): it finds a subscription by its token and reports what the hub said."""

    def by_token(self, token: str) -> Pushed | None: ...
    def wants(self, sub) -> bool: ...
    def denied(self, sub, reason: str) -> None: ...
    def unsubscribed(self, sub) -> None: ...
    def verified(self, sub, lease: str) -> None: ...
    async def ingest(self, sub, body: bytes, content_type: str) -> str: ...

log = logging.getLogger(__name__)

FEED_TYPES = frozenset({"application/atom+xml", "application/rss+xml", "application/xml", "text/xml"})
SIGNATURES = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
MAX_CHALLENGE_CHARS = 1024


def signature_ok(header: str | None, body: bytes, secret: str) -> bool:
    """Whether ``X-Hub-Signature`` (``method=hex``) is the HMAC of ``body`` with ``secret`` (constant time)."""
    method, _, given = (header or "").strip().partition("=")
    digest = SIGNATURES.get(method.strip().lower())
    if digest is None or not given:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode("utf-8", "replace"))


class CallbackServer:
    """Serves the callback of every subscription of one ``WebSubSubscriber``."""

    def __init__(self, config: WebSubSettings, subscriptions: Subscriptions, metrics: ConnectorMetrics):
        self.config = config
        self.subscriptions = subscriptions
        self.metrics = metrics
        public = urlsplit(config.callback_url or "")
        names = {public.hostname or ""}
        if config.host not in ("0.0.0.0", "::", ""):
            names.add(config.host)
        self.hosts = frozenset(n.lower() for n in names if n)
        self.path = public.path.rstrip("/")
        self._runner: web.AppRunner | None = None

    async def start(self) -> int:
        app = web.Application(middlewares=[self._guard], client_max_size=self.config.max_body_bytes)
        app.router.add_get(f"{self.path}/{{token}}", self._verify)
        app.router.add_post(f"{self.path}/{{token}}", self._receive)
        app.on_response_prepare.append(_plain_headers)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.config.host, self.config.port).start()
        return self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _guard(self, request: web.Request, handler):
        host = _host_name(request.host)
        if not (is_loopback(host) or host in self.hosts):
            self._count("refused")
            raise web.HTTPMisdirectedRequest(text=f"unknown host name {host[:100]!r}\n")
        if "Origin" in request.headers:  # hubs send none; a page in a browser on this machine does
            self._count("refused")
            raise web.HTTPForbidden(text="requests from web pages are refused\n")
        return await handler(request)

    async def _verify(self, request: web.Request) -> web.Response:
        """A hub's verification of intent (subscribe, unsubscribe) or its denial."""
        query = request.query
        mode, topic, challenge = query.get("hub.mode"), query.get("hub.topic"), query.get("hub.challenge", "")
        sub = self.subscriptions.by_token(request.match_info["token"])
        if sub is None or topic != sub.topic:
            raise web.HTTPNotFound(text="no such subscription\n")
        wanted = self.subscriptions.wants(sub)
        if mode == "denied" and wanted:
            self.subscriptions.denied(sub, query.get("hub.reason", ""))
            return web.Response(text="")
        if not challenge or len(challenge) > MAX_CHALLENGE_CHARS:
            raise web.HTTPNotFound(text="no challenge\n")
        if mode == "unsubscribe" and sub.leaving_since is not None:
            self.subscriptions.unsubscribed(sub)
            return web.Response(text=challenge)
        if mode == "subscribe" and wanted:
            self.subscriptions.verified(sub, query.get("hub.lease_seconds", ""))
            return web.Response(text=challenge)
        raise web.HTTPNotFound(text="not asked for\n")

    async def _receive(self, request: web.Request) -> web.Response:
        """Content a hub distributes: checked here, then ingested by the subscriber like a poll's."""
        if request.content_type not in FEED_TYPES:
            self._count("refused")
            raise web.HTTPUnsupportedMediaType(text="this callback accepts RSS and Atom documents only\n")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            self._count("refused")
            raise
        sub = self.subscriptions.by_token(request.match_info["token"])
        if sub is None or sub.leaving_since is not None:
            self._count("unknown")
            raise web.HTTPGone(text="no such subscription\n")
        header = request.headers.get("X-Hub-Signature")
        if not signature_ok(header, body, sub.secret):
            self._count("bad_signature")
            log.warning("Source %s: ignored content pushed with a %s signature.", sub.source_id,
                        "wrong" if header else "missing")
            return web.Response(status=202)
        outcome = await self.subscriptions.ingest(sub, body, request.headers.get("Content-Type", ""))
        self._count(outcome)
        if outcome in ("unknown", "failed"):  # not polled here now (a rebalance), or Kafka away: sent again
            raise web.HTTPServiceUnavailable(text="not receiving this source now\n")
        return web.Response(status=202)

    def _count(self, outcome: str) -> None:
        self.metrics.websub_notifications.labels(outcome).inc()


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


async def _plain_headers(request: web.Request, response: web.StreamResponse) -> None:
    # An echoed challenge must never be read as a page by a browser.
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
