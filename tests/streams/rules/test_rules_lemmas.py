"""Lemmas come from simplemma's dictionaries read through cached MARISA tries
(``streams.rules.lemmas``): the same lemma as simplemma's default dictionaries for every word, and a
trie cache that is written whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import simplemma

from streams.rules.lemmas import _LEMMATIZER, _SharedTrieFactory
from streams.rules.normalize import normalize

QUALITY = Path(__file__).resolve().parents[2] / "data" / "quality"


def test_the_trie_dictionaries_give_simplemmas_own_lemma_for_every_word_of_a_labelled_split():
    words = set()
    for line in (QUALITY / "dev.jsonl").open(encoding="utf-8"):
        item = json.loads(line)
        words.update((w, item["lang"]) for w in normalize(item["text"]).text.split() if w)
    assert len(words) > 5000
    differ = [(w, lang) for w, lang in sorted(words)
              if _LEMMATIZER.lemmatize(w, lang) != simplemma.lemmatize(w, lang=lang)]
    assert differ == []


def test_a_trie_is_cached_whole_and_read_back_by_the_next_process(tmp_path):
    first = _SharedTrieFactory(disk_cache_dir=str(tmp_path))
    assert first.get_dictionary("en").get("sanctions") == "sanction"
    assert [p.name for p in tmp_path.iterdir()] == ["en.dic"]  # no partial file left beside it
    later = _SharedTrieFactory(disk_cache_dir=str(tmp_path))  # read, not rebuilt: a rebuild replaces the file
    before = (tmp_path / "en.dic").stat().st_mtime_ns
    assert later.get_dictionary("en").get("froze") == "freeze"
    assert (tmp_path / "en.dic").stat().st_mtime_ns == before
