"""The two small languages of a rule pack: theme terms and trigger conditions.

Theme terms (also entity variants, exclusion contexts and trigger keywords, which use the phrase
part only)::

    term    := pattern ( "NOT" pattern )*        NOT: drop matches that overlap the context
    pattern := phrase ( "NEAR/" N phrase )?      at most N words between them, either order
    phrase  := '"' words '"' | words             a word ending in '*' is a prefix (ядерн* оружи*)
             | '@' concept                       any phrase of the pack's concept of that id

``NEAR`` and ``NOT`` are operators only in capitals and outside quotes. Examples:
``референдум*``, ``"so-called referendum*"``, ``"nuclear" NEAR/5 "use"``,
``sanction* NOT "league" NEAR/6 "sanction*"``.

Trigger conditions: ``AND``, ``OR``, ``NOT`` (any case) and parentheses over the atoms
``theme:ID``, ``entity:ID``, ``entity_type:TYPE``, ``entity_tag:TAG`` and ``keyword "phrase"``
(or a bare quoted phrase). ``NOT`` binds tightest, then ``AND``, then ``OR``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from streams.rules.normalize import normalize_phrase

MIN_PREFIX_CHARS = 3
CONCEPT_MARK = "@"
_CONCEPT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class RuleSyntaxError(ValueError):
    """A term or a trigger condition that does not parse; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Phrase:
    """One automaton key: ``text`` in matching form; ``prefix`` when its last word may go on."""

    text: str
    prefix: bool


Chain = tuple[Phrase, ...]
"""A phrase as written: pieces split after each wildcard word, matched word after word
(``ядерн* оружи*`` is two pieces, ``so-called referend*`` one)."""


def is_concept(phrase: Phrase) -> bool:
    return phrase.text.startswith(CONCEPT_MARK)


def included(phrase: str) -> str | None:
    """The concept a concept's phrase includes whole ("@vote_generic" among vote_word's phrases), or None:
    a phrase that ``parse_phrase`` reads as one concept reference."""
    try:
        parsed = parse_phrase(phrase)
    except RuleSyntaxError:
        return None  # check_pack reports it
    return parsed[0].text[len(CONCEPT_MARK):] if len(parsed) == 1 and is_concept(parsed[0]) else None


def concept_phrases(concepts) -> dict[str, tuple[str, ...]]:
    """Each concept's phrases (``ConceptDef``s), the concepts it includes written out in their place,
    each phrase once. An include of a concept that is not defined adds nothing (``check_pack`` reports
    it); a concept that includes itself, directly or through others, raises RuleSyntaxError."""
    own = {c.id: c.phrases for c in concepts}
    done: dict[str, tuple[str, ...]] = {}

    def expand(name: str, path: tuple[str, ...]) -> tuple[str, ...]:
        if name in done:
            return done[name]
        if name in path:
            raise RuleSyntaxError("concept includes itself: " + " -> ".join(f"@{p}" for p in (*path, name)))
        phrases: list[str] = []
        for phrase in own.get(name, ()):
            inner = included(phrase)
            phrases.extend(expand(inner, (*path, name)) if inner else (phrase,))
        done[name] = tuple(dict.fromkeys(phrases))
        return done[name]

    for name in own:
        expand(name, ())
    return done


def concept_refs(pattern: "Pattern") -> set[str]:
    """The concept ids a pattern refers to."""
    chains = (pattern.left, pattern.right) if isinstance(pattern, Near) else (pattern,)
    return {p.text[1:] for chain in chains for p in chain if is_concept(p)}


@dataclass(frozen=True, slots=True)
class Near:
    left: Chain
    right: Chain
    distance: int


Pattern = Chain | Near


@dataclass(frozen=True, slots=True)
class Term:
    """A parsed theme term: a pattern whose matches count unless they overlap one of ``nots``."""

    source: str
    pattern: Pattern
    nots: tuple[Pattern, ...] = ()


