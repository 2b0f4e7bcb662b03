"""`watchfloor run --demo`: the whole pipeline on one machine, started once for this module.

It proves: explained alerts reach the alerts topic within 30 s, readable by a Kafka client other
than ours (confluent-kafka); every process serves /metrics that passes `promtool check metrics`,
with every catalog metric declared and the counters moved; the desk page and /alerts.atom list the
alerts; Ctrl-C leaves no process behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from core.metrics import CATALOG
from tests.watchfloor.test_broker_lifecycle import alive, descendants
from watchfloor.broker import free_port
from watchfloor.procs import wait_for

confluent_kafka = pytest.importorskip("confluent_kafka")


@dataclass
class DemoRun:
    proc: subprocess.Popen
    started: float
    bootstrap: str
    ports: dict[str, int]
    log_path: Path

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def get(self, port_name: str, path: str) -> bytes:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ports[port_name]}{path}", timeout=10) as response:
            return response.read()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    ports = {"kafka": free_port(), "web": free_port(), "worker": free_port(), "connect": free_port(),
             "supervisor": free_port()}
    env = {**os.environ, "WATCHFLOOR_EMBEDDED_KAFKA_PORT": str(ports["kafka"]), "WATCHFLOOR_WEB_PORT": str(ports["web"]),
           "WATCHFLOOR_WORKER_METRICS_PORT": str(ports["worker"]),
           "WATCHFLOOR_CONNECT_METRICS_PORT": str(ports["connect"]), "WATCHFLOOR_DATA_DIR": str(tmp / "data"),
           "WATCHFLOOR_SUPERVISOR_METRICS_PORT": str(ports["supervisor"])}
    log_path = tmp / "run.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "watchfloor", "run", "--demo"], env=env, cwd=tmp,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    run = DemoRun(proc, time.monotonic(), f"127.0.0.1:{ports['kafka']}", ports, log_path)
    try:
        yield run
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def read_alerts_with_confluent(bootstrap: str, topic: str, want: int, deadline: float) -> list[dict]:
    """Manual partition assignment (a group join takes ~20 s against this broker with librdkafka)."""
    consumer = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": "e2e-reader",
                                         "enable.auto.commit": False})
    try:
        consumer.assign([confluent_kafka.TopicPartition(topic, p, confluent_kafka.OFFSET_BEGINNING)
                         for p in range(4)])
        alerts: list[dict] = []
        while len(alerts) < want and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            headers = dict(msg.headers() or [])
            assert headers["ce_type"] == b"watchfloor.Alert.v1", headers
            alerts.append(json.loads(msg.value()))
        return alerts
    finally:
        consumer.close()


def test_explained_alerts_reach_the_topic_within_30s_for_a_foreign_kafka_client(demo):
    alerts = read_alerts_with_confluent(demo.bootstrap, "watchfloor.alerts.v1", want=3, deadline=demo.started + 30)
    assert len(alerts) >= 3, f"{len(alerts)} alerts within 30 s; log: {demo.log_tail()}"
    for alert in alerts:
        assert alert["trigger_id"] and alert["description"] and alert["rules_version"]
        assert alert["themes"] and alert["matches"] and alert["snippet"]
    assert {a["severity"] for a in alerts} & {"critical", "high", "warning"}


def test_desk_page_and_atom_feed_list_the_alerts(demo):
    import feedparser

    def stored() -> list:
        return json.loads(demo.get("web", "/api/alerts"))["alerts"]

    alerts = wait_for(stored, timeout_secs=30, interval_secs=0.5, what="alerts in the desk store")
    feed = feedparser.parse(demo.get("web", "/alerts.atom"))
    assert not feed.bozo
    assert len(feed.entries) >= len(alerts) > 0
    assert b"<script src=\"/static/" in demo.get("web", "/") or b"/static/" in demo.get("web", "/")


def catalog_names() -> set[str]:
    registry = CollectorRegistry()
    for group in CATALOG:
        group(registry)
    return {m.name for m in registry.collect()}


def sample(text: str, name: str) -> float:
    return sum(s.value for fam in text_string_to_metric_families(text) for s in fam.samples if s.name == name)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is installed by scripts/bootstrap.sh")
def test_every_process_serves_metrics_that_promtool_accepts_with_counters_moved(demo):
    wait_for(lambda: json.loads(demo.get("web", "/api/alerts"))["alerts"], timeout_secs=30, interval_secs=0.5,
             what="alerts in the desk store")
    texts = {name: demo.get(name, "/metrics").decode() for name in ("worker", "connect", "web", "supervisor")}
    for name, text in texts.items():
        lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        assert lint.returncode == 0, f"{name}: {lint.stdout}{lint.stderr}"
    declared = {fam.name for text in texts.values() for fam in text_string_to_metric_families(text)}
    assert catalog_names() <= declared, f"missing: {sorted(catalog_names() - declared)}"
    assert sample(texts["connect"], "watchfloor_fetch_requests_total") > 0
    assert sample(texts["connect"], "watchfloor_items_emitted_total") > 0
    assert sample(texts["worker"], "watchfloor_items_classified_total") > 0
    assert sample(texts["worker"], "watchfloor_alerts_total") > 0
    assert sample(texts["worker"], "watchfloor_alert_latency_from_fetched_seconds_count") > 0
    assert sample(texts["web"], "watchfloor_desk_alerts_stored_total") > 0
    assert not any(name.endswith("_ms") or "milliseconds" in name for name in declared)


def test_ctrl_c_stops_every_process(demo):
    children = descendants(demo.proc.pid)
    assert len(children) >= 5, f"expected broker, demo server, worker, connectors and desk; got {children}"
    demo.proc.send_signal(signal.SIGINT)
    demo.proc.wait(timeout=60)
    assert demo.proc.returncode == 0, demo.log_tail()
    wait_for(lambda: not any(alive(pid) for pid in children), timeout_secs=15, what="every child to exit")
