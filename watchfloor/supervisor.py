"""``watchfloor run``: the whole pipeline on one machine, as child processes of one supervisor.

Lifecycle: start the embedded broker (unless a cluster is configured) → create topics → start each
child (worker, connectors, web) → watch them until Ctrl-C or SIGTERM → stop the children in reverse
order → stop the broker. Every child dies with the supervisor even when it is SIGKILLed
(``watchfloor.procs``).

A child that exits is restarted after a backoff (1 s, doubling to 30 s), with one log line naming it
and its exit status, counted in ``watchfloor_child_restarts_total``; the other children and the
broker keep running. Only a child that exits ``supervisor_max_restarts`` times within
``supervisor_restart_window_secs`` stops the pipeline, with one line naming it and its last status.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, start_http_server

from core.errors import WatchfloorError
from core.kafka import bootstrap_servers, create_topics
from core.metrics import SupervisorMetrics
from core.settings import Settings
from watchfloor import procs
from watchfloor.broker import EmbeddedBroker
from watchfloor.statekeeper import restore, state_dir

log = logging.getLogger(__name__)


EMBEDDED_LOSS = (
    "The embedded broker keeps every topic in memory; its compacted topics (sources added, rule packs pushed, "
    "source state, alert ledger, story index and book, surge tables) and the work in flight (items, alerts and "
    "mentions not yet committed by the stage that reads them) are kept in %s and restored at start. Not kept "
    "across a restart: classified items, dead letters and consumer offsets. Set WATCHFLOOR_KAFKA_BOOTSTRAP to a "
    "Kafka cluster to keep them.")
RESTART_BACKOFF_SECS = 1.0
RESTART_BACKOFF_MAX_SECS = 30.0


class Stop(Exception):
    """Raised by the signal handler to unwind into the supervisor's cleanup."""


class ChildFailed(WatchfloorError):
    """A child process died on start; the message names it."""


# Secrets a child is given only if its role reads them; every other variable passes through.
TELEGRAM_SECRETS = frozenset({"WATCHFLOOR_TELEGRAM_API_ID", "WATCHFLOOR_TELEGRAM_API_HASH",
                              "WATCHFLOOR_TELEGRAM_SESSION"})
KAFKA_SECRETS = frozenset({"WATCHFLOOR_KAFKA_SASL_PASSWORD"})
DESK_SECRETS = frozenset({"WATCHFLOOR_WEB_TOKEN"})
KAFKA_CLIENTS = ("worker", "connect", "web", "keeper")
STOP_ORDER = {"demo": 0, "connect": 1, "worker": 2, "web": 3, "keeper": 4}


def child_environment(role: str, environ: dict[str, str], webhook_secrets: frozenset[str]) -> dict[str, str]:
    """What a child of this role may see of ``environ``: the Telegram credentials only in the
    connector, the desk token and webhook secrets only in the desk, the SASL password only in the
    processes that talk to Kafka (``demo`` gets none of them)."""
    allowed: set[str] = set()
    if role in KAFKA_CLIENTS:
        allowed |= KAFKA_SECRETS
    if role == "connect":
        allowed |= TELEGRAM_SECRETS
    if role == "web":
        allowed |= DESK_SECRETS | webhook_secrets
    secrets = TELEGRAM_SECRETS | KAFKA_SECRETS | DESK_SECRETS | webhook_secrets
    return {k: v for k, v in environ.items() if k not in secrets or k in allowed}


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    role: str = "worker"
    """worker, connect, web or demo: decides which secrets the child is given (``child_environment``)."""
    ready_line: bool = False
    """Wait for the child's first line on stdout before starting the next child."""
    proc: subprocess.Popen | None = None
    first_line: str = ""
    exits: list[float] = field(default_factory=list)
    """When it exited unexpectedly (monotonic seconds), for the restart window."""
    restart_at: float | None = None


def watchfloor_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "watchfloor", *args]


