"""``watchfloor.statekeeper``: what the keeper writes is what a restart restores (live records only,
on their partitions, with headers), and a file cut short or grown long is handled."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import uuid

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from core.kafka import client_kwargs, create_topics, desk_group, make_consumer, start_producer, worker_group
from tests.conftest import read_to_end, wait_until
from watchfloor import statekeeper
from watchfloor.broker import EmbeddedBroker
from watchfloor.statekeeper import (
    Keeper,
    StateMismatch,
    TailState,
    TopicState,
    read_file,
    restore,
    state_dir,
    write_file,
)


@pytest.fixture
def keep_settings(settings, tmp_path):
    # A prefix of its own: the keeper keeps every compacted topic of its deployment.
    return settings.model_copy(update={"topic_prefix": f"k{uuid.uuid4().hex[:8]}.", "data_dir": tmp_path,
                                       "kafka_idempotence": "off"})


class KeeperTask:
    """A keeper running in this event loop until ``stop()``; ``ready`` once its files are written."""

    def __init__(self, settings):
        self.ready, self._stop = asyncio.Event(), asyncio.Event()
        self.task = asyncio.create_task(Keeper(settings).run(lambda topics, records: self.ready.set(), self._stop))

    async def stop(self) -> None:
        self._stop.set()
        await self.task


async def keeper_ready(keeper: KeeperTask) -> None:
    await asyncio.wait_for(keeper.ready.wait(), 30)


@contextlib.contextmanager
def fresh_broker(settings):
    """``settings`` pointed at a new, empty embedded broker: where a restart restores to."""
    with EmbeddedBroker("127.0.0.1", 0) as fresh:
        yield settings.model_copy(update={"kafka_bootstrap": fresh.bootstrap})


async def test_what_the_keeper_writes_is_restored_on_an_empty_broker(keep_settings):
    settings = keep_settings
    ledger, changelog = f"{settings.topic_prefix}alert-ledger.v1", f"{settings.topic_prefix.replace('.', '-')}t-changelog"
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    await admin.create_topics([NewTopic(ledger, 1, 1), NewTopic(changelog, 3, 1)])
    await admin.close()
    producer = await start_producer(settings)
    await producer.send_and_wait(ledger, b"1", key=b"a:one", headers=[("why", b"first")])
    try:
        await keeper_ready(keeper := KeeperTask(settings))
        # After the keeper started: a key replaced, one removed, and records on three partitions.
        await producer.send_and_wait(ledger, b"2", key=b"a:two")
        await producer.send_and_wait(ledger, b"1b", key=b"a:one", headers=[("why", b"again")])
        await producer.send_and_wait(ledger, None, key=b"a:two")
        for p in range(3):
            await producer.send_and_wait(changelog, f"v{p}".encode(), key=f"k{p}".encode(), partition=p)
        path = state_dir(settings) / f"{changelog}.jsonl"
        await wait_until(lambda: path.exists() and len((read_file(path) or TopicState("", 0)).records) == 3, 30,
                         "the changelog on disk")
        await wait_until(lambda: list(read_file(state_dir(settings) / f"{ledger}.jsonl").records) == [(0, "YTpvbmU=")],
                         30, "the ledger on disk")
    finally:
        await keeper.stop()
        await producer.stop()

    with fresh_broker(settings) as there:
        topics, records = await restore(there)
        assert topics >= 2 and records >= 4
        [one] = await read_to_end(there, ledger)
        assert (one.key, one.value, list(one.headers)) == (b"a:one", b"1b", [("why", b"again")])
        restored = await read_to_end(there, changelog)
        assert sorted((r.partition, r.key, r.value) for r in restored) == [
            (0, b"k0", b"v0"), (1, b"k1", b"v1"), (2, b"k2", b"v2")]


def test_a_last_line_cut_short_is_skipped_and_a_file_without_header_ignored(tmp_path, caplog):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"topic": "t", "partitions": 1}) + "\n"
                    + json.dumps({"p": 0, "k": "YQ==", "v": "MQ==", "t": 1, "h": []}) + "\n" + '{"p": 0, "k": "Yg')
    with caplog.at_level(logging.WARNING):
        state = read_file(path)
    assert list(state.records) == [(0, "YQ==")]
    assert f"{path}:3 is not a record" in caplog.text
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    with caplog.at_level(logging.ERROR):
        assert read_file(bad) is None
    assert f"Saved state {bad} has no readable header line" in caplog.text


def test_a_file_is_rewritten_with_its_live_records_once_it_grew_long(tmp_path, monkeypatch, keep_settings):
    monkeypatch.setattr(statekeeper, "REWRITE_MIN_LINES", 10)
    keeper = Keeper(keep_settings.model_copy(update={"data_dir": tmp_path}))
    keeper.directory.mkdir(parents=True)
    keeper.states = {"t": TopicState("t", 1)}
    write_file(keeper.directory / "t.jsonl", keeper.states["t"])

    class Record:
        def __init__(self, n):
            self.partition, self.key, self.value, self.timestamp, self.headers = 0, f"k{n % 3}".encode(), b"v", n, ()
            self.offset = n

    for n in range(40):
        keeper._append("t", [Record(n)])
    lines = (keeper.directory / "t.jsonl").read_text().splitlines()
    assert len(lines) <= 1 + 3 + 10  # the header, the live records, at most one rewrite's worth appended
    assert sorted(read_file(keeper.directory / "t.jsonl").records) == [(0, "azA="), (0, "azE="), (0, "azI=")]


async def test_an_unreadable_file_is_moved_aside_not_restored_and_not_written_over(keep_settings):
    directory = state_dir(keep_settings)
    directory.mkdir(parents=True)
    (directory / "broken.jsonl").write_text("not a header\n")
    assert await restore(keep_settings) == (0, 0)
    assert not (directory / "broken.jsonl").exists()
    assert (directory / "broken.jsonl.unreadable").read_text() == "not a header\n"


async def test_saved_state_for_another_partition_count_is_refused_with_what_to_do(keep_settings):
    await create_topics(keep_settings)  # two partitions, as the settings say
    topic = f"{keep_settings.topic_prefix}source-state.v1"
    state_dir(keep_settings).mkdir(parents=True, exist_ok=True)
    write_file(state_dir(keep_settings) / f"{topic}.jsonl", TopicState(topic, 4))
    with pytest.raises(StateMismatch, match=f"holds 4 partitions of {topic}, the topic has 2: set "
                                            "WATCHFLOOR_TOPIC_PARTITIONS=4 again"):
        await restore(keep_settings)


def tail_keys(path) -> list[bytes]:
    state = read_file(path) if path.exists() else None
    return [base64.b64decode(line["k"]) for line in state.lines()] if state is not None else []


async def commit(settings, group: str, topic: str, partition: int, offset: int) -> None:
    """Commit ``offset`` for ``group`` as its consumer would, after processing what comes before."""
    consumer = make_consumer(settings, group_id=group)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, partition)])
        await consumer.commit({TopicPartition(topic, partition): offset})
    finally:
        await consumer.stop()


async def test_in_flight_records_are_kept_until_their_group_committed_past_them_and_come_back(keep_settings):
    settings = keep_settings
    await create_topics(settings)
    raw, alerts = f"{settings.topic_prefix}items.raw.v1", f"{settings.topic_prefix}alerts.v1"
    classified = f"{settings.topic_prefix}items.classified.v1"
    producer = await start_producer(settings)
    for n in range(5):
        await producer.send_and_wait(raw, f"item {n}".encode(), key=f"i{n}".encode(), partition=0)
    await producer.send_and_wait(alerts, b"alert", key=b"a1", partition=1)
    await producer.send_and_wait(classified, b"read by nobody of ours", key=b"i0", partition=0)
    raw_file, alerts_file = (state_dir(settings) / f"{t}.jsonl" for t in (raw, alerts))
    try:
        await keeper_ready(keeper := KeeperTask(settings))
        assert tail_keys(raw_file) == [b"i0", b"i1", b"i2", b"i3", b"i4"]  # no group committed anything yet
        assert tail_keys(alerts_file) == [b"a1"]
        assert not (state_dir(settings) / f"{classified}.jsonl").exists()
        # The classify stage processed three items; the desk stored the alert.
        await commit(settings, worker_group(settings, "classify"), raw, 0, 3)
        await commit(settings, desk_group(settings), alerts, 1, 1)
        await wait_until(lambda: tail_keys(raw_file) == [b"i3", b"i4"] and tail_keys(alerts_file) == [], 30,
                         "the committed records dropped from the files")
        # A revision of an item in flight is kept beside the first version, in order.
        await producer.send_and_wait(raw, b"item 4 revised", key=b"i4", partition=0)
        await wait_until(lambda: tail_keys(raw_file) == [b"i3", b"i4", b"i4"], 30, "the revision on disk")
    finally:
        await keeper.stop()
        await producer.stop()

    with fresh_broker(settings) as there:
        await create_topics(there)
        await restore(there)
        restored = await read_to_end(there, raw)
        assert [(r.partition, r.key, r.value) for r in restored] == [
            (0, b"i3", b"item 3"), (0, b"i4", b"item 4"), (0, b"i4", b"item 4 revised")]
        assert await read_to_end(there, alerts) == []


async def test_work_in_flight_saved_under_another_partition_count_is_restored_by_key(keep_settings):
    await create_topics(keep_settings)  # two partitions, as the settings say
    topic = f"{keep_settings.topic_prefix}items.raw.v1"
    state = TailState(topic, 4)
    for n in range(6):
        state.apply({"p": n % 4, "k": base64.b64encode(f"i{n}".encode()).decode(), "v": "eA==", "t": 1, "h": []})
    state_dir(keep_settings).mkdir(parents=True, exist_ok=True)
    write_file(state_dir(keep_settings) / f"{topic}.jsonl", state)
    await restore(keep_settings)
    restored = await read_to_end(keep_settings, topic)
    assert sorted(r.key for r in restored) == [f"i{n}".encode() for n in range(6)]
    assert {r.partition for r in restored} <= {0, 1}
