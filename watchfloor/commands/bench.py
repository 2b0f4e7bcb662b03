"""Command group ``bench``: throughput benchmarks that print figures (never timed tests).

Each benchmark is one action of the group; add another with
``bench_subparsers(sub).add_parser("pipeline", ...)`` from its own module or below.
"""

from __future__ import annotations

# Imports inside the handlers are deliberate (start-up time): each command loads only what it runs,
# so `watchfloor --help` and the light commands start without Faust, aiokafka or the rule engine.

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
    register_pipeline(inner)
    register_soak(inner)
    register_connect(inner)
    register_freshness(inner)


def _print_figures(figures: dict, as_json: bool) -> None:
    """The figures: one JSON line, or one ``key: value`` line each."""
    import json

    print(json.dumps(figures) if as_json else "\n".join(f"{k}: {v}" for k, v in figures.items()))


def bench_subparsers(sub):
    """The ``bench`` group's sub-parsers, created once, so other modules can add benchmarks to it."""
    existing = getattr(sub, _BENCH_GROUP, None)
    if existing is None:
        parser = sub.add_parser("bench", help="throughput benchmarks (print figures)")
        existing = parser.add_subparsers(dest="bench_command", metavar="BENCHMARK", required=True)
        setattr(sub, _BENCH_GROUP, existing)
    return existing


def _classify(args) -> int:
    from core.errors import ConfigError
    from watchfloor.bench import rules as bench

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
    rate, mb_rate, passages = bench.shipped_rate(args.budget_secs)
    print(f"shipped pack on {passages} real passages (en/ru/uk): {rate:.0f} docs/s, {mb_rate:.2f} MB/s", flush=True)
    return 0


def register_pipeline(inner) -> None:
    pipeline = inner.add_parser(
        "pipeline", help="throughput and latency of the worker beside raw Kafka and a plain Faust agent")
    pipeline.add_argument("--items", type=int, default=20000,
                          help="items per throughput phase, twice as many with two workers (default %(default)s)")
    pipeline.add_argument("--rate", type=float, default=1000.0,
                          help="offered load of the latency phase, items/s (default %(default)s)")
    pipeline.add_argument("--latency-secs", type=float, default=10.0,
                          help="length of the latency phase (default %(default)s)")
    pipeline.add_argument("--rounds", type=int, default=3,
                          help="rounds of the peer and our pipeline, and of the latency phases with and "
                               "without grouping, alternating; medians are reported (default %(default)s)")
    pipeline.add_argument("--json", action="store_true", help="end with one line of JSON holding every figure")
    pipeline.set_defaults(func=_pipeline)


def _pipeline(args) -> int:
    import json

    from core.errors import ConfigError
    from watchfloor.bench.run import run

    if args.items < 100 or args.rate <= 0 or args.latency_secs <= 0 or args.rounds < 1:
        raise ConfigError("--items must be at least 100, --rate and --latency-secs positive, --rounds at least 1")
    figures = run(items=args.items, rate=args.rate, latency_secs=args.latency_secs, rounds=args.rounds,
                  say=lambda line: print(line, flush=True))
    if args.json:
        print(json.dumps(figures))
    return 0


def register_connect(inner) -> None:
    connect = inner.add_parser(
        "connect", help="how many sources one connector process keeps at their interval, and its CPU")
    connect.add_argument("--sources", type=int, default=10000, help="sources to poll (default %(default)s)")
    connect.add_argument("--interval", type=float, default=60.0,
                         help="seconds between polls of each (default %(default)s)")
    connect.add_argument("--minutes", type=float, default=3.0,
                         help="measured time after the first round (default %(default)s)")
    connect.add_argument("--json", action="store_true", help="end with one line of JSON holding the figures")
    connect.set_defaults(func=_connect)


