"""``watchfloor`` command line. Each command group lives in ``watchfloor/commands/<name>.py`` with a
``register(subparsers)`` function; add a module to ``COMMAND_MODULES`` to add a group."""

from __future__ import annotations

import argparse
import functools
import importlib
import logging
import os
import sys

from core.errors import WatchfloorError

COMMAND_MODULES = [
    "watchfloor.commands.core",
    "watchfloor.commands.schemas",
    "watchfloor.commands.fetch",
    "watchfloor.commands.sources",
    "watchfloor.commands.connect",
    "watchfloor.commands.rules",
    "watchfloor.commands.eval",
    "watchfloor.commands.desk",
    "watchfloor.commands.bench",
    "watchfloor.commands.demo",
]


@functools.cache
def build_parser() -> argparse.ArgumentParser:
    """The whole command tree, built once per process: ~40 subparsers cost ~25 ms (argparse looks up
    its translations on disk for each), which a caller of ``main`` in a loop paid every time."""
    parser = argparse.ArgumentParser(
        prog="watchfloor",
        description="Monitoring pipeline for news feeds and Telegram channels: connectors into Kafka, "
        "Faust classification into themes and entities, explained alerts.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not verbose:
        # aiokafka narrates every subscription and group join at INFO; keep its warnings only.
        logging.getLogger("aiokafka").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    try:
        return int(args.func(args) or 0)
    except WatchfloorError as exc:
        print(f"watchfloor: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``watchfloor eval | head``): stop quietly, as other command-line tools do.
        # Python would complain again when it flushes stdout at exit, so stdout is pointed at /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
