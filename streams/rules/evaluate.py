"""Detection quality of a rule pack on a labelled set: plain functions, no broker (``watchfloor eval``).

A labelled set is JSON Lines: ``id``, ``lang``, ``text`` (optional ``title``), ``themes`` (the labeller's
themes, possibly none) and ``entities`` (every person, organisation and place the labeller found,
written as its usual English name). Method and figures: ``docs/quality.md``.

Entities are scored against the gazetteer: a labelled name is resolved to gazetteer ids by running
the pack on the name itself ("Zaporizhzhia" → ``zaporizhzhia``). A name that resolves to nothing is a
coverage gap (counted in ``gazetteer_coverage``); a resolved one is found when the passage's
classification names one of its ids (``entity_recall``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from streams.rules.engine import Analysis, Classification, CompiledRules, document_of

LANGS = ("en", "ru", "uk")


class LabelledItem(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    lang: str
    text: str
    title: str | None = None
    themes: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    source_url: str | None = None
    not_themes: list[str] = Field(default_factory=list)
    """A desk's "not relevant" verdict (``watchfloor feedback export``): the passage does not carry
    these themes, and says nothing about the others, so only these are scored."""


def read_set(path: Path) -> list[LabelledItem]:
    """Every line of a labelled set; a bad line raises ``ValueError`` naming the file and line."""
    items = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                items.append(LabelledItem.model_validate_json(line))
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: not a labelled item: {str(exc).splitlines()[0]}") from None
    return items


def read_sets(paths: Iterable[Path]) -> list[LabelledItem]:
    """The items of several labelled sets, in order; a missing file or bad line raises ``ValueError``."""
    items = []
    for path in paths:
        if not path.is_file():
            raise ValueError(f"{path}: no such labelled set")
        items += read_set(path)
    return items


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, expected: bool, got: bool) -> None:
        self.tp += expected and got
        self.fp += got and not expected
        self.fn += expected and not got

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                "tp": self.tp, "fp": self.fp, "fn": self.fn}


@dataclass
class Error:
    """A miss or a false alarm, with what the pack saw."""

    kind: str  # "miss" or "false_alarm"
    item: LabelledItem
    theme: str
    score: float
    threshold: float
    matched: list[str]
    model: float | None = None  # the learned model's probability, when the pack has one


@dataclass
class Report:
    themes: list[str]
    overall: dict[str, Counts]
    by_lang: dict[str, dict[str, Counts]]
    entities_expected: int = 0
    entities_found: int = 0
    entity_names: int = 0
    entity_names_resolved: int = 0
    entity_misses: list[tuple[str, str]] = field(default_factory=list)
    errors: list[Error] = field(default_factory=list)
    items: int = 0
    feedback_items: int = 0
    """Desk verdicts ("not relevant") among the items, and how many the pack still fires on."""
    feedback_firing: int = 0

    @property
    def macro_f1(self) -> float:
        return sum(c.f1 for c in self.overall.values()) / len(self.overall) if self.overall else 0.0

    @property
    def entity_recall(self) -> float:
        return self.entities_found / self.entities_expected if self.entities_expected else 1.0

    @property
    def gazetteer_coverage(self) -> float:
        return self.entity_names_resolved / self.entity_names if self.entity_names else 1.0

    def summary(self) -> dict:
        return {
            "items": self.items,
            "macro_f1": round(self.macro_f1, 4),
            "themes": {t: c.as_dict() for t, c in self.overall.items()},
            "by_lang": {lang: {t: c.as_dict() for t, c in per.items()} for lang, per in self.by_lang.items()},
            "entity_recall": round(self.entity_recall, 4),
            "entities_expected": self.entities_expected,
            "gazetteer_coverage": round(self.gazetteer_coverage, 4),
            "misses": sum(e.kind == "miss" for e in self.errors),
            "false_alarms": sum(e.kind == "false_alarm" for e in self.errors),
            "feedback": {"examples": self.feedback_items, "still_firing": self.feedback_firing},
        }


class EntityResolver:
    """Labelled English names → gazetteer ids, by classifying the name itself (cached). Only an entity
    whose mention spans the whole name counts: "Shakhtar Donetsk" is a club the gazetteer does not
    know, not the city of Donetsk."""

    def __init__(self, rules: CompiledRules):
        self.rules = rules
        self._cache: dict[str, frozenset[str]] = {}

    def ids(self, name: str) -> frozenset[str]:
        if name not in self._cache:
            letters = [i for i, ch in enumerate(name) if ch.isalnum()]
            first, last = (letters[0], letters[-1] + 1) if letters else (0, 0)
            self._cache[name] = frozenset(
                e.id for e in self.rules.classify(name).entities
                if any(m.start <= first and m.end >= last for m in e.mentions))
        return self._cache[name]


def evaluate(rules: CompiledRules, items: Iterable[LabelledItem], into: Report | None = None) -> Report:
    """Score ``rules`` on ``items``; with ``into``, add to that report (several packs, one tally)."""
    theme_ids = [t.id for t in rules.pack.themes]
    report = into or Report(theme_ids, {t: Counts() for t in theme_ids},
                            {lang: {t: Counts() for t in theme_ids} for lang in LANGS})
    resolver = EntityResolver(rules)
    for item in items:
        report.items += 1
        analysis = rules.analyse(document_of(item.text, item.title), item.lang)
        result = rules.classification(analysis)
        _score_themes(report, rules, item, analysis, result)
        _score_entities(report, resolver, item, result)
    return report


def _score_themes(report: Report, rules: CompiledRules, item: LabelledItem, analysis: Analysis,
                  result: Classification) -> None:
    got = {t.theme: t for t in result.themes}
    by_lang = report.by_lang.setdefault(item.lang, {t: Counts() for t in report.themes})
    scored = [t for t in report.themes if t in item.not_themes] if item.not_themes else report.themes
    if item.not_themes:
        report.feedback_items += 1
        report.feedback_firing += any(t in got for t in scored)
    for theme in scored:
        expected, found = theme in item.themes, theme in got
        report.overall[theme].add(expected, found)
        by_lang[theme].add(expected, found)
        if expected != found:
            # A miss: what the theme did reach in the same analysis (same language, same lemmas).
            score, matched = rules.partial_theme(analysis, theme) if not found else (
                got[theme].score, sorted({m.text for m in got[theme].matches}))
            report.errors.append(Error("false_alarm" if found else "miss", item, theme, score,
                                       rules.theme_threshold(theme), matched,
                                       rules.model_probability(analysis, rules.theme_index(theme))))


def _score_entities(report: Report, resolver: EntityResolver, item: LabelledItem, result: Classification) -> None:
    found = {e.id for e in result.entities}
    for name in dict.fromkeys(item.entities):
        report.entity_names += 1
        ids = resolver.ids(name)
        if not ids:
            continue
        report.entity_names_resolved += 1
        report.entities_expected += 1
        if ids & found:
            report.entities_found += 1
        else:
            report.entity_misses.append((item.id, name))


def render(report: Report, *, show: int = 20) -> str:
    """The report as text: a table per language, then the first ``show`` errors of each kind."""
    lines = [f"{report.items} items; macro F1 {report.macro_f1:.3f}; entity recall {report.entity_recall:.3f} "
             f"({report.entities_found}/{report.entities_expected}); gazetteer coverage of labelled names "
             f"{report.gazetteer_coverage:.3f}", ""]
    if report.feedback_items:
        lines += [f"Desk feedback: {report.feedback_items} alerts marked not relevant; the pack still fires on "
                  f"{report.feedback_firing} of them (listed among the false alarms as desk:<alert id>)", ""]
    lines.append(f"{'theme':<12} {'lang':<4} {'prec':>6} {'recall':>6} {'f1':>6} {'tp':>4} {'fp':>4} {'fn':>4}")
    for theme in report.themes:
        rows = [("all", report.overall[theme])] + [(lang, report.by_lang[lang][theme]) for lang in report.by_lang]
        for lang, c in rows:
            lines.append(f"{theme:<12} {lang:<4} {c.precision:>6.2f} {c.recall:>6.2f} {c.f1:>6.2f} "
                         f"{c.tp:>4} {c.fp:>4} {c.fn:>4}")
    for kind, title in (("miss", "Misses"), ("false_alarm", "False alarms")):
        errors = [e for e in report.errors if e.kind == kind]
        lines += ["", f"{title} ({len(errors)}):"]
        for e in errors[:show]:
            words = ", ".join(e.matched) or "nothing"
            model = f" model {e.model:.2f}" if e.model is not None else ""
            lines.append(f"  {e.item.id} [{e.item.lang}] {e.theme} score {e.score:g}/{e.threshold:g}{model} ({words}): "
                         f"{_clip(e.item.text)}")
    if report.entity_misses:
        lines += ["", f"Entities not found ({len(report.entity_misses)}): "
                  + "; ".join(f"{i} {n}" for i, n in report.entity_misses[:show])]
    return "\n".join(lines)


def _clip(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_json(report: Report) -> str:
    return json.dumps(report.summary(), ensure_ascii=False, sort_keys=True)