_TERM_TOKEN = re.compile(r'\s*(?:(?P<quoted>"[^"]*"\*?)|(?P<near>NEAR/\d+)(?=\s|"|$)|(?P<not>NOT)(?=\s|"|$)'
                         r'|(?P<bare>[^\s"]+))')


def parse_phrase(source: str) -> Chain:
    """A phrase (quotes optional) in matching form; raises ``RuleSyntaxError`` when unusable."""
    raw = source.strip()
    if len(raw) >= 2 and raw[0] == '"' and raw.rstrip("*").endswith('"'):
        raw = raw[1:].replace('"', "", 1) if raw.endswith("*") else raw[1:-1]
    if raw.startswith(CONCEPT_MARK):
        if not _CONCEPT_NAME.match(raw[1:]):
            raise RuleSyntaxError(f"a concept reference is '@' and a name of a-z, 0-9, _: {source!r}")
        return (Phrase(raw, False),)
    pieces, words = [], []
    for word in raw.split():
        words.append(word)
        if word.endswith("*"):
            pieces.append(_piece(" ".join(words), source))
            words = []
    if words:
        pieces.append(_piece(" ".join(words), source))
    if not pieces:
        raise RuleSyntaxError(f"phrase has no letters or digits: {source!r}")
    return tuple(pieces)


def _piece(raw: str, source: str) -> Phrase:
    prefix = raw.endswith("*")
    body = raw[:-1] if prefix else raw
    if "*" in body:
        raise RuleSyntaxError(f"'*' is allowed only at the end of a word: {source!r}")
    text = normalize_phrase(body)
    if not text:
        raise RuleSyntaxError(f"phrase has no letters or digits: {source!r}")
    if prefix and len(text.rsplit(" ", 1)[-1]) < MIN_PREFIX_CHARS:
        raise RuleSyntaxError(f"a prefix needs at least {MIN_PREFIX_CHARS} letters before '*': {source!r}")
    return Phrase(text, prefix)


def _term_tokens(source: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(source.rstrip()):
        m = _TERM_TOKEN.match(source, pos)
        if m is None:
            raise RuleSyntaxError(f"unbalanced quote in term {source!r}")
        tokens.append((m.lastgroup, m.group(m.lastgroup)))
        pos = m.end()
    return tokens


def _take_pattern(tokens: list[tuple[str, str]], i: int, source: str) -> tuple[Pattern, int]:
    left, i = _take_phrase(tokens, i, source)
    if i < len(tokens) and tokens[i][0] == "near":
        distance = int(tokens[i][1].split("/")[1])
        if distance < 1:
            raise RuleSyntaxError(f"NEAR needs a distance of at least 1 word in {source!r}")
        right, i = _take_phrase(tokens, i + 1, source)
        return Near(left, right, distance), i
    return left, i


def _take_phrase(tokens: list[tuple[str, str]], i: int, source: str) -> tuple[Chain, int]:
    if i >= len(tokens) or tokens[i][0] in ("near", "not"):
        raise RuleSyntaxError(f"expected a phrase at word {i + 1} of {source!r}")
    if tokens[i][0] == "quoted":
        return parse_phrase(tokens[i][1]), i + 1
    j = i
    while j < len(tokens) and tokens[j][0] == "bare":
        j += 1
    return parse_phrase(" ".join(t[1] for t in tokens[i:j])), j


def parse_term(source: str) -> Term:
    """Parse a theme term (see the module docstring)."""
    tokens = _term_tokens(source)
    pattern, i = _take_pattern(tokens, 0, source)
    nots = []
    while i < len(tokens):
        if tokens[i][0] != "not":
            raise RuleSyntaxError(f"expected NEAR/n or NOT after a phrase in {source!r}")
        context, i = _take_pattern(tokens, i + 1, source)
        nots.append(context)
    return Term(source, pattern, tuple(nots))


# --- trigger conditions -------------------------------------------------------------------------

ATOM_KINDS = ("theme", "entity", "entity_type", "entity_tag")
_COND_TOKEN = re.compile(r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<kw>keyword\s*"[^"]*"\*?|"[^"]*"\*?)'
                         r'|(?P<op>(?i:and|or|not))(?=[\s()"]|$)|(?P<atom>[a-z_]+:[^\s()"]+))')

