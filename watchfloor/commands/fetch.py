"""``watchfloor fetch rss|telegram``: fetch one source and print its items as JSON Lines, no broker.

Exit 0 on success; on failure exit 2 with one line on stderr naming the source and the reason.
"""

from __future__ import annotations

# Imports inside the handlers are deliberate (start-up time): each command loads only what it runs,
# so `watchfloor --help` and the light commands start without Faust, aiokafka or the rule engine.


def register(sub) -> None:
    parser = sub.add_parser("fetch", help="fetch one feed or channel and print its items as JSON Lines")
    inner = parser.add_subparsers(dest="fetch_command", metavar="KIND", required=True)

    rss = inner.add_parser("rss", help="fetch an RSS/Atom feed (URL or local file)")
    rss.add_argument("target", metavar="URL_OR_PATH")
    rss.set_defaults(func=_rss)

    tg = inner.add_parser("telegram", help="fetch a public Telegram channel through its web preview")
    tg.add_argument("channel", metavar="CHANNEL")
    tg.add_argument("--base-url", default="https://t.me", help="preview base URL (default https://t.me)")
    tg.add_argument("--pages", type=int, default=1, help="pages to read backwards (default 1)")
    tg.set_defaults(func=_telegram)


def _rss(args) -> int:
    from connectors.rss.cli import fetch_command

    return fetch_command(args)


def _telegram(args) -> int:
    from connectors.telegram.cli import fetch_command

    return fetch_command(args)
