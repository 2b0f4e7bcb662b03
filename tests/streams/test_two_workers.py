"""Two real worker processes share the partitions; one is SIGKILLed mid-stream. Every input item
is still classified, and no alert id reaches the alerts topic twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from schemas import Alert
from tests.conftest import consume_until, read_to_end, wait_until
from tests.streams.conftest import make_item, produce_items
from tests.streams.test_pipeline import NUCLEAR, SANCTIONS, UNRELATED

ITEMS = 600


def start_worker(settings, rules_file, log_path, story_grouping: str = "false") -> subprocess.Popen:
    env = {
        **os.environ,
        "WATCHFLOOR_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "WATCHFLOOR_TOPIC_PREFIX": settings.topic_prefix,
        "WATCHFLOOR_TOPIC_PARTITIONS": str(settings.topic_partitions),
        "WATCHFLOOR_RULES_PATH": str(rules_file),
        "WATCHFLOOR_DATA_DIR": str(settings.data_dir),
        "WATCHFLOOR_WORKER_METRICS_PORT": "0",
        "WATCHFLOOR_ALERT_COOLDOWN_SECS": "0",
        # The corpus repeats three texts across 7 feeds: with stories they would be 3 alerts, not 400.
        "WATCHFLOOR_STORY_GROUPING": story_grouping,
    }
    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "watchfloor", "worker"], env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def corpus() -> list:
    texts = [NUCLEAR, SANCTIONS, UNRELATED]
    return [make_item(i, f"{texts[i % 3]} Item {i}.", source=f"feed-{i % 7}") for i in range(ITEMS)]


async def test_sigkill_of_one_worker_loses_no_item_and_duplicates_no_alert(settings, topics, rules_file, tmp_path):
    settings = settings.model_copy(update={"topic_partitions": 2})
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    workers = [start_worker(settings, rules_file, log) for log in logs]
    try:
        # Both workers hold one of the two partitions once the group has settled.
        await wait_until(lambda: all("ClassifyStage: assigned 1 partitions" in log.read_text(errors="replace")
                                     for log in logs), timeout_secs=120, what="both workers to share the partitions")
        items = corpus()
        await produce_items(settings, topics["items_raw"], items[: ITEMS // 2])
        # Kill the first worker once the stream is flowing.
        await consume_until(settings, topics["items_classified"], lambda rs: len(rs) >= 20, timeout_secs=60)
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=10)
        await produce_items(settings, topics["items_raw"], items[ITEMS // 2:])

        wanted = {i.item_id for i in items}
        await consume_until(settings, topics["items_classified"],
                            lambda rs: wanted <= {r.key.decode() for r in rs}, timeout_secs=120)
        expected_alerts = sum(1 for i in items if "Medvedev" in i.text or "sanctions package" in i.text)
        await consume_until(settings, topics["alerts"], lambda rs: len(rs) >= expected_alerts, timeout_secs=60)
        records = await read_to_end(settings, topics["alerts"])
        ids = [Alert.model_validate_json(r.value).alert_id for r in records]
        assert len(ids) == len(set(ids)) == expected_alerts
        assert workers[1].poll() is None, "the surviving worker crashed"
    except TimeoutError as exc:
        tails = "\n".join(f"--- {log.name}:\n{log.read_text(errors='replace')[-2500:]}" for log in logs)
        raise AssertionError(f"{exc}\n{tails}") from None
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()


async def test_a_worker_is_ready_soon_after_start_and_stops_cleanly(settings, topics, rules_file, tmp_path):
    """Faust's default 60 s session timeout made the embedded broker hold the app's first group
    join for 30 s: the worker was not ready for half a minute, and one told to stop meanwhile waited
    for the join before it could leave, and was killed. Now the app is ready within seconds, and a
    SIGTERM ends the worker with status 0 (a clean stop, not a kill) well within the supervisor's
    grace period."""
    log = tmp_path / "worker.log"
    worker = start_worker(settings, rules_file, log)
    try:
        await wait_until(lambda: "[^Worker]: Ready" in log.read_text(errors="replace"), 25,
                         "the worker's Faust app to be ready")
        worker.send_signal(signal.SIGTERM)
        await wait_until(lambda: worker.poll() is not None, 8, "the worker to exit after SIGTERM")
        assert worker.returncode == 0, log.read_text(errors="replace")[-2000:]
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
