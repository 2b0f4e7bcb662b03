"""``watchfloor connect``: run the connector process (every enabled source, RSS and Telegram) until
SIGTERM or Ctrl-C, then finish in-flight polls and flush the producer."""

from __future__ import annotations

# Imports inside the handlers are deliberate (start-up time): each command loads only what it runs,
# so `watchfloor --help` and the light commands start without Faust, aiokafka or the rule engine.
import asyncio
import signal

from core.errors import WatchfloorError
from core.settings import load_settings


def register(sub) -> None:
    parser = sub.add_parser(
        "connect", help="poll every enabled source into Kafka until Ctrl-C or SIGTERM (serves /metrics)")
    parser.add_argument("--metrics-port", type=int, default=None,
                        help="port of /metrics (default WATCHFLOOR_CONNECT_METRICS_PORT; 0 free, -1 off)")
    parser.set_defaults(func=_connect)


def _connect(args) -> int:
    from aiokafka.errors import KafkaError

    from core.kafka import bootstrap_servers

    settings = load_settings()
    try:
        return asyncio.run(_run(settings, args.metrics_port))
    except (KafkaError, ConnectionError, TimeoutError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise WatchfloorError(
            f"connect: Kafka at {bootstrap_servers(settings)} failed: {type(exc).__name__} {detail}".rstrip()
        ) from None
    except OSError as exc:
        raise WatchfloorError(f"connect: {exc.strerror or exc} (metrics or WebSub port, or network)") from None


async def _run(settings, metrics_port: int | None) -> int:
    from connectors.runner import run_connector

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return await run_connector(settings, stop, metrics_port=metrics_port)
