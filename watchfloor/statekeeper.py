"""The embedded broker's state on disk: the compacted topics kept under ``DATA_DIR/broker-state``.

The embedded tansu broker keeps every topic in memory. What a restart must not lose lives in the
compacted topics: the sources added and rule packs pushed, each source's cursor (so feeds are not
emitted again), the alert ledger (so nothing is alerted twice), the story index and book (so a story
keeps its id), and the Faust tables' changelogs (surge baselines). ``watchfloor run`` on the embedded
broker therefore

1. restores them, before any other process starts (``restore``): each topic is created again with
   its partition count, and every live record (the last value of each key, tombstones applied) is
   produced to the partition it came from, with its headers and timestamp;
2. runs ``watchfloor keep-state`` (``keep``) as a supervised child: it reads those topics from the
   beginning, rewrites each topic's file from what it read, then appends every new record as it
   arrives (flushed and fsynced per batch) and rewrites a file when it has grown to twice its live
   records. A killed keeper, restarted, reads everything again, so it misses nothing the broker holds.

One file per topic, JSON Lines: a first line ``{"topic", "partitions"}``, then one record per line
``{"p", "k", "v", "t", "h"}`` (key and value base64, or null). Files are rewritten through a temporary
file and a rename, so a crash leaves the old file or the new one, never half of one; a torn last
line (a kill in the middle of an append) is skipped when read.

What is not kept: the non-compacted topics (items, classified items, alerts, mentions, dead letters)
and consumer offsets. A restarted pipeline finds those topics empty; the desk keeps its alerts in its
own database. See docs/operations.md.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from core.errors import WatchfloorError
from core.kafka import batches_to_end, client_kwargs, make_consumer, start_producer
from core.settings import Settings
from schemas.topics import TOPICS

log = logging.getLogger(__name__)

STATE_DIR = "broker-state"
CHANGELOG_SUFFIX = "-changelog"  # Faust's table changelogs: compacted, named <app id>-<table>-changelog
REWRITE_MIN_LINES = 1_000
DISCOVER_SECS = 5.0


class StateMismatch(WatchfloorError):
    """The saved state does not fit the topics as configured now."""


def state_dir(settings: Settings) -> Path:
    return settings.data_dir / STATE_DIR


def kept_topics(settings: Settings, existing: Iterable[str]) -> list[str]:
    """The compacted topics of this deployment: the declared ones and its Faust apps' changelogs."""
    declared = [spec.name(settings.topic_prefix) for spec in TOPICS.values() if spec.compacted]
    app_prefix = settings.topic_prefix.replace(".", "-")
    changelogs = [t for t in existing if t.startswith(app_prefix) and t.endswith(CHANGELOG_SUFFIX)]
    return sorted(set(declared) | set(changelogs))


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


@dataclass
class TopicState:
    """The live records of one compacted topic: the last record of each (partition, key)."""

    topic: str
    partitions: int
    records: dict[tuple[int, str | None], dict] = field(default_factory=dict)
    _unkeyed: int = 0

    def apply(self, line: dict) -> None:
        key = line["k"]
        if key is None:  # not compactable: kept as it came, in order
            self._unkeyed += 1
            self.records[(line["p"], f"\0{self._unkeyed}")] = line
        elif line["v"] is None:  # a tombstone removes the key
            self.records.pop((line["p"], key), None)
        else:
            self.records.pop((line["p"], key), None)  # re-inserted last: the file keeps arrival order
            self.records[(line["p"], key)] = line

    def lines(self) -> list[dict]:
        return list(self.records.values())


def file_name(topic: str) -> str:
    return f"{topic}.jsonl"


