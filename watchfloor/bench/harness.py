"""Processes of a benchmark run: the fresh embedded broker, and worker or peer processes started
with the run's settings (each phase gets its own topic prefix, so phases never read each other's
records). Children die with the bench (``watchfloor.procs``)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from core.settings import Settings
from watchfloor import procs

WORKER_ARGV = [sys.executable, "-m", "watchfloor", "worker"]
PEER_ARGV = [sys.executable, "-m", "watchfloor.bench.peer"]


def phase_settings(bootstrap: str, workdir: Path, partitions: int = 4, **overrides) -> Settings:
    """Settings of one phase: its own topic prefix and data directory on the bench's broker."""
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    values = dict(kafka_bootstrap=bootstrap, topic_prefix=prefix, topic_partitions=partitions,
                  data_dir=workdir / prefix.rstrip("."), kafka_idempotence="off",
                  worker_metrics_port=-1, alert_cooldown_secs=0)
    return Settings(**{**values, **overrides})


def child_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "WATCHFLOOR_KAFKA_BOOTSTRAP": settings.kafka_bootstrap or "",
        "WATCHFLOOR_TOPIC_PREFIX": settings.topic_prefix,
        "WATCHFLOOR_TOPIC_PARTITIONS": str(settings.topic_partitions),
        "WATCHFLOOR_DATA_DIR": str(settings.data_dir),
        "WATCHFLOOR_KAFKA_IDEMPOTENCE": settings.kafka_idempotence,
        "WATCHFLOOR_WORKER_METRICS_PORT": str(settings.worker_metrics_port),
        # Every triggered item raises its alert: the heaviest output path, and one latency sample each.
        "WATCHFLOOR_ALERT_COOLDOWN_SECS": str(settings.alert_cooldown_secs),
        "WATCHFLOOR_STORY_GROUPING": "true" if settings.story_grouping else "false",
        **extra,
    }
    if settings.rules_path is not None:
        env["WATCHFLOOR_RULES_PATH"] = str(settings.rules_path)
    return env


@dataclass
class Children:
    """Worker or peer processes of one phase; ``stop()`` ends them (SIGTERM, then SIGKILL)."""

    settings: Settings
    argv: list[str]
    count: int = 1
    procs: list[subprocess.Popen] = field(default_factory=list)

    def start(self) -> "Children":
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        for n in range(self.count):
            log = open(self.log_path(n), "ab")
            self.procs.append(procs.spawn(self.argv, env=child_env(self.settings), stdout=log,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
            log.close()
        return self

    def log_path(self, n: int) -> Path:
        return self.settings.data_dir / f"child{n}.log"

    def check_alive(self) -> None:
        for n, proc in enumerate(self.procs):
            if proc.poll() is not None:
                tail = self.log_path(n).read_text(errors="replace").splitlines()[-5:]
                raise RuntimeError(f"{' '.join(self.argv[1:])} exited with {proc.returncode}: " + " | ".join(tail))

    def stop(self) -> None:
        for proc in self.procs:
            procs.stop(proc, grace_secs=15.0)
        self.procs.clear()

    def __enter__(self) -> "Children":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
