"""``watchfloor demo serve``: serve the demo feeds and channels (``watchfloor run --demo`` uses it)."""

from __future__ import annotations

# Imports inside the handlers are deliberate (start-up time): each command loads only what it runs,
# so `watchfloor --help` and the light commands start without Faust, aiokafka or the rule engine.
from pathlib import Path


def register(sub) -> None:
    demo = sub.add_parser("demo", help="serve the shipped demo feeds and Telegram channels on a local port")
    inner = demo.add_subparsers(dest="demo_command", metavar="ACTION", required=True)
    serve = inner.add_parser("serve", help="serve the demo set until Ctrl-C; print the base URL")
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    serve.add_argument("--sources-out", type=Path, help="write the matching sources YAML here")
    serve.add_argument("--poll-interval-secs", type=float, default=3.0, help="poll interval in that sources file")
    serve.set_defaults(func=_serve)


def _serve(args) -> int:
    import asyncio

    from aiohttp import web

    from watchfloor.demo.server import DemoSet, make_app

    demo = DemoSet()

    async def main() -> None:
        runner = web.AppRunner(make_app(demo), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", args.port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        if args.sources_out:
            args.sources_out.parent.mkdir(parents=True, exist_ok=True)
            args.sources_out.write_text(demo.sources_yaml(base, args.poll_interval_secs), encoding="utf-8")
        print(base, flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    return 0
