"""`watchfloor run` on the embedded broker, stopped and started again in the same directory: the
compacted topics come back (``watchfloor.statekeeper``), so feeds already read are not emitted again,
nothing is alerted or delivered to a webhook twice, and a pushed rule pack and an added source are
still in use; after Ctrl-C and after SIGKILL of the whole process group alike. Work in flight at the
kill (an item fetched, not classified; an alert raised, not stored by the desk) is finished after it."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections import Counter
from pathlib import Path

from core.settings import Settings
from desk.store import STORE_FILE, AlertStore
from schemas import ClassifiedItem
from tests.conftest import read_to_end, wait_until
from tests.desk.receiver import WebhookReceiver
from tests.faults.conftest import Feeds, serve_feeds
from tests.watchfloor.test_run_supervision import all_classified, child_pid, child_pids, run_env
from watchfloor.broker import free_port

STORY = "Medvedev again threatened to use nuclear weapons against Kyiv and its Western backers."
OTHER = "The EU adopted its 19th sanctions package targeting the shadow fleet and Chinese refiners."
LATER = "Shoigu said Moscow would not hesitate to use tactical nuclear arms if Lithuania blockaded Kaliningrad."


def desk_alert_ids(port: int) -> list[str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/alerts?limit=1000", timeout=10) as response:
        return [a["alert"]["alert_id"] for a in json.loads(response.read())["alerts"]]


def saved(data_dir: Path, topic: str) -> dict[str, bytes]:
    """The live records in the keeper's file for ``topic``, by key (what a restart would restore)."""
    path = data_dir / "broker-state" / f"{topic}.jsonl"
    rows = path.read_text().splitlines()[1:] if path.exists() else []
    found: dict[str, bytes] = {}
    for row in rows:
        line = json.loads(row)
        found[base64.b64decode(line["k"]).decode()] = base64.b64decode(line["v"]) if line["v"] else b""
    return found


def stored_alert_ids(data_dir: Path) -> list[str]:
    """The alert ids in the desk's store, read from its file while no desk runs."""
    store = AlertStore(data_dir / STORE_FILE)
    try:
        return sorted(s.alert.alert_id for s in store.query(limit=10_000))
    finally:
        store.close()


def raised(data_dir: Path) -> set[str]:
    """The alert ids the workers raised: the ledger as the keeper saved it."""
    return {key[2:] for key, value in saved(data_dir, "watchfloor.alert-ledger.v1").items()
            if key.startswith("a:") and value}


def state_on_disk(data_dir: Path, source: str, items: int, alert_ids: list[str]) -> bool:
    """The keeper wrote ``source``'s state with ``items`` recent items, and every alert to the ledger."""
    state = saved(data_dir, "watchfloor.source-state.v1").get(source)
    ledger = saved(data_dir, "watchfloor.alert-ledger.v1")
    return bool(state) and len(json.loads(state)["recent"]) >= items and all(f"a:{a}" in ledger for a in alert_ids)


async def on_topic_but(settings: Settings, known: list[str]) -> set[str]:
    """The alert ids on the alerts topic that are not in ``known``."""
    return {r.key.decode() for r in await read_to_end(settings, "watchfloor.alerts.v1")} - set(known)


def in_flight_guids(data_dir: Path) -> set[str]:
    """The feed guids of the raw items the keeper holds as not yet classified."""
    return {json.loads(value)["url"].rsplit("/", 1)[-1]
            for value in saved(data_dir, "watchfloor.items.raw.v1").values() if value}


PACK = """
themes:
  - {id: escalation, threshold: 1, terms: {nuclear: 1}}
triggers:
  - {id: nuclear_words, severity: high, when: "theme:escalation"}
"""


async def watchfloor(env: dict[str, str], *args: str) -> str:
    """Run a CLI command in a thread: the feeds and the webhook receiver share this test's event loop,
    and a blocked loop would leave the pipeline's requests unanswered until they time out."""
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "watchfloor", *args], env=env,
                                   capture_output=True, text=True,
                                   timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def classified_with(settings: Settings, guid: str) -> str:
    """The rules version the item with ``guid`` was classified with, once it was."""
    async def found():
        for record in await read_to_end(settings, "watchfloor.items.classified.v1"):
            item = ClassifiedItem.model_validate_json(record.value)
            if item.item.url.endswith(f"/{guid}"):
                return item.rules_version
        return None

    return await wait_until(found, 90, f"{guid} classified")


