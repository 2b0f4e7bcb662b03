"""Read rule files into one ``RulePack``, and check it, with errors that name the file and line.

A rule pack on disk is a YAML (or JSON) file, or a directory of them read in name order; each file
holds any of ``name``, ``concepts``, ``themes``, ``entities`` and ``triggers``, laid out like
``schemas.RulePack``.
The result carries everything needed to compile it (no paths), so it can be published on the
compacted rules topic as it is; ``version`` is the content hash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from core.errors import ConfigError
from schemas.rules import RulePack
from streams.rules.expr import (
    ATOM_KINDS,
    Near,
    Phrase,
    RuleSyntaxError,
    concept_phrases,
    concept_refs,
    included,
    is_concept,
    parse_condition,
    parse_phrase,
    parse_term,
)
from streams.rules.model import decode_weights

DEFAULT_PACK = Path(__file__).parent / "default"
MAX_MODEL_BYTES = 700 * 1024  # leaves room for the terms in a 1 MB record (Kafka's default message limit)
_SUFFIXES = (".yaml", ".yml", ".json")
_SECTIONS = ("concepts", "themes", "entities", "triggers")
SINGULAR = {"concepts": "concept", "themes": "theme", "entities": "entity", "triggers": "trigger"}
ENTITY_TYPES = ("person", "organisation", "place")


class RulePackError(ConfigError, ValueError):
    """A rule pack that cannot be used. A ``ConfigError`` for the CLI (one line, exit 2) and a
    ``ValueError`` for callers that treat any bad input record alike."""


@dataclass(frozen=True)
class PackProblem:
    """One thing wrong with a rule pack: where (file and line when known, else the field) and why.
    A ``warning`` (a phrase that adds nothing) does not stop the pack from loading."""

    where: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        return f"{self.where}: {'warning: ' if self.warning else ''}{self.message}"


def pack_version(pack: RulePack) -> str:
    """Content hash of the pack: the same rules give the same version on every worker."""
    body = pack.model_copy(update={"version": ""}).model_dump_json()
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


def field_name(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def check_pack(pack: RulePack) -> list[tuple[tuple, str]]:
    """Every problem the compiler would meet, as (field location, reason) pairs."""
    problems: list[tuple[tuple, str]] = []
    if not pack.themes and not pack.entities:
        problems.append((("themes",), "the pack has no theme and no entity: it would classify nothing"))
    for section in _SECTIONS:
        seen: set[str] = set()
        for i, rule in enumerate(getattr(pack, section)):
            if rule.id in seen:
                problems.append(((section, i, "id"), f"duplicate {SINGULAR.get(section, section)} id {rule.id!r}"))
            seen.add(rule.id)
    concepts = {c.id for c in pack.concepts}
    for i, concept in enumerate(pack.concepts):
        for j, phrase in enumerate(concept.phrases):
            loc = ("concepts", i, "phrases", j)
            name = included(phrase)
            if name is not None:  # the whole phrase names a concept: it includes that concept's phrases
                if name not in concepts:
                    problems.append((loc, f"unknown concept '@{name}'"))
                continue
            _check(problems, loc, parse_phrase, phrase)
    try:
        concept_phrases(pack.concepts)
    except RuleSyntaxError as exc:
        problems.append((("concepts",), str(exc)))
    for i, theme in enumerate(pack.themes):
        for term in theme.terms:
            parsed = _check(problems, ("themes", i, "terms", term), parse_term, term)
            _check_refs(problems, ("themes", i, "terms", term), parsed, concepts)
        for field in ("exclude", "caution", "silence"):
            for j, context in enumerate(getattr(theme, field)):
                parsed = _check(problems, ("themes", i, field, j), parse_term, context)
                _check_refs(problems, ("themes", i, field, j), parsed, concepts)
    entity_ids = {e.id for e in pack.entities}
    for i, entity in enumerate(pack.entities):
        _check(problems, ("entities", i, "name"), parse_phrase, entity.name)
        for j, variant in enumerate(entity.variants):
            _check(problems, ("entities", i, "variants", j), parse_phrase, variant)
        for j, hidden in enumerate(entity.hides):
            if hidden not in entity_ids or hidden == entity.id:
                what = "itself" if hidden == entity.id else f"unknown entity {hidden!r}"
                problems.append((("entities", i, "hides", j), f"an entity hides other entities' mentions, not {what}"))
    known = {"theme": {t.id for t in pack.themes}, "entity": entity_ids,
             "entity_type": set(ENTITY_TYPES), "entity_tag": {tag for e in pack.entities for tag in e.tags}}
    for i, trigger in enumerate(pack.triggers):
        condition = _check(problems, ("triggers", i, "when"), parse_condition, trigger.when)
        for kind, name in sorted(condition.atoms if condition else (), key=str):
            if kind in ATOM_KINDS and name not in known[kind]:
                problems.append((("triggers", i, "when"), f"unknown {kind} {name!r}"))
    if pack.model is not None:
        size = len(pack.model.themes) * (2 << pack.model.bits) * 4 // 3  # base64 weights
        if size > MAX_MODEL_BYTES:
            problems.append((("model",), f"the model's weights take {size // 1024} KB; a pack travels as one Kafka "
                                         f"record, so they must stay under {MAX_MODEL_BYTES // 1024} KB (fewer bits)"))
        themes = {t.id for t in pack.themes}
        for theme, spec in pack.model.themes.items():
            if theme not in themes:
                problems.append((("model", "themes", theme), f"the model scores {theme!r}, which is not a theme of the pack"))
            try:
                decode_weights(spec.weights, pack.model.bits)
            except ValueError as exc:
                problems.append((("model", "themes", theme, "weights"), f"unreadable weights: {exc}"))
    return problems


def _word_prefix(chain: tuple) -> bool:
    """One piece of one word with a trailing '*' ("шотландц*")."""
    return len(chain) == 1 and chain[0].prefix and " " not in chain[0].text


def redundancies(pack: RulePack) -> list[tuple[tuple, str]]:
    """Phrases that add nothing, as (field location, reason) pairs; they change no result, and
    ``rules check`` warns of them:

    - a one-word prefix that a shorter prefix of the same concept covers ("шотландці*" beside
      "шотландц*": a prefix matches written words only, so the shorter finds every word the longer does);
    - a concept phrase written differently from another that matching reads the same ("stop-list" and
      "stop list", "четырёх" and "четырех": hyphens, ё and quotes are folded already);
    - an entity variant written twice, or the same as the entity's name.

    A phrase written again letter for letter is not reported: the shipped concepts list the Russian and
    the Ukrainian forms each in full, and the two languages share many words.
    """
    found: list[tuple[tuple, str]] = []
    try:
        expanded = concept_phrases(pack.concepts)
    except RuleSyntaxError:
        expanded = {}  # check_pack reports the cycle
    for i, concept in enumerate(pack.concepts):
        chains: list[tuple[int, tuple]] = []
        inside: dict[tuple, str] = {}  # chain -> the included concept that holds it
        for j, phrase in enumerate(concept.phrases):
            name = included(phrase)
            try:
                if name is not None:
                    for written in expanded.get(name, ()):
                        inside.setdefault(parse_phrase(written), name)
                    continue
                chains.append((j, parse_phrase(phrase)))
            except RuleSyntaxError:
                continue  # check_pack reports it
        for j, chain in chains:
            if chain in inside:
                found.append((("concepts", i, "phrases", j),
                              f"{concept.phrases[j]!r} adds nothing: '@{inside[chain]}', which the concept includes, has it"))
        prefixes = {c[0].text: j for j, c in chains if _word_prefix(c)}
        first: dict[tuple, int] = {}
        for j, chain in chains:
            loc, written = ("concepts", i, "phrases", j), concept.phrases[j]
            if chain in first:
                earlier = concept.phrases[first[chain]]
                if written.strip() != earlier.strip():
                    found.append((loc, f"{written!r} reads the same as {earlier!r} of the same concept"))
                continue
            first[chain] = j
            if _word_prefix(chain):
                text = chain[0].text
                wider = next((prefixes[text[:n]] for n in range(1, len(text)) if text[:n] in prefixes), None)
                if wider is not None:
                    found.append((loc, f"{written!r} adds nothing: {concept.phrases[wider]!r} of the same concept "
                                       "matches every word it does"))
    for i, entity in enumerate(pack.entities):
        seen = {entity.name}
        for j, variant in enumerate(entity.variants):
            if variant in seen:
                found.append((("entities", i, "variants", j), f"variant {variant!r} is written twice"))
            seen.add(variant)
    return found


def self_vetoes(pack: RulePack) -> list[tuple[tuple, str]]:
    """Exclusion and caution contexts and terms' NOT contexts ``A NEAR/n B`` that two words of one side
    trip alone, as (field location, reason) pairs; ``rules check`` warns of them.

    A phrase matches every inflection of its lemma, so "balloted" among a theme's union words reads as
    "ballot": ``"@vote_word" NEAR/15 "@company_vote"`` then vetoes any ballot beside a referendum. The
    check compares each side's phrases, written and lemmatised, with what the other side matches.
    """
    from streams.rules.lemmas import phrase_lemmas

    try:
        concepts = concept_phrases(pack.concepts)
    except RuleSyntaxError:
        return []  # check_pack reports the cycle
    found: list[tuple[tuple, str]] = []

    def side(chain: tuple) -> list[tuple[str, Phrase]]:
        if len(chain) != 1:
            return []  # a chain of pieces ("ядерн* оружи*"): not compared
        if is_concept(chain[0]):
            pieces = []
            for written in concepts.get(chain[0].text[1:], ()):
                try:
                    parsed = parse_phrase(written)
                except RuleSyntaxError:
                    continue
                if len(parsed) == 1:
                    pieces.append((written, parsed[0]))
            return pieces
        return [(chain[0].text, chain[0])]

    @cache  # every phrase of a concept is compared with every phrase of the other side
    def forms(phrase: Phrase) -> frozenset[str]:
        return frozenset({phrase.text} if phrase.prefix else {phrase.text, *phrase_lemmas(phrase.text)})

    def reads(phrase: Phrase, form: str) -> bool:
        if phrase.prefix:  # the wildcard goes on within the last word only
            return form.startswith(phrase.text) and " " not in form[len(phrase.text):]
        return form in forms(phrase)

    def contexts(theme):  # (location, pattern) of each exclusion, caution, silence and term's NOT context
        for field in ("exclude", "caution", "silence"):
            for j, context in enumerate(getattr(theme, field)):
                try:
                    yield (field, j), parse_term(context).pattern
                except RuleSyntaxError:
                    continue  # check_pack reports it
        for term in theme.terms:
            try:
                yield from ((("terms", term), nots) for nots in parse_term(term).nots)
            except RuleSyntaxError:
                continue

    for i, theme in enumerate(pack.themes):
        for where, pattern in contexts(theme):
            if not isinstance(pattern, Near):
                continue
            left, right = side(pattern.left), side(pattern.right)
            clashes = [(f == p.text, w, f, other) for one, two in ((left, right), (right, left)) for w, p in one
                       for f in sorted(forms(p)) for other, q in two if reads(q, f)]
            if clashes:
                _, written, form, other = min(clashes)  # a lemma reading first: the one a writer did not see
                effect = {"caution": "caution and raise the model's bar",
                          "silence": "silence and keep the model from assigning the theme alone"}.get(
                    where[0], "exclusion and veto the theme's terms")
                found.append((("themes", i, *where),
                              f"{written!r} reads as {form!r}, which {other!r} on the other side matches too: "
                              f"two such words alone trip this {effect}"))
    return found


def _check_refs(problems, loc, term, concepts: set[str]) -> None:
    if term is None:
        return
    for pattern in (term.pattern, *term.nots):
        for name in sorted(concept_refs(pattern) - concepts):
            problems.append((loc, f"unknown concept '@{name}'"))


def _check(problems, loc, parse, source):
    try:
        return parse(source)
    except RuleSyntaxError as exc:
        problems.append((loc, str(exc)))
        return None


class _Unreadable(Exception):
    def __init__(self, problem: PackProblem):
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class _Origin:
    """Where a merged rule came from: its file, the file's YAML node tree, its index in that file."""

    path: Path
    root: yaml.Node | None
    index: int


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in _SUFFIXES and p.is_file())
        if not files:
            raise RulePackError(f"{path}: no rule files (*.yaml, *.yml, *.json) in this directory")
        return files
    if not path.exists():
        raise RulePackError(f"{path}: no such rule file or directory")
    return [path]


