"""Command group ``bench``: throughput benchmarks that print figures (never timed tests).

Each benchmark is one action of the group; add another with
``bench_subparsers(sub).add_parser("pipeline", ...)`` from its own module or below.
"""

from __future__ import annotations

_BENCH_GROUP = "_watchfloor_bench_group"


def register(sub) -> None:
    inner = bench_subparsers(sub)
    classify = inner.add_parser(
        "classify", help="rule-engine docs/s and MB/s at 10, 1,000 and 10,000 rules beside a per-term 're' loop")
    classify.add_argument("--sizes", default="10,1000,10000", help="comma-separated rule counts (default %(default)s)")
    classify.add_argument("--docs", type=int, default=3000, help="documents of ~2.4 KB to classify (default %(default)s)")
    classify.add_argument("--budget-secs", type=float, default=3.0,
                          help="time limit per measurement, for the slow baseline (default %(default)s)")
    classify.set_defaults(func=_classify)


def bench_subparsers(sub):
    """The ``bench`` group's sub-parsers, created once, so other modules can add benchmarks to it."""
    existing = getattr(sub, _BENCH_GROUP, None)
    if existing is None:
        parser = sub.add_parser("bench", help="throughput benchmarks (print figures)")
        existing = parser.add_subparsers(dest="bench_command", metavar="BENCHMARK", required=True)
        setattr(sub, _BENCH_GROUP, existing)
    return existing


def _classify(args) -> int:
    from streams.rules import bench
    from watchfloor.errors import ConfigError

    try:
        sizes = tuple(int(s) for s in args.sizes.split(",") if s.strip())
    except ValueError:
        raise ConfigError(f"--sizes: expected comma-separated integers, got {args.sizes!r}") from None
    if not sizes or min(sizes) < 1 or args.docs < 1:
        raise ConfigError("--sizes and --docs must be positive")
    cpu = bench.pin_one_core()
    print(f"rule engine on {'CPU ' + str(cpu) if cpu is not None else 'one thread'}; "
          f"{args.docs} synthetic documents of ~2.4 KB (Latin and Cyrillic)", flush=True)
    print(bench.render(bench.run(sizes, docs=args.docs, budget_secs=args.budget_secs)))
    return 0
