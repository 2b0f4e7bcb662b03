"""``CompiledRules``: classify one document with one pass over its words plus work proportional to the hits.

Steps per document: normalise (offset map kept), look up each word once (``words``), then from the phrase hits
derive term matches (NEAR pairs, NOT/exclusion vetoes), theme scores, entity mentions, and the
triggers whose atoms appeared. Offsets are mapped back to the original document at the end, so
``document[m.start:m.end] == m.text`` for every match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from operator import itemgetter

from pydantic import TypeAdapter

from schemas.base import SEVERITY_ORDER
from schemas.classified import EntityHit, Match, ThemeHit, TriggerHit
from schemas.item import document_of
from schemas.rules import RulePack
from streams.rules import native
from streams.rules.built import built_as_validated
from streams.rules.explain import explain
from streams.rules.lemmas import cyrillic_lang, lemma_words
from streams.rules.model import ModelScore
from streams.rules.normalize import NormalizedText, normalize
from streams.rules.words import WordInfos, word_hits

Span = tuple[int, int]
WORD_CACHE = 200_000

# A match from a dict through the model's validator: no keyword-argument __init__ and no
# model_validate wrapper (1.2 µs a match against 1.8; ~10 matches a passage).
_new_match = Match.__pydantic_validator__.validate_python
# Without the C loops, a document's theme, entity and trigger hits are validated as one list each (one call, not one
# per hit).
_HIT_LISTS = {cls: TypeAdapter(list[cls]).validator.validate_python for cls in (ThemeHit, EntityHit, TriggerHit)}
# Each hit's field that holds its matches.
_HIT_MATCHES = {ThemeHit: "matches", EntityHit: "mentions", TriggerHit: "keywords"}
# Where the C loops are built, the hits are set up from the dicts the engine built without validating them again
# (``built``).
_BUILT = all(map(built_as_validated, (Match, *_HIT_MATCHES)))
_FIELDS = {cls: frozenset(cls.model_fields) for cls in (Match, *_HIT_MATCHES)}


def hit_models(cls: type, hits: list[dict]) -> list:
    """``cls`` hits (``ThemeHit``, ``EntityHit`` or ``TriggerHit``) from fresh dicts holding every field, their
    matches as ``Match`` dicts: built by ``native.models`` where it can, else validated."""
    if native.models is None or not _BUILT:
        return _HIT_LISTS[cls](hits)
    return native.models(cls, _FIELDS[cls], hits, (_HIT_MATCHES[cls], Match, _FIELDS[Match]))


_by_offsets = itemgetter("start", "end")


def _match_fields(norm: NormalizedText, span: Span, term: str | None) -> dict:
    """A ``Match`` as the dict its validator takes: ``span`` (normalised offsets) in the original."""
    start, end = norm.span(*span)
    return {"text": norm.original[start:end], "start": start, "end": end, "term": term}


def match_fields(norm: NormalizedText, spans: list[Span], term: str | None) -> list[dict]:
    """``_match_fields`` of each span (twin of ``native.match_fields``, which the results use when built)."""
    return [_match_fields(norm, span, term) for span in spans]


def theme_fields(norm: NormalizedText, term_matches: dict[int, list[list[Span]]], passed: set[int],
                 terms: tuple[tuple[int, str], ...], evidence: dict[int, list[Span]]) -> dict[int, list[dict]]:
    """Per passed theme the ``Match`` dicts of its hit, by original offsets: each matched term's distinct
    spans (terms in pack order, ``terms[t]`` = (theme, source)), then ``evidence[theme]`` as "model"
    (twin of ``native.theme_fields``)."""
    matches: dict[int, list[dict]] = {i: [] for i in passed}
    for ti in sorted(term_matches):
        theme, source = terms[ti]
        if theme in passed:
            spans = sorted({span for parts in term_matches[ti] for span in parts})
            matches[theme].extend(match_fields(norm, spans, source))
    for theme, spans in evidence.items():
        matches[theme].extend(match_fields(norm, spans, "model"))
    return {theme: sorted(ms, key=_by_offsets) for theme, ms in matches.items()}


def entity_fields(norm: NormalizedText, mentions: dict[int, list[Span]], entities: tuple) -> list[dict]:
    """The ``EntityHit`` dicts of ``mentions``, by first span, then entity; ``entities[e]``: (id, name, type)
    (twin of ``native.entity_fields``)."""
    return [{"id": entity_id, "name": name, "type": kind, "mentions": match_fields(norm, spans, None)}
            for e, spans in sorted(mentions.items(), key=lambda item: (item[1][0], item[0]))
            for entity_id, name, kind in (entities[e],)]


def _fields(norm: NormalizedText, spans: list[Span], term: str | None) -> list[dict]:
    return (native.match_fields or match_fields)(norm, spans, term)


@dataclass
class Classification:
    """What one document matched. Offsets in every ``Match`` index ``document``."""

    themes: list[ThemeHit]
    entities: list[EntityHit]
    triggers: list[TriggerHit]
    version: str
    document: str


@dataclass
class Analysis:
    """The intermediate results ``classify`` and ``explain`` share (normalised offsets)."""

    norm: NormalizedText
    hits: dict[int, list[Span]]
    term_matches: dict[int, list[list[Span]]] = field(default_factory=dict)
    term_vetoed: dict[int, list[list[Span]]] = field(default_factory=dict)
    term_redundant: set[int] = field(default_factory=set)
    cautioned: dict[int, str] = field(default_factory=dict)  # theme → a caution context of it that matched
    # theme → the silence context that kept the model from assigning it alone (looked up only then)
    silenced: dict[int, str] = field(default_factory=dict)
    scores: dict[int, float] = field(default_factory=dict)
    mentions: dict[int, list[Span]] = field(default_factory=dict)
    hidden: dict[int, list[tuple[Span, int]]] = field(default_factory=dict)  # entity → (span, the entity hiding it)
    # The trigger atoms present; left empty where the triggers were skipped (no theme passed and every trigger needs
    # one): ``CompiledRules.atoms_present`` works them out either way.
    present: set = field(default_factory=set)
    fired: list[int] = field(default_factory=list)
    lemmas: list[str] | None = None  # one per normalised word, when worked out
    entries: list | None = None  # the model's ``entry`` of each lemma, when the word scan had them
    model: ModelScore | None = None  # the pack's learned model's view, when the pack has one
    passed: set[int] = field(default_factory=set)  # themes assigned, by their terms or by the model

    word_indexes: dict[int, int] = field(default_factory=dict)

    def word_index(self, pos: int) -> int:
        """The index of the normalised word at ``pos`` (of the word before, on the space after it)."""
        # Words are separated by exactly one space; NEAR asks for the same positions again and again,
        # so each is counted once.
        found = self.word_indexes.get(pos)
        if found is None:
            found = self.word_indexes[pos] = self.norm.text.count(" ", 0, pos)
        return found


class CompiledRules:
    """A rule pack ready to match. Immutable and safe to share; ``version`` is the content hash.

    ``classify(text, title=None, lang=None)`` returns a ``Classification``; themes are listed only
    when their threshold is met. Matching is language-independent (terms of every language apply to
    every document, since channels mix languages); ``lang`` is accepted for the callers' records.
    """

    def __init__(self, pack: RulePack, tables):
        self.pack = pack
        self.version = pack.version
        self.tables = tables
        # What each word seen starts (``words.WordInfos``), per Cyrillic language: a word's lemma depends
        # on it. Each is dropped and begun again past WORD_CACHE words.
        self._word_infos: dict[str | None, WordInfos] = {}

    # --- matching -------------------------------------------------------------------------------

    def _scan(self, a: Analysis, lang: str | None) -> None:
        """The phrase hits of the document's words as written and by lemma, and its lemmas."""
        keys = self.tables.words
        if keys is None:  # a pack of triggers only
            return
        text = a.norm.text
        cyrillic = cyrillic_lang(text, lang)
        infos = self._word_infos.get(cyrillic)
        if infos is None or len(infos) > WORD_CACHE:
            model = self.tables.model
            entry = model.entry if model is not None and model.native else None
            infos = self._word_infos[cyrillic] = WordInfos(keys, cyrillic, entry)
        a.hits, a.lemmas, entries = (native.word_hits or word_hits)(text.split(" "), infos)
        if infos.entry is not None:
            a.entries = entries

    @staticmethod
    def _chain(pattern: tuple, a: Analysis) -> list[Span]:
        """Spans of a phrase or of a chain of pieces, each piece starting on the word after the last."""
        if pattern[0] == "p":
            return a.hits.get(pattern[1], [])
        pids = pattern[1]
        spans = a.hits.get(pids[0], [])
        for pid in pids[1:]:
            if not spans:
                break
            # Words are one space apart in the normalised text, so the next piece starts at end + 1.
            following = {start: end for start, end in a.hits.get(pid, ())}
            spans = [(s, following[e + 1]) for s, e in spans if e + 1 in following]
        return spans

    def _spans(self, pattern: tuple, a: Analysis, cache: dict) -> list[list[Span]]:
        """Matches of a compiled pattern, each a list of parts (two parts for NEAR)."""
        found = cache.get(pattern)
        if found is not None:
            return found
        if pattern[0] == "x":  # an exclusion with NOT contexts of its own: not where one of them meets it
            _, inner, nots = pattern
            spared = [_extent(other) for n in nots for other in self._spans(n, a, cache)]
            found = [parts for parts in self._spans(inner, a, cache) if not _meets_any(parts, spared)]
        elif pattern[0] != "n":
            found = [[s] for s in self._chain(pattern, a)]
        else:
            _, left, right, distance = pattern
            found = []
            right_spans = self._chain(right, a)
            for ls in self._chain(left, a) if right_spans else ():
                for rs in right_spans:
                    if ls[1] <= rs[0]:
                        gap = a.word_index(rs[0]) - a.word_index(ls[1] - 1)
                    elif rs[1] <= ls[0]:
                        gap = a.word_index(ls[0]) - a.word_index(rs[1] - 1)
                    else:
                        continue
                    if gap - 1 <= distance:  # NEAR/n: at most n words in between
                        found.append([ls, rs])
        cache[pattern] = found
        return found

    @staticmethod
    def _possible(contexts: dict, a: Analysis, cache: dict) -> list:
        # Only contexts whose first phrases were all hit can match; which those are is worked out
        # once per document and context index (terms of a theme share their theme's excludes).
        key = ("possible", id(contexts))
        possible = cache.get(key)
        if possible is None:
            hits = a.hits
            # In the contexts' own order: the first caution met is the one ``explain`` names.
            possible = cache[key] = [c for pid, filed in contexts.items() if pid in hits for c in filed
                                     if all(p in hits for p in needed_phrases(c))]
        return possible

    def _first_met(self, contexts: dict, a: Analysis, cache: dict):
        """The first of ``contexts`` (filed as ``_possible`` reads them) that matches the document, or None."""
        if not contexts:
            return None
        return next((c for c in self._possible(contexts, a, cache) if self._spans(c, a, cache)), None)

    def _vetoed(self, parts: list[Span], contexts: dict, a: Analysis, cache: dict) -> bool:
        """Whether a match meets a match of one of ``contexts`` (``_meets_any``)."""
        key = ("extents", id(contexts))
        extents = cache.get(key)
        if extents is None:  # every match of every context this document can match, once per document
            extents = cache[key] = [_extent(other) for context in self._possible(contexts, a, cache)
                                    for other in self._spans(context, a, cache)]
        return bool(extents) and _meets_any(parts, extents)

    def _concepts(self, a: Analysis) -> None:
        """Hits of every '@concept' phrase: the union of its members' matches, sorted. The word scan
        hit a concept with each of its one-phrase members; members of several pieces are filed under
        their first phrase, so only those whose first phrase was hit are tried."""
        t, hits = self.tables, a.hits
        by_phrase, concepts = t.concept_members, t.concept_ids
        extended = set()
        for pid in [pid for pid in hits if pid in by_phrase]:
            for concept, member in by_phrase[pid]:
                spans = self._chain(member, a)
                if spans:
                    hits.setdefault(concept, []).extend(spans)
                    extended.add(concept)
        for pid, spans in hits.items():
            if pid in concepts:
                if pid in extended:
                    spans[:] = set(spans)  # a chain's span may be a one-phrase member's too
                spans.sort()

    def _themes(self, a: Analysis) -> None:
        t = self.tables
        cache: dict = {}
        # Each term is filed under its first phrase only, so no term is reached twice.
        hits = a.hits
        for pid, spans in hits.items():
            for ti in t.terms_by_phrase.get(pid, ()):
                term = t.terms[ti]
                if term.pattern[0] == "p":
                    found = [[span] for span in spans]
                elif term.partner >= 0 and term.partner not in hits:
                    continue
                else:
                    found = self._spans(term.pattern, a, cache)
                    if not found:
                        continue
                if term.contexts:
                    kept, vetoed = [], []
                    for parts in found:
                        (vetoed if self._vetoed(parts, term.contexts, a, cache) else kept).append(parts)
                    if vetoed:
                        a.term_vetoed[ti] = vetoed
                    if not kept:
                        continue
                    found = kept
                a.term_matches[ti] = found
        for theme, contexts in enumerate(t.cautions):
            met = self._first_met(contexts, a, cache)
            if met is not None:
                a.cautioned[theme] = t.caution_sources[theme][met]
        self._score(a)

    def _score(self, a: Analysis) -> None:
        """Each matched term adds its weight once. A term that matched exactly the words another
        term of its theme already counted adds nothing, so one word that two terms match (the term
        ``sanctioned``, and the lemma of the term ``sanctions``) counts once; a term that adds
        context (``sanction`` near ``EU``) still adds its weight."""
        t = self.tables
        counted: dict[int, set[frozenset[Span]]] = {}
        for ti in sorted(a.term_matches, key=lambda i: (-t.terms[i].weight, i)):
            term = t.terms[ti]
            spans = frozenset(span for parts in a.term_matches[ti] for span in parts)
            seen = counted.setdefault(term.theme, set())
            if term.weight > 0 and spans in seen:
                a.term_redundant.add(ti)
                continue
            seen.add(spans)
            a.scores[term.theme] = a.scores.get(term.theme, 0.0) + term.weight

    def _entities(self, a: Analysis) -> None:
        by_phrase = self.tables.entities_by_phrase
        for pid, spans in a.hits.items():
            for e, pattern, case in by_phrase.get(pid, ()):
                found = spans if pattern[0] == "p" else self._chain(pattern, a)
                if case is not None:
                    found = [s for s in found if a.norm.original[slice(*a.norm.span(*s))] == case]
                if found:
                    a.mentions.setdefault(e, []).extend(found)
        for e, spans in a.mentions.items():
            if len(spans) > 1:
                a.mentions[e] = _outermost(spans)

    def _hide(self, a: Analysis) -> None:
        """Drop the mentions that lie inside a longer mention of an entity hiding them (``EntityDef.hides``): "Un"
        in "Kim Jong Un" is part of his name, no mention of the UN. Judged against the mentions as found, so
        the order of the entities does not matter; what was dropped is kept in ``a.hidden`` for ``explain``."""
        mentions = a.mentions
        dropped: dict[int, list[tuple[Span, int]]] = {}
        for outer, hidden in self.tables.entity_hides.items():
            for o_start, o_end in mentions.get(outer, ()):
                for h in hidden:
                    for span in mentions.get(h, ()):
                        if o_start <= span[0] and span[1] <= o_end and span != (o_start, o_end):
                            dropped.setdefault(h, []).append((span, outer))
        for h, spans in dropped.items():
            gone = {span for span, _ in spans}
            kept = [span for span in mentions[h] if span not in gone]
            if kept:
                mentions[h] = kept
            else:
                del mentions[h]
            a.hidden[h] = spans

    def _triggers(self, a: Analysis) -> None:
        t = self.tables
        if not t.triggers:
            return
        if self._triggers_skipped(a):
            return
        candidates = self._present(a)
        present = a.present
        a.fired = sorted(i for i in candidates if t.triggers[i][1].test(present))

    def _present(self, a: Analysis) -> set[int]:
        """Fill ``a.present`` with the atoms present in the analysed document (the passed themes', the entities' and
        the keywords' some trigger reads), and return the triggers that can fire: those reading an atom present (theme,
        entity and keyword atoms each carry their triggers, worked out once per pack), and those a NOT-only condition
        fires anyway."""
        t = self.tables
        present = a.present
        candidates = set(t.always_candidates)
        for theme_index in a.passed:
            present.add(t.theme_atoms[theme_index])
            candidates.update(t.theme_triggers[theme_index])
        entity_atoms = t.entity_atoms
        for e in a.mentions:
            if entity_atoms[e]:  # only the atoms some trigger reads
                present.update(entity_atoms[e])
                candidates.update(t.entity_triggers[e])
        for pid in t.keyword_atoms.keys() & a.hits.keys():  # a handful of keyword phrases: the smaller side
            for atom, pattern in t.keyword_atoms[pid]:
                if self._chain(pattern, a):
                    present.add(atom)
                    candidates.update(t.triggers_by_atom[atom])
        return candidates

    def _triggers_skipped(self, a: Analysis) -> bool:
        """Whether ``analyse`` skips the triggers: most documents pass no theme, and no trigger can fire without one
        where every trigger needs one."""
        t = self.tables
        return bool(t.triggers) and not a.passed and t.triggers_need_theme

    def atoms_present(self, a: Analysis) -> set:
        """The trigger atoms present in the analysed document (``explain`` shows them), worked out now where
        ``analyse`` skipped them."""
        if self._triggers_skipped(a):
            self._present(a)
        return a.present

    def analyse(self, document: str, lang: str | None = None) -> Analysis:
        a = Analysis(normalize(document), {})
        self._scan(a, lang)
        t = self.tables
        if t.theme_plan is not None:  # the C loops (``native.analyse``), twin of the three steps below
            plan, patterns = t.theme_plan
            met = native.analyse(plan, a.hits, a.norm, a.term_matches, a.term_vetoed, a.term_redundant, a.scores,
                                 a.mentions)
            for theme, pattern in met.items():
                a.cautioned[theme] = t.caution_sources[theme][patterns[pattern]]
        else:
            if t.concept_ids:
                self._concepts(a)
            if a.hits:
                self._themes(a)
                self._entities(a)
        if t.entity_hides and len(a.mentions) > 1:
            self._hide(a)
        a.passed = {i for i, score in a.scores.items() if score >= t.themes[i].threshold}
        if t.model is not None:
            if a.entries is not None:  # the word scan's model entries, and the concepts hit as buckets
                buckets = t.concept_buckets  # (a set of buckets: their order does not change the sums)
                a.model = t.model.score_entries(a.entries, [buckets[pid] for pid in a.hits if pid in buckets])
            else:
                a.model = t.model.score(self.lemmas(a, lang), self.concepts_hit(a))
            # An exclusion the pack's author wrote ("народне голосування" near "конкурс") raises the bar
            # for the model's guess on its theme rather than silencing it (``model_bar``).
            floors = t.model.floors
            alone = [i for i, p in a.model.probabilities.items()
                     if i not in a.passed and p >= floors[i] and p >= self.model_bar(a, i)]
            a.passed.update(i for i in alone if not self.silence_matches(a, i))
        self._triggers(a)
        return a

    def silence_matches(self, a: Analysis, theme: int) -> bool:
        """Whether one of the theme's silence contexts matches the analysed document (recorded in ``a.silenced``),
        so the model alone may not assign the theme there. The steps after the word scan, in C or in Python,
        left the concepts' hits in ``a.hits``, which the contexts read."""
        t = self.tables
        met = self._first_met(t.silences[theme], a, {})
        if met is None:
            return False
        a.silenced[theme] = t.silence_sources[theme][met]
        return True

    @staticmethod
    def lemmas(a: Analysis, lang: str | None) -> list[str]:
        """The analysed document's lemmas, one per normalised word (worked out now when the analysis
        did not need them; ``lang`` as given to ``analyse``)."""
        if a.lemmas is None:
            a.lemmas = lemma_words(a.norm.text.split(" "), lang, a.norm.text)
        return a.lemmas

    def concepts_hit(self, a: Analysis) -> list[str]:
        """The pack's concepts (``@id``) the analysed document hit and the model reads (``model_feature``),
        in no particular order."""
        names = self.tables.concept_names
        return [names[pid] for pid in names.keys() & a.hits.keys()]

    def model_probability(self, a: Analysis, theme_index: int) -> float | None:
        """The learned model's probability for a theme, or None when the pack has no model for it."""
        return a.model.probabilities.get(theme_index) if a.model is not None else None

    def model_bar(self, a: Analysis, theme_index: int) -> float:
        """The probability the model needs to assign the theme in this document (``CompiledModel.bar``):
        the theme's trained ``vetoed`` bar (0.80 where training chose none) at least where an exclusion
        the pack's author wrote vetoed one of the theme's terms; its ``caution`` bar (0.80 likewise) at
        least where one of its caution contexts matched, the higher of the two where both hold; where
        neither holds, the model's lower ``with_terms`` bar if the terms reached half the theme's
        threshold."""
        return self.tables.model.bar(theme_index, *self.model_bar_why(a, theme_index))

    def model_bar_why(self, a: Analysis, theme_index: int) -> tuple[bool, bool, bool]:
        """(vetoed, partial, cautioned) for ``CompiledModel.bar``: whether an exclusion vetoed a term of the
        theme here, whether its terms reached half its threshold, and whether a caution context of the
        theme matched."""
        t = self.tables
        vetoed = any(t.terms[ti].theme == theme_index for ti in a.term_vetoed)
        partial = 2 * a.scores.get(theme_index, 0.0) >= t.themes[theme_index].threshold
        return vetoed, partial, theme_index in a.cautioned

    def model_evidence(self, a: Analysis, theme_index: int) -> list[Span]:
        """Spans (normalised offsets) of the words that counted most for the model's verdict."""
        if a.model is None or theme_index not in a.model.probabilities:
            return []
        words = a.norm.text.split(" ")
        spans = []
        for i, _ in self.tables.model.evidence(a.lemmas, a.model, theme_index, entries=a.entries):
            start = sum(map(len, words[:i])) + i  # words are one space apart
            spans.append((start, start + len(words[i])))
        return sorted(spans)

    def theme_index(self, theme_id: str) -> int:
        return next(i for i, rule in enumerate(self.tables.themes) if rule.id == theme_id)

    def theme_threshold(self, theme_id: str) -> float:
        return self.tables.themes[self.theme_index(theme_id)].threshold

    def partial_theme(self, a: Analysis, theme_id: str) -> tuple[float, list[str]]:
        """A theme's score in an analysed document and the words that counted, whether or not it passed."""
        t = self.tables
        index = self.theme_index(theme_id)
        words = sorted({a.norm.original[slice(*a.norm.span(*span))]
                        for ti, found in a.term_matches.items() if t.terms[ti].theme == index
                        for parts in found for span in parts})
        return a.scores.get(index, 0.0), words

    # --- results --------------------------------------------------------------------------------

    def match(self, a: Analysis, span: Span, term: str | None) -> Match:
        return _new_match(_match_fields(a.norm, span, term))

    def classify(self, text: str, title: str | None = None, lang: str | None = None) -> Classification:
        return self.classification(self.analyse(document_of(text, title), lang))

    def classification(self, a: Analysis) -> Classification:
        """The ``classify`` result of an analysed document."""
        return Classification(self._theme_hits(a), self._entity_hits(a), self._trigger_hits(a),
                              self.version, a.norm.original)

    # Each hit is validated from plain dicts in one call, its matches with it (a call per match
    # and per hit cost ~1 µs more each, ~10 matches a passage).

    def _theme_hits(self, a: Analysis) -> list[ThemeHit]:
        if not a.passed:  # most documents: nothing to build
            return []
        t = self.tables
        # The model's verdict (a theme its terms did not carry): show the words that counted for it.
        evidence = {i: self.model_evidence(a, i) for i in a.passed if a.scores.get(i, 0.0) < t.themes[i].threshold}
        matches = (native.theme_fields or theme_fields)(a.norm, a.term_matches, a.passed, t.term_fields, evidence)
        hits = []
        for i, ms in matches.items():
            probability = self.model_probability(a, i)
            hits.append({"theme": t.themes[i].id, "score": round(a.scores.get(i, 0.0), 6), "matches": ms,
                         "model": None if probability is None else round(probability, 4)})
        return sorted(hit_models(ThemeHit, hits), key=lambda h: (-h.score, h.theme))

    def _entity_hits(self, a: Analysis) -> list[EntityHit]:
        if not a.mentions:
            return []
        return hit_models(EntityHit, (native.entity_fields or entity_fields)(a.norm, a.mentions, self.tables.entity_fields))

    def _trigger_hits(self, a: Analysis) -> list[TriggerHit]:
        if not a.fired:
            return []
        t = self.tables
        hits = []
        for i in a.fired:
            trigger = t.triggers[i][0]
            keywords = sorted({span for pattern in t.trigger_keywords[i] for span in self._chain(pattern, a)})
            hits.append({"id": trigger.id, "severity": trigger.severity, "description": trigger.description,
                         "keywords": _fields(a.norm, keywords, None)})
        return sorted(hit_models(TriggerHit, hits), key=lambda h: -SEVERITY_ORDER[h.severity])

    def explain(self, text: str, title: str | None = None, lang: str | None = None):
        """An ``Explanation`` of what matched and what was missing for every theme and trigger;
        ``lang`` as in ``classify`` (the item's declared language), so both see the same lemmas."""
        return explain(self, document_of(text, title), lang)


