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

The in-flight topics (raw items, storied items, alerts, mentions: ``core.kafka.in_flight_groups``)
are kept too, but only their tail: the records some consuming group of watchfloor's own has not
committed yet. The keeper asks each group's committed offsets every ``TRIM_SECS`` and drops what all
of them passed, so a file holds the work in flight, not the history. A restart produces that tail
again and the groups, whose offsets the embedded broker forgot, read it from the start: an item
fetched but not classified, or an alert raised but not yet on the desk, when the whole process group
was killed is processed after the restart (at least once, as Kafka delivers; the ledger and the desk
drop what was done already).

What is not kept: classified items and dead letters (no process of ours reads them) and consumer
offsets. See docs/operations.md.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from core.errors import WatchfloorError
from core.kafka import batches_to_end, client_kwargs, in_flight_groups, make_consumer, start_producer
from core.settings import Settings
from schemas.topics import TOPICS

log = logging.getLogger(__name__)

STATE_DIR = "broker-state"
CHANGELOG_SUFFIX = "-changelog"  # Faust's table changelogs: compacted, named <app id>-<table>-changelog
REWRITE_MIN_LINES = 1_000
DISCOVER_SECS = 5.0
TRIM_SECS = 1.0


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

    def __len__(self) -> int:
        return len(self.records)


@dataclass
class TailState:
    """The records of an in-flight topic that its consuming groups have not all committed, in
    offset order per partition (every record is kept: storied items share their story's key)."""

    topic: str
    partitions: int
    groups: tuple[str, ...] = ()
    records: dict[int, deque[tuple[int, dict]]] = field(default_factory=dict)
    _read: int = 0

    def apply(self, line: dict, offset: int | None = None) -> None:
        if offset is None:  # read from a file: the order is what counts
            offset, self._read = self._read, self._read + 1
        self.records.setdefault(line["p"], deque()).append((offset, line))

    def trim(self, partition: int, committed: int) -> int:
        """Drop the records of ``partition`` below ``committed``; how many were dropped."""
        kept = self.records.get(partition)
        dropped = 0
        while kept and kept[0][0] < committed:
            kept.popleft()
            dropped += 1
        return dropped

    def lines(self) -> list[dict]:
        return [line for p in sorted(self.records) for _, line in self.records[p]]

    def __len__(self) -> int:
        return sum(len(kept) for kept in self.records.values())


def file_name(topic: str) -> str:
    return f"{topic}.jsonl"


