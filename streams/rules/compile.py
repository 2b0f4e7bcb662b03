"""Compile a ``RulePack`` into the tables ``CompiledRules`` matches with: every phrase of the pack
(theme terms, their contexts, entity variants, trigger keywords) keyed by its first word
(``words.WordKeys``), and indexes from each phrase to the rules that read it, so the work per document
after the word scan grows with what matched, not with the size of the pack.

Why words rather than an automaton over characters: phrases are matched on word boundaries both as
written and by lemma, and a document's words repeat across documents, so what each distinct word can
start (its lemma, the phrases it is or begins) is worked out once and the per-document pass is one
dict lookup per word. Two Aho-Corasick automata (pyahocorasick), one over the text and one over its
lemmas, did the same with ~70 µs a passage against ~15 (docs/benchmarks.md, round twenty-one).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations

from schemas.rules import ConceptDef, EntityDef, RulePack, ThemeRule, TriggerRule
from streams.rules import native
from streams.rules.engine import CompiledRules, needed_phrases
from streams.rules.expr import (
    Chain,
    Condition,
    Near,
    Phrase,
    concept_phrases,
    is_concept,
    parse_condition,
    parse_phrase,
    parse_term,
)
from streams.rules.lemmas import phrase_lemmas
from streams.rules.loader import RulePackError, check_pack, field_name, pack_version
from streams.rules.model import CompiledModel
from streams.rules.words import WordKeys

# A compiled pattern: ("p", phrase_id), ("s", (phrase_id, ...)) for a chain of pieces matched word
# after word, or ("n", left, right, distance) with "p"/"s" operands.
CPattern = tuple


@dataclass(frozen=True, slots=True)
class CTerm:
    """A theme term with its phrases resolved to ids; ``primary`` is the phrase that wakes it up."""

    theme: int
    weight: float
    source: str
    pattern: CPattern
    # Its own NOT contexts and its theme's exclusions, filed under their first phrase: a document
    # can only match those whose first phrase it hit, usually none of a theme's dozens.
    contexts: dict[int, tuple[CPattern, ...]]
    primary: int
    # A NEAR term's right-hand first phrase, which must be hit too (-1 for other terms): most NEAR terms
    # woken by their first phrase have no partner in the document, and this says so without matching.
    partner: int = -1


@dataclass
class Tables:
    """Everything ``CompiledRules`` reads while classifying; built once per pack."""

    words: WordKeys | None = None  # None for a pack with no phrases (triggers on themes and entities only)
    # Concepts' members of more than one piece, filed under their first phrase (one-phrase members are
    # filed beside their phrase in ``words``, so the word scan hits the concept with them).
    concept_members: dict[int, list[tuple[int, CPattern]]] = field(default_factory=lambda: defaultdict(list))
    concept_ids: frozenset[int] = frozenset()
    concept_names: dict[int, str] = field(default_factory=dict)  # phrase id → '@id' of the model's concepts
    phrases: list[Phrase] = field(default_factory=list)
    phrase_ids: dict[Phrase, int] = field(default_factory=dict)
    themes: list[ThemeRule] = field(default_factory=list)
    terms: list[CTerm] = field(default_factory=list)
    term_fields: tuple[tuple[int, str], ...] = ()  # (theme, source) of each term, for its matches shown
    terms_by_phrase: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    excludes: list[tuple[CPattern, ...]] = field(default_factory=list)
    # Per theme, its caution contexts (``ThemeRule.caution``) filed under their first phrase, and the
    # text each was written as.
    cautions: list[dict[int, tuple[CPattern, ...]]] = field(default_factory=list)
    caution_sources: list[dict[CPattern, str]] = field(default_factory=list)
    # Per theme, its silence contexts (``ThemeRule.silence``) likewise. Only a theme the model alone would
    # assign looks them up, in Python, on the hits the steps after the word scan left.
    silences: list[dict[int, tuple[CPattern, ...]]] = field(default_factory=list)
    silence_sources: list[dict[CPattern, str]] = field(default_factory=list)
    entities: list[EntityDef] = field(default_factory=list)
    entity_fields: tuple[tuple[str, str, str], ...] = ()  # (id, name, type) of each entity, for its hits
    # (entity, pattern, the exact spelling a case-sensitive variant requires, or None)
    entities_by_phrase: dict[int, list[tuple[int, CPattern, str | None]]] = field(
        default_factory=lambda: defaultdict(list))
    # Entity → the entities whose mentions inside one of its own are part of its name (``EntityDef.hides``).
    entity_hides: dict[int, tuple[int, ...]] = field(default_factory=dict)
    triggers: list[tuple[TriggerRule, Condition]] = field(default_factory=list)
    triggers_by_atom: dict[tuple, list[int]] = field(default_factory=lambda: defaultdict(list))
    always_candidates: list[int] = field(default_factory=list)
    # Whether no trigger can fire in a document without a theme (each condition is false whatever else is present
    # when no theme atom is), so a document that passes no theme skips the triggers (``CompiledRules._triggers``).
    triggers_need_theme: bool = False
    theme_atoms: list[tuple] = field(default_factory=list)
    entity_atoms: list[tuple] = field(default_factory=list)  # per entity, its atoms some trigger reads
    # The triggers each theme's atom, and each entity's atoms, can bring to fire.
    theme_triggers: list[frozenset[int]] = field(default_factory=list)
    entity_triggers: list[frozenset[int]] = field(default_factory=list)
    keyword_atoms: dict[int, list[tuple[tuple, CPattern]]] = field(default_factory=lambda: defaultdict(list))
    keyword_patterns: dict[tuple, CPattern] = field(default_factory=dict)
    # Per trigger, the patterns of its keyword atoms, whose matches a hit of it shows (looked up once here:
    # hashing an atom hashes its phrases, in Python).
    trigger_keywords: list[tuple[CPattern, ...]] = field(default_factory=list)
    model: CompiledModel | None = None
    # Phrase id → the model's bucket of each concept it reads (``concept_names``; empty for a model
    # trained without concepts), so scoring a document turns the concepts it hit into buckets at once.
    concept_buckets: dict[int, int] = field(default_factory=dict)
    # The steps after the word scan (concepts, terms, entities) flattened for the C loops
    # (``native_theme_plan``): (plan, the patterns by their index in it), or None where they are absent.
    theme_plan: tuple[object, list[CPattern]] | None = None

    def phrase_id(self, phrase: Phrase) -> int:
        pid = self.phrase_ids.get(phrase)
        if pid is None:
            pid = self.phrase_ids[phrase] = len(self.phrases)
            self.phrases.append(phrase)
        return pid

    def chain(self, chain: Chain) -> CPattern:
        if len(chain) == 1:
            return ("p", self.phrase_id(chain[0]))
        return ("s", tuple(self.phrase_id(piece) for piece in chain))

    def pattern(self, pattern: Chain | Near) -> CPattern:
        if isinstance(pattern, Near):
            return ("n", self.chain(pattern.left), self.chain(pattern.right), pattern.distance)
        return self.chain(pattern)


def first_phrase(pattern: CPattern) -> int:
    """The phrase id that must be hit for ``pattern`` to match at all (its first piece)."""
    if pattern[0] in ("n", "x"):  # a NEAR's left side; an exclusion's pattern beside its NOTs
        return first_phrase(pattern[1])
    return pattern[1] if pattern[0] == "p" else pattern[1][0]


def _exclusion(tables: Tables, source: str) -> CPattern:
    """A theme's exclusion context: its pattern, or ``("x", pattern, nots)`` where NOT contexts of its
    own spare the places they meet ("elections" near a vote word vetoes it, NOT where the vote is named
    "всеукраїнське голосування")."""
    parsed = parse_term(source)
    pattern = tables.pattern(parsed.pattern)
    return ("x", pattern, tuple(tables.pattern(n) for n in parsed.nots)) if parsed.nots else pattern


def _filed(contexts) -> dict[int, tuple[CPattern, ...]]:
    """Contexts grouped under their first phrase: a document can only match those whose first
    phrase it hit."""
    grouped: dict[int, list[CPattern]] = defaultdict(list)
    for context in contexts:
        grouped[first_phrase(context)].append(context)
    return {pid: tuple(found) for pid, found in grouped.items()}


def _add_themes(tables: Tables, themes: list[ThemeRule]) -> None:
    tables.themes = list(themes)
    tables.theme_atoms = [("theme", theme.id) for theme in themes]
    filed: dict[tuple[CPattern, ...], dict[int, tuple[CPattern, ...]]] = {}
    for t, theme in enumerate(themes):
        tables.excludes.append(tuple(_exclusion(tables, context) for context in theme.exclude))
        cautions = {_exclusion(tables, context): context for context in theme.caution}
        tables.caution_sources.append(cautions)
        tables.cautions.append(_filed(cautions))
        silences = {_exclusion(tables, context): context for context in theme.silence}
        tables.silence_sources.append(silences)
        tables.silences.append(_filed(silences))
        for source, weight in theme.terms.items():
            term = parse_term(source)
            pattern = tables.pattern(term.pattern)
            listed = tuple(tables.pattern(n) for n in term.nots) + tables.excludes[t]
            # Terms with the same contexts share one index (the engine works it out once per document).
            contexts = filed.get(listed)
            if contexts is None:
                contexts = filed[listed] = _filed(listed)
            primary = first_phrase(pattern)
            partner = first_phrase(pattern[2]) if pattern[0] == "n" else -1
            tables.terms.append(CTerm(t, weight, source, pattern, contexts, primary, partner))
            tables.terms_by_phrase[primary].append(len(tables.terms) - 1)
    tables.term_fields = tuple((term.theme, term.source) for term in tables.terms)


# A variant written '=US' matches only that exact spelling ("US", not the pronoun "us").
CASE_MARK = "="


def _add_entities(tables: Tables, entities: list[EntityDef]) -> None:
    tables.entities = list(entities)
    tables.entity_fields = tuple((e.id, e.name, e.type) for e in entities)
    tables.entity_atoms = [(("entity", e.id), ("entity_type", e.type), *(("entity_tag", tag) for tag in e.tags))
                           for e in entities]
    for e, entity in enumerate(entities):
        patterns = {(tables.chain(parse_phrase(v.removeprefix(CASE_MARK))),
                     v.removeprefix(CASE_MARK) if v.startswith(CASE_MARK) else None)
                    for v in (entity.name, *entity.variants)}
        for pattern, case in sorted(patterns, key=lambda p: (p[0], p[1] or "")):
            tables.entities_by_phrase[first_phrase(pattern)].append((e, pattern, case))
    index = {entity.id: e for e, entity in enumerate(entities)}
    tables.entity_hides = {e: tuple(index[h] for h in entity.hides) for e, entity in enumerate(entities) if entity.hides}


def _add_triggers(tables: Tables, triggers: list[TriggerRule]) -> None:
    for i, trigger in enumerate(triggers):
        condition = parse_condition(trigger.when)
        tables.triggers.append((trigger, condition))
        for atom in condition.atoms:
            if atom[0] == "keyword" and atom not in tables.keyword_patterns:
                pattern = tables.keyword_patterns[atom] = tables.chain(atom[1])
                tables.keyword_atoms[first_phrase(pattern)].append((atom, pattern))
            tables.triggers_by_atom[atom].append(i)
        tables.trigger_keywords.append(tuple(tables.keyword_patterns[atom] for atom in condition.atoms
                                             if atom[0] == "keyword"))
        # A condition true with nothing present (NOT-only) must be evaluated on every document.
        if condition.test(set()):
            tables.always_candidates.append(i)
    theme_atoms = set(tables.theme_atoms)
    tables.triggers_need_theme = bool(tables.triggers) and all(
        _needs_theme(condition, theme_atoms) for _, condition in tables.triggers)
    by_atom = tables.triggers_by_atom
    tables.theme_triggers = [frozenset(by_atom.get(atom, ())) for atom in tables.theme_atoms]
    tables.entity_triggers = [frozenset(i for atom in atoms for i in by_atom.get(atom, ())) for atoms in tables.entity_atoms]
    # A document's entities mark only the atoms a trigger reads (most entities: none), so one naming
    # many entities does not hash atoms no condition asks about.
    tables.entity_atoms = [tuple(atom for atom in atoms if atom in by_atom) for atoms in tables.entity_atoms]


def _needs_theme(condition: Condition, theme_atoms: set, most: int = 12) -> bool:
    """Whether ``condition`` is false whatever atoms but theme atoms are present: tried on every set of the
    others it reads (at most ``most`` of them; with more, it is taken to need none)."""
    others = [atom for atom in condition.atoms if atom not in theme_atoms]
    if len(others) > most:
        return False
    return not any(condition.test(set(chosen)) for size in range(len(others) + 1)
                   for chosen in combinations(others, size))


def _add_concepts(tables: Tables, concepts: list[ConceptDef]) -> dict[int, list[int]]:
    """Resolve every '@id' phrase the terms used to the patterns of its concept's phrases (added to
    the phrase table); the word scan and the engine unite their hits under it. Returns, for each
    phrase that is a concept's member of one piece, those concepts (for ``WordKeys.build``)."""
    of_phrase: dict[int, list[int]] = defaultdict(list)
    by_id = {c.id: c for c in concepts}
    written = concept_phrases(concepts)  # includes ("@vote_generic" inside vote_word) written out
    for pid, phrase in list(enumerate(tables.phrases)):
        if is_concept(phrase):
            concept = by_id[phrase.text[1:]]
            if concept.model_feature:
                tables.concept_names[pid] = phrase.text
            members = {tables.chain(parse_phrase(p)) for p in written[concept.id]}
            for member in sorted(members):
                if member[0] == "p":
                    of_phrase[member[1]].append(pid)
                else:
                    tables.concept_members[first_phrase(member)].append((pid, member))
    tables.concept_ids = frozenset(pid for pid, phrase in enumerate(tables.phrases) if is_concept(phrase))
    return of_phrase


