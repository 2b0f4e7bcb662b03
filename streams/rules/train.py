"""Train the learned second opinion (``streams.rules.model``) on labelled passages (``watchfloor rules train``).

One L2-regularised logistic regression per theme (scikit-learn, the ``train`` extra; nothing here is
needed to classify). The bars of each theme are chosen by k-fold cross-validation on the training
passages: the probability (0.5 or more) at which "terms OR model" has the best F1 on the held-out
folds while its precision stays at or above ``min_precision`` (or the terms' own precision on those
passages, where that is lower), together with a lower probability
(``with_terms``, 0.30 or more) that is enough where the terms found part of the theme, and raised
bars where an exclusion vetoed a term or a caution context matched; passages where a silence context
matches count as the model's at no probability, as they run; a theme whose model cannot reach that
precision gets no model entry, so the terms alone decide it.

The cross-validation is repeated (``repeats``, five by default) and each bar is the median of the
repeats' choices. Pooling the repeats and choosing once, as before, let the raised bars jump between 0.80
and 0.98 with the seed alone: they decide a few dozen passages, and many choices come within a
hair of the best F1. Folds are dealt by a hash of each passage's id and the repeat, so training
is repeatable and a new split leaves the folds of the others as they were (docs/quality.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from statistics import median_high

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

from core.ids import stable_hash
from schemas.item import document_of
from schemas.rules import ModelTheme, TextModel
from streams.rules.engine import Analysis, CompiledRules
from streams.rules.evaluate import LabelledItem, Report, evaluate
from streams.rules.lemmas import lemma_words
from streams.rules.model import VETOED_THRESHOLD, WITH_CONCEPTS, document_features, encode_weights, feature_scale
from streams.rules.normalize import normalize

# The model alone assigns a theme only when it finds it more likely than not: 0.50 … 0.90.
THRESHOLDS = tuple(round(0.50 + 0.05 * i, 2) for i in range(9))
# Beside part of the theme's terms (half its threshold, none vetoed, no caution) it may need less: 0.30 … 0.85.
WITH_TERMS = tuple(round(0.30 + 0.05 * i, 2) for i in range(12))
# Where an exclusion vetoed one of the theme's terms it may need more: 0.80 (``VETOED_THRESHOLD``, the bar
# of a model that names none) … 0.98. So where a caution context matched, with a bar of its own.
VETOED = (VETOED_THRESHOLD, 0.85, 0.90, 0.95, 0.98)
# How far below the best F1 on the held-out folds a more cautious choice of bars may score and still win.
F1_TOLERANCE = 0.002


def analyse_items(rules: CompiledRules, items: list[LabelledItem]) -> list[Analysis]:
    return [rules.analyse(document_of(item.text, item.title), item.lang) for item in items]


def feature_matrix(items: list[LabelledItem], bits: int, min_buckets: int, rules: CompiledRules | None = None,
                   analyses: list[Analysis] | None = None) -> csr_matrix:
    """One row per item over the present buckets, scaled exactly as ``CompiledModel.score`` does:
    features v1, or v2 with the concepts of ``rules`` each item hit when ``rules`` is given
    (``analyses``: the items' analyses by ``rules``, when the caller has them already)."""
    mask, cache = (1 << bits) - 1, {}
    if rules is not None and analyses is None:
        analyses = analyse_items(rules, items)
    rows, cols, vals = [], [], []
    for r, item in enumerate(items):
        if rules is None:
            norm = normalize(document_of(item.text, item.title)).text
            lemmas, concepts = lemma_words(norm.split(" "), item.lang, norm), []
        else:
            lemmas, concepts = rules.lemmas(analyses[r], item.lang), rules.concepts_hit(analyses[r])
        present = document_features(lemmas, mask, cache, concepts)
        for c in present:
            rows.append(r)
            cols.append(c)
            vals.append(feature_scale(len(present), min_buckets))
    return csr_matrix((vals, (rows, cols)), shape=(len(items), 1 << bits), dtype=np.float64)


def _fit(x, y, c: float) -> LogisticRegression:
    return LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(x, y)


def _thresholds(probabilities: np.ndarray, by_terms: np.ndarray, partial: np.ndarray, y: np.ndarray,
                min_precision: float, vetoed: np.ndarray | None = None, tolerance: float = F1_TOLERANCE,
                cautioned: np.ndarray | None = None
                ) -> tuple[float | None, float | None, float | None, float | None, float]:
    """The model's bars for "terms, OR the model at ``threshold`` (at ``max(threshold, vetoed bar)`` where
    an exclusion vetoed a term: ``vetoed``; at ``max(threshold, caution bar)`` where a caution context
    matched: ``cautioned``; the higher of the two where both hold), OR part of the terms (``partial``) and the model at
    ``with_terms``": (threshold, with_terms or None for no lower bar, the vetoed bar and the caution bar
    or None for ``VETOED_THRESHOLD``, F1); threshold None where no choice keeps precision at
    ``min_precision``.

    Of the choices that keep the precision floor and come within ``tolerance`` of the best F1, the one
    that assigns the fewest passages wins: a lower bar that buys a few thousandths of F1 on the
    training passages mostly buys false alarms on text unlike them."""
    none = np.zeros_like(y, dtype=bool)
    vetoed = none if vetoed is None else vetoed
    cautioned = none if cautioned is None else cautioned
    free = ~vetoed & ~cautioned
    # Where both hold, the higher of the two bars.
    vetoed_only, cautioned_only, both = vetoed & ~cautioned, cautioned & ~vetoed, vetoed & cautioned
    any_vetoed, any_cautioned = bool(vetoed.any()), bool(cautioned.any())
    positives = max(1, int(y.sum()))
    choices: list[tuple] = []  # (f1, assigned, threshold, with_terms, vetoed bar, caution bar)
    for threshold in THRESHOLDS:
        over = probabilities >= threshold
        # A bar above VETOED_THRESHOLD but not above the threshold acts as the threshold: already tried.
        for bar in _raised(threshold, any_vetoed):
            alone = by_terms | (over & free) | (vetoed_only & (probabilities >= max(threshold, bar)))
            for caution in _raised(threshold, any_cautioned):
                careful = alone | (cautioned_only & (probabilities >= max(threshold, caution))) \
                    | (both & (probabilities >= max(threshold, bar, caution)))
                for with_terms in (None, *(w for w in WITH_TERMS if w < threshold)):
                    got = careful if with_terms is None else careful | (partial & (probabilities >= with_terms))
                    assigned = int(got.sum())
                    tp = int((got & y).sum())
                    precision = tp / max(1, assigned)
                    recall = tp / positives
                    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
                    if precision >= min_precision:
                        choices.append((f1, assigned, threshold, with_terms, _named(bar), _named(caution)))
    if not choices:
        return None, None, None, None, -1.0
    best = max(c[0] for c in choices)
    # Fewest passages assigned, then the better F1; then the choice tried first (the lowest bars).
    f1, _, threshold, with_terms, bar, caution = min((c for c in choices if c[0] >= best - tolerance),
                                                     key=lambda c: (c[1], -c[0]))
    return threshold, with_terms, bar, caution, f1


def _precision(assigned: np.ndarray, y: np.ndarray) -> float:
    """The precision of assigning ``assigned`` (1.0 where it assigns nothing)."""
    count = int(assigned.sum())
    return int((assigned & y).sum()) / count if count else 1.0


def _raised(threshold: float, anywhere: bool) -> list[float]:
    """The raised bars worth trying: VETOED_THRESHOLD, and those above ``threshold`` if any passage
    needs one (``anywhere``)."""
    return [b for b in VETOED if b == VETOED_THRESHOLD or (b > threshold and anywhere)]


def _named(bar: float) -> float | None:
    return None if bar == VETOED_THRESHOLD else bar


def hash_folds(items: list[LabelledItem], folds: int, repeat: int, y: np.ndarray | None = None
               ) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index arrays of ``folds`` folds, each passage dealt by a hash of its id and ``repeat``:
    the same on every run, and a passage keeps its fold whatever other passages are added. Not stratified:
    every theme of the shipped sets has hundreds of passages, so each fold holds about its share. Only
    where that leaves a fold's training part without one of the labels ``y`` (a set with a handful of
    positives) is each label dealt round the folds in hash order instead."""
    keys = [int(stable_hash(item.id, str(repeat), size=4), 16) for item in items]
    fold = np.array([key % folds for key in keys])
    if y is not None and any(len(set(y[fold != k])) < 2 for k in range(folds)):
        for label in (False, True):
            ranked = sorted(np.flatnonzero(y == label), key=keys.__getitem__)
            fold[ranked] = np.arange(len(ranked)) % folds
    return [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(folds)]


def median_bars(chosen: list[tuple]) -> tuple[float | None, float | None, float | None, float | None]:
    """The median of each bar over the repeats' choices (``_thresholds``' first four values); of an even
    number, the higher middle one, so a bar is always one the grid offers and the more cautious of two.
    A choice of "no bar" counts as the bar it stands for: no model (threshold None) as 1.0, no
    ``with_terms`` as the threshold itself, no raised bar as ``VETOED_THRESHOLD``; a median equal to that
    is "no bar" again."""
    never = 1.0
    threshold = median_high([never if t is None else t for t, _, _, _ in chosen])
    if threshold >= never:
        return None, None, None, None
    with_terms = median_high([never if t is None else t if w is None else w for t, w, _, _ in chosen])
    bars = [median_high([VETOED_THRESHOLD if b is None else b for b in column])
            for column in zip(*((v, k) for _, _, v, k in chosen))]
    return (threshold, None if with_terms >= threshold else with_terms,
            *(None if b <= VETOED_THRESHOLD else b for b in bars))


def check_floors(rules: CompiledRules, floors: Mapping[str, float]) -> None:
    """ValueError naming the themes of ``floors`` (``train_model``'s ``theme_precision``) that ``rules`` lacks."""
    known = [t.id for t in rules.pack.themes]
    unknown = sorted(set(floors) - set(known))
    if unknown:
        raise ValueError(f"names no theme of the pack: {', '.join(unknown)} (its themes: {', '.join(known)})")


def train_model(rules: CompiledRules, items: list[LabelledItem], *, bits: int = 15, min_buckets: int = 200,
                c: float = 8.0, folds: int = 5, repeats: int = 5, min_precision: float = 0.95,
                theme_precision: Mapping[str, float] | None = None, trained_on: str = "",
                features: str = WITH_CONCEPTS) -> TextModel:
    """A ``TextModel`` for every theme of ``rules`` whose cross-validated threshold keeps precision;
    ``features`` v2 (the default) also gives the model the concepts of ``rules`` each passage hit.

    ``theme_precision`` sets the floor of the themes it names in place of ``min_precision``, so one theme
    may trade a little precision for recall without the others' bars moving."""
    floors = dict(theme_precision or {})
    check_floors(rules, floors)
    # One analysis per passage serves both the concept features and the themes the terms assign.
    analyses = analyse_items(rules, items)
    x = feature_matrix(items, bits, min_buckets, rules, analyses) if features == WITH_CONCEPTS \
        else feature_matrix(items, bits, min_buckets)
    rule_themes = rules.tables.themes
    by_terms_all = [{rule_themes[i].id for i, score in a.scores.items() if score >= rule_themes[i].threshold}
                    for a in analyses]
    # Per passage and theme, what ``CompiledModel.bar`` reads: an exclusion vetoed one of the theme's terms
    # (the vetoed bar), a caution context of the theme matched (the caution bar), or part of its terms,
    # none vetoed or cautioned (where ``with_terms`` decides).
    why_all = [[rules.model_bar_why(a, i) for i in range(len(rule_themes))] for a in analyses]
    partial_all = [{rule_themes[i].id for i in a.scores if why[i] == (False, True, False)}
                   for a, why in zip(analyses, why_all)]
    vetoed_all = [{rule_themes[i].id for i, (vetoed, _, _) in enumerate(why) if vetoed} for why in why_all]
    cautioned_all = [{rule_themes[i].id for i, (_, _, cautioned) in enumerate(why) if cautioned} for why in why_all]
    # Where a silence context of the theme matches, the model alone may not assign it at any probability: the bars
    # are chosen on what runs, so those passages count as the model's hits or false alarms at none.
    silenced_all = [{rule_themes[i].id for i in range(len(rule_themes)) if rules.silence_matches(a, i)}
                    for a in analyses]
    themes: dict[str, ModelTheme] = {}
    for theme in (t.id for t in rules.pack.themes):
        y = np.array([theme in i.themes for i in items])
        if y.sum() < folds or (~y).sum() < folds:
            continue
        by_terms = np.array([theme in found for found in by_terms_all])
        partial = np.array([theme in found for found in partial_all]) & ~by_terms
        vetoed = np.array([theme in found for found in vetoed_all]) & ~by_terms
        cautioned = np.array([theme in found for found in cautioned_all]) & ~by_terms
        silenced = np.array([theme in found for found in silenced_all]) & ~by_terms
        # The model may not make the theme less precise than its terms alone are, nor than its floor (the
        # theme's own in theme_precision, else min_precision):
        # where the terms already assign passages the labels reject at a higher rate than the floor allows
        # (escalation's nuclear words in an official's denial), the floor is theirs, or no bar could keep
        # it and the model, which finds what the terms miss, would be dropped for the terms' errors.
        floor = min(floors.get(theme, min_precision), _precision(by_terms, y))
        # Each repeat deals the folds afresh and chooses its bars; each bar is the median of the choices.
        chosen = []
        for r in range(repeats):
            held_out = np.zeros(len(items))
            for train, test in hash_folds(items, folds, r, y):
                held_out[test] = _fit(x[train], y[train], c).predict_proba(x[test])[:, 1]
            held_out[silenced] = 0.0
            chosen.append(_thresholds(held_out, by_terms, partial, y, floor, vetoed, cautioned=cautioned)[:4])
        threshold, with_terms, vetoed_bar, caution_bar = median_bars(chosen)
        if threshold is None:
            continue
        model = _fit(x, y, c)
        themes[theme] = ModelTheme(bias=float(model.intercept_[0]), threshold=threshold, with_terms=with_terms,
                                   vetoed=vetoed_bar, caution=caution_bar,
                                   weights=encode_weights(model.coef_[0]))
    return TextModel(features=features, bits=bits, min_buckets=min_buckets, trained_on=trained_on, themes=themes)


def held_out(rules: CompiledRules, sets: dict[str, list[LabelledItem]], **options) -> tuple[Report, dict[str, Report]]:
    """Leave one set out, for each set: a model trained (``train_model(**options)``) on the other sets
    scores it beside the terms of ``rules``. Returns the pooled report and one per set: what the model
    does on passages it never saw, the measure to compare features or settings by."""
    from streams.rules.compile import compile_pack

    pooled: Report | None = None
    each: dict[str, Report] = {}
    for name, items in sets.items():
        model = train_model(rules, [i for other, its in sets.items() if other != name for i in its], **options)
        scored = compile_pack(rules.pack.model_copy(update={"model": model, "version": ""}))
        each[name] = evaluate(scored, items)
        pooled = evaluate(scored, items, into=pooled)
    assert pooled is not None, "no sets"
    return pooled, each
