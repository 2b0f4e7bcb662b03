"""A real local webhook receiver (aiohttp on 127.0.0.1) that verifies signatures like a user would."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from desk.webhooks import verify


@dataclass
class Received:
    alert_id: str
    body: bytes
    headers: dict
    signature_ok: bool


@dataclass
class WebhookReceiver:
    """POST /hook/{name}: records each request; answers with the next status of ``script[name]``
    (then 200). A status of 0 means: hang until the sender's timeout."""

    secrets: dict[str, str]
    script: dict[str, list[int]] = field(default_factory=dict)
    received: dict[str, list[Received]] = field(default_factory=dict)
    runner: web.AppRunner | None = None
    port: int = 0

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{name}"

    def delivered(self, name: str) -> list[str]:
        """Alert ids this endpoint accepted (answered 2xx), in order."""
        return [r.alert_id for r in self.received.get(name, []) if r.headers.get("X-Answered") == "200"]

    async def _handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.read()
        status = self.script.get(name, []).pop(0) if self.script.get(name) else 200
        headers = dict(request.headers)
        headers["X-Answered"] = str(status)
        ok = verify(body, request.headers, self.secrets[name])
        self.received.setdefault(name, []).append(Received(request.headers.get("X-Watchfloor-Alert-Id", ""), body,
                                                           headers, ok))
        if status == 0:
            await asyncio.sleep(30)
        return web.Response(status=status or 200, text="ok")

    async def __aenter__(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/hook/{name}", self._handle)
        self.runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc) -> None:
        await self.runner.cleanup()
