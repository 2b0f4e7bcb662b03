"""A small real WebSub hub on 127.0.0.1 for the connector's tests (never the internet).

It does what the W3C recommendation asks of a hub, and no more: a subscribe or unsubscribe request
(form POST) is answered 202 and then verified by a GET to the callback with a random challenge, which
the subscriber must echo; ``publish(topic, body)`` POSTs the body to every verified subscriber of the
topic, signed ``X-Hub-Signature: sha256=<HMAC of the body with the subscriber's hub.secret>``. A test
can make it refuse (``refuse_with``), stop delivering (``delivering``), sign with a wrong secret, or
deny a subscription.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import aiohttp
from aiohttp import web


@dataclass
class HubSubscription:
    topic: str
    callback: str
    secret: str
    lease_secs: int
    verified_at: float
    expires_at: float


@dataclass
class LocalHub:
    max_lease_secs: int | None = None
    """Leases granted are capped at this (hubs choose the lease; None grants what is asked)."""
    refuse_with: int | None = None
    """Answer subscription requests with this status (say 400 or 503) instead of 202."""
    delivering: bool = True
    requests: list[dict] = field(default_factory=list)
    """Every subscription request received, with ``at`` (monotonic seconds)."""
    verifications: list[tuple[str, str, int, bool]] = field(default_factory=list)
    """``(mode, callback, status, challenge echoed)`` of every verification of intent sent."""
    subscriptions: dict[tuple[str, str], HubSubscription] = field(default_factory=dict)
    url: str = ""

    async def __aenter__(self) -> "LocalHub":
        app = web.Application()
        app.router.add_post("/hub", self._request)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hub"
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        self._tasks: set[asyncio.Task] = set()
        return self

    async def __aexit__(self, *exc) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._session.close()
        await self._runner.cleanup()

    def active(self, topic: str) -> list[HubSubscription]:
        now = time.monotonic()
        return [s for (t, _c), s in self.subscriptions.items() if t == topic and s.expires_at > now]

    async def _request(self, request: web.Request) -> web.Response:
        form = await request.post()
        entry = {k: form.get(k) for k in ("hub.mode", "hub.topic", "hub.callback", "hub.secret", "hub.lease_seconds")}
        self.requests.append({**entry, "at": time.monotonic()})
        if self.refuse_with is not None:
            return web.Response(status=self.refuse_with, text="refused by the test\n")
        if entry["hub.mode"] not in ("subscribe", "unsubscribe") or not entry["hub.topic"] or not entry["hub.callback"]:
            return web.Response(status=400, text="bad request\n")
        task = asyncio.create_task(self._verify(entry))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.Response(status=202)

    async def _verify(self, entry: dict) -> None:
        mode, topic, callback = entry["hub.mode"], entry["hub.topic"], entry["hub.callback"]
        asked = int(entry["hub.lease_seconds"] or 3600)
        lease = min(asked, self.max_lease_secs) if self.max_lease_secs else asked
        challenge = secrets.token_urlsafe(16)
        query = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if mode == "subscribe":
            query["hub.lease_seconds"] = str(lease)
        async with self._session.get(f"{callback}?{urlencode(query)}") as response:
            echoed = (await response.text()) == challenge
            self.verifications.append((mode, callback, response.status, echoed))
        if not (200 <= response.status < 300 and echoed):
            return
        if mode == "unsubscribe":
            self.subscriptions.pop((topic, callback), None)
            return
        now = time.monotonic()
        self.subscriptions[(topic, callback)] = HubSubscription(
            topic, callback, entry["hub.secret"] or "", lease, now, now + lease)

    async def deny(self, topic: str, callback: str, reason: str = "not allowed") -> int:
        query = urlencode({"hub.mode": "denied", "hub.topic": topic, "hub.reason": reason})
        async with self._session.get(f"{callback}?{query}") as response:
            return response.status

    async def publish(self, topic: str, body: bytes, *, content_type: str = "application/atom+xml",
                      secret: str | None = None, signed: bool = True) -> list[int]:
        """POST ``body`` to every verified subscriber of ``topic``; their statuses (none if not delivering).
        ``secret`` signs with that instead of the subscriber's own (a forgery)."""
        if not self.delivering:
            return []
        statuses = []
        for sub in self.active(topic):
            headers = {"Content-Type": content_type, "Link": f'<{self.url}>; rel="hub", <{topic}>; rel="self"'}
            if signed:
                digest = hmac.new((secret or sub.secret).encode(), body, hashlib.sha256).hexdigest()
                headers["X-Hub-Signature"] = f"sha256={digest}"
            async with self._session.post(sub.callback, data=body, headers=headers) as response:
                statuses.append(response.status)
        return statuses