def _connect(args) -> int:
    from core.errors import ConfigError
    from watchfloor.bench.connect import run

    if args.sources < 1 or args.interval <= 0 or args.minutes <= 0:
        raise ConfigError("--sources must be at least 1, --interval and --minutes positive")
    figures = run(sources=args.sources, interval=args.interval, minutes=args.minutes,
                  say=lambda line: print(line, flush=True))
    _print_figures(figures, args.json)
    return 0


def register_freshness(inner) -> None:
    fresh = inner.add_parser(
        "freshness", help="publication-to-emission delay and requests, adaptive schedule beside a fixed 5-minute one")
    fresh.add_argument("--sources", type=int, default=1000, help="simulated sources (default %(default)s)")
    fresh.add_argument("--hours", type=float, default=6.0,
                       help="simulated hours of publishing, from 04:00 UTC (default %(default)s, at most 44)")
    fresh.add_argument("--speed", type=float, default=60.0,
                       help="simulated seconds per wall-clock second (default %(default)s)")
    fresh.add_argument("--json", action="store_true", help="end with one line of JSON holding the figures")
    fresh.add_argument("--schedule-only", metavar="CHANCES",
                       help="simulate the schedule alone (no HTTP or Kafka, seconds) for each comma-separated "
                       "WATCHFLOOR_POLLING_ADAPTIVE_CHANCE value, beside the fixed 5-minute schedule")
    fresh.set_defaults(func=_freshness)


def _freshness(args) -> int:
    from core.errors import ConfigError
    from watchfloor.bench.freshness import run

    if args.sources < 1 or not 0 < args.hours <= 44 or args.speed <= 0:
        raise ConfigError("--sources must be at least 1, --hours in (0, 44], --speed positive")
    if args.schedule_only:
        return _schedule_only(args)
    figures = run(sources=args.sources, hours=args.hours, speed=args.speed, say=lambda line: print(line, flush=True))
    _print_figures(figures, args.json)
    return 0


def _schedule_only(args) -> int:
    import json

    from core.errors import ConfigError
    from core.settings import load_settings
    from watchfloor.bench.freshness import FIXED_INTERVAL_SECS, simulate_schedule

    try:
        chances = [float(c) for c in args.schedule_only.split(",")]
    except ValueError:
        raise ConfigError(f"--schedule-only: {args.schedule_only!r} is not a comma-separated list of numbers") from None
    polling = load_settings().polling
    rows = {"fixed": simulate_schedule(sources=args.sources, hours=args.hours, polling=polling,
                                       fixed_secs=FIXED_INTERVAL_SECS)}
    for chance in chances:
        if not 0 < chance < 1:
            raise ConfigError(f"--schedule-only: {chance} is not a chance between 0 and 1")
        rows[f"chance {chance:g}"] = simulate_schedule(
            sources=args.sources, hours=args.hours, polling=polling.model_copy(update={"adaptive_chance": chance}))
    for name, row in rows.items():
        print(f"{name:>12}: p50 {row['delay_p50_secs']:6.1f}s  p95 {row['delay_p95_secs']:6.1f}s  "
              f"{row['requests_per_source_hour']:5.2f} requests/source-hour  ({row['items']} items)", flush=True)
    if args.json:
        print(json.dumps(rows))
    return 0


def register_soak(inner) -> None:
    soak = inner.add_parser("soak", help="one worker at a constant rate for minutes, its memory sampled")
    soak.add_argument("--minutes", type=float, default=10.0, help="length of the run (default %(default)s)")
    soak.add_argument("--rate", type=float, default=200.0, help="offered load, items/s (default %(default)s)")
    soak.add_argument("--json", action="store_true", help="end with one line of JSON holding the figures")
    soak.set_defaults(func=_soak)


def _soak(args) -> int:
    from core.errors import ConfigError
    from watchfloor.bench.soak import soak

    if args.minutes <= 0 or args.rate <= 0:
        raise ConfigError("--minutes and --rate must be positive")
    figures = soak(minutes=args.minutes, rate=args.rate, say=lambda line: print(line, flush=True))
    _print_figures(figures, args.json)
    return 0
