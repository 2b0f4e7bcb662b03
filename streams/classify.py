"""The classify stage: raw items → classified items (themes, entities, trigger hits, rules version).

Chained steps: the next step of the pipeline is keyed like this stage (by item_id) — the alerter
(``streams/alerts/stage.py``) without story grouping, the story assigner (``streams/stories/assign.py``)
with it — so it runs here, on the item already in memory, instead of as a hop of its own that
would re-read and re-parse every classified record (operator chaining, as Flink calls it). The
classified record is still written for downstream consumers; the steps see only relevant items
(a theme or a trigger), and a step that fails dead-letters its item without losing the record.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

from core.kafka import ce_type_for, cloudevent_headers
from schemas import ClassifiedItem, Item, utcnow
from streams.deadletter import dead_letter_for
from streams.rules.built import ModelBuilder
from streams.rules.runtime import RulesHolder
from streams.stage import BatchStage, Output, deliver_until_acknowledged

log = logging.getLogger(__name__)

CE_CLASSIFIED = ce_type_for(ClassifiedItem)
# "1" when the item has a theme or a trigger: only those can alert or count towards a surge, so the
# story stages skip the rest without parsing them (most news matches nothing).
RELEVANT_HEADER = "wf_relevant"


_CLASSIFIED = ModelBuilder(ClassifiedItem)


def classify_item(item: Item, rules, now=None) -> ClassifiedItem:
    """Judge one item with a compiled rule pack. Pure: tests call it without a broker."""
    result = rules.classify(item.text, title=item.title or None, lang=item.lang)
    return _CLASSIFIED.build({
        "schema_version": 1, "item": item, "themes": list(result.themes), "entities": list(result.entities),
        "triggers": list(result.triggers), "rules_version": result.version, "classified_at": now or utcnow(),
        "story_id": None})


class ChainedStep(Protocol):
    """The next step, run inside the classify stage on each relevant item (see the module).

    Optional hooks, looked up by name: ``settle(outputs, deliver)``, awaited after each batch was
    processed, returns the outputs still to deliver before the commit (the story step delivers its
    claims and waits for them there); ``abandon()`` forgets a batch whose outputs were thrown away."""

    name: str

    def handle(self, classified: ClassifiedItem, value: bytes, out: list[Output]) -> None:
        """Append this step's outputs for ``classified`` (whose record value is ``value``) to ``out``."""


class ClassifyStage(BatchStage):
    """Consumes ``items.raw``; produces ``items.classified`` keyed by item_id, plus the outputs of the
    chained ``steps``; dead-letters the rest."""

    def __init__(self, settings, *, rules: RulesHolder, classified_topic: str, steps: tuple[ChainedStep, ...] = (),
                 **kwargs):
        self.rules = rules
        self.classified_topic = classified_topic
        self.steps = steps
        super().__init__(settings, **kwargs)

    def process(self, records: list) -> list[Output]:
        rules = self.rules.current  # one pack for the whole batch, even if a reload lands meanwhile
        now = utcnow()
        # Every header but ce_id is the same for the batch: format them once, not per record.
        base_headers = cloudevent_headers(CE_CLASSIFIED, event_id="-", time=now)
        at = [name for name, _ in base_headers].index("ce_id")
        before, after = base_headers[:at], base_headers[at + 1:]
        classified_by_source: dict[str, int] = {}  # counted once a batch, not per record
        out: list[Output] = []
        for record in records:
            item = self.decode(record, Item)
            if isinstance(item, Output):
                out.append(item)
                continue
            started = time.perf_counter()
            try:
                classified = classify_item(item, rules, now)
            except Exception as exc:  # a rule-engine bug must not stop the stream
                log.exception("Classifying %s failed.", item.item_id)
                out.append(self.dead_letter(dead_letter_for(
                    record, "classify", "processing_error", f"{type(exc).__name__}: {exc}")))
                continue
            self.metrics.classify_duration.observe(time.perf_counter() - started)
            classified_by_source[item.source_type] = classified_by_source.get(item.source_type, 0) + 1
            relevant = bool(classified.themes or classified.triggers)
            headers = [*before, ("ce_id", f"{item.item_id}#{item.revision}".encode("utf-8")), *after,
                       (RELEVANT_HEADER, b"1" if relevant else b"0")]
            value = classified.to_bytes()
            out.append(Output(self.classified_topic, item.item_id.encode("utf-8"), value, headers))
            if relevant:
                self.run_steps(record, classified, value, out)
        for source_type, count in classified_by_source.items():
            self.metrics.items_classified.labels(source_type).inc(count)
        return out

    def discard(self) -> None:
        for abandon in filter(None, (getattr(step, "abandon", None) for step in self.steps)):
            abandon()

    async def settle(self, outputs: list[Output]) -> list[Output]:
        async def deliver(out: list[Output]) -> None:
            await deliver_until_acknowledged(self, lambda: self.deliver(out), f"{self.label}: {len(out)} outputs")
        for settle in filter(None, (getattr(step, "settle", None) for step in self.steps)):
            outputs = await settle(outputs, deliver)
        return outputs

    def run_steps(self, record, classified: ClassifiedItem, value: bytes, out: list[Output]) -> None:
        for step in self.steps:
            try:
                step.handle(classified, value, out)
            except Exception as exc:  # a bug in one step must not stop the stream or lose the record
                # What the step already wrote stays: it matches the state the step changed.
                log.exception("The %s step failed on %s.", step.name, classified.item.item_id)
                out.append(self.dead_letter(dead_letter_for(
                    record, step.name, "processing_error", f"{type(exc).__name__}: {exc}")))