class Supervisor:
    def __init__(self, settings: Settings, children: list[Child], webhook_secrets: frozenset[str] = frozenset(),
                 registry: CollectorRegistry | None = None):
        self.settings = settings
        self.children = children
        self.webhook_secrets = webhook_secrets
        self.broker: EmbeddedBroker | None = None
        self.env: dict[str, str] = {}
        self.metrics = SupervisorMetrics(registry or CollectorRegistry())

    def run(self) -> int:
        previous = signal.signal(signal.SIGTERM, _raise_stop)
        # Set, not inherited: a shell that starts us in the background hands down SIGINT ignored.
        previous_int = signal.signal(signal.SIGINT, _raise_stop)
        try:
            self._start()
            return self._watch()
        except (KeyboardInterrupt, Stop):
            log.info("Stopping: signal received.")
            return 0
        finally:
            self._stop_all()
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)

    def _start(self) -> None:
        env = dict(os.environ)
        if not self.settings.kafka_bootstrap:
            self.broker = EmbeddedBroker(self.settings.embedded_kafka_host, self.settings.embedded_kafka_port)
            self.broker.start()
            env["WATCHFLOOR_KAFKA_BOOTSTRAP"] = self.broker.bootstrap
            # The embedded broker grants no producer ids; don't make every child ask and log an error.
            env.setdefault("WATCHFLOOR_KAFKA_IDEMPOTENCE", "off")
            print(f"Kafka bootstrap: {self.broker.bootstrap} (embedded broker)", flush=True)
            log.warning(EMBEDDED_LOSS, state_dir(self.settings))
        else:
            print(f"Kafka bootstrap: {bootstrap_servers(self.settings)}", flush=True)
        settings = self.settings.model_copy(update={"kafka_bootstrap": env.get("WATCHFLOOR_KAFKA_BOOTSTRAP")})
        created = asyncio.run(create_topics(settings))
        log.info("Topics ready (%d created).", len(created))
        if self.broker is not None:
            topics, records = asyncio.run(restore(settings.model_copy(update={"kafka_idempotence": "off"})))
            if topics:
                log.info("Restored %d records of %d compacted topics and work in flight from %s.", records, topics,
                         state_dir(settings))
        self.env = env
        if self.settings.supervisor_metrics_port >= 0:
            server, _thread = start_http_server(self.settings.supervisor_metrics_port, addr=self.settings.web_host,
                                                registry=self.metrics.registry)
            log.info("Serving supervisor metrics on http://%s:%d/metrics.", self.settings.web_host,
                     server.server_address[1])
        for child in self.children:
            self._spawn(child)
            if child.ready_line:
                child.first_line = child.proc.stdout.readline().strip()
                if not child.first_line:
                    raise ChildFailed(f"{child.name} exited before it was ready (status {child.proc.poll()})")
                log.info("%s is ready: %s", child.name, child.first_line)

    def _spawn(self, child: Child) -> None:
        stdout = subprocess.PIPE if child.ready_line else None
        child_env = child_environment(child.role, {**self.env, **child.env}, self.webhook_secrets)
        child.proc = procs.spawn(child.argv, env=child_env, stdin=subprocess.DEVNULL,
                                 stdout=stdout, text=child.ready_line)
        log.info("Started %s (pid %d).", child.name, child.proc.pid)

    def _watch(self) -> int:
        while True:
            now = time.monotonic()
            for child in self.children:
                if child.restart_at is not None and now >= child.restart_at:
                    child.restart_at = None
                    # Counted before the new process exists, so whoever sees it also sees the count.
                    self.metrics.child_restarts.labels(child.name).inc()
                    self._spawn(child)
                elif child.proc is not None and child.proc.poll() is not None:
                    if not self._schedule_restart(child, now):
                        return 1
            time.sleep(0.2)

    def _schedule_restart(self, child: Child, now: float) -> bool:
        """Plan the restart of a child that exited; False when it exited too often to go on."""
        status = child.proc.returncode
        child.proc = None
        window = self.settings.supervisor_restart_window_secs
        child.exits = [t for t in child.exits if now - t < window] + [now]
        if len(child.exits) > self.settings.supervisor_max_restarts:
            log.error("%s exited %d times within %.0fs (last status %s); stopping the pipeline.", child.name,
                      len(child.exits), window, status)
            return False
        delay = min(RESTART_BACKOFF_SECS * 2 ** (len(child.exits) - 1), RESTART_BACKOFF_MAX_SECS)
        log.warning("%s exited with status %s; restarting it in %.0fs.", child.name, status, delay)
        child.restart_at = now + delay
        return True

    def _stop_all(self) -> None:
        # Upstream first, so each stage drains what the one before it produced: the connectors stop
        # fetching, the workers finish their batches, the desk stores every alert on the topic, and
        # the state keeper writes the last records before the broker goes.
        for child in sorted(self.children, key=lambda c: STOP_ORDER.get(c.role, len(STOP_ORDER))):
            if child.proc is not None:
                procs.stop(child.proc, grace_secs=15.0)
                child.proc = None
        if self.broker is not None:
            self.broker.stop()
            self.broker = None


def _raise_stop(signum, frame) -> None:
    raise Stop()
