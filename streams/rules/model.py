"""The learned second opinion on themes: a logistic model per theme over hashed lemma features.

Terms catch a theme by its vocabulary; real reporting often says it in other words ("the $60
ceiling", "lawful targets", "ballots on coming under Moscow"). A linear model trained on labelled
passages (``watchfloor rules train``) scores every document; a theme is assigned when its terms
reach the theme's threshold *or* its probability reaches the model's threshold for that theme.

Features (``lemma-ngrams-v1``), computed from the lemmas the engine already has: each lemma, the
character 4- and 5-grams of `` lemma `` (so inflections and compounds the lemmatiser does not know
still share most features) and each pair of adjacent lemmas, hashed (CRC-32; a pair mixes its two
words' hashes) into ``2**bits`` buckets. A document's features are present or absent, so the score is
``bias + sum(weights[present]) * feature_scale(len(present), min_buckets)``, that is divided by
``sqrt(max(len(present), min_buckets))``: the floor keeps a headline's few words ("Nuclear Summer
tops the charts") from carrying a theme on their own. A word's features depend on the word alone: each
lemma's buckets and their weights summed are worked out once (``CompiledModel.entry``) and kept beside
the word in the engine's word cache, so scoring a document reads them in the word scan's order, takes
back the weights of buckets an earlier word already brought, and mixes one hash per word pair.

Features ``lemma-ngrams-concepts-v2`` (what ``rules train`` writes now) add one bucket per concept of
the pack the document hit (``@threat_verb``, ``@sanction_word``, …, hashed by name like a word;
not those a pack marks ``model_feature: false``). The
concepts are the pack's multilingual synonym groups, so what the model learns about a concept from
passages in one language carries to the others. Leave-one-split-out over the six dev splits: macro
F1 0.942 → 0.945, better or equal on every split (docs/quality.md). A v2 model is trained against the
pack's concepts: after adding or renaming one, train again (``watchfloor rules train``), or the new
concept's bucket carries whatever weight its hash lands on.

The explanation stays exact: the words whose features added most to the score are reported as
matches (``term`` ``"model"``) with their offsets in the original document.
"""

from __future__ import annotations

import base64
import math
import zlib
from dataclasses import dataclass

import numpy as np

from schemas.rules import VETOED_THRESHOLD, TextModel
from streams.rules import native

_WORD_CACHE_LIMIT = 200_000


_PAIR_MIX = 0x9E3779B1  # odd 32-bit multiplier: mixes the left word's hash before the right's is xored in

WordEntry = tuple[frozenset[int], int]  # (the word's buckets, its 32-bit hash for pairs)

WITH_CONCEPTS = "lemma-ngrams-concepts-v2"

# The model's bar for a theme whose term an exclusion vetoed in the document. The exclusion is sure
# about its words, the model reads the whole passage: on the seven dev splits held out, a veto that
# silenced the model (a bar of 1) scored macro F1 0.948, no veto 0.951 (referendum +14 true positives,
# +6 false alarms: ordinary elections), a bar of 0.80 0.951 while a one-line contest vote the
# model puts at 0.74-0.78 stays out (docs/quality.md). ``VETOED_THRESHOLD`` (0.80) is defined in schemas.rules,
# beside the field it bounds; training may choose a higher bar per theme (``ModelTheme.vetoed``).


def concept_bucket(concept: str, mask: int) -> int:
    """The bucket of a concept the document hit, named as the pack writes it (``@threat_verb``)."""
    return zlib.crc32(concept.encode()) & mask


def word_entry(word: str, mask: int, cache: dict[str, WordEntry]) -> WordEntry:
    """One lemma's buckets (the lemma itself and its character 4- and 5-grams) and its hash."""
    found = cache.get(word)
    if found is None:
        padded = f" {word} "
        grams = [f"w{word}"]
        grams += [padded[i:i + n] for n in (4, 5) for i in range(len(padded) - n + 1)] or [padded]
        if len(cache) > _WORD_CACHE_LIMIT:
            cache.clear()
        found = cache[word] = (frozenset(zlib.crc32(g.encode()) & mask for g in grams), zlib.crc32(word.encode()))
    return found


def pair_bucket(left: int, right: int, mask: int) -> int:
    """The bucket of two adjacent lemmas, from their hashes (order matters)."""
    return ((left * _PAIR_MIX) ^ right) & mask


