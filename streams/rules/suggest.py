"""Rule changes proposed from the desk's "not relevant" verdicts (``watchfloor rules suggest``).

For every theme a verdict says is wrong and the pack still assigns, these changes are tried, each on
a copy of the pack and measured rather than guessed:

- an exclusion context: a word near the matched term in the false alarm, written as its lemma
  (``"league" NEAR/8 "sanction"``), chosen among the words that are rarest in the labelled passages
  that do carry the theme;
- half the weight of a term that matched in the false alarms;
- where the learned model carries a false alarm on its own (no term to exclude), a caution context:
  a word of the false alarm, as its lemma, chosen the same way, beside which the model needs the
  theme's caution bar.

Each change is scored by the verdicts it would have cleared and by what it costs on the labelled
sets: positives it would lose, false alarms it would also clear. Only changes that clear at least
one verdict are proposed, the cheapest first. Training the model with the verdicts is the other
way to clear what the model carries alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from schemas.item import document_of
from streams.rules.compile import compile_pack
from streams.rules.engine import Analysis, CompiledRules
from streams.rules.evaluate import LabelledItem
from streams.rules.lemmas import lemma_words
from streams.rules.normalize import normalize

NEAR = 8
CONTEXT_WORDS = 6
"""Context words tried per false alarm and matched term."""
MIN_WORD_CHARS = 4
COMMON_SHARE = 0.08
"""A word in more than this share of the labelled passages is too common to tell contexts apart
("from", "said", "over"); checked once the labelled sets hold at least ``COMMON_MIN_PASSAGES``."""
COMMON_MIN_PASSAGES = 100


@dataclass
class Suggestion:
    theme: str
    kind: str  # "exclude", "weight" or "caution"
    change: str  # what to write in the pack, in its own syntax
    cleared: list[LabelledItem] = field(default_factory=list)
    """Verdicts the change clears: the alerts it would have removed."""
    lost: list[LabelledItem] = field(default_factory=list)
    """Labelled passages carrying the theme that the change would lose."""
    also_cleared: int = 0
    """Labelled false alarms of the theme the change would clear as well."""

    def as_dict(self) -> dict:
        return {"theme": self.theme, "kind": self.kind, "change": self.change,
                "cleared": [i.id for i in self.cleared], "lost": [i.id for i in self.lost],
                "also_cleared": self.also_cleared}


@dataclass
class Report:
    verdicts: int
    firing: dict[str, list[LabelledItem]]
    """Per theme, the verdicts the pack still assigns it to."""
    model_only: dict[str, list[LabelledItem]]
    """Per theme, those the learned model carries alone (no term to exclude)."""
    suggestions: list[Suggestion]


def _assigned(rules: CompiledRules, item: LabelledItem) -> tuple[Analysis, set[str]]:
    a = rules.analyse(document_of(item.text, item.title), item.lang)
    return a, {h.theme for h in rules.classification(a).themes}


def suggest(rules: CompiledRules, verdicts: Iterable[LabelledItem], labelled: Iterable[LabelledItem], *,
            top: int = 5) -> Report:
    verdicts, labelled = [v for v in verdicts if v.not_themes], list(labelled)
    t = rules.tables
    firing: dict[str, list[LabelledItem]] = {}
    model_only: dict[str, list[LabelledItem]] = {}
    candidates: dict[tuple[str, str, str], None] = {}  # (theme, kind, change), in order found
    everywhere = Counter(lemma for item in labelled for lemma in _lemma_set(item))
    common = ({lemma for lemma, n in everywhere.items() if n > COMMON_SHARE * len(labelled)}
              if len(labelled) >= COMMON_MIN_PASSAGES else set())
    positives: dict[str, Counter] = {}  # per theme, how many labelled passages carrying it use each lemma
    for item in verdicts:
        a, got = _assigned(rules, item)
        for theme in sorted(got & set(item.not_themes)):
            firing.setdefault(theme, []).append(item)
            if theme not in positives:
                positives[theme] = Counter(lemma for i in labelled if theme in i.themes for lemma in _lemma_set(i))
            index = rules.theme_index(theme)
            # Terms that counted for the theme; a negative weight already argues against it.
            mine = [ti for ti in a.term_matches if t.terms[ti].theme == index and t.terms[ti].weight > 0]
            if not mine:
                model_only.setdefault(theme, []).append(item)
                for change in _context_words(a, item.lang, positives[theme], common):
                    candidates[(theme, "caution", change)] = None
                continue
            for ti in mine:
                candidates[(theme, "weight", t.terms[ti].source)] = None
            spans = [span for ti in mine for parts in a.term_matches[ti] for span in parts]
            for change in _context_exclusions(a, item.lang, spans, positives[theme], common):
                candidates[(theme, "exclude", change)] = None
    # What the pack assigns today on the labelled sets, once.
    baseline = {item.id: _assigned(rules, item)[1] for item in labelled}
    suggestions = []
    for theme, kind, change in candidates:
        trial = compile_pack(_changed(rules.pack, theme, kind, change))
        s = Suggestion(theme, kind, _describe(rules, theme, kind, change))
        s.cleared = [v for v in firing[theme] if theme not in _assigned(trial, v)[1]]
        if not s.cleared:
            continue
        for item in labelled:  # only removals are tried: what is not assigned today stays so
            if theme in baseline[item.id] and theme not in _assigned(trial, item)[1]:
                if theme in item.themes:
                    s.lost.append(item)
                else:
                    s.also_cleared += 1
        suggestions.append(s)
    suggestions.sort(key=lambda s: (s.theme, len(s.lost) - len(s.cleared) - s.also_cleared, len(s.lost), s.change))
    kept: list[Suggestion] = []
    for theme in sorted(firing):
        kept += [s for s in suggestions if s.theme == theme][:top]
    return Report(len(verdicts), firing, model_only, kept)


def _words(a: Analysis, lang: str | None) -> tuple[list[str], list[str]]:
    """The document's normalised words and their lemmas."""
    words = a.norm.text.split(" ")
    return words, lemma_words(words, lang, a.norm.text)


