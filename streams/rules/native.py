"""The engine's optional C loops (``streams/rules/_native.c``), or ``None`` where they are absent.

``pip install`` compiles them when a C compiler and the Python headers are there (``setup.py``;
``optional``: without them the package installs all the same). Each C function has a pure-Python twin
that defines it, and the engine takes the twin whenever the C module is missing or
``WATCHFLOOR_NATIVE=0`` is set (to compare the two, or to rule the C code out when chasing a bug).
"""

from __future__ import annotations

import os

try:
    from streams.rules import _native
except ImportError:  # built without a C compiler
    _native = None
try:
    from streams.rules import _terms
except ImportError:
    _terms = None

WANTED = os.environ.get("WATCHFLOOR_NATIVE", "1") != "0"
ENABLED = _native is not None and WANTED
TERMS = _terms is not None and WANTED

# ``CompiledModel.score``'s bucket count and per-theme weight sums (twin: ``CompiledModel.present``
# and a gather along each theme's row).
model_sums = _native.model_sums if ENABLED else None
# ``CompiledModel.evidence``'s gain per word (twin: the same method's loop over cached per-lemma sums).
model_gains = _native.model_gains if ENABLED else None
# ``normalize``'s separators and space runs (twin: ``normalize._spaces``).
spaces = _native.spaces if ENABLED else None
# A document's phrase hits and lemmas, word by word (twin: ``words.word_hits``).
word_hits = _native.word_hits if ENABLED else None
# The result objects from the dicts the engine built, without validating them again (twin: each model's
# validator, which ``engine.hit_models`` calls without it).
models = _native.models if ENABLED else None
# A text's word n-grams, for story grouping's signatures (twin: ``streams/stories/grouping.word_shingles``).
shingles = _native.shingles if ENABLED else None
# How many positions two story signatures share (twin: the sum in ``streams/stories/grouping.similarity``).
agreement = _native.agreement if ENABLED else None
# A pack's concepts, terms and entities flattened for ``analyse`` (built by ``compile.native_theme_plan``).
theme_plan = _terms.theme_plan if TERMS else None
# The steps after the word scan on a document's phrase hits (twins: ``CompiledRules._concepts``,
# ``_themes`` and ``_entities``).
analyse = _terms.analyse if TERMS else None
# Normalised spans as the dicts ``Match`` validates from, in the original text (twin: ``engine.match_fields``).
match_fields = _terms.match_fields if TERMS else None
# A document's entity hits as the dicts ``EntityHit`` validates from (twin: ``engine.entity_fields``).
entity_fields = _terms.entity_fields if TERMS else None
# Each passed theme's matches as the dicts ``ThemeHit`` validates them from (twin: ``engine.theme_fields``).
theme_fields = _terms.theme_fields if TERMS else None
