"""A local stand-in for t.me's web preview, serving the fixture pages of ``tests/data/telegram`` on
127.0.0.1 the way t.me answers: ``/s/{channel}`` and ``?before=<id>`` pages, a 302 away from
``/s/`` for a channel without preview, 429 with Retry-After when told to."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

DATA = Path(__file__).resolve().parents[2] / "data" / "telegram"


def page(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


@dataclass
class PreviewSite:
    """What the server answers; tests change ``pages`` between polls (an edit, a new post)."""

    pages: dict[tuple[str, str | None], str] = field(default_factory=lambda: {
        ("somechannel", None): "somechannel_page1.html",
        ("somechannel", "112"): "somechannel_page2.html",
        ("somechannel", "113"): "somechannel_page2.html",
        ("somechannel", "105"): "somechannel_page3.html",
        ("emptychannel", None): "emptychannel.html",
    })
    redirected: set[str] = field(default_factory=lambda: {"closedchannel"})
    limited: dict[str, int] = field(default_factory=dict)
    """channel → Retry-After seconds answered with 429."""
    requests: list[str] = field(default_factory=list)

    async def preview(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        before = request.query.get("before")
        self.requests.append(request.path_qs)
        if channel in self.limited:
            return web.Response(status=429, headers={"Retry-After": str(self.limited[channel])})
        if channel in self.redirected:
            raise web.HTTPFound(f"/{channel}")
        name = self.pages.get((channel, before))
        if name is None:
            raise web.HTTPNotFound()
        return web.Response(text=page(name), content_type="text/html", charset="utf-8")

    async def landing(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        return web.Response(text=page("closedchannel.html"), content_type="text/html", charset="utf-8")


@asynccontextmanager
async def serve_preview(site: PreviewSite | None = None):
    """Serve ``site`` on a free loopback port; yield ``(base_url, site)``."""
    site = site or PreviewSite()
    app = web.Application()
    app.router.add_get("/s/{channel}", site.preview)
    app.router.add_get("/{channel}", site.landing)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", site
    finally:
        await runner.cleanup()
