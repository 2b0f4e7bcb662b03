"""``watchfloor schemas export DIR``."""

from __future__ import annotations

# Imports inside the handlers are deliberate (start-up time): each command loads only what it runs,
# so `watchfloor --help` and the light commands start without Faust, aiokafka or the rule engine.
from pathlib import Path


def register(sub) -> None:
    parser = sub.add_parser("schemas", help="export the JSON Schema of every message and config document")
    inner = parser.add_subparsers(dest="schemas_command", metavar="ACTION", required=True)
    export = inner.add_parser("export", help="write one JSON Schema file per model into DIR")
    export.add_argument("directory", type=Path, metavar="DIR")
    export.set_defaults(func=_export)


def _export(args) -> int:
    from schemas.export import export

    for path in export(args.directory):
        print(path)
    return 0