def native_theme_plan(tables: Tables) -> tuple[object, list[CPattern]] | None:
    """The steps after the word scan (concepts, terms, entities) as the C loops' plan (``_terms.theme_plan``
    says the layout), with the patterns in the order of their indexes; None without the C loops."""
    if native.theme_plan is None:
        return None
    index: dict[CPattern, int] = {}
    specs: list[tuple[int, ...]] = []

    def pattern(p: CPattern) -> int:
        found = index.get(p)
        if found is None:  # operands first: every pattern names only earlier ones
            kind = p[0]
            if kind == "p":
                spec = (0, p[1])
            elif kind == "s":
                spec = (1, *p[1])
            elif kind == "n":
                spec = (2, pattern(p[1]), pattern(p[2]), p[3])
            else:
                spec = (3, pattern(p[1]), *map(pattern, p[2]))
            found = index[p] = len(specs)
            specs.append(spec)
        return found

    sets: dict[tuple, int] = {}
    set_specs: list[tuple] = []

    def context_set(contexts: dict[int, tuple[CPattern, ...]]) -> int:
        if not contexts:
            return -1
        key = tuple(contexts.items())
        found = sets.get(key)
        if found is None:
            found = sets[key] = len(set_specs)
            set_specs.append(tuple((pattern(c), *needed_phrases(c)) for filed in contexts.values() for c in filed))
        return found

    terms = tuple((term.theme, float(term.weight), pattern(term.pattern), term.partner, context_set(term.contexts),
                   int(term.pattern[0] == "p")) for term in tables.terms)
    cautions = tuple(context_set(contexts) for contexts in tables.cautions)
    by_phrase = tuple((pid, tuple(listed)) for pid, listed in tables.terms_by_phrase.items())
    members = tuple((pid, tuple((concept, pattern(member)) for concept, member in listed))
                    for pid, listed in tables.concept_members.items())
    entities = tuple((pid, tuple((e, pattern(p), case) for e, p, case in listed))
                     for pid, listed in tables.entities_by_phrase.items())
    plan = native.theme_plan(len(tables.phrases), tuple(specs), tuple(set_specs), terms, by_phrase, cautions,
                             members, tuple(sorted(tables.concept_ids)), len(tables.entities), entities)
    return plan, list(index)


