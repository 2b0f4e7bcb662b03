"""`watchfloor run` restarts a child that dies and keeps everything else running; only a child that
dies again and again stops the pipeline, with one line naming it. With two workers, one of them, the
connector and the desk are each SIGKILLed while items arrive: every item is alerted, none twice."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from core.settings import Settings
from schemas import ClassifiedItem
from tests.conftest import LOCAL_NETWORKS, consume_until, read_to_end, wait_until
from tests.faults.conftest import Feeds, serve_feeds
from tests.watchfloor.test_broker_lifecycle import descendants
from watchfloor.broker import free_port

TEXTS = ["Medvedev again threatened to use nuclear weapons against Kyiv.",
         "The EU adopted its 19th sanctions package targeting the shadow fleet."]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def child_pids(run: subprocess.Popen, command: str) -> list[int]:
    return sorted(pid for pid in descendants(run.pid) if _cmdline(pid).endswith(f"-m watchfloor {command} "))


def child_pid(run: subprocess.Popen, command: str) -> int | None:
    found = child_pids(run, command)
    return found[0] if len(found) == 1 else None


def child_name(log_text: str, pid: int) -> str:
    """The supervisor's name for the child it started with ``pid`` ("worker 2", "desk")."""
    return re.search(rf"Started (.+?) \(pid {pid}\)", log_text).group(1)


def metric(port: int, name: str, child: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    for line in text.splitlines():
        if line.startswith(f'{name}{{child="{child}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def add(feeds: Feeds, start: int, count: int) -> set[str]:
    new = [(f"g{n}", f"{TEXTS[n % 2]} Report {n}.") for n in range(start, start + count)]
    feeds.entries.setdefault("wire", []).extend(new)
    return {guid for guid, _ in new}


async def all_classified(settings: Settings, wanted: set[str]) -> None:
    def guids(records) -> set[str]:
        return {ClassifiedItem.model_validate_json(r.value).item.url.rsplit("/", 1)[-1] for r in records}

    await consume_until(settings, "watchfloor.items.classified.v1", lambda rs: wanted <= guids(rs), timeout_secs=120)


def run_env(tmp_path, sources: Path, ports: dict[str, int], **extra) -> dict[str, str]:
    return {**os.environ, "WATCHFLOOR_EMBEDDED_KAFKA_PORT": str(ports["kafka"]), "WATCHFLOOR_WEB_PORT": str(ports["web"]),
            "WATCHFLOOR_WORKER_METRICS_PORT": "-1", "WATCHFLOOR_CONNECT_METRICS_PORT": "-1",
            "WATCHFLOOR_SUPERVISOR_METRICS_PORT": str(ports["supervisor"]), "WATCHFLOOR_DATA_DIR": str(tmp_path / "d"),
            "WATCHFLOOR_SOURCES_PATH": str(sources), "WATCHFLOOR_STORY_GROUPING": "false",
            "WATCHFLOOR_ALERT_COOLDOWN_SECS": "0", "WATCHFLOOR_FETCH_ALLOWED_NETWORKS": json.dumps(LOCAL_NETWORKS),
            **extra}


async def test_a_killed_worker_connector_or_desk_is_restarted_mid_stream_and_no_alert_is_lost_or_doubled(tmp_path):
    ports = {name: free_port() for name in ("kafka", "web", "supervisor")}
    settings = Settings(kafka_bootstrap=f"127.0.0.1:{ports['kafka']}")
    feeds = Feeds()
    first = add(feeds, 0, 6)
    async with serve_feeds(feeds) as base:
        sources = tmp_path / "sources.yaml"
        sources.write_text(f"sources:\n  - {{id: wire, type: rss, url: '{base}/wire', poll_interval_secs: 1}}\n")
        log_path = tmp_path / "run.log"
        with open(log_path, "wb") as log:
            run = subprocess.Popen([sys.executable, "-m", "watchfloor", "run", "--workers", "2"], cwd=tmp_path,
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=run_env(tmp_path, sources, ports))
        try:
            await wait_until(lambda: "Started desk" in log_path.read_text(errors="replace"), 90, "every child started")
            await all_classified(settings, first)
            seen = set(first)
            killed = []
            for n, (command, count) in enumerate([("worker", 2), ("connect", 1), ("web", 1)]):
                pids = await wait_until(lambda c=command, k=count: len(child_pids(run, c)) == k and child_pids(run, c),
                                        30, f"the {command} process")
                victim = pids[0]
                child = child_name(log_path.read_text(errors="replace"), victim)
                # Mid-stream: items appear on the feed as the process is killed.
                more = add(feeds, 100 * (n + 1), 6)
                os.kill(victim, signal.SIGKILL)
                await wait_until(lambda c=command, v=victim, k=count: v not in child_pids(run, c)
                                 and len(child_pids(run, c)) == k, 60, f"a new {command} process")
                assert metric(ports["supervisor"], "watchfloor_child_restarts_total", child) == 1
                more |= add(feeds, 100 * (n + 1) + 50, 6)
                await all_classified(settings, more)
                seen |= more
                killed.append(child)
                assert run.poll() is None, log_path.read_text(errors="replace")[-3000:]
            text = log_path.read_text(errors="replace")
            assert text.count("The embedded broker keeps every topic in memory") == 1  # said once, at start
            assert killed[1:] == ["connectors", "desk"] and killed[0] in ("worker 1", "worker 2")
            for child in killed:
                assert f"{child} exited with status -9; restarting it in 1s." in text
            ids = [r.key.decode() for r in await read_to_end(settings, "watchfloor.alerts.v1")]
            assert len(ids) >= len(seen) and len(ids) == len(set(ids)), "an alert id appeared twice"
        finally:
            run.send_signal(signal.SIGTERM)
            run.wait(timeout=60)


async def test_a_child_that_keeps_dying_stops_the_pipeline_with_one_line_naming_it(tmp_path):
    ports = {name: free_port() for name in ("kafka", "web", "supervisor")}
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources: []\n")
    with socket.socket() as taken:  # the desk's port is held: every desk start fails
        taken.bind(("127.0.0.1", ports["web"]))
        taken.listen()
        done = subprocess.run([sys.executable, "-m", "watchfloor", "run"], cwd=tmp_path, capture_output=True,
                              text=True, timeout=180, stdin=subprocess.DEVNULL,
                              env=run_env(tmp_path, sources, ports, WATCHFLOOR_SUPERVISOR_MAX_RESTARTS="2"))
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    assert "desk exited 3 times within 300s (last status 1); stopping the pipeline." in output, output[-3000:]
    assert output.count("desk exited with status 1; restarting it in") == 2
