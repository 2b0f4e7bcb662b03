"""Kafka plumbing shared by connectors, workers and the CLI: client settings (SASL/TLS pass-through),
CloudEvents headers, topic creation, and the bootstrap resolution between a real cluster and the
embedded broker. One copy, imported everywhere, so it cannot drift."""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from murmurhash2 import murmurhash2
from pydantic import BaseModel, ValidationError

from core.settings import Settings, describe_validation_error
from schemas.base import iso_utc, utcnow
from schemas.topics import TOPICS, TopicSpec

M = TypeVar("M", bound=BaseModel)

log = logging.getLogger(__name__)

CE_SOURCE = "urn:watchfloor"


def bootstrap_servers(settings: Settings) -> str:
    """The cluster to use: ``WATCHFLOOR_KAFKA_BOOTSTRAP``, else the embedded broker's address."""
    return settings.kafka_bootstrap or f"{settings.embedded_kafka_host}:{settings.embedded_kafka_port}"


def client_kwargs(settings: Settings) -> dict:
    """Keyword arguments every aiokafka client takes: bootstrap plus security settings."""
    kwargs: dict = {
        "bootstrap_servers": bootstrap_servers(settings),
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_security_protocol in ("SSL", "SASL_SSL"):
        kwargs["ssl_context"] = ssl.create_default_context(
            cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
        )
    if settings.kafka_sasl_mechanism:
        kwargs["sasl_mechanism"] = settings.kafka_sasl_mechanism
        kwargs["sasl_plain_username"] = settings.kafka_sasl_username
        if settings.kafka_sasl_password is not None:
            kwargs["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return kwargs


def make_producer(settings: Settings, *, idempotent: bool = True, **overrides) -> AIOKafkaProducer:
    """A producer with acks=all, idempotent unless told otherwise. Prefer ``start_producer``."""
    options = {"acks": "all", "enable_idempotence": idempotent, "linger_ms": 5, **overrides}
    return AIOKafkaProducer(**client_kwargs(settings), **options)


async def start_producer(settings: Settings, **overrides) -> AIOKafkaProducer:
    """Start an acks=all producer, idempotent where the cluster supports it.

    Real Kafka clusters grant a producer id, so a retried send never duplicates a record. The
    embedded tansu broker (memory storage) answers InitProducerId with an error; then we fall back
    to a plain acks=all producer. Deterministic keys (item_id, alert_id) keep the pipeline
    idempotent either way: consumers recognise a re-sent record by its key.
    """
    if settings.kafka_idempotence != "off":
        producer = make_producer(settings, idempotent=True, **overrides)
        try:
            await producer.start()
            return producer
        except KafkaError as exc:
            await producer.stop()
            if settings.kafka_idempotence == "on":
                raise
            log.warning("The cluster refused an idempotent producer (%s); using acks=all without it.",
                        type(exc).__name__)
    producer = make_producer(settings, idempotent=False, **overrides)
    await producer.start()
    return producer


_KAFKA_SEED = 0x9747B28C  # the Java client's murmur2 seed


def key_partition(data: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as the Java client) gives a key. Once per
    record a worker writes: ``murmurhash2`` (compiled) takes 0.3 µs a key where the same hash in Python
    took 3.7 (``aiokafka.partitioner.murmur2`` assembles it byte by byte, slower still)."""
    return (murmurhash2(data, _KAFKA_SEED) & 0x7FFFFFFF) % partitions


async def send_all(producer: AIOKafkaProducer, outputs) -> None:
    """Produce every output (``.topic``, ``.key``, ``.value``, ``.headers``, and optionally
    ``.partition`` / ``.timestamp_ms``) and wait until the broker acknowledged all of them.

    Records are packed into one ``BatchBuilder`` per partition and handed over with ``send_batch``:
    ``producer.send`` per record waits on metadata and creates futures per record, which measured
    as a tenth of a worker's time. Keys are partitioned as ``send`` would (murmur2, the Java
    client's default), so a key's records land on the partition they always did, in order.
    """
    builders: dict[tuple[str, int], object] = {}
    futures = []
    partitions: dict[str, list[int]] = {}
    for o in outputs:
        part = getattr(o, "partition", None)
        if part is None:
            known = partitions.get(o.topic)
            if known is None:
                known = partitions[o.topic] = sorted(await producer.partitions_for(o.topic))
            part = known[key_partition(o.key, len(known))] if o.key is not None else random.choice(known)
        slot = (o.topic, part)
        builder = builders.get(slot)
        if builder is None:
            builder = builders[slot] = producer.create_batch()
        stamp = getattr(o, "timestamp_ms", None)
        if builder.append(timestamp=stamp, key=o.key, value=o.value, headers=list(o.headers)) is None:
            futures.append(await producer.send_batch(builder, o.topic, partition=part))
            builder = builders[slot] = producer.create_batch()
            builder.append(timestamp=stamp, key=o.key, value=o.value, headers=list(o.headers))
    for (topic, part), builder in builders.items():
        futures.append(await producer.send_batch(builder, topic, partition=part))
    if futures:
        await asyncio.gather(*futures)


HEARTBEAT_MS = 1000
"""Heartbeat of every grouped consumer (the Faust app's too); the settings' 6 s floor on the session
timeout keeps it under a sixth."""


def make_consumer(settings: Settings, *topics: str, **overrides) -> AIOKafkaConsumer:
    options = {"auto_offset_reset": "earliest", "enable_auto_commit": False}
    if overrides.get("group_id") is not None:
        options.update(session_timeout_ms=settings.kafka_session_timeout_ms, heartbeat_interval_ms=HEARTBEAT_MS)
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **client_kwargs(settings), **options)


FETCH_WAIT_CAP_MS = 1000


async def records_behind(consumer: AIOKafkaConsumer) -> int:
    """Records between the consumer's positions and its partitions' high watermarks (as of its last
    fetch); a partition revoked meanwhile counts nothing."""
    behind = 0
    for tp in consumer.assignment():
        high = consumer.highwater(tp)
        if high is None:
            continue
        try:
            behind += max(0, high - await consumer.position(tp))
        except Exception:  # revoked meanwhile
            continue
    return behind


class StarvedFetches:
    """Raises a consumer's fetch wait when its fetches come back empty while it is behind.

    The embedded broker (tansu) lists every batch it stores for a partition on each fetch, and
    answers with nothing when the fetch's wait runs out before the listing ends: measured, a 10 ms
    fetch gets nothing at all from a partition of 20,000 batches (50 ms still gets it); its memory
    storage never drops a batch, so the listing only grows. ``check`` is called after every poll;
    when polls have brought nothing for ``streak`` fetch waits in a row (and at least ``streak``
    polls) while the consumer is behind its partitions' high watermarks, the wait is doubled (up to
    ``FETCH_WAIT_CAP_MS``), with a warning. Counting time rather than polls keeps a poll shorter than
    the fetch wait from looking like starvation. A broker that answers as soon as it has data (Kafka)
    never gets here. aiokafka has no public setter for the wait, so this sets the fetcher's attribute
    (aiokafka is pinned)."""

    def __init__(self, consumer: AIOKafkaConsumer, what: str, streak: int = 3, clock=time.monotonic):
        self.consumer = consumer
        self.what = what
        self.streak = streak
        self.clock = clock
        self.empty_polls = 0
        self.empty_since: float | None = None

    async def check(self, got_records: bool) -> None:
        if got_records:
            self.empty_polls, self.empty_since = 0, None
            return
        behind = await records_behind(self.consumer)
        if not behind:
            self.empty_polls, self.empty_since = 0, None
            return
        now = self.clock()
        if self.empty_since is None:
            self.empty_since = now
        self.empty_polls += 1
        fetcher = getattr(self.consumer, "_fetcher", None)
        wait = getattr(fetcher, "_fetch_max_wait_ms", None)
        if wait is None or wait >= FETCH_WAIT_CAP_MS:
            return
        if self.empty_polls < self.streak or (now - self.empty_since) * 1000 < self.streak * wait:
            return
        self.empty_polls, self.empty_since = 0, None
        fetcher._fetch_max_wait_ms = min(FETCH_WAIT_CAP_MS, wait * 2)
        log.warning("%s: fetches came back empty while %d records behind; fetch wait raised from %d to %d ms "
                    "(the embedded broker lists every stored batch on each fetch).", self.what, behind, wait,
                    fetcher._fetch_max_wait_ms)


async def batches_to_end(consumer: AIOKafkaConsumer, partitions: list[TopicPartition], *,
                         max_records: int | None = None) -> AsyncIterator[list]:
    """The records of ``partitions``, batch by batch, from the consumer's positions to the end offsets
    at the time of the call, then one short poll more: the embedded broker reports a partition's end as
    its last batch's first offset + 1, so a batch's later records come only from reading on."""
    ends = await consumer.end_offsets(partitions)
    while True:
        positions = [await consumer.position(tp) for tp in partitions]
        behind = any(at < ends[tp] for at, tp in zip(positions, partitions))
        batch = await consumer.getmany(timeout_ms=500 if behind else 300, max_records=max_records)
        records = [record for part in batch.values() for record in part]
        if records:
            yield records
        if not behind:  # that was the poll past the end offsets
            return


async def follow_topic(settings: Settings, topic: str, *, fetch_max_wait_ms: int = 500,
                       max_records: int = 500) -> AsyncIterator[tuple[list, bool]]:
    """Every record of a one-partition topic (a compacted list: sources, desk actions), from its
    beginning and then as it is written, batch by batch, until the caller stops: yields ``(records,
    caught_up)``. The backlog (what the topic held at the call, ``batches_to_end``) comes with
    ``caught_up`` false, then one ``([], True)`` marks its end, so a caller can act on the whole list
    first; later batches come with ``caught_up`` true, never empty. No consumer group: every
    follower reads everything."""
    consumer = make_consumer(settings, group_id=None, fetch_max_wait_ms=fetch_max_wait_ms)
    await consumer.start()
    try:
        part = TopicPartition(topic, 0)
        consumer.assign([part])
        await consumer.seek_to_beginning(part)
        async for records in batches_to_end(consumer, [part], max_records=max_records):
            yield records, False
        yield [], True
        while True:
            batch = await consumer.getmany(timeout_ms=1000, max_records=max_records)
            records = [record for part_records in batch.values() for record in part_records]
            if records:
                yield records, True
    finally:
        await consumer.stop()


async def read_since(settings: Settings, topic: str, since_ms: int | None = None, timeout_secs: float = 60.0) -> list:
    """Every record of ``topic`` from ``since_ms`` (epoch milliseconds; None: the beginning) to its end
    (``batches_to_end``); ``TimeoutError`` naming the topic if that takes longer than ``timeout_secs``."""
    consumer = make_consumer(settings, group_id=None)
    await consumer.start()
    try:
        await consumer.topics()  # a started consumer's metadata names no topic yet on a real Kafka
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        if since_ms is not None:
            found = await consumer.offsets_for_times({tp: since_ms for tp in partitions})
            for tp, at in found.items():
                if at is None:
                    await consumer.seek_to_end(tp)
                else:
                    consumer.seek(tp, at.offset)
        records: list = []

        async def read() -> None:
            async for batch in batches_to_end(consumer, partitions):
                records.extend(batch)

        try:
            await asyncio.wait_for(read(), timeout_secs)
        except TimeoutError:
            raise TimeoutError(f"{topic}: could not read to the end within {timeout_secs:g}s") from None
        return records
    finally:
        await consumer.stop()


def decode_value(model: type[M], record) -> tuple[M | None, str]:
    """A record's value as ``model``, or None and one line saying why not (field and reason)."""
    try:
        if record.value is None:
            raise ValueError("empty value (tombstone)")
        return model.model_validate_json(record.value), ""
    except ValidationError as exc:
        return None, describe_validation_error(exc)
    except (ValueError, OverflowError) as exc:
        return None, str(exc) or type(exc).__name__


def cloudevent_headers(
    ce_type: str, *, event_id: str | None = None, time: datetime | None = None, source: str = CE_SOURCE
) -> list[tuple[str, bytes]]:
    """CloudEvents Kafka binding, binary mode: route without parsing the body."""
    headers = {
        "ce_specversion": "1.0",
        "ce_id": event_id or str(uuid.uuid4()),
        "ce_type": ce_type,
        "ce_source": source,
        "ce_time": iso_utc(time or utcnow()),
        "content-type": "application/json",
    }
    return [(k, v.encode("utf-8")) for k, v in headers.items()]


def ce_type_for(model: BaseModel | type[BaseModel]) -> str:
    cls = model if isinstance(model, type) else type(model)
    return f"watchfloor.{cls.__name__}.v1"


def encode(model: BaseModel) -> bytes:
    return model.model_dump_json().encode("utf-8")


def topic_name(settings: Settings, key: str) -> str:
    """The full name of the declared topic ``key`` (``schemas.topics.TOPICS``) under this prefix."""
    return TOPICS[key].name(settings.topic_prefix)


def topic_names(settings: Settings) -> dict[str, str]:
    """Every declared topic: short name → full name under this prefix."""
    return {key: topic_name(settings, key) for key in TOPICS}


def worker_group(settings: Settings, stage: str) -> str:
    """The consumer group of one worker stage: ``classify`` reads the raw items, ``alert`` the storied ones."""
    return f"{settings.topic_prefix}worker.{stage}"


def worker_app_id(settings: Settings) -> str:
    """The workers' Faust app id, which is also the group of its agents (the surge counter on mentions)."""
    return f"{settings.topic_prefix}worker".replace(".", "-")


def desk_group(settings: Settings) -> str:
    """One group per desk process (``desk_name``): every desk stores every alert."""
    suffix = "" if settings.desk_name == "desk" else f"-{settings.desk_name}"
    return f"{settings.topic_prefix}desk{suffix}"


def in_flight_groups(settings: Settings) -> dict[str, tuple[str, ...]]:
    """The topics that carry records between watchfloor's own processes, each with the consumer
    groups that read it: a record is done with once every one of them committed past it
    (``watchfloor.statekeeper`` keeps the rest across restarts of the embedded broker)."""
    return {
        topic_name(settings, "items_raw"): (worker_group(settings, "classify"),),
        topic_name(settings, "items_stories"): (worker_group(settings, "alert"),),
        topic_name(settings, "alerts"): (desk_group(settings),),
        topic_name(settings, "mentions"): (worker_app_id(settings),),
    }


def new_topic(spec: TopicSpec, settings: Settings) -> NewTopic:
    return NewTopic(
        name=spec.name(settings.topic_prefix),
        num_partitions=spec.partitions(settings.topic_partitions),
        replication_factor=settings.replication_factor,
        topic_configs={"cleanup.policy": spec.cleanup_policy},
    )


async def create_topics(settings: Settings, specs: Iterable[TopicSpec] | None = None) -> list[str]:
    """Create the declared topics that do not exist yet; return the names created. Idempotent."""
    specs = list(TOPICS.values() if specs is None else specs)
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [new_topic(s, settings) for s in specs if s.name(settings.topic_prefix) not in existing]
        if not wanted:
            return []
        response = await admin.create_topics(wanted)
        created = []
        for name, code, *_ in response.topic_errors:
            if code == 0:
                created.append(name)
            elif code != TopicAlreadyExistsError.errno:
                raise RuntimeError(f"creating topic {name} failed with Kafka error code {code}")
        return created
    finally:
        await admin.close()


async def list_topics(settings: Settings) -> list[str]:
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        return sorted(await admin.list_topics())
    finally:
        await admin.close()
