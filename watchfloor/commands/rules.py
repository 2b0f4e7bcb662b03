"""``watchfloor classify`` and the ``watchfloor rules`` group (``check``, ``explain``, ``push``, ``train``,
``backtest``).

``classify`` reads JSON Lines (``text``; optional ``id``, ``title``, ``lang``) and writes one JSON line
per input line, in order. A line that cannot be classified gets ``{"line": N, "error": "..."}`` in
its place and a one-line message on stderr, and the others still go through; the exit status is 1
when any line failed.
"""

from __future__ import annotations

# Imports inside the handlers are deliberate (start-up time): each command loads only what it runs,
# so `watchfloor --help` and the light commands start without Faust, aiokafka or the rule engine.
import json
import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)

_RULES_GROUP = "_watchfloor_rules_group"


def register(sub) -> None:
    classify = sub.add_parser("classify", help="classify JSON Lines items with a rule pack")
    classify.add_argument("--rules", type=Path, metavar="PATH",
                          help="rule file or directory (default: the pack shipped with watchfloor)")
    classify.add_argument("input", nargs="?", default="-", metavar="FILE|-", help="JSON Lines input (default stdin)")
    classify.set_defaults(func=_classify)

    inner = rules_subparsers(sub)
    check = inner.add_parser("check", help="validate a rule pack; errors name the file and line")
    check.add_argument("path", type=Path, metavar="PATH")
    check.set_defaults(func=_check)
    explain = inner.add_parser("explain", help="show what matched and what was missing for each theme and trigger")
    explain.add_argument("path", type=Path, nargs="?", metavar="PATH", help="rule pack (default: the shipped pack)")
    explain.add_argument("--text", required=True, help="the document text")
    explain.add_argument("--title", help="optional title (offsets then index title + newline + text)")
    explain.add_argument("--lang", help="the item's declared language (en, ru, uk), as classify reads it")
    explain.set_defaults(func=_explain)
    push = inner.add_parser("push", help="validate a rule pack and publish it; every worker switches within seconds")
    push.add_argument("path", type=Path, metavar="PATH", help="rule file or directory")
    push.set_defaults(func=_push)
    train = inner.add_parser("train", help="train the pack's learned model on labelled passages (the 'train' extra)")
    train.add_argument("path", type=Path, nargs="?", metavar="PATH", help="rule pack directory (default: the shipped pack)")
    train.add_argument("--set", dest="sets", type=Path, action="append", default=None, metavar="PATH",
                       help="labelled JSON Lines; repeat to join sets (default: the dev splits, as watchfloor eval)")
    train.add_argument("--out", type=Path, default=None, help="model file to write (default: PATH/model.json)")
    train.add_argument("--min-precision", type=float, default=0.95,
                       help="precision the cross-validated threshold of each theme must keep (default 0.95)")
    train.add_argument("--theme-precision", action="append", default=[], metavar="THEME=P",
                       help="a floor for one theme in place of --min-precision (repeatable), e.g. escalation=0.90")
    train.add_argument("--repeats", type=int, default=5,
                       help="cross-validation repeats; each bar is the median of theirs (default 5; 1 is quicker "
                            "and lets the bars follow one split's chance)")
    train.add_argument("--features", choices=("lemma-ngrams-concepts-v2", "lemma-ngrams-v1"),
                       default="lemma-ngrams-concepts-v2",
                       help="feature set (default v2: lemmas, their character n-grams and pairs, and the pack's concepts)")
    train.add_argument("--held-out", action="store_true",
                       help="write nothing; score each set with a model trained on the other sets (at least two)")
    train.set_defaults(func=_train)
    backtest = inner.add_parser(
        "backtest", help="what a changed pack would have raised and dropped on the items of the raw topic")
    backtest.add_argument("path", type=Path, metavar="PATH", help="the candidate rule pack")
    backtest.add_argument("--since", type=duration_secs, default=7 * 86400.0, metavar="DURATION",
                          help="items published to the raw topic within this time, e.g. 90m, 12h, 7d (default 7d)")
    backtest.add_argument("--baseline", type=Path, default=None, metavar="PATH",
                          help="compare against this pack (default: the pack in use: the newest on the rules "
                               "topic, else WATCHFLOOR_RULES_PATH or the shipped pack)")
    backtest.add_argument("--examples", type=int, default=3, help="items listed per trigger and direction (default 3)")
    backtest.add_argument("--json", action="store_true", help="print the result as one JSON object on the last line")
    backtest.set_defaults(func=_backtest)
    suggest = inner.add_parser(
        "suggest", help="propose exclusions and weight changes from the desk's 'not relevant' verdicts, measured")
    suggest.add_argument("path", type=Path, nargs="?", metavar="PATH", help="rule pack (default: the shipped pack)")
    suggest.add_argument("--verdicts", type=Path, action="append", default=None, metavar="PATH",
                         help="verdicts as `watchfloor feedback export` writes them; repeat to join (default: "
                              "the desk store in WATCHFLOOR_DATA_DIR)")
    suggest.add_argument("--set", dest="sets", type=Path, action="append", default=None, metavar="PATH",
                         help="labelled sets that measure what a change costs (default: the dev splits)")
    suggest.add_argument("--top", type=int, default=5, help="changes proposed per theme (default 5)")
    suggest.add_argument("--json", action="store_true", help="print the result as one JSON object on the last line")
    suggest.set_defaults(func=_suggest)