def _exact_lemma_forms(phrases: list[Phrase]) -> list[tuple[str, ...]]:
    """The lemma forms of each exact phrase, by phrase id (none for a prefix or a concept), for
    ``WordKeys.build``."""
    return [() if phrase.prefix or is_concept(phrase) else tuple(phrase_lemmas(phrase.text))
            for phrase in phrases]


_CACHE: dict[str, object] = {}
_CACHE_SIZE = 8


def compile_pack(pack: RulePack):
    """Compile ``pack`` (cached by content hash, so a re-published pack compiles once per process).

    Raises ``RulePackError`` (a ``ConfigError`` and a ``ValueError``) naming the pack and the field
    of the first problem.
    """
    version = pack_version(pack)
    cached = _CACHE.get(version)
    if cached is not None:
        return cached
    problems = check_pack(pack)
    if problems:
        loc, message = problems[0]
        raise RulePackError(f"rule pack {pack.name!r} {field_name(loc)}: {message}")
    tables = Tables()
    _add_themes(tables, pack.themes)
    _add_entities(tables, pack.entities)
    _add_triggers(tables, pack.triggers)
    concept_of_phrase = _add_concepts(tables, pack.concepts)
    lemma_forms = _exact_lemma_forms(tables.phrases)
    if not all(map(is_concept, tables.phrases)):
        tables.words = WordKeys.build(tables.phrases, lemma_forms, concept_of_phrase)
    if pack.model is not None:
        tables.model = CompiledModel(pack.model, {theme.id: i for i, theme in enumerate(pack.themes)})
        if tables.model.uses_concepts:
            tables.concept_buckets = {pid: tables.model.concept_bucket(name) for pid, name in tables.concept_names.items()}
    tables.theme_plan = native_theme_plan(tables)
    compiled = CompiledRules(pack.model_copy(update={"version": version}), tables)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[version] = compiled
    return compiled