def word_buckets(lemmas: list[str], mask: int, cache: dict[str, WordEntry]) -> list[tuple[int, ...]]:
    """The buckets each word brings (its own, and the pair it ends), aligned with ``lemmas``; the
    union over all words is the document's features."""
    out: list[tuple[int, ...]] = []
    previous = None
    for lemma in lemmas:
        if not lemma:
            out.append(())
            previous = None
            continue
        buckets, hashed = word_entry(lemma, mask, cache)
        out.append(tuple(buckets) if previous is None else (*buckets, pair_bucket(previous, hashed, mask)))
        previous = hashed
    return out


def document_features(lemmas: list[str], mask: int, cache: dict[str, WordEntry], concepts=()) -> set[int]:
    """The buckets present in a document: the union of ``word_buckets`` and of the buckets of the
    ``concepts`` it hit (features v2; none for v1). The definition training uses;
    ``CompiledModel.present`` builds the same buckets faster for scoring."""
    entries = list(map(cache.get, lemmas))
    if None in entries:
        entries = [found or (word_entry(lemma, mask, cache) if lemma else None)
                   for lemma, found in zip(lemmas, entries)]
    present: set[int] = set().union(*[e[0] for e in entries if e is not None])
    # ``pair_bucket`` inlined (a call per word pair costs more than the mix); test_rules_model keeps them equal.
    present.update([((left[1] * _PAIR_MIX) ^ right[1]) & mask
                    for left, right in zip(entries, entries[1:]) if left is not None and right is not None])
    present.update(concept_bucket(concept, mask) for concept in concepts)
    return present


def feature_scale(present: int, min_buckets: int) -> float:
    """The value of each present bucket in a document of ``present`` buckets (training and scoring)."""
    return 1.0 / math.sqrt(max(present, min_buckets))


def encode_weights(weights: np.ndarray) -> str:
    """Weights as base64 of float16. Every weight must be finite there (|w| <= 65504): scoring adds a word's
    weights and takes back those an earlier word brought, exact for finite values only (inf - inf is NaN)."""
    full = np.asarray(weights, dtype=np.float64)
    if not (np.abs(full) <= np.finfo(np.float16).max).all():  # False for NaN too
        raise ValueError("a weight is not finite as float16 (NaN, or beyond ±65504)")
    return base64.b64encode(full.astype("<f2").tobytes()).decode("ascii")


def decode_weights(text: str, bits: int) -> np.ndarray:
    raw = base64.b64decode(text.encode("ascii"), validate=True)
    if len(raw) != 2 << bits:
        raise ValueError(f"weights hold {len(raw) // 2} buckets; 2**{bits} = {1 << bits} expected")
    half = np.frombuffer(raw, dtype="<f2")
    if not np.isfinite(half).all():
        raise ValueError(f"{np.count_nonzero(~np.isfinite(half))} weights are not finite (inf or NaN)")
    return half.astype(np.float32)


@dataclass(frozen=True)
class ModelScore:
    """The model's view of one document: a probability per pack theme index."""

    probabilities: dict[int, float]
    scale: float  # 1 / sqrt(max(number of buckets present, min_buckets))