def rules_subparsers(sub):
    """The ``rules`` group's sub-parsers, created once, so other modules can add actions to it."""
    existing = getattr(sub, _RULES_GROUP, None)
    if existing is None:
        parser = sub.add_parser("rules", help="check, explain (and publish) rule packs")
        existing = parser.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
        setattr(sub, _RULES_GROUP, existing)
    return existing


def _push(args) -> int:
    import asyncio

    from core.settings import load_settings
    from streams.rules.publish import prepare_pack, publish_pack

    settings = load_settings()
    pack = prepare_pack(args.path)  # an invalid pack stops here, before anything is published
    version = asyncio.run(publish_pack(settings, pack))
    print(f"published rule pack {pack.name!r} version {version}")
    return 0


def _check(args) -> int:
    from streams.rules import read_pack

    pack, problems = read_pack(args.path, warnings=True)
    for problem in problems:
        print(problem)
    errors = [p for p in problems if not p.warning]
    if errors:
        print(f"{len(errors)} problem(s) in {args.path}")
        return 1
    print(f"ok: {len(pack.themes)} themes, {sum(len(t.terms) for t in pack.themes)} terms, "
          f"{len(pack.entities)} entities, {len(pack.triggers)} triggers; version {pack.version}"
          + (f"; {len(problems)} warning(s)" if problems else ""))
    return 0


def _explain(args) -> int:
    from streams.rules import compile_pack, load_pack

    rules = compile_pack(load_pack(args.path))
    sys.stdout.write(rules.explain(args.text, title=args.title, lang=args.lang).render())
    return 0


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_secs(text: str) -> float:
    """``90m``, ``12h``, ``7d``, ``30s`` (or plain seconds) as seconds; argparse shows a ValueError as
    "invalid duration_secs value"."""
    text = text.strip().lower()
    number, unit = (text[:-1], text[-1]) if text[-1:] in _UNITS else (text, "s")
    value = float(number) * _UNITS[unit]
    if not 0 < value < float("inf"):  # also refuses nan
        raise ValueError(text)
    return value


def _suggest(args) -> int:
    import json

    from streams.rules import compile_pack, load_pack
    from streams.rules.evaluate import read_sets
    from streams.rules.suggest import render, suggest
    from watchfloor.commands.eval import default_sets, desk_feedback

    try:
        verdicts = read_sets(args.verdicts) if args.verdicts else desk_feedback()
        labelled = read_sets(args.sets or default_sets())
    except (ValueError, FileNotFoundError) as exc:
        print(f"watchfloor rules suggest: {exc}", file=sys.stderr)
        return 2
    report = suggest(compile_pack(load_pack(args.path)), verdicts, labelled, top=args.top)
    print(render(report))
    if args.json:
        print(json.dumps({"verdicts": report.verdicts,
                          "firing": {theme: [i.id for i in items] for theme, items in report.firing.items()},
                          "model_only": {theme: [i.id for i in items] for theme, items in report.model_only.items()},
                          "suggestions": [s.as_dict() for s in report.suggestions]}, ensure_ascii=False))
    return 0


