"""``watchfloor web``: the alert desk (page, Atom, webhooks, /metrics) until SIGTERM or Ctrl-C."""

from __future__ import annotations

# Imports inside the handlers are deliberate (start-up time): each command loads only what it runs,
# so `watchfloor --help` and the light commands start without Faust, aiokafka or the rule engine.
import asyncio
import signal

from core.settings import load_settings


def register(sub) -> None:
    web = sub.add_parser("web", help="run the alert desk: live page, /alerts.atom, webhooks and /metrics")
    web.add_argument("--host", help="address to bind (default WATCHFLOOR_WEB_HOST or 127.0.0.1)")
    web.add_argument("--port", type=int, help="port (default WATCHFLOOR_WEB_PORT or 6066; 0 picks a free one)")
    web.set_defaults(func=_web)
    feedback = sub.add_parser("feedback", help="the desk's 'not relevant' verdicts as labelled examples")
    inner = feedback.add_subparsers(dest="feedback_command", metavar="ACTION", required=True)
    export = inner.add_parser("export", help="write them as a labelled set for `watchfloor eval --set`")
    export.add_argument("--out", default="-", metavar="FILE|-", help="JSON Lines output (default stdout)")
    export.set_defaults(func=_feedback_export)


def _feedback_export(args) -> int:
    import json
    import sys

    from desk.store import feedback_examples

    try:
        examples = feedback_examples(load_settings().data_dir)
    except FileNotFoundError as exc:
        print(f"watchfloor feedback export: {exc}", file=sys.stderr)
        return 2
    text = "".join(json.dumps(example, ensure_ascii=False) + "\n" for example in examples)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write(text)
        print(f"wrote {len(examples)} labelled example(s) to {args.out}", file=sys.stderr)
    return 0


def _web(args) -> int:
    settings = load_settings()
    overrides = {k: v for k, v in (("web_host", args.host), ("web_port", args.port)) if v is not None}
    if overrides:
        settings = settings.model_copy(update=overrides)
    asyncio.run(_serve(settings))
    return 0


async def _serve(settings) -> None:
    from desk.service import Desk
    from desk.webhooks import load_webhooks

    targets = load_webhooks(settings.webhooks_path)  # a bad file stops start-up with one line
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with Desk(settings, targets=targets) as desk:
        print(f"Alert desk: {desk.url}/", flush=True)
        await stop.wait()