class CompiledModel:
    """A ``TextModel`` ready to score. ``columns`` maps each modelled theme to its pack theme index."""

    def __init__(self, model: TextModel, theme_index: dict[str, int], use_native: bool = True):
        self.bits = model.bits
        self.mask = (1 << model.bits) - 1
        self.min_buckets = model.min_buckets
        self.uses_concepts = model.features == WITH_CONCEPTS
        modelled = [(theme_index[t], spec) for t, spec in model.themes.items() if t in theme_index]
        self.columns = [index for index, _ in modelled]
        # One row per theme: ``take`` of a document's buckets along a row is a contiguous gather.
        self.weights = np.stack([decode_weights(spec.weights, model.bits) for _, spec in modelled]) \
            if modelled else np.zeros((0, 1 << model.bits), dtype=np.float32)
        self.bias = np.array([spec.bias for _, spec in modelled], dtype=np.float64)
        self._bias = self.bias.tolist()
        self.thresholds = {index: spec.threshold for index, spec in modelled}
        self.with_terms = {index: spec.with_terms for index, spec in modelled if spec.with_terms is not None}
        # The lowest bar each theme can have (``bar`` is never below it): a probability under it needs no
        # look at the document's vetoes, cautions and terms.
        self.floors = {index: min(spec.threshold, self.with_terms.get(index, spec.threshold)) for index, spec in modelled}
        self.vetoed = {index: spec.vetoed for index, spec in modelled if spec.vetoed is not None}
        self.caution = {index: spec.caution for index, spec in modelled if spec.caution is not None}
        self._arrays: dict[str, tuple[np.ndarray, int]] = {}
        # For the C loop (``native.model_sums``): a bucket's weights side by side, one row per bucket,
        # and per lemma one bytes object (``entry``).
        self._native = native.model_sums if use_native and self.columns else None
        self._native_gains = native.model_gains if self._native else None
        self._by_bucket = np.ascontiguousarray(self.weights.T) if self._native else None
        self._entries: dict[str, bytes] = {}
        self._concept_buckets: dict[str, int] = {}
        self._sums: dict[str, list[float]] = {}  # per lemma: its own buckets' weights summed, per theme

    def present(self, lemmas: list[str], concepts=()) -> np.ndarray:
        """``document_features`` as a sorted array, built in numpy: each word's buckets are a cached
        array, the pairs one list, and a bitmap of the ``2**bits`` buckets takes out repeats (about
        half the time of the set union and of turning the set into an array). ``concepts`` (the
        pack's concepts the document hit) count only for a model trained with them."""
        arrays = self._arrays
        entries = list(map(arrays.get, lemmas))
        if None in entries:
            entries = [found or (self._array_entry(lemma) if lemma else None)
                       for lemma, found in zip(lemmas, entries)]
        words = [e[0] for e in entries if e is not None]
        mask = self.mask
        extra = [((left[1] * _PAIR_MIX) ^ right[1]) & mask
                 for left, right in zip(entries, entries[1:]) if left is not None and right is not None]
        if self.uses_concepts:
            extra += [concept_bucket(concept, mask) for concept in concepts]
        if not words and not extra:
            return np.zeros(0, dtype=np.intp)
        seen = np.zeros(mask + 1, dtype=bool)
        if words:
            seen[np.concatenate(words)] = True
        seen[extra] = True
        return np.flatnonzero(seen)

    def _array_entry(self, lemma: str) -> tuple[np.ndarray, int]:
        buckets, hashed = word_entry(lemma, self.mask, {})
        if len(self._arrays) > _WORD_CACHE_LIMIT:
            self._arrays.clear()
        found = self._arrays[lemma] = (np.fromiter(buckets, dtype=np.intp, count=len(buckets)), hashed)
        return found

    @property
    def native(self) -> bool:
        """Whether the C loops score this model (and ``entry`` serves them)."""
        return self._native is not None

    def entry(self, lemma: str) -> bytes | None:
        """A lemma's features as the C loops read them (None for an empty word; only with those loops):
        its 32-bit hash as uint32, the weights of its own buckets summed per theme as float64, then
        those buckets as uint16 (bits <= 16), in native byte order. The word scan keeps each word's
        entry beside its lemma (``words.WordInfos``), so scoring a document looks up nothing."""
        if not lemma:
            return None
        found = self._entries.get(lemma)
        if found is None:
            buckets, hashed = word_entry(lemma, self.mask, {})
            rows = np.fromiter(buckets, np.uint16, len(buckets))
            sums = self._by_bucket[rows].astype(np.float64).sum(axis=0)
            if len(self._entries) > _WORD_CACHE_LIMIT:
                self._entries.clear()
            found = self._entries[lemma] = np.uint32(hashed).tobytes() + sums.tobytes() + rows.tobytes()
        return found

    def concept_bucket(self, concept: str) -> int:
        found = self._concept_buckets.get(concept)
        if found is None:  # bounded by the pack's concepts
            found = self._concept_buckets[concept] = concept_bucket(concept, self.mask)
        return found

    def score(self, lemmas: list[str], concepts=()) -> ModelScore:
        """The model's view of a document of ``lemmas`` that hit ``concepts`` (names, ``@threat_verb``)."""
        if not self.columns:
            return ModelScore({}, 0.0)
        if self._native is not None:
            extra = [self.concept_bucket(c) for c in concepts] if self.uses_concepts else []
            return self.score_entries(list(map(self.entry, lemmas)), extra)
        buckets = self.present(lemmas, concepts)
        return self._score(len(buckets), self.weights.take(buckets, axis=1).sum(axis=1, dtype=np.float64).tolist())

    def score_entries(self, entries: list[bytes | None], buckets: list[int]) -> ModelScore:
        """``score`` from each word's ``entry`` and the buckets of the concepts hit (``concept_bucket``
        of each, where the model reads concepts): the C loops' own path, which the engine takes."""
        return self._score(*self._native(entries, buckets, self._by_bucket, self.mask))

    def _score(self, count: int, sums: list[float]) -> ModelScore:
        if not count:
            return ModelScore({}, 0.0)
        scale = feature_scale(count, self.min_buckets)
        probabilities = {index: 1.0 / (1.0 + math.exp(-(total * scale + bias)))
                         for index, total, bias in zip(self.columns, sums, self._bias)}
        return ModelScore(probabilities, scale)

    def bar(self, theme: int, vetoed: bool = False, partial: bool = False, cautioned: bool = False) -> float:
        """The probability the model needs to assign ``theme`` (above 1: it has no model for it);
        ``vetoed``: an exclusion of the pack vetoed one of the theme's terms in the document, and the
        model needs the theme's ``vetoed`` bar where training gave one, else ``VETOED_THRESHOLD``, at
        least; ``cautioned``: one of the theme's caution contexts matched, and the model needs its
        ``caution`` bar (else ``VETOED_THRESHOLD``) at least (the higher of the two where both hold);
        else ``partial``: the terms found part of the theme, and the model's ``with_terms`` bar is
        enough where training gave one."""
        threshold = self.thresholds.get(theme, 2.0)
        if vetoed or cautioned:
            return max(threshold, self.vetoed.get(theme, VETOED_THRESHOLD) if vetoed else 0.0,
                       self.caution.get(theme, VETOED_THRESHOLD) if cautioned else 0.0)
        lower = self.with_terms.get(theme) if partial else None
        return threshold if lower is None else min(threshold, lower)

    def evidence(self, lemmas: list[str], result: ModelScore, theme: int, top: int = 3,
                 entries: list[bytes | None] | None = None) -> list[tuple[int, float]]:
        """The ``top`` words (indexes into ``lemmas``) whose buckets (``word_buckets``: its own, and the
        pair it ends) added most to ``theme``'s score, best first; ``entries``: ``entry`` of each lemma,
        where the caller has them (the word scan does)."""
        row = self.columns.index(theme)
        if self._native_gains is not None:
            if entries is None:
                entries = list(map(self.entry, lemmas))
            gains = self._native_gains(entries, self._by_bucket, self.mask, row)
        else:
            gains = self._gains(lemmas, row)
        # The largest gains, ties to the later word (a stable sort of the indexes from the last one down); only
        # the words that gained are sorted (an empty word gains 0.0 and is left out). The scale is positive, so
        # the gains rank as their scaled values do, and only the words kept are scaled. heapq.nlargest over
        # (gain, index) pairs chose the same at twice the cost: tuple comparisons.
        gained = [i for i in range(len(gains) - 1, -1, -1) if gains[i] > 0]
        best = sorted(gained, key=gains.__getitem__, reverse=True)[:top]
        scale = result.scale
        return [(i, gains[i] * scale) for i in best if gains[i] * scale > 0]

    def _gains(self, lemmas: list[str], row: int) -> list[float]:
        """What each word adds to theme ``row``'s sum: its own buckets' weights and its pair's."""
        column = self.weights[row]
        sums = self._sums
        gains, pairs, owners = [], [], []
        previous = None
        for i, lemma in enumerate(lemmas):
            if not lemma:
                gains.append(0.0)
                previous = None
                continue
            array, hashed = self._arrays.get(lemma) or self._array_entry(lemma)
            own = sums.get(lemma)
            if own is None:  # the weights of the word's own buckets, per theme: cached per lemma
                if len(sums) > _WORD_CACHE_LIMIT:
                    sums.clear()
                own = sums[lemma] = self.weights[:, array].astype(np.float64).sum(axis=1).tolist()
            gains.append(own[row])
            if previous is not None:
                pairs.append(pair_bucket(previous, hashed, self.mask))
                owners.append(i)
            previous = hashed
        for i, weight in zip(owners, column[pairs].tolist()):  # one gather for every pair
            gains[i] += weight
        return gains