class Run:
    """One `watchfloor run` in ``tmp_path``, in its own process group, logging to ``<name>.log``."""

    def __init__(self, tmp_path: Path, env: dict[str, str], name: str):
        self.env = env
        self.log_path = tmp_path / f"{name}.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "watchfloor", "run"], cwd=tmp_path, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                         start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def started(self) -> None:
        await wait_until(lambda: "Started desk" in self.log(), 90, "every child started")

    async def ctrl_c(self) -> None:
        """SIGINT, and wait for the exit in a thread: the stopping desk and connectors still talk to
        the receiver and the feeds on this test's event loop."""
        self.proc.send_signal(signal.SIGINT)
        assert await asyncio.to_thread(self.proc.wait, 90) == 0, self.log()[-3000:]


async def nothing_again(settings: Settings, web_port: int, before: list[str], run: Run,
                        states: dict[str, int]) -> None:
    """After a restart: state restored, every feed polled again (``states``: at least so many state
    records per source, the restored one included), and nothing emitted or alerted again."""
    assert "Restored " in run.log() and "compacted topics" in run.log(), run.log()[-3000:]

    async def polled_again() -> bool:
        keys = [r.key.decode() for r in await read_to_end(settings, "watchfloor.source-state.v1")]
        return all(keys.count(source) >= n for source, n in states.items())

    await wait_until(polled_again, 60, "both feeds polled after the restart")
    assert await read_to_end(settings, "watchfloor.items.raw.v1") == [], "an item was emitted again"
    assert await read_to_end(settings, "watchfloor.alerts.v1") == [], "an alert was raised again"
    assert sorted(desk_alert_ids(web_port)) == before
    assert raised(Path(run.env["WATCHFLOOR_DATA_DIR"])) <= set(before), \
        "an alert raised before the stop never reached the desk"


