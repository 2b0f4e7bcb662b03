"""``StoryBook``: which sources carry each story, and the story alerts that follows from it.

The alert stage consumes ``items.stories`` (keyed by story_id), so one worker at a time sees every
item of a story; the book is written to the compacted ``story-book`` topic and every worker follows
it in full (like the alert ledger), so the count survives a restart or a partition move.

Alerts: a trigger fires once per story (``alert_id_for(trigger, story_id)``, through the ledger like
any alert). When a new source brings the story to a milestone of ``story_update_milestones``
(2, 3, 5, 10, ...), each trigger the story already alerted on raises an update: a distinct record,
kind "story", id ``alert_id_for(trigger, "<story_id>@<sources>")``, "now N sources; first seen at T
on S". Updates bypass the cooldown (they are about a story already on the desk), never the dedupe.

Memory: entries are forgotten ``window_secs`` after a story was last seen, and at most
``max_entries`` are kept (least recently seen out first, tombstoned like expired ones). An evicted
story that comes back starts counting its sources afresh; its story alert and the updates already
raised stay deduplicated by the ledger, so at worst a milestone is reached again later.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from schemas import Alert, ClassifiedItem, TriggerHit
from schemas.story import StoryEntry
from streams.alerts.build import alert_id_for, build_alert
from streams.alerts.ledger import AlertLedger
from streams.stage import Output

SWEEP_INTERVAL_SECS = 60.0
MAX_ENTRIES = 50_000


class StoryBook:
    """Stories' sources and milestones (see the module); ``entries`` is ordered least recently
    seen first and never holds more than ``max_entries``."""

    def __init__(self, topic: str, *, window_secs: float, milestones: list[int], max_entries: int = MAX_ENTRIES):
        self.topic = topic
        self.window_secs = window_secs
        self.milestones = set(milestones)
        self.max_entries = max_entries
        self.entries: OrderedDict[str, StoryEntry] = OrderedDict()
        self._swept = 0.0

    def observe(self, classified: ClassifiedItem, now: float, out: list[Output]) -> tuple[StoryEntry, bool]:
        """Count the item's source into its story; (the entry, whether it reached a new milestone)."""
        item = classified.item
        entry = self.entries.get(classified.story_id)
        if entry is None:
            entry = StoryEntry(story_id=classified.story_id, first_seen_at=item.fetched_at,
                               first_source_id=item.source_id, first_item_id=item.item_id,
                               sources=[item.source_id], last_seen=now)
            self._save(entry, out)
            return entry, False
        grew = item.source_id not in entry.sources
        if not grew and item.revision > 0:
            return entry, False
        update = {"items": entry.items + 1, "last_seen": now}
        if grew:
            update["sources"] = [*entry.sources, item.source_id]
        if item.fetched_at < entry.first_seen_at:  # an older copy fetched late opens the story after all
            update.update(first_seen_at=item.fetched_at, first_source_id=item.source_id, first_item_id=item.item_id)
        entry = entry.model_copy(update=update)
        self._save(entry, out)
        self._sweep(now, out)
        return entry, grew and len(entry.sources) in self.milestones

    @staticmethod
    def story_alert(classified: ClassifiedItem, trigger: TriggerHit, entry: StoryEntry, stamp: datetime) -> Alert:
        """The alert of a story: once per trigger and story, with the sources so far."""
        return build_alert(classified, trigger, stamp, alert_id=alert_id_for(trigger.id, entry.story_id),
                           source_count=len(entry.sources))

    def updates(self, classified: ClassifiedItem, entry: StoryEntry, stamp: datetime, ledger: AlertLedger,
                now: float, out: list[Output]) -> list[Alert]:
        """Update alerts for the milestone ``entry`` just reached, one per trigger already alerted."""
        alerts = []
        count = len(entry.sources)
        for trigger in classified.triggers:
            if alert_id_for(trigger.id, entry.story_id) not in ledger.alerted:
                continue
            update_id = alert_id_for(trigger.id, f"{entry.story_id}@{count}")
            if update_id in ledger.alerted:
                continue
            first = entry.first_seen_at.strftime("%Y-%m-%d %H:%M UTC")
            alert = build_alert(classified, trigger, stamp, alert_id=update_id).model_copy(update={
                "kind": "story", "source_count": count,
                "description": f"{trigger.description} — now {count} sources; first seen at {first} "
                               f"on {entry.first_source_id}".strip(" —"),
            })
            ledger.remember(update_id, now, out)
            alerts.append(alert)
        return alerts

    def apply_record(self, record) -> None:
        story_id = record.key.decode("utf-8")
        if record.value is None:
            self.entries.pop(story_id, None)
            return
        incoming = StoryEntry.model_validate_json(record.value)
        current = self.entries.get(story_id)
        if current is None or (len(incoming.sources), incoming.items) >= (len(current.sources), current.items):
            self.entries[story_id] = incoming
            self.entries.move_to_end(story_id)
            self._evict()

    def _save(self, entry: StoryEntry, out: list[Output]) -> None:
        self.entries[entry.story_id] = entry
        self.entries.move_to_end(entry.story_id)
        out.append(Output(self.topic, entry.story_id.encode(), entry.to_bytes()))
        out.extend(Output(self.topic, story_id.encode(), None) for story_id in self._evict())

    def _evict(self) -> list[str]:
        """Drop the least recently seen stories past ``max_entries``; their ids, for tombstones."""
        evicted = []
        while len(self.entries) > self.max_entries:
            evicted.append(self.entries.popitem(last=False)[0])
        return evicted

    def _sweep(self, now: float, out: list[Output]) -> None:
        if now - self._swept < SWEEP_INTERVAL_SECS:
            return
        self._swept = now
        for story_id in [s for s, e in self.entries.items() if now - e.last_seen > self.window_secs]:
            del self.entries[story_id]
            out.append(Output(self.topic, story_id.encode(), None))