Atom = tuple[str, object]  # ("theme", "escalation"), ("keyword", (Phrase(...), ...)), ...


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed trigger condition: ``atoms`` it reads; ``test(present)`` evaluates it."""

    source: str
    atoms: frozenset[Atom]
    test: Callable[[set], bool]


def _cond_tokens(source: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(source.rstrip()):
        m = _COND_TOKEN.match(source, pos)
        if m is None:
            raise RuleSyntaxError(f"cannot read {source[pos:].strip()[:30]!r} in condition {source!r}")
        tokens.append((m.lastgroup, m.group(m.lastgroup)))
        pos = m.end()
    return tokens


class _CondParser:
    def __init__(self, source: str):
        self.source, self.tokens, self.i = source, _cond_tokens(source), 0
        self.names: dict[Atom, str] = {}  # each atom read → its name in the expression (``_0``, ``_1``, …)

    def peek_op(self) -> str | None:
        if self.i < len(self.tokens) and self.tokens[self.i][0] == "op":
            return self.tokens[self.i][1].upper()
        return None

    def parse(self) -> Callable[[set], bool]:
        # The condition becomes one Python expression over the set of atoms present, compiled once: a
        # closure per operator (the parse tree evaluated call by call) cost ~2 µs a trigger per item.
        # Only names this parser makes appear in it (``_0``, ``_1``, … bound to the atoms), no text of the rule.
        expression = self.disjunction()
        if self.i != len(self.tokens):
            raise RuleSyntaxError(f"unexpected {self.tokens[self.i][1]!r} in condition {self.source!r}")
        names = {"__builtins__": {}, **{name: atom for atom, name in self.names.items()}}
        return eval(f"lambda s: {expression}", names)  # noqa: S307 - built from our own tokens only

    def disjunction(self) -> str:
        parts = [self.conjunction()]
        while self.peek_op() == "OR":
            self.i += 1
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"

    def conjunction(self) -> str:
        parts = [self.negation()]
        while self.peek_op() == "AND":
            self.i += 1
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")"

    def negation(self) -> str:
        if self.peek_op() == "NOT":
            self.i += 1
            return f"(not {self.negation()})"
        return self.primary()

    def primary(self):
        if self.i >= len(self.tokens):
            raise RuleSyntaxError(f"condition ends too early: {self.source!r}")
        kind, value = self.tokens[self.i]
        self.i += 1
        if kind == "lp":
            fn = self.disjunction()
            if self.i >= len(self.tokens) or self.tokens[self.i][0] != "rp":
                raise RuleSyntaxError(f"missing ')' in condition {self.source!r}")
            self.i += 1
            return fn
        if kind == "kw":
            atom = ("keyword", parse_phrase(value.removeprefix("keyword").strip()))
        elif kind == "atom":
            atom_kind, _, name = value.partition(":")
            if atom_kind not in ATOM_KINDS:
                raise RuleSyntaxError(f"unknown atom {value!r} (use {', '.join(ATOM_KINDS)} or keyword)")
            atom = (atom_kind, name)
        else:
            raise RuleSyntaxError(f"unexpected {value!r} in condition {self.source!r}")
        return f"({self.names.setdefault(atom, f'_{len(self.names)}')} in s)"


def parse_condition(source: str) -> Condition:
    """Parse a trigger condition (see the module docstring)."""
    parser = _CondParser(source)
    try:
        test = parser.parse()
    except (RecursionError, SyntaxError, MemoryError):
        # Parentheses nested hundreds deep: past the parser's recursion, or the compiler's own limit
        # on the expression built from them.
        raise RuleSyntaxError(f"condition nests too deeply: {source[:60]!r}") from None
    return Condition(source, frozenset(parser.names), test)