def read_file(path: Path) -> TopicState | TailState | None:
    """The live records in one topic file; None for a file without a readable header."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        log.error("Cannot read saved state %s: %s", path, exc)
        return None
    rows = text.split("\n")
    try:
        header = json.loads(rows[0])
        kind = TailState if header.get("tail") else TopicState
        state = kind(str(header["topic"]), int(header["partitions"]))
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


def write_file(path: Path, state: TopicState | TailState) -> None:
    """Rewrite one topic file atomically: a temporary file, fsynced, then renamed over the old one."""
    tmp = path.with_suffix(".tmp")
    header = {"topic": state.topic, "partitions": state.partitions}
    if isinstance(state, TailState):
        header["tail"] = True
    with tmp.open("w", encoding="utf-8") as out:
        out.write(json.dumps(header) + "\n")
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
        # Work in flight saved under another partition count goes where its key says now.
        by_key = {s.topic for s in present
                  if isinstance(s, TailState) and counts.get(s.topic, s.partitions) != s.partitions}
        for state in present:
            if not isinstance(state, TailState) and counts.get(state.topic, state.partitions) != state.partitions:
                # Keys live on the partition they were written to (the story index by design), so the
                # state cannot be moved to another partition count.
                raise StateMismatch(
                    f"{directory / file_name(state.topic)} holds {state.partitions} partitions of {state.topic}, "
                    f"the topic has {counts[state.topic]}: set WATCHFLOOR_TOPIC_PARTITIONS={state.partitions} "
                    f"again, or move {directory} aside to start without the saved state")
        missing = [NewTopic(s.topic, s.partitions, settings.replication_factor,
                            topic_configs={"cleanup.policy": "delete" if isinstance(s, TailState) else "compact"})
                   for s in states if s.topic not in existing]
        if missing:
            await admin.create_topics(missing)
    finally:
        await admin.close()
    producer = await start_producer(settings)
    count = 0
    try:
        for state in states:
            by_partition: dict[int | None, list[dict]] = {}
            for line in state.lines():  # ``None``: the producer's partitioner places the record by its key
                by_partition.setdefault(None if state.topic in by_key else line["p"], []).append(line)
            for partition, lines in by_partition.items():
                sent = [await producer.send(state.topic, **_send_args(line, partition)) for line in lines[:-1]]
                await asyncio.gather(*sent)  # a refused record stops the start, before the keeper rewrites
                await producer.send_and_wait(state.topic, **_send_args(lines[-1], partition))
                count += len(lines)
    finally:
        await producer.stop()
    return len(states), count


def _send_args(line: dict, partition: int | None) -> dict:
    return {"key": _unb64(line["k"]), "value": _unb64(line["v"]), "partition": partition,
            "timestamp_ms": line["t"], "headers": [(k, _unb64(v) or b"") for k, v in line["h"]] or None}


# --- keep ---------------------------------------------------------------------------------------------

class Keeper:
    """Follows the kept topics and keeps their files (see the module docstring)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.directory = state_dir(settings)
        self.states: dict[str, TopicState | TailState] = {}
        self.on_file: dict[str, int] = {}  # record lines in each topic's file, live or not
        self.in_flight = in_flight_groups(settings)
        self._probes: dict[str, AIOKafkaConsumer] = {}

    async def _topics(self) -> dict[str, int]:
        admin = AIOKafkaAdminClient(**client_kwargs(self.settings))
        await admin.start()
        try:
            existing = await admin.list_topics()
            names = kept_topics(self.settings, existing) + sorted(set(self.in_flight) & set(existing))
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
                self.states = {t: TailState(t, n, self.in_flight[t]) if t in self.in_flight else TopicState(t, n)
                               for t, n in topics.items()}
                await self._catch_up(consumer, partitions)
                await self._trim()
                for topic in self.states:
                    self._rewrite(topic)
                if ready is not None:
                    ready(len(self.states), sum(len(s) for s in self.states.values()))
                    ready = None
                await self._follow(consumer, stop, set(topics))
                if stop.is_set():
                    await self._finish(consumer, partitions)
            finally:
                await consumer.stop()
                await self._close_probes()

    def _apply(self, topic: str, record) -> dict:
        line = record_line(record)
        state = self.states[topic]
        if isinstance(state, TailState):
            state.apply(line, record.offset)
        else:
            state.apply(line)
        return line

    async def _catch_up(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        async for records in batches_to_end(consumer, partitions):
            for record in records:
                self._apply(record.topic, record)

    async def _committed(self, group: str, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        """What ``group`` committed on each partition (0 where nothing yet)."""
        probe = self._probes.get(group)
        if probe is None:  # in the group's name, never subscribed: it only asks what the group committed
            probe = make_consumer(self.settings, group_id=group)
            await probe.start()
            self._probes[group] = probe
        return {tp: await probe.committed(tp) or 0 for tp in partitions}

    async def _close_probes(self) -> None:
        probes, self._probes = list(self._probes.values()), {}
        for probe in probes:
            await probe.stop()

    async def _trim(self) -> list[str]:
        """Drop the in-flight records every consuming group committed past; the topics that lost some."""
        trimmed = []
        for state in self.states.values():
            if not isinstance(state, TailState) or not len(state):
                continue
            partitions = [TopicPartition(state.topic, p) for p, kept in state.records.items() if kept]
            floor = dict.fromkeys(partitions, None)
            for group in state.groups:
                for tp, offset in (await self._committed(group, partitions)).items():
                    floor[tp] = offset if floor[tp] is None else min(floor[tp], offset)
            if sum(state.trim(tp.partition, offset or 0) for tp, offset in floor.items()):
                trimmed.append(state.topic)
        return trimmed

    async def _follow(self, consumer: AIOKafkaConsumer, stop: asyncio.Event, known: set[str]) -> None:
        """Append what arrives; return when a new kept topic appeared (to read it from the start)."""
        loop = asyncio.get_running_loop()
        next_discovery = loop.time() + DISCOVER_SECS
        next_trim = loop.time() + TRIM_SECS
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=500)
            self._append_batch(record for records in batch.values() for record in records)
            if loop.time() >= next_trim:
                next_trim = loop.time() + TRIM_SECS
                for topic in await self._trim():
                    self._maybe_rewrite(topic, trimmed=True)
            if loop.time() >= next_discovery:
                next_discovery = loop.time() + DISCOVER_SECS
                if set(await self._topics()) - known:
                    log.info("A new kept topic appeared; reading every kept topic again.")
                    return

    async def _finish(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        """The keeper stops last (``watchfloor.supervisor.STOP_ORDER``): read what the stopped
        processes wrote, and leave each in-flight file with only what they did not commit."""
        async for records in batches_to_end(consumer, partitions):
            self._append_batch(records)
        for topic in await self._trim():
            self._rewrite(topic)

    def _rewrite(self, topic: str) -> None:
        write_file(self.directory / file_name(topic), self.states[topic])
        self.on_file[topic] = len(self.states[topic])

    def _maybe_rewrite(self, topic: str, *, trimmed: bool = False) -> bool:
        """Rewrite a file whose lines are mostly not live any more. Records replaced or removed wait
        for ``REWRITE_MIN_LINES``; in-flight records done with go once they are half the file, so a
        restart replays little that was processed already (and an idle pipeline nothing), while a
        long backlog being worked off costs a rewrite per halving, not one per trim."""
        live = len(self.states[topic])
        stale = self.on_file.get(topic, 0) - live
        if stale > max(REWRITE_MIN_LINES, live) or (trimmed and stale and stale >= live):
            self._rewrite(topic)
            return True
        return False

    def _append_batch(self, records: Iterable) -> None:
        """Append a fetched batch, one write per topic."""
        by_topic: dict[str, list] = {}
        for record in records:
            by_topic.setdefault(record.topic, []).append(record)
        for topic, part in by_topic.items():
            self._append(topic, part)

    def _append(self, topic: str, records: list) -> None:
        lines = [self._apply(topic, r) for r in records]
        self.on_file[topic] = self.on_file.get(topic, 0) + len(lines)
        if self._maybe_rewrite(topic):
            return
        with (self.directory / file_name(topic)).open("a", encoding="utf-8") as out:
            out.write("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines))
            out.flush()
            os.fsync(out.fileno())
