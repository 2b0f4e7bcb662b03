"""What a changed rule pack would have raised: both packs over the same stored items (``watchfloor
rules backtest``).

Every item is classified with the pack in use (the baseline) and with the candidate, exactly as the
classify stage calls ``classify``; a trigger that fires on an item under one pack and not the other is
an alert added or removed. Story grouping, cooldown folding and the alert ledger are left out: the
comparison is per item and trigger, which is what a rule change moves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from schemas import Item
from streams.rules.engine import CompiledRules


@dataclass
class TriggerChange:
    trigger: str
    severity: str
    added: list[Item] = field(default_factory=list)
    removed: list[Item] = field(default_factory=list)
    kept: int = 0


@dataclass
class Backtest:
    baseline: str  # pack versions
    candidate: str
    items: int = 0
    changes: dict[str, TriggerChange] = field(default_factory=dict)

    def _change(self, trigger: str, severity: str) -> TriggerChange:
        return self.changes.setdefault(trigger, TriggerChange(trigger, severity))

    def render(self, examples: int = 3) -> str:
        added = sum(len(c.added) for c in self.changes.values())
        removed = sum(len(c.removed) for c in self.changes.values())
        lines = [f"{self.items} items; baseline {self.baseline} -> candidate {self.candidate}: "
                 f"{added} alerts added, {removed} removed", ""]
        for change in sorted(self.changes.values(), key=lambda c: (-len(c.added) - len(c.removed), c.trigger)):
            lines.append(f"{change.trigger} ({change.severity}): +{len(change.added)} -{len(change.removed)}, "
                         f"{change.kept} unchanged")
            for sign, items in (("+", change.added), ("-", change.removed)):
                for item in items[:examples]:
                    lines.append(f"  {sign} {item.item_id}  {_headline(item)}")
        return "\n".join(lines) + "\n"

    def summary(self) -> dict:
        return {"items": self.items, "baseline": self.baseline, "candidate": self.candidate,
                "triggers": {c.trigger: {"severity": c.severity, "added": [i.item_id for i in c.added],
                                         "removed": [i.item_id for i in c.removed], "unchanged": c.kept}
                             for c in self.changes.values()}}

    def to_json(self) -> str:
        return json.dumps(self.summary(), ensure_ascii=False, sort_keys=True)


def _headline(item: Item, limit: int = 100) -> str:
    text = " ".join((item.title or item.text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def backtest(baseline: CompiledRules, candidate: CompiledRules, items: Iterable[Item]) -> Backtest:
    report = Backtest(baseline.version, candidate.version)
    for item in items:
        report.items += 1
        before = {t.id: t.severity for t in baseline.classify(item.text, title=item.title or None, lang=item.lang).triggers}
        after = {t.id: t.severity for t in candidate.classify(item.text, title=item.title or None, lang=item.lang).triggers}
        for trigger in after.keys() - before.keys():
            report._change(trigger, after[trigger]).added.append(item)
        for trigger in before.keys() - after.keys():
            report._change(trigger, before[trigger]).removed.append(item)
        for trigger in before.keys() & after.keys():
            report._change(trigger, after[trigger]).kept += 1
    return report