def _backtest(args) -> int:
    import asyncio
    import time

    from core.kafka import read_since
    from core.settings import load_settings
    from schemas import Item, RulePack
    from schemas.topics import TOPICS
    from streams.rules import compile_pack, load_pack
    from streams.rules.backtest import backtest

    settings = load_settings()
    candidate = compile_pack(load_pack(args.path))

    async def read():
        rules = [] if args.baseline else await read_since(settings, TOPICS["rules"].name(settings.topic_prefix))
        since_ms = int((time.time() - args.since) * 1000)
        raw = await read_since(settings, TOPICS["items_raw"].name(settings.topic_prefix), since_ms)
        return rules, raw

    try:
        rules_records, raw = asyncio.run(read())
    except TimeoutError as exc:
        print(f"watchfloor rules backtest: {exc}", file=sys.stderr)
        return 1
    pushed = [r for r in rules_records if r.value is not None]
    if args.baseline is not None:
        baseline, where = compile_pack(load_pack(args.baseline)), str(args.baseline)
    elif pushed:
        baseline, where = compile_pack(RulePack.model_validate_json(pushed[-1].value)), "the rules topic"
    else:
        baseline = compile_pack(load_pack(settings.rules_path))
        where = str(settings.rules_path) if settings.rules_path else "the shipped pack"
    items, invalid = [], 0
    for record in raw:
        try:
            items.append(Item.model_validate_json(record.value))
        except ValueError:
            invalid += 1
    report = backtest(baseline, candidate, items)
    print(f"baseline: {where}; items: the raw topic since {args.since:g} s ago"
          + (f" ({invalid} undecodable records skipped)" if invalid else ""))
    sys.stdout.write(report.render(args.examples))
    if args.json:
        print(report.to_json())
    return 0


def _train(args) -> int:
    from streams.rules import DEFAULT_PACK, compile_pack, load_pack
    from streams.rules.evaluate import read_sets

    try:
        from streams.rules.train import check_floors, train_model
    except ImportError as exc:
        print(f"watchfloor rules train: needs the 'train' extra (pip install 'watchfloor[train]'): {exc}", file=sys.stderr)
        return 2
    from watchfloor.commands.eval import default_sets

    pack_dir = args.path or DEFAULT_PACK
    if args.repeats < 1:
        print(f"watchfloor rules train: --repeats must be 1 or more, not {args.repeats}", file=sys.stderr)
        return 2
    try:
        sets = args.sets or default_sets()
        items = read_sets(sets)
    except ValueError as exc:
        print(f"watchfloor rules train: {exc}", file=sys.stderr)
        return 2
    try:
        args.floors = theme_floors(args.theme_precision)
    except ValueError as exc:
        print(f"watchfloor rules train: --theme-precision {exc}", file=sys.stderr)
        return 2
    # The thresholds are chosen against the terms alone: a model already in the pack is left out.
    rules = compile_pack(load_pack(args.path).model_copy(update={"model": None}))
    try:
        check_floors(rules, args.floors)
    except ValueError as exc:
        print(f"watchfloor rules train: --theme-precision {exc} ({pack_dir})", file=sys.stderr)
        return 2
    if args.held_out:
        return _held_out(rules, sets, args)
    names = ", ".join(p.name for p in sets)
    model = train_model(rules, items, min_precision=args.min_precision, theme_precision=args.floors,
                        features=args.features, repeats=args.repeats, trained_on=f"{len(items)} labelled passages ({names})")
    out = args.out or Path(pack_dir) / "model.json"
    out.write_text(json.dumps({"model": model.model_dump(exclude_none=True)}, ensure_ascii=False) + "\n", encoding="utf-8")
    thresholds = ", ".join(f"{theme} {spec.threshold:g}"
                           + (f" ({spec.with_terms:g} with part of its terms)" if spec.with_terms is not None else "")
                           + (f" ({spec.vetoed:g} where an exclusion vetoed a term)" if spec.vetoed is not None else "")
                           + (f" ({spec.caution:g} where a caution context matched)" if spec.caution is not None else "")
                           for theme, spec in model.themes.items()) or "none"
    print(f"wrote {out}: a model for {len(model.themes)} theme(s) from {len(items)} passages; thresholds {thresholds}")
    return 0


