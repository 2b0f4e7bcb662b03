"""``BatchStage``: one hop of the pipeline (topic in → topics out), consumed in batches.

Why not a per-message Faust agent: measured on the embedded broker, a plain Faust agent passes
~5,500 messages/s while aiokafka alone consumes ~140,000/s; Faust's per-event machinery is the
ceiling. A stage runs inside the Faust worker as a ``mode`` service, but reads a whole batch with
``getmany``, transforms it with a plain function, produces every output, waits for the broker's
acknowledgements, and only then commits the input offsets.

Contract:
- lifecycle: start (consumer joins its group, producer handed in) → loop until stop → stop
  (commit nothing that was not produced);
- delivery: at-least-once. Outputs carry deterministic keys (item_id, alert_id), so a batch that is
  re-read after a crash produces records that every consumer recognises;
- a record that fails becomes a dead letter (``Output.dead_letter``); the batch goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import NamedTuple

from aiokafka import AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from mode import Service
from pydantic import ValidationError

from core.kafka import StarvedFetches, key_partition, make_consumer, records_behind, send_all
from core.metrics import WorkerMetrics
from core.settings import Settings
from streams.deadletter import DeadLetter, dead_letter_for, describe_validation_error

log = logging.getLogger(__name__)

DELIVER_RETRY_MAX_SECS = 30.0


async def deliver_until_acknowledged(service: Service, send, what: str) -> None:
    """``await send()``, again and again with backoff while the broker does not answer: a long
    outage (longer than the producer's request timeout) must not stop ``service``. The caller
    commits nothing meanwhile, and a repeat of already-acknowledged records is recognised by key
    downstream. Gives up only when ``service`` is stopping."""
    delay = 1.0
    while True:
        try:
            await send()
            return
        except KafkaError as exc:
            if service.should_stop:
                raise
            log.warning("%s not acknowledged (%s); retrying in %.0fs.", what, type(exc).__name__, delay)
            await service.sleep(delay)
            delay = min(delay * 2, DELIVER_RETRY_MAX_SECS)


class Output(NamedTuple):
    """One record to produce. ``partition`` and ``timestamp_ms`` (None: by key, and now) are honoured by
    ``BatchStage.deliver`` (``core.kafka.send_all``). A named tuple, not a dataclass: a stage builds one or
    more per record, and a frozen dataclass's ``__init__`` cost ~1 µs of the ~130 an item takes."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] = ()
    partition: int | None = None
    timestamp_ms: int | None = None


RoutedOutput = Output
"""An output for an explicit partition or with an explicit record time: the name says which is meant."""


class Handoff:
    """Objects whose records this process has just written, for a stage of the same process that reads
    those records back: it takes the object instead of decoding the bytes again (with story grouping the
    alert stage reads every storied record the classify stage wrote; decoding one cost ~37 µs).

    Keyed by the record's exact value, so a record that differs by a byte, or that another worker wrote,
    or that is read again after a restart, is decoded as usual: the hand-off changes no result, only
    skips work. ``make`` turns what was put into the object (called once, by the stage that takes it).
    Only records whose key ``wanted`` accepts are kept (the reading stage's partitions: the rest go to
    another worker), and at most ``max_entries``, oldest dropped first."""

    def __init__(self, max_entries: int, wanted=None):
        self.max_entries = max_entries
        self.wanted = wanted  # key → whether this process reads the record back; None: every key
        self.entries: dict[bytes, tuple] = {}  # insertion order: the oldest first
        self.taken = 0

    def put(self, key: bytes, value: bytes, make, *args) -> None:
        if self.wanted is not None and not self.wanted(key):
            return
        self.entries[value] = (make, args)
        if len(self.entries) > self.max_entries:
            del self.entries[next(iter(self.entries))]

    def take(self, value: bytes | None):
        """The object for ``value``, once; None when this process did not write it (decode it)."""
        entry = self.entries.pop(value, None) if value is not None else None
        if entry is None:
            return None
        self.taken += 1
        make, args = entry
        return make(*args)


class _CountRebalances(ConsumerRebalanceListener):
    def __init__(self, stage: "BatchStage"):
        self.stage = stage

    async def on_partitions_revoked(self, revoked):
        return None

    async def on_partitions_assigned(self, assigned):
        self.stage.metrics.rebalances.inc()
        self.stage.assigned = set(assigned)
        self.stage.partition_count = len(self.stage.consumer.partitions_for_topic(self.stage.source_topic) or ())
        log.info("%s: assigned %d partitions of %s.", self.stage.label, len(assigned), self.stage.source_topic)


class BatchStage(Service):
    """Subclasses implement ``process(records) -> list[Output]`` (see module docstring)."""

    # Records per batch, at most: what one fetch round brings from four partitions (aiokafka's 1 MB
    # per partition of ~1 KB records). Each batch waits once for its fetch, its acknowledgements and
    # its commit; measured on 20,000-item drains (alternating), 500 → 2,000 → 4,000 gave ~6,000 →
    # ~6,800 → ~7,600 items/s without story grouping and +10–20% with it. At a steady load batches
    # are small anyway (what arrived since the last fetch), so this only bounds a backlog's batches.
    max_batch = 4000
    poll_timeout_ms = 100

    def __init__(
        self,
        settings: Settings,
        *,
        source_topic: str,
        group_id: str,
        producer: AIOKafkaProducer,
        deadletter_topic: str,
        metrics: WorkerMetrics,
        **kwargs,
    ):
        self.settings = settings
        self.source_topic = source_topic
        self.group_id = group_id
        self.producer = producer
        self.deadletter_topic = deadletter_topic
        self.metrics = metrics
        self.assigned: set[TopicPartition] = set()
        self.partition_count = 0  # of the source topic, as of the last assignment
        self.consumer = None
        super().__init__(**kwargs)

    def process(self, records: list) -> list[Output]:  # pragma: no cover - abstract
        raise NotImplementedError

    def reads(self, key: bytes) -> bool:
        """Whether a record with ``key`` lands on a partition of the source topic this stage is assigned
        (partitioned as ``core.kafka.send_all`` does)."""
        return self.partition_count > 0 and \
            TopicPartition(self.source_topic, key_partition(key, self.partition_count)) in self.assigned

    def decode(self, record, model):
        """The record's value as ``model``, or the dead-letter ``Output`` that replaces it."""
        try:
            return model.model_validate_json(record.value if record.value is not None else b"")
        except ValidationError as exc:
            reason, detail = describe_validation_error(exc)
            stage = "decode" if reason == "undecodable" else "validate"
            return self.dead_letter(dead_letter_for(record, stage, reason, detail))

    def dead_letter(self, letter: DeadLetter) -> Output:
        self.metrics.deadletters.labels(letter.stage, letter.reason).inc()
        log.warning(
            "Dead letter from %s[%d]@%d at stage %s: %s.", letter.origin_topic, letter.origin_partition,
            letter.origin_offset, letter.stage, letter.detail,
        )
        return Output(self.deadletter_topic, letter.key, letter.value, letter.headers())

    async def on_start(self) -> None:
        self.consumer = make_consumer(
            self.settings, group_id=self.group_id, max_poll_records=self.max_batch,
            fetch_max_wait_ms=50,
        )
        self.consumer.subscribe([self.source_topic], listener=_CountRebalances(self))
        self._starved = StarvedFetches(self.consumer, self.label)
        await self.consumer.start()

    async def on_stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()
            self.consumer = None

    @Service.task
    async def _consume(self) -> None:
        while not self.should_stop:
            batches = await self.consumer.getmany(timeout_ms=self.poll_timeout_ms, max_records=self.max_batch)
            await self._starved.check(bool(batches))
            if not batches:
                await self._update_lag()
                continue
            outputs = await self.settle(self.process_safely([r for part in batches.values() for r in part]))
            # Past the whole batch: its outputs are acknowledged by then.
            await self._finish(outputs, {tp: part[-1].offset + 1 for tp, part in batches.items()})

    def process_safely(self, records: list) -> list[Output]:
        """``process``, with a record that makes it raise sent to dead letters instead of crashing
        the stage: the batch is processed again one record at a time, so the good records around a
        bad one still go through (their outputs are keyed, so a repeat is recognised downstream)."""
        try:
            return self.process(records)
        except Exception as exc:
            log.warning("%s: a batch of %d failed (%s); processing its records one by one.", self.label,
                        len(records), type(exc).__name__)
        self.discard()
        outputs: list[Output] = []
        for record in records:
            try:
                outputs.extend(self.process([record]))
            except Exception as exc:
                outputs.append(self.dead_letter(dead_letter_for(
                    record, "process", "exception", f"{type(exc).__name__}: {str(exc)[:300]}")))
        return outputs

    def discard(self) -> None:
        """A batch's outputs were thrown away before delivery (a hook: chained steps forget what
        they were waiting for)."""

    async def settle(self, outputs: list[Output]) -> list[Output]:
        """The batch's outputs still to deliver before its commit (a hook: the story step delivers
        its claims first and adds the records they decide)."""
        return outputs

    async def _finish(self, outputs: list[Output], offsets: dict) -> None:
        await deliver_until_acknowledged(self, lambda: self.deliver(outputs),
                                         f"{self.label}: {len(outputs)} outputs")
        if not offsets:
            return
        try:
            await self.consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # The group rebalanced meanwhile: the new owner reads these records again (at-least-once).
            log.warning("%s: offsets not committed (%s); the batch will be read again.", self.label,
                        type(exc).__name__)

    async def deliver(self, outputs: list[Output]) -> None:
        """Produce every output and wait until the broker acknowledged all of them (batched:
        ``core.kafka.send_all``; outputs with ``partition``/``timestamp_ms`` are honoured)."""
        await send_all(self.producer, outputs)

    async def _update_lag(self) -> None:
        self.metrics.consumer_lag.labels(self.source_topic).set(await records_behind(self.consumer))
