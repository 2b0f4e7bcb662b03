"""The rule engine: multilingual themes, an entity gazetteer with name variants, and triggers.

Public API (stable; the stream worker and the CLI call only these)::

    load_pack(path: Path | None = None) -> schemas.RulePack
        Read a YAML/JSON rule file or a directory of them (None: the pack shipped in
        ``streams/rules/default/``). ``version`` is filled with the content hash. Any problem raises
        ``RulePackError`` (a ``core.errors.ConfigError`` and a ``ValueError``) whose one-line
        message names the file, line and field.
    read_pack(path: Path, *, warnings: bool = False) -> tuple[RulePack | None, list[PackProblem]]
        The same, returning every problem instead of raising (``watchfloor rules check``); with
        ``warnings``, also the phrases that add nothing (``PackProblem.warning``).
    compile_pack(pack: RulePack) -> CompiledRules
        Every phrase keyed by its first word (``words.WordKeys``); cached by content hash, so compiling a pack
        received again from the rules topic is free. A pack with problems raises ``RulePackError``
        naming the pack and the field.
    CompiledRules.version: str
    CompiledRules.classify(text: str, title: str | None = None, lang: str | None = None)
        -> Classification(themes: list[ThemeHit], entities: list[EntityHit],
                          triggers: list[TriggerHit], version: str, document: str)
        ``document`` is ``title + "\\n" + text`` (or ``text``); every Match's offsets index it and
        ``document[m.start:m.end] == m.text``. Themes appear only when their threshold is met.
    CompiledRules.analyse(document: str, lang: str | None = None) -> Analysis
    CompiledRules.classification(a: Analysis) -> Classification
        ``classify`` in two steps, for callers that also read the analysis (``watchfloor eval``).
    CompiledRules.atoms_present(a: Analysis) -> set
        The trigger atoms present in an analysed document (``Analysis.present`` is left empty where a
        document without a theme skipped the triggers).
    CompiledRules.explain(text: str, title: str | None = None, lang: str | None = None) -> Explanation
        What matched, what was vetoed and what was missing for each theme and trigger;
        ``Explanation.render()`` is the text ``watchfloor rules explain`` prints.

Rule syntax is in ``streams.rules.expr``; normalisation (NFKC, case folding, apostrophes, ё→е, word
boundaries for Latin and Cyrillic) in ``streams.rules.normalize``.
"""

from streams.rules.compile import compile_pack
from streams.rules.engine import Classification, CompiledRules, document_of
from streams.rules.explain import Explanation
from streams.rules.loader import DEFAULT_PACK, PackProblem, RulePackError, load_pack, pack_version, read_pack

__all__ = [
    "Classification", "CompiledRules", "DEFAULT_PACK", "Explanation", "PackProblem", "RulePackError",
    "compile_pack",
    "document_of", "load_pack", "pack_version", "read_pack",
]
