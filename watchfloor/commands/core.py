"""Core commands: version, broker, topics, worker, run."""

from __future__ import annotations

# Imports inside the handlers are deliberate (start-up time): each command loads only what it runs,
# so `watchfloor --help` and the light commands start without Faust, aiokafka or the rule engine.
import asyncio
import signal
import time

from core.settings import load_settings


def register(sub) -> None:
    sub.add_parser("version", help="print the version").set_defaults(func=_version)

    broker = sub.add_parser("broker", help="run the embedded Kafka-compatible broker (tansu) until Ctrl-C")
    broker.add_argument("--port", type=int, help="port (default WATCHFLOOR_EMBEDDED_KAFKA_PORT or 9092)")
    broker.set_defaults(func=_broker)

    topics = sub.add_parser("topics", help="create or list the pipeline's Kafka topics")
    inner = topics.add_subparsers(dest="topics_command", metavar="ACTION", required=True)
    inner.add_parser("create", help="create every declared topic that does not exist (idempotent)").set_defaults(
        func=_topics_create
    )
    inner.add_parser("list", help="list the topics on the cluster").set_defaults(func=_topics_list)

    sub.add_parser("worker", help="run a stream worker (classify, story grouping, alerts, surges)").set_defaults(
        func=_worker
    )

    sub.add_parser(
        "keep-state", help="keep the embedded broker's compacted topics on disk (started by `watchfloor run`)",
    ).set_defaults(func=_keep_state)

    run = sub.add_parser(
        "run", help="run the whole pipeline on this machine until Ctrl-C: broker, topics, worker, connectors, desk")
    run.add_argument("--demo", action="store_true",
                     help="poll the shipped demo feeds and channels from a local server instead of the real sources")
    run.add_argument("--workers", type=int, default=1, help="worker processes to start (default 1)")
    run.set_defaults(func=_run)


def _version(args) -> int:
    from core import __version__

    print(f"watchfloor {__version__}")
    return 0


def _broker(args) -> int:
    from watchfloor.broker import EmbeddedBroker
    from watchfloor.supervisor import Stop, _raise_stop

    settings = load_settings()
    port = settings.embedded_kafka_port if args.port is None else args.port
    signal.signal(signal.SIGTERM, _raise_stop)
    with EmbeddedBroker(settings.embedded_kafka_host, port) as broker:
        print(broker.bootstrap, flush=True)
        try:
            while broker.proc.poll() is None:
                time.sleep(0.2)
        except (KeyboardInterrupt, Stop):
            return 0
    return 1


def _topics_create(args) -> int:
    from core.kafka import create_topics

    created = asyncio.run(create_topics(load_settings()))
    for name in created:
        print(f"created {name}")
    if not created:
        print("all topics exist")
    return 0


def _topics_list(args) -> int:
    from core.kafka import list_topics

    for name in asyncio.run(list_topics(load_settings())):
        print(name)
    return 0


def _worker(args) -> int:
    from streams.worker import run_worker

    return run_worker(load_settings())


def _keep_state(args) -> int:
    import asyncio
    import signal

    from watchfloor.statekeeper import Keeper, state_dir

    settings = load_settings()

    def ready(topics: int, records: int) -> None:
        print(f"Keeping {topics} topics ({records} records: compacted ones whole, work in flight) in "
              f"{state_dir(settings)}.", flush=True)

    async def keep() -> None:
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        await Keeper(settings).run(ready, stop)

    asyncio.run(keep())
    return 0


def _run(args) -> int:
    import os

    from watchfloor.supervisor import Child, Supervisor, watchfloor_argv

    settings = load_settings()
    _check_before_start(settings, demo=args.demo)
    children: list[Child] = []
    shared_env: dict[str, str] = {}
    if not settings.kafka_bootstrap:  # the embedded broker: its compacted topics are kept on disk
        children.append(Child("state keeper", watchfloor_argv("keep-state"), ready_line=True, role="keeper"))
    if args.demo:
        sources = (settings.data_dir / "demo-sources.yaml").resolve()
        children.append(Child("demo server", watchfloor_argv("demo", "serve", "--sources-out", str(sources)),
                              ready_line=True, role="demo"))
        shared_env["WATCHFLOOR_SOURCES_PATH"] = str(sources)
        # The demo's feeds are served on this machine, which the address policy refuses by default.
        if "WATCHFLOOR_FETCH_ALLOWED_NETWORKS" not in os.environ:
            shared_env["WATCHFLOOR_FETCH_ALLOWED_NETWORKS"] = '["127.0.0.1/32"]'
        # Show a folded flood within the demo's few minutes instead of after the default 5.
        if "WATCHFLOOR_ALERT_COOLDOWN_SECS" not in os.environ:
            shared_env["WATCHFLOOR_ALERT_COOLDOWN_SECS"] = "60"
    for n in range(max(1, args.workers)):
        # Several workers on one machine cannot share the metrics port: the first keeps it.
        env = {} if n == 0 else {"WATCHFLOOR_WORKER_METRICS_PORT": "0"}
        children.append(Child(f"worker {n + 1}", watchfloor_argv("worker"), env={**shared_env, **env}))
    children.append(Child("connectors", watchfloor_argv("connect"), env=shared_env, role="connect"))
    children.append(Child("desk", watchfloor_argv("web"), env=shared_env, role="web"))
    print(f"Desk: http://{settings.web_host}:{settings.web_port}/  (Ctrl-C stops everything)", flush=True)
    return Supervisor(settings, children, webhook_secret_names(settings)).run()


def webhook_secret_names(settings) -> frozenset[str]:
    """The environment variables the webhooks file names as secrets (only the desk gets them)."""
    from desk.webhooks import load_webhooks

    return frozenset(t.endpoint.secret_env for t in load_webhooks(settings.webhooks_path))


def _check_before_start(settings, *, demo: bool) -> None:
    """Load the rule pack and the sources file the children will load, before anything starts: a
    mistake is one line naming the file, line or field (``ConfigError``), with no broker or child
    process left behind, instead of a worker dying after the broker came up."""
    from connectors.sources import load_sources_file, sources_path
    from streams.rules import compile_pack, load_pack

    compile_pack(load_pack(settings.rules_path))
    if not demo:  # the demo server writes its own sources file when it starts
        load_sources_file(sources_path(settings))