def _telling(word: str, lemma: str, common: set[str]) -> bool:
    """Whether a word may make a context: long enough, a word, and not too common to tell passages apart."""
    return len(word) >= MIN_WORD_CHARS and word.isalpha() and lemma not in common


def _context_exclusions(a: Analysis, lang: str | None, spans: list[tuple[int, int]], positives: Counter,
                        common: set[str]) -> list[str]:
    """Exclusions made of a word near a matched term and the term's words, as lemmas; the words
    rarest among the labelled passages that carry the theme (``positives``) first."""
    words, lemmas = _words(a, lang)
    starts, at = [], 0
    for w in words:
        starts.append(at)
        at += len(w) + 1
    out: list[str] = []
    for start, end in sorted(set(spans)):
        first = max(i for i, s in enumerate(starts) if s <= start)
        last = max(i for i, s in enumerate(starts) if s < end)
        matched = " ".join(lemmas[first:last + 1])
        near = [i for i in range(max(0, first - NEAR), min(len(words), last + NEAR + 1))
                if not first <= i <= last and _telling(words[i], lemmas[i], common)]
        near.sort(key=lambda i: (positives[lemmas[i]], abs(i - first)))
        out += [f'"{lemmas[i]}" NEAR/{NEAR} "{matched}"' for i in near[:CONTEXT_WORDS]]
    return list(dict.fromkeys(out))


def _context_words(a: Analysis, lang: str | None, positives: Counter, common: set[str]) -> list[str]:
    """Caution contexts made of one word of the false alarm, as its lemma; the words rarest among the
    labelled passages that carry the theme (``positives``) first."""
    found = {lemma for word, lemma in zip(*_words(a, lang)) if _telling(word, lemma, common)}
    return [f'"{lemma}"' for lemma in sorted(found, key=lambda lemma: (positives[lemma], lemma))[:CONTEXT_WORDS]]


_LEMMA_SETS: dict[tuple[str, str], frozenset[str]] = {}


def _lemma_set(item: LabelledItem) -> frozenset[str]:
    key = (item.id, item.text)
    if key not in _LEMMA_SETS:
        text = normalize(document_of(item.text, item.title)).text  # the engine's own normalisation
        _LEMMA_SETS[key] = frozenset(lemma_words(text.split(" "), item.lang, text))
    return _LEMMA_SETS[key]


def _changed(pack, theme: str, kind: str, change: str):
    themes = []
    for rule in pack.themes:
        if rule.id == theme:
            if kind in ("exclude", "caution"):
                rule = rule.model_copy(update={kind: [*getattr(rule, kind), change]})
            else:
                rule = rule.model_copy(update={"terms": {**rule.terms, change: rule.terms[change] / 2}})
        themes.append(rule)
    return pack.model_copy(update={"themes": themes, "name": f"{pack.name}+suggestion"})


def _describe(rules: CompiledRules, theme: str, kind: str, change: str) -> str:
    if kind in ("exclude", "caution"):
        return f"themes[{theme}].{kind} += '{change}'"
    weight = next(r for r in rules.pack.themes if r.id == theme).terms[change]
    return f"themes[{theme}].terms['{change}']: {weight:g} -> {weight / 2:g}"


def render(report: Report, *, examples: int = 3) -> str:
    lines = [f"{report.verdicts} 'not relevant' verdicts; the pack still assigns their theme to "
             + (", ".join(f"{theme} {len(items)}" for theme, items in sorted(report.firing.items())) or "none")]
    for theme, items in sorted(report.model_only.items()):
        lines.append(f"  {theme}: {len(items)} carried by the learned model alone; a caution context below raises "
                     "its bar there, or train it with the verdicts (watchfloor feedback export, then watchfloor "
                     "rules train --set ...)")
    if not report.suggestions:
        lines.append("No term, exclusion or caution change clears any of them.")
    for s in report.suggestions:
        lines += ["", f"{s.change}",
                  f"  clears {len(s.cleared)} of {len(report.firing[s.theme])} verdicts; loses {len(s.lost)} labelled "
                  f"{s.theme} passages; clears {s.also_cleared} labelled false alarms too"]
        lines += [f"  would not have alerted: {v.id}: {_clip(v.text)}" for v in s.cleared[:examples]]
        lines += [f"  would miss: {i.id}: {_clip(i.text)}" for i in s.lost[:examples]]
    return "\n".join(lines)


def _clip(text: str, limit: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