def theme_floors(pairs: list[str]) -> dict[str, float]:
    """``["escalation=0.90", ...]`` as ``{"escalation": 0.9}``; ValueError naming the pair that is not
    THEME=P with P between 0 and 1."""
    floors: dict[str, float] = {}
    for pair in pairs:
        theme, _, value = pair.partition("=")
        theme = theme.strip()
        try:
            floor = float(value)
        except ValueError:
            floor = -1.0
        if not theme or not 0.0 < floor <= 1.0:
            raise ValueError(f"{pair!r}: expected THEME=P with P in (0, 1], e.g. escalation=0.90")
        if theme in floors:
            raise ValueError(f"{pair!r}: {theme} is given twice")
        floors[theme] = floor
    return floors


def _held_out(rules, sets: list[Path], args) -> int:
    from streams.rules.evaluate import read_set, render
    from streams.rules.train import held_out

    if len(sets) < 2:
        print("watchfloor rules train --held-out: needs at least two sets (repeat --set)", file=sys.stderr)
        return 2
    pooled, each = held_out(rules, {p.name: read_set(p) for p in sets},
                            min_precision=args.min_precision, theme_precision=args.floors, features=args.features,
                            repeats=args.repeats)
    for name, report in each.items():
        print(f"{name}: macro F1 {report.macro_f1:.3f} on {report.items} passages, model trained on the other sets")
    print(f"\nPooled, features {args.features}:")
    # The errors listed are each made by a model that never saw the passage: where to look next.
    print(render(pooled))
    return 0


def classification_record(item_id, result) -> dict:
    """The ``classify`` output line for one item, in the issue's documented shape."""
    span = ("text", "start", "end")
    return {
        "id": item_id,
        "themes": [{"theme": t.theme, "score": t.score, "matches": [m.model_dump(include=set(span)) for m in t.matches]}
                   for t in result.themes],
        "entities": [{"id": e.id, "name": e.name, "type": e.type,
                      "mentions": [m.model_dump(include=set(span)) for m in e.mentions]} for e in result.entities],
        "triggers": [{"id": t.id, "severity": t.severity} for t in result.triggers],
        "rules_version": result.version,
    }


def _classify_line(rules, line: str) -> dict:
    item = json.loads(line)
    if not isinstance(item, dict):
        raise ValueError("expected a JSON object")
    text = item.get("text")
    if not isinstance(text, str):
        raise ValueError("field 'text' is missing or not a string")
    title = item.get("title")
    if title is not None and not isinstance(title, str):
        raise ValueError("field 'title' is not a string")
    return classification_record(item.get("id"), rules.classify(text, title=title, lang=item.get("lang")))


def _classify(args) -> int:
    from streams.rules import compile_pack, load_pack

    rules = compile_pack(load_pack(args.rules))
    source = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8")
    name = "stdin" if args.input == "-" else args.input
    failed = 0
    with source:
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                record = _classify_line(rules, line)
            except ValueError as exc:  # json.JSONDecodeError is a ValueError
                failed += 1
                reason = str(exc).splitlines()[0]
                log.warning("Skipped %s line %d because it is not a usable item: %s.", name, number, reason)
                record = {"line": number, "error": f"{name} line {number}: {reason}"}
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 1 if failed else 0