# libyaml's safe loader where PyYAML was built with it (its wheels are): the shipped pack's ~1,500
# lines in ~0.1 s instead of ~1.3 s, which every worker start, `watchfloor classify` and `eval` paid.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse(text: str) -> tuple[object, yaml.Node | None]:
    """The document and its node tree (whose marks name lines in errors), from one parse."""
    loader = _YAML_LOADER(text)
    try:
        root = loader.get_single_node()
        return (loader.construct_document(root) if root is not None else None), root
    finally:
        loader.dispose()


def _read(path: Path) -> tuple[dict, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
        data, root = _parse(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise _Unreadable(PackProblem(str(path), f"cannot read rule file: {exc}")) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise _Unreadable(PackProblem(where, f"not valid YAML: {getattr(exc, 'problem', exc)}")) from None
    if data is None:
        return {}, root
    if not isinstance(data, dict):
        raise _Unreadable(PackProblem(f"{path}:1", "a rule file is a mapping with themes, entities and/or triggers"))
    return data, root


def _line(root: yaml.Node | None, loc: tuple) -> int | None:
    """1-based line of the deepest node on ``loc`` in a composed YAML tree."""
    node, line = root, None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            hit = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if hit is None:
                break
            line, node = hit[0].start_mark.line + 1, hit[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line if line is not None else (root.start_mark.line + 1 if root is not None else None)


def _where(path: Path, root, loc: tuple) -> str:
    line = _line(root, loc)
    return f"{path}:{line} ({field_name(loc)})" if line else f"{path} ({field_name(loc)})"


def read_pack(path: Path, *, warnings: bool = False) -> tuple[RulePack | None, list[PackProblem]]:
    """Read and check the pack at ``path``: the pack (``None`` if unreadable) and every problem; with
    ``warnings``, also the phrases that add nothing (``redundancies``, for ``rules check``: loading a
    pack to use it does not pay for them)."""
    sections: dict[str, list] = {s: [] for s in _SECTIONS}
    origins: dict[str, list[_Origin]] = {s: [] for s in _SECTIONS}
    problems: list[PackProblem] = []
    name = None
    model, model_origin = None, None
    for file in _files(path):
        try:
            data, root = _read(file)
        except _Unreadable as exc:
            problems.append(exc.problem)
            continue
        data = {k: v for k, v in data.items() if k not in ("version", "schema_version")}
        try:
            part = RulePack.model_validate(data)
        except ValidationError as exc:
            problems += [PackProblem(_where(file, root, e["loc"]), e["msg"]) for e in exc.errors()]
            continue
        name = name or data.get("name")
        if part.model is not None:
            if model is not None:
                problems.append(PackProblem(_where(file, root, ("model",)),
                                            f"a second learned model; {model_origin.path} has one already"))
            model, model_origin = part.model, _Origin(file, root, 0)
        for section in _SECTIONS:
            for index, rule in enumerate(getattr(part, section)):
                sections[section].append(rule)
                origins[section].append(_Origin(file, root, index))
    if problems:
        return None, problems
    pack = RulePack(name=name or _default_name(path), model=model, **sections)

    def located(loc: tuple) -> str:
        if len(loc) < 2:  # about the pack as a whole
            return str(path)
        if loc[0] == "model":
            return _where(model_origin.path, model_origin.root, loc)
        origin = origins[loc[0]][loc[1]]
        return _where(origin.path, origin.root, (loc[0], origin.index, *loc[2:]))

    problems += [PackProblem(located(loc), message) for loc, message in check_pack(pack)]
    if warnings:
        problems += [PackProblem(located(loc), message, warning=True)
                     for loc, message in redundancies(pack) + self_vetoes(pack)]
    return pack.model_copy(update={"version": pack_version(pack)}), problems


def _default_name(path: Path) -> str:
    return "default" if path.resolve() == DEFAULT_PACK.resolve() else path.stem


def load_pack(path: Path | None = None) -> RulePack:
    """The pack at ``path`` (``None``: the pack shipped with watchfloor), with ``version`` filled in.

    Raises ``RulePackError`` (a ``ConfigError``) with a one-line message naming the file, line and
    field of the first problem (and how many more there are).
    """
    pack, problems = read_pack(Path(path) if path is not None else DEFAULT_PACK)
    if problems:
        more = f" (and {len(problems) - 1} more; see 'watchfloor rules check')" if len(problems) > 1 else ""
        raise RulePackError(f"{problems[0]}{more}")
    return pack
