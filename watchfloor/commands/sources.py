"""``watchfloor sources list|add|remove|status``: the configured sources and their health.

``add``/``remove`` edit the YAML file named by WATCHFLOOR_SOURCES_PATH (the shipped list is
read-only), or, with ``--topic``, publish to the compacted sources topic (a tombstone removes).
``status`` reads the source-state topic and prints one row per source.
"""

from __future__ import annotations

# Imports inside the handlers are deliberate (start-up time): each command loads only what it runs,
# so `watchfloor --help` and the light commands start without Faust, aiokafka or the rule engine.
import asyncio
from datetime import datetime
from urllib.parse import urlsplit

from core.errors import ConfigError, WatchfloorError
from core.settings import load_settings


def register(sub) -> None:
    parser = sub.add_parser("sources", help="list, add, remove sources, or show their health")
    inner = parser.add_subparsers(dest="sources_command", metavar="ACTION", required=True)

    listing = inner.add_parser("list", help="list the configured sources")
    listing.add_argument("--topic", action="store_true", help="include the sources topic (needs Kafka)")
    listing.set_defaults(func=_list)

    add = inner.add_parser("add", help="add a source")
    add.add_argument("id")
    add.add_argument("--type", choices=["rss", "telegram"], default="rss")
    add.add_argument("--url", help="feed URL (rss)")
    add.add_argument("--channel", help="channel username without '@' (telegram)")
    add.add_argument("--interval", type=float, dest="poll_interval_secs", help="seconds between polls")
    add.add_argument("--lang", help="language to assume when the source declares none")
    add.add_argument("--name", help="display name")
    add.add_argument("--tag", action="append", dest="tags", help="a label (repeatable)")
    add.add_argument("--disabled", action="store_true", help="add it disabled")
    add.add_argument("--topic", action="store_true", help="publish to the sources topic instead of the file")
    add.set_defaults(func=_add)

    remove = inner.add_parser("remove", help="remove a source")
    remove.add_argument("id")
    remove.add_argument("--topic", action="store_true", help="publish a tombstone to the sources topic")
    remove.set_defaults(func=_remove)

    inner.add_parser("status", help="health of every source, from the source-state topic").set_defaults(func=_status)


def _list(args) -> int:
    from connectors.sources import load_sources

    settings = load_settings()
    rows = [(s.id, s.type, "yes" if s.enabled else "no",
             f"{s.poll_interval_secs:g}s" if s.poll_interval_secs is not None else "adaptive", s.url or f"@{s.channel}")
            for s in asyncio.run(load_sources(settings, use_topic=args.topic))]
    print_table(("ID", "TYPE", "ENABLED", "INTERVAL", "URL/CHANNEL"), rows)
    return 0


def _new_source(args):
    from pydantic import ValidationError

    from core.settings import describe_validation_error
    from schemas import Source

    fields = {k: getattr(args, k) for k in ("url", "channel", "poll_interval_secs", "lang", "name", "tags")
              if getattr(args, k) is not None}
    try:
        return Source(id=args.id, type=args.type, enabled=not args.disabled, **fields)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, f"source {args.id!r}: ")) from None


def _editable_file(settings):
    if settings.sources_path is None:
        raise WatchfloorError("sources: the shipped list is read-only; set WATCHFLOOR_SOURCES_PATH to a file "
                              "(a copy of connectors/default_sources.yaml, say) or use --topic")
    return settings.sources_path


def _add(args) -> int:
    from connectors.sources import load_sources_file, publish_source, save_sources_file

    settings = load_settings()
    source = _new_source(args)
    if args.topic:
        asyncio.run(publish_source(settings, source.id, source))
    else:
        path = _editable_file(settings)
        sources = load_sources_file(path) if path.exists() else []
        if any(s.id == source.id for s in sources):
            raise WatchfloorError(f"sources: {path} already has a source {source.id!r}; remove it first")
        save_sources_file(path, [*sources, source])
    print(f"added {source.id}")
    return 0


def _remove(args) -> int:
    from connectors.sources import load_sources_file, publish_source, save_sources_file

    settings = load_settings()
    if args.topic:
        asyncio.run(publish_source(settings, args.id, None))
    else:
        path = _editable_file(settings)
        sources = load_sources_file(path)
        kept = [s for s in sources if s.id != args.id]
        if len(kept) == len(sources):
            raise WatchfloorError(f"sources: {path} has no source {args.id!r}")
        save_sources_file(path, kept)
    print(f"removed {args.id}")
    return 0


def _status(args) -> int:
    from connectors.health import health_label
    from connectors.sources import load_sources
    from connectors.state import read_states

    settings = load_settings()

    async def gather():
        return await load_sources(settings), await read_states(settings)

    sources, states = asyncio.run(gather())
    rows = []
    for source in sources:
        state = states.pop(source.id, None)
        rows.append(_status_row(source.id, source.type, health_label(source, state), state))
    for source_id, state in sorted(states.items()):  # state left behind by a removed source
        rows.append(_status_row(source_id, "-", "unconfigured", state))
    print_table(STATUS_COLUMNS, rows)
    return 0


STATUS_COLUMNS = ("ID", "TYPE", "STATE", "LAST SUCCESS", "LAST ERROR", "FAILURES", "NEXT POLL", "INTERVAL", "CADENCE",
                  "LAST ITEM DELAY", "MOVED TO", "POLLED BY", "PUSH")


def _status_row(source_id, kind, label, state) -> tuple:
    if state is None:
        return (source_id, kind, label, "-", "-", "0", "-", "-", "-", "-", "-", "-", "-")
    error = f"{state.last_error_kind}: {state.last_error}" if state.last_error else "-"
    # A permanent redirect, shown without its query string (it may carry a key).
    moved = urlsplit(state.url)._replace(query="", fragment="").geturl() if state.redirected_from and state.url else "-"
    return (source_id, kind, label, _when(state.last_success_at), _clip(error, 60),
            str(state.consecutive_failures), _when(state.next_poll_at), _secs(state.interval_secs),
            _secs(state.cadence_secs), _secs(state.last_item_delay_secs), moved, state.polled_by or "-", _push(state))


def _push(state) -> str:
    """WebSub: ``-`` without a hub; else the subscription's state, with the lease's end while active."""
    if not state.push_hub:
        return "-"
    if state.push_state == "active" and state.push_lease_until is not None:
        return f"active to {_when(state.push_lease_until)}"
    return state.push_state


def _secs(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 3600:.1f}h" if value >= 3600 else f"{value / 60:.1f}m" if value >= 60 else f"{value:.0f}s"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_table(header: tuple, rows: list[tuple]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    try:
        for row in (header, *rows):
            print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    except BrokenPipeError:
        pass  # the reader went away (``| head``)