def read_file(path: Path) -> TopicState | None:
    """The live records in one topic file; None for a file without a readable header."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        log.error("Cannot read saved state %s: %s", path, exc)
        return None
    rows = text.split("\n")
    try:
        header = json.loads(rows[0])
        state = TopicState(str(header["topic"]), int(header["partitions"]))
    except (ValueError, KeyError, TypeError):
        log.error("Saved state %s has no readable header line; ignored.", path)
        return None
    for number, row in enumerate(rows[1:], 2):
        if not row.strip():
            continue
        try:
            line = json.loads(row)
            state.apply({"p": int(line["p"]), "k": line["k"], "v": line["v"], "t": line.get("t"),
                         "h": line.get("h") or []})
        except (ValueError, KeyError, TypeError):
            # The last line of a file appended to when the process was killed can be cut short.
            log.warning("Saved state %s:%d is not a record (a write cut short?); skipped.", path, number)
    return state


def write_file(path: Path, state: TopicState) -> None:
    """Rewrite one topic file atomically: a temporary file, fsynced, then renamed over the old one."""
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"topic": state.topic, "partitions": state.partitions}) + "\n")
        for line in state.lines():
            out.write(json.dumps(line, separators=(",", ":")) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def record_line(record) -> dict:
    return {"p": record.partition, "k": _b64(record.key), "v": _b64(record.value), "t": record.timestamp,
            "h": [[k, _b64(v)] for k, v in (record.headers or ())]}


# --- restore ----------------------------------------------------------------------------------------

async def restore(settings: Settings) -> tuple[int, int]:
    """Create every saved topic with its partitions and produce its live records; (topics, records).

    Each partition's last record is produced alone and awaited: the embedded broker reports a
    partition's end as the base offset of its last batch + 1, so readers that read "to the end" (the
    connectors' state, the ledger) must find the last batch to be one record long.
    """
    directory = state_dir(settings)
    states = []
    for path in sorted(directory.glob("*.jsonl")):
        state = read_file(path)
        if state is None:  # kept aside for a person to look at: the keeper would write it over
            aside = path.with_name(f"{path.name}.unreadable")
            os.replace(path, aside)
            log.error("Saved state %s is unreadable; moved to %s and not restored.", path, aside)
            continue
        states.append(state)
    if not states:
        return 0, 0
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        present = [s for s in states if s.topic in existing]
        counts = {d["topic"]: len(d["partitions"]) for d in await admin.describe_topics([s.topic for s in present])} \
            if present else {}
        for state in present:
            if counts.get(state.topic, state.partitions) != state.partitions:
                # Keys live on the partition they were written to (the story index by design), so the
                # state cannot be moved to another partition count.
                raise StateMismatch(
                    f"{directory / file_name(state.topic)} holds {state.partitions} partitions of {state.topic}, "
                    f"the topic has {counts[state.topic]}: set WATCHFLOOR_TOPIC_PARTITIONS={state.partitions} "
                    f"again, or move {directory} aside to start without the saved state")
        missing = [NewTopic(s.topic, s.partitions, settings.replication_factor,
                            topic_configs={"cleanup.policy": "compact"})
                   for s in states if s.topic not in existing]
        if missing:
            await admin.create_topics(missing)
    finally:
        await admin.close()
    producer = await start_producer(settings)
    count = 0
    try:
        for state in states:
            by_partition: dict[int, list[dict]] = {}
            for line in state.lines():
                by_partition.setdefault(line["p"], []).append(line)
            for partition, lines in by_partition.items():
                sent = [await producer.send(state.topic, **_send_args(line, partition)) for line in lines[:-1]]
                await asyncio.gather(*sent)  # a refused record stops the start, before the keeper rewrites
                await producer.send_and_wait(state.topic, **_send_args(lines[-1], partition))
                count += len(lines)
    finally:
        await producer.stop()
    return len(states), count


def _send_args(line: dict, partition: int) -> dict:
    return {"key": _unb64(line["k"]), "value": _unb64(line["v"]), "partition": partition,
            "timestamp_ms": line["t"], "headers": [(k, _unb64(v) or b"") for k, v in line["h"]] or None}


# --- keep ---------------------------------------------------------------------------------------------

class Keeper:
    """Follows the compacted topics and keeps their files (see the module docstring)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.directory = state_dir(settings)
        self.states: dict[str, TopicState] = {}
        self.appended: dict[str, int] = {}

    async def _topics(self) -> dict[str, int]:
        admin = AIOKafkaAdminClient(**client_kwargs(self.settings))
        await admin.start()
        try:
            names = kept_topics(self.settings, await admin.list_topics())
            described = await admin.describe_topics(names)
        finally:
            await admin.close()
        return {d["topic"]: len(d["partitions"]) for d in described if d.get("error_code", 0) == 0 and d["partitions"]}

    async def run(self, ready=None, stop: asyncio.Event | None = None) -> None:
        """Keep the files until ``stop`` is set; ``ready()`` is called once every file was rewritten."""
        self.directory.mkdir(parents=True, exist_ok=True)
        stop = stop or asyncio.Event()
        while not stop.is_set():
            topics = await self._topics()
            consumer = make_consumer(self.settings, group_id=None)
            await consumer.start()
            try:
                partitions = [TopicPartition(t, p) for t, n in topics.items() for p in range(n)]
                consumer.assign(partitions)
                await consumer.seek_to_beginning(*partitions)
                self.states = {t: TopicState(t, n) for t, n in topics.items()}
                await self._catch_up(consumer, partitions)
                for state in self.states.values():
                    write_file(self.directory / file_name(state.topic), state)
                    self.appended[state.topic] = 0
                if ready is not None:
                    ready(len(self.states), sum(len(s.records) for s in self.states.values()))
                    ready = None
                await self._follow(consumer, stop, set(topics))
            finally:
                await consumer.stop()

    async def _catch_up(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        async for records in batches_to_end(consumer, partitions):
            for record in records:
                self.states[record.topic].apply(record_line(record))

    async def _follow(self, consumer: AIOKafkaConsumer, stop: asyncio.Event, known: set[str]) -> None:
        """Append what arrives; return when a new compacted topic appeared (to read it from the start)."""
        loop = asyncio.get_running_loop()
        next_discovery = loop.time() + DISCOVER_SECS
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=500)
            by_topic: dict[str, list] = {}
            for tp, records in batch.items():
                by_topic.setdefault(tp.topic, []).extend(records)
            for topic, records in by_topic.items():
                self._append(topic, records)
            if loop.time() >= next_discovery:
                next_discovery = loop.time() + DISCOVER_SECS
                if set(await self._topics()) - known:
                    log.info("A new compacted topic appeared; reading every kept topic again.")
                    return

    def _append(self, topic: str, records: list) -> None:
        state = self.states[topic]
        path = self.directory / file_name(topic)
        lines = [record_line(r) for r in records]
        for line in lines:
            state.apply(line)
        self.appended[topic] = self.appended.get(topic, 0) + len(lines)
        if self.appended[topic] > max(REWRITE_MIN_LINES, len(state.records)):
            write_file(path, state)  # the file holds twice its live records: write only those
            self.appended[topic] = 0
            return
        with path.open("a", encoding="utf-8") as out:
            out.write("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines))
            out.flush()
            os.fsync(out.fileno())
