"""``watchfloor eval``: precision, recall and F1 of a rule pack per theme and language on a labelled
set, entity recall, and the misses and false alarms with what matched (``docs/quality.md``)."""

from __future__ import annotations

# Imports inside the handlers are deliberate (start-up time): each command loads only what it runs,
# so `watchfloor --help` and the light commands start without Faust, aiokafka or the rule engine.
import sys
from pathlib import Path

QUALITY = Path(__file__).resolve().parents[2] / "tests" / "data" / "quality"


def default_sets(folder: Path = QUALITY) -> list[Path]:
    """The tuning splits, dev.jsonl … devN.jsonl in order (test.jsonl is held out); ValueError when the
    folder holds none (an installed package without the project's tests)."""
    found = sorted(folder.glob("dev*.jsonl"), key=lambda p: (len(p.name), p.name))
    if not found:
        raise ValueError(f"{folder}: no labelled sets (dev*.jsonl) here; pass --set PATH")
    return found


def register(sub) -> None:
    parser = sub.add_parser("eval", help="measure a rule pack on a labelled set (precision, recall, F1, entities)")
    parser.add_argument("--rules", type=Path, default=None, help="rule pack directory or file (default: the shipped pack)")
    parser.add_argument("--set", dest="sets", type=Path, action="append", default=None, metavar="PATH",
                        help="labelled JSON Lines; repeat to join sets (default: the dev splits, tests/data/quality/dev*.jsonl)")
    parser.add_argument("--feedback", action="store_true",
                        help="also score the desk's 'not relevant' verdicts (the desk store in WATCHFLOOR_DATA_DIR)")
    parser.add_argument("--show", type=int, default=20, help="misses and false alarms listed of each kind (default 20)")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object on the last line")
    parser.set_defaults(func=_eval)


def _eval(args) -> int:
    from streams.rules import compile_pack, load_pack
    from streams.rules.evaluate import evaluate, read_sets, render, to_json

    try:
        items = read_sets(args.sets or default_sets())
        if args.feedback:
            items += desk_feedback()
    except (ValueError, FileNotFoundError) as exc:
        print(f"watchfloor eval: {exc}", file=sys.stderr)
        return 2
    report = evaluate(compile_pack(load_pack(args.rules)), items)
    print(render(report, show=args.show))
    if args.json:
        print(to_json(report))
    return 0


def desk_feedback() -> list:
    """The desk's 'not relevant' verdicts (the desk store in the data directory) as labelled items."""
    from core.settings import load_settings
    from desk.store import feedback_examples
    from streams.rules.evaluate import LabelledItem

    return [LabelledItem.model_validate(example) for example in feedback_examples(load_settings().data_dir)]
