"""Story fixtures: syndicated copies as RSS and Telegram items, and helpers that read the story and
alert topics."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from core.kafka import worker_app_id
from schemas import Alert, ClassifiedItem, Item
from schemas.item import TelegramMeta
from tests.conftest import consume_until, read_to_end

BASE = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def copy_item(n: int, text: str, source: str, *, at: datetime = BASE, title: str = "") -> Item:
    """RSS for even ``n``, Telegram for odd: the grouping must not care which."""
    if n % 2:
        channel = source.replace("-", "_")
        return Item(item_id=f"telegram:{channel}/{n}", source_type="telegram", source_id=source,
                    url=f"https://t.me/{channel}/{n}", text=text, published_at=at,
                    fetched_at=at + timedelta(seconds=n), telegram=TelegramMeta(channel=channel, message_id=n))
    return Item(item_id=f"rss:{source}:{n}", source_type="rss", source_id=source, url=f"https://example.org/{n}",
                title=title, text=text, published_at=at, fetched_at=at + timedelta(seconds=n))


async def storied(settings, topic: str, count: int, timeout_secs: float = 60.0) -> dict[str, ClassifiedItem]:
    """item_id → storied item, once ``count`` distinct items reached ``items.stories``."""
    def done(records):
        return len({r.key + b"|" + ClassifiedItem.model_validate_json(r.value).item.item_id.encode()
                    for r in records}) >= count
    records = await consume_until(settings, topic, done, timeout_secs=timeout_secs)
    return {c.item.item_id: c for c in (ClassifiedItem.model_validate_json(r.value) for r in records)}


async def alerts_until(settings, topic: str, done, timeout_secs: float = 60.0) -> list[Alert]:
    await consume_until(settings, topic, lambda rs: done([Alert.model_validate_json(r.value) for r in rs]),
                        timeout_secs=timeout_secs)
    return [Alert.model_validate_json(r.value) for r in await read_to_end(settings, topic)]


# -- real worker processes -----------------------------------------------------------------------

def stories_pack() -> dict:
    """The pipeline test pack plus a second person, so surge scenarios can use separate keys."""
    from tests.streams.conftest import TEST_PACK

    shoigu = {"id": "person:shoigu", "name": "Sergei Shoigu", "type": "person", "variants": ["Shoigu", "Шойгу"]}
    return {**TEST_PACK, "entities": [*TEST_PACK["entities"], shoigu]}


def start_worker(settings, rules_file, log_path):
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "WATCHFLOOR_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "WATCHFLOOR_TOPIC_PREFIX": settings.topic_prefix,
        "WATCHFLOOR_TOPIC_PARTITIONS": str(settings.topic_partitions),
        "WATCHFLOOR_RULES_PATH": str(rules_file),
        "WATCHFLOOR_DATA_DIR": str(settings.data_dir),
        "WATCHFLOOR_WORKER_METRICS_PORT": "-1",
        "WATCHFLOOR_ALERT_COOLDOWN_SECS": "0",
        "WATCHFLOOR_STORY_GROUPING": "true",
    }
    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "watchfloor", "worker"], env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def stop_workers(workers) -> None:
    import signal
    import subprocess

    for proc in workers:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in workers:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


async def wait_committed(settings, group: str, topic: str, timeout_secs: float = 60.0) -> None:
    """Until ``group`` committed every record of ``topic`` (its consumer got through them all)."""
    from aiokafka import TopicPartition

    from core.kafka import make_consumer
    from tests.conftest import wait_until

    reader = make_consumer(settings, group_id=group)
    await reader.start()
    try:
        tps = [TopicPartition(topic, p) for p in sorted(reader.partitions_for_topic(topic) or [])]
        ends = await reader.end_offsets(tps)

        async def through() -> bool:
            for tp in tps:
                if ends[tp] and (await reader.committed(tp) or 0) < ends[tp]:
                    return False
            return True
        await wait_until(through, timeout_secs=timeout_secs, what=f"{group} to commit all of {topic}")
    finally:
        await reader.stop()


def faust_group(settings) -> str:
    return worker_app_id(settings)