def _outermost(spans: list[Span]) -> list[Span]:
    """Sorted distinct spans without those inside another (a variant inside a longer variant)."""
    out: list[Span] = []
    for span in sorted(set(spans), key=lambda s: (s[0], -s[1])):
        if out and span[1] <= out[-1][1]:
            continue
        out.append(span)
    return out


def _extent(parts: list[Span]) -> Span:
    """A match taken from its first word to its last (a NEAR's gap included)."""
    if len(parts) == 1:
        return parts[0]
    return min(p[0] for p in parts), max(p[1] for p in parts)


def _meets_any(parts: list[Span], extents: list[Span]) -> bool:
    """Whether a match's extent overlaps any of ``extents`` (other matches' ``_extent``)."""
    lo, hi = _extent(parts)
    return any(other_lo < hi and lo < other_hi for other_lo, other_hi in extents)


@cache
def needed_phrases(pattern: tuple) -> tuple[int, ...]:
    """Phrase ids that must all be hit for ``pattern`` to match (the first piece of each side)."""
    if pattern[0] == "x":
        return needed_phrases(pattern[1])
    if pattern[0] == "n":
        return needed_phrases(pattern[1]) + needed_phrases(pattern[2])
    return (pattern[1] if pattern[0] == "p" else pattern[1][0],)
