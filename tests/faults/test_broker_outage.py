"""The broker stops answering for 60 s — half as long again as the clients' 40 s request timeout — and comes
back: the worker, the connector and the desk recover by themselves, none exits, every item published
during and after the outage is classified, and every alert reaches the desk once.

"Stopped" is SIGSTOP/SIGCONT of the broker process: the embedded tansu broker keeps its data in
memory only, so a real restart would be a new, empty cluster (topics, offsets and the alert ledger
gone), which is a different fault from a broker that goes away and comes back with its log. A
frozen broker is the harder case for clients, too: connections stay open and requests hang instead
of failing fast. The test runs its own broker so that freezing it cannot disturb other tests.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import urllib.request
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from core.kafka import create_topics, topic_names
from core.settings import Settings
from schemas import ClassifiedItem
from tests.conftest import LOCAL_NETWORKS, consume_until, read_to_end, wait_until
from tests.faults.conftest import Feeds, process_env, serve_feeds, start, stop
from watchfloor.broker import EmbeddedBroker, free_port

OUTAGE_SECS = 60.0


@pytest.fixture
def own_broker():
    with EmbeddedBroker("127.0.0.1", 0) as running:
        yield running


def add_items(feeds: Feeds, start_n: int, count: int) -> set[str]:
    texts = ["Medvedev again threatened to use nuclear weapons against Kyiv.",
             "The EU adopted its 19th sanctions package targeting the shadow fleet.",
             "The city council voted to repair the tram line on Tuesday."]
    new = [(f"g{n}", f"{texts[n % 3]} Report {n}.") for n in range(start_n, start_n + count)]
    feeds.entries.setdefault("wire", []).extend(new)
    return {guid for guid, _ in new}


async def classified_guids(settings, topic: str, wanted: set[str], timeout_secs: float) -> set[str]:
    def guids(records) -> set[str]:  # the feed's guid is the last part of the item's link
        return {ClassifiedItem.model_validate_json(r.value).item.url.rsplit("/", 1)[-1] for r in records}

    records = await consume_until(settings, topic, lambda rs: wanted <= guids(rs), timeout_secs=timeout_secs)
    return guids(records)


@dataclass
class Running:
    settings: Settings
    names: dict[str, str]
    feeds: Feeds
    procs: dict[str, subprocess.Popen]
    first: set[str]
    web_port: int = 0
    logs: dict[str, str] = field(default_factory=dict)

    def desk_alert_ids(self) -> list[str]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/api/alerts?limit=1000", timeout=10) as r:
            return [a["alert"]["alert_id"] for a in json.loads(r.read())["alerts"]]


@asynccontextmanager
async def worker_and_connector(broker: EmbeddedBroker, tmp_path, first_items: int):
    """A worker and a connector polling one local feed, once they classified ``first_items`` items.
    On exit both are stopped and must exit 0; their logs are left in ``Running.logs``."""
    settings = Settings(kafka_bootstrap=broker.bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:8]}.",
                        topic_partitions=2, data_dir=tmp_path / "data", fetch_allowed_networks=LOCAL_NETWORKS)
    await create_topics(settings)
    feeds = Feeds()
    before = add_items(feeds, 0, first_items)
    async with serve_feeds(feeds) as base:
        sources = tmp_path / "sources.yaml"
        sources.write_text(f"sources:\n  - {{id: wire, type: rss, url: '{base}/wire', poll_interval_secs: 1}}\n")
        web_port = free_port()
        env = process_env(settings, WATCHFLOOR_SOURCES_PATH=str(sources), WATCHFLOOR_STORY_GROUPING="false",
                          WATCHFLOOR_WEB_PORT=str(web_port))
        procs = {name: start(name, env, tmp_path / f"{name}.log") for name in ("worker", "connect", "web")}
        running = Running(settings, topic_names(settings), feeds, procs, before, web_port=web_port)
        try:
            await classified_guids(settings, running.names["items_classified"], before, 90)
            yield running
        finally:
            codes = {name: stop(p) for name, p in procs.items()}
    running.logs = {name: (tmp_path / f"{name}.log").read_text(errors="replace") for name in procs}
    assert codes == {"worker": 0, "connect": 0, "web": 0}, running.logs


async def test_worker_connector_and_desk_survive_a_60s_broker_stop_and_lose_no_alert(own_broker, tmp_path):
    async with worker_and_connector(own_broker, tmp_path, 20) as run:
        os.kill(own_broker.proc.pid, signal.SIGSTOP)
        try:
            during = add_items(run.feeds, 20, 20)
            deadline = time.monotonic() + OUTAGE_SECS
            while time.monotonic() < deadline:  # the outage itself; meanwhile nobody may exit
                assert all(p.poll() is None for p in run.procs.values()), "a process exited during the outage"
                await asyncio.sleep(0.5)
        finally:
            os.kill(own_broker.proc.pid, signal.SIGCONT)
        after = add_items(run.feeds, 40, 20)
        await classified_guids(run.settings, run.names["items_classified"], run.first | during | after, 180)
        # Every alert on the topic reaches the desk, and the desk lists each once.
        alerts = await read_to_end(run.settings, run.names["alerts"])
        on_topic = {r.key.decode() for r in alerts}
        assert len(on_topic) >= 20  # two of every three items alert
        await wait_until(lambda: on_topic <= set(run.desk_alert_ids()), 90, "every alert on the desk")
        listed = run.desk_alert_ids()
        assert len(listed) == len(set(listed))
        assert all(p.poll() is None for p in run.procs.values()), "a process exited after the outage"
    for name, text in run.logs.items():
        assert "Traceback" not in text, f"{name} logged a traceback:\n{text[-3000:]}"


async def test_worker_and_connector_survive_a_real_broker_restart_with_topics_created_again(own_broker, tmp_path):
    """A real restart of the memory-only broker on the same port: an empty cluster, on which the
    topics are created again (as ``watchfloor run`` does at start). Items published after it are
    all classified, and neither process crashes."""
    async with worker_and_connector(own_broker, tmp_path, 10) as run:
        own_broker.stop()
        own_broker.start()
        await create_topics(run.settings)
        after = add_items(run.feeds, 10, 20)
        await classified_guids(run.settings, run.names["items_classified"], after, 120)
        assert all(p.poll() is None for p in run.procs.values()), "a process exited after the restart"