async def test_a_restart_in_the_same_directory_emits_nothing_again_and_alerts_nothing_twice(tmp_path):
    ports = {name: free_port() for name in ("kafka", "web", "supervisor")}
    settings = Settings(kafka_bootstrap=f"127.0.0.1:{ports['kafka']}")
    feeds = Feeds()
    # One story first carried by one feed and syndicated by another after it alerted, and one more item.
    feeds.entries["wire"] = [("w1", STORY), ("w2", OTHER)]
    feeds.entries["echo"] = []
    hook_secret = "restart-test-webhook-secret-0123456789"
    async with serve_feeds(feeds) as base, WebhookReceiver({"ops": hook_secret}) as receiver:
        hooks = tmp_path / "webhooks.yaml"
        hooks.write_text(f"webhooks:\n  - {{name: ops, url: '{receiver.url('ops')}', secret_env: HOOK_OPS}}\n")
        sources = tmp_path / "sources.yaml"
        sources.write_text("sources:\n"
                           f"  - {{id: wire, type: rss, url: '{base}/wire', poll_interval_secs: 1}}\n"
                           f"  - {{id: echo, type: rss, url: '{base}/echo', poll_interval_secs: 1}}\n")
        env = run_env(tmp_path, sources, ports, WATCHFLOOR_STORY_GROUPING="true",
                      WATCHFLOOR_WEBHOOKS_PATH=str(hooks), HOOK_OPS=hook_secret)

        run = Run(tmp_path, env, "first")
        try:
            await run.started()
            await all_classified(settings, {"w1", "w2"})
            first_alerts = {r.key.decode() for r in await read_to_end(settings, "watchfloor.alerts.v1")}
            await wait_until(lambda: first_alerts and first_alerts <= set(desk_alert_ids(ports["web"])), 90,
                             "the first alerts")
            feeds.entries["echo"].append(("e1", STORY))  # the syndicated copy, later
            await all_classified(settings, {"e1"})
            on_topic = {r.key.decode() for r in await read_to_end(settings, "watchfloor.alerts.v1")}
            await wait_until(lambda: on_topic and on_topic <= set(desk_alert_ids(ports["web"])), 90, "the alerts")
            # A source added on the topic (connectors read it at start) and a rule pack pushed.
            cli_env = {**env, "WATCHFLOOR_KAFKA_BOOTSTRAP": settings.kafka_bootstrap}
            feeds.entries["late"] = []
            await watchfloor(cli_env, "sources", "add", "late", "--type", "rss", "--url", f"{base}/late",
                       "--interval", "1", "--topic")
            (tmp_path / "pushed").mkdir()
            (tmp_path / "pushed" / "pack.yaml").write_text(PACK)
            pushed = (await watchfloor(cli_env, "rules", "push", str(tmp_path / "pushed"))).split()[-1]
            data_dir = Path(env["WATCHFLOOR_DATA_DIR"])
            await wait_until(lambda: "late" in saved(data_dir, "watchfloor.sources.v1")
                             and "pushed" in saved(data_dir, "watchfloor.rules.v1"), 30, "the source and pack on disk")
        finally:
            await run.ctrl_c()
        before = stored_alert_ids(data_dir)  # what the desk had when everything had stopped

        run = Run(tmp_path, env, "after-ctrl-c")
        try:
            await run.started()
            await nothing_again(settings, ports["web"], before, run, {"wire": 2, "echo": 2, "late": 1})
            # Each alert reaches the webhook once (one still pending at the stop is sent now).
            await wait_until(lambda: set(receiver.delivered("ops")) == set(before), 60, "the webhook deliveries")
            assert sorted(receiver.delivered("ops")) == before, "a webhook delivery was repeated"
            delivered_before_kill = list(before)
            # A crash with work in flight: the desk is frozen while w3 is alerted, then the workers
            # while l2 is fetched, and the whole process group is killed with w3's alert only on the
            # alerts topic and l2 only on the raw items topic. The keeper holds both (uncommitted).
            os.kill(child_pid(run.proc, "web"), signal.SIGSTOP)
            feeds.entries["wire"].append(("w3", LATER))
            assert await classified_with(settings, "w3") == pushed
            w3_alerts = await wait_until(lambda: on_topic_but(settings, before), 60, "w3's alert")
            await wait_until(lambda: w3_alerts <= set(saved(data_dir, "watchfloor.alerts.v1")), 30,
                             "w3's alert kept in flight")
            for pid in child_pids(run.proc, "worker"):
                os.kill(pid, signal.SIGSTOP)
            feeds.entries["late"].append(("l2", LATER.replace("Shoigu", "Medvedev")))
            await wait_until(lambda: in_flight_guids(data_dir) == {"l2"}, 60, "l2 kept in flight")
            await wait_until(lambda: state_on_disk(data_dir, "wire", 3, list(w3_alerts))
                             and state_on_disk(data_dir, "late", 1, []), 30, "the new state on disk")
        finally:
            os.killpg(run.proc.pid, signal.SIGKILL)
            await asyncio.to_thread(run.proc.wait, 30)
        assert stored_alert_ids(data_dir) == before, "the frozen desk stored an alert"

        run = Run(tmp_path, env, "after-sigkill")
        try:
            await run.started()
            # What was in flight is done now: w3's alert reaches the desk from the restored alerts
            # topic (its ledger record keeps it from being raised again), and l2 is classified, under
            # the pushed pack, and alerted. Nothing else is fetched or alerted again.
            assert await classified_with(settings, "l2") == pushed
            l2_alerts = await wait_until(lambda: on_topic_but(settings, [*before, *w3_alerts]), 60, "l2's alert")
            after = sorted({*before, *w3_alerts, *l2_alerts})
            await wait_until(lambda: sorted(desk_alert_ids(ports["web"])) == after, 60, "every alert on the desk")
            raw = [ClassifiedItem.model_validate_json(r.value) for r in
                   await read_to_end(settings, "watchfloor.items.classified.v1")]
            assert [c.item.url.rsplit("/", 1)[-1] for c in raw] == ["l2"], "an item was fetched again"
            ids = [r.key.decode() for r in await read_to_end(settings, "watchfloor.alerts.v1")]
            assert len(ids) == len(set(ids)) and not set(ids) & set(delivered_before_kill), "an alert was raised again"
            # Every alert reached the webhook. Those delivered before the kill, once each.
            await wait_until(lambda: set(receiver.delivered("ops")) == set(after), 60, "every webhook delivery")
            counts = Counter(receiver.delivered("ops"))
            assert all(counts[a] == 1 for a in delivered_before_kill), counts
            assert all(r.headers.get("webhook-id") == r.alert_id for r in receiver.received["ops"])
        finally:
            await run.ctrl_c()
