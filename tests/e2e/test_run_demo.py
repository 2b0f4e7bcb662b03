"""`watchfloor run --demo`: the whole pipeline on one machine. Explained alerts reach the alerts
topic within 30 s, readable by a Kafka client other than ours (confluent-kafka), and Ctrl-C leaves
no process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.foundation.test_broker_lifecycle import alive, descendants
from watchfloor.broker import free_port
from watchfloor.procs import wait_for

confluent_kafka = pytest.importorskip("confluent_kafka")


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


def test_run_demo_shows_explained_alerts_within_30s_and_ctrl_c_leaves_nothing(tmp_path):
    kafka_port, web_port = free_port(), free_port()
    env = {**os.environ, "WATCHFLOOR_EMBEDDED_KAFKA_PORT": str(kafka_port), "WATCHFLOOR_WEB_PORT": str(web_port),
           "WATCHFLOOR_WORKER_METRICS_PORT": "0", "WATCHFLOOR_CONNECT_METRICS_PORT": "0",
           "WATCHFLOOR_DATA_DIR": str(tmp_path / "data")}
    started = time.monotonic()
    log = open(tmp_path / "run.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "watchfloor", "run", "--demo"], env=env, cwd=tmp_path,
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        bootstrap = f"127.0.0.1:{kafka_port}"
        alerts = read_alerts_with_confluent(bootstrap, "watchfloor.alerts.v1", want=3, deadline=started + 30)
        assert len(alerts) >= 3, f"{len(alerts)} alerts within 30 s; log: {(tmp_path / 'run.log').read_text()[-3000:]}"
        for alert in alerts:
            assert alert["trigger_id"] and alert["description"] and alert["rules_version"]
            assert alert["themes"] and alert["matches"] and alert["snippet"]
        assert {a["severity"] for a in alerts} & {"critical", "high", "warning"}
        children = descendants(proc.pid)
        assert len(children) >= 5, f"expected broker, demo, worker, connectors and desk; got {children}"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        log.close()
    assert proc.returncode == 0, (tmp_path / "run.log").read_text()[-3000:]
    wait_for(lambda: not any(alive(pid) for pid in children), timeout_secs=15, what="every child to exit")
