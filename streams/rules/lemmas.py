"""Lemmas for matching: a term written once matches its inflections in English, Russian and Ukrainian.

``simplemma`` (dictionary-based, no model download) gives each word its dictionary form; the lemma
is then put through the same normalisation as rule phrases, so ``санкциями`` → ``санкция``,
``потрапили`` → ``потрапити``, ``froze`` → ``freeze``. A word is looked up once per language and
process (the cache is bounded by the vocabulary of the texts seen, a few MB at most).

Which language a word is lemmatised in: Latin words in English; Cyrillic words in the document's
declared language when it is ``ru`` or ``uk``, else in the language its letters show (і ї є ґ are
Ukrainian only, ы э ъ Russian only), else Russian and Ukrainian in turn. Rule words are lemmatised in
every language their script allows, so a term matches whichever language the document is in.

The dictionaries are read through MARISA tries (``marisa-trie``) cached on disk, not simplemma's
default in-memory dicts: those took ~3.4 s to decode and ~240 MB of every process that lemmatises
(each worker, ``watchfloor classify``, ``eval``); the three tries, 13 MB, load in ~0.2 s. The first
use on a machine builds the tries once (~9 s for en, ru and uk) under the user's cache directory
(``~/.cache/simplemma``). The lookups are the same dictionary's, so every lemma is the same.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

from simplemma import Lemmatizer
from simplemma.strategies import DefaultStrategy
from simplemma.strategies.dictionaries.trie_dictionary_factory import TrieDictionaryFactory

from streams.rules.normalize import normalize_phrase

_LATIN = re.compile(r"[a-z]")
_UK_ONLY = re.compile(r"[іїєґ]")
_RU_ONLY = re.compile(r"[ыэъ]")
_CYRILLIC = re.compile(r"[а-яіїєґ]")
_CACHE_WORDS = 200_000


class _SharedTrieFactory(TrieDictionaryFactory):
    """simplemma's trie factory (simplemma is pinned), writing each trie to a temporary file renamed
    into place: processes that start together on a fresh machine (``run --workers 2``) each may
    build it, and none ever reads a half-written file."""

    def _write_trie_to_disk(self, lang, trie) -> None:
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        target = self._cache_dir / f"{lang}.dic"
        partial = target.with_name(f".{lang}.{os.getpid()}.partial")
        try:
            trie.save(str(partial))
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)


_LEMMATIZER = Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=_SharedTrieFactory()))


@lru_cache(maxsize=_CACHE_WORDS)
def lemma(word: str, lang: str) -> str:
    """The matching form of ``word``'s lemma in ``lang`` ("en", "ru", "uk"); ``word`` itself when the
    dictionary does not know it or its lemma would not be one word."""
    found = normalize_phrase(_LEMMATIZER.lemmatize(word, lang))
    return found if found and " " not in found else word


def cyrillic_lang(text: str, declared: str | None = None) -> str | None:
    """``ru`` or ``uk`` for the Cyrillic words of a document, or None when nothing tells them apart."""
    if declared in ("ru", "uk"):
        return declared
    uk = text.count("і") + text.count("ї") + text.count("є") + text.count("ґ")
    ru = text.count("ы") + text.count("э") + text.count("ъ")
    if uk > ru:
        return "uk"
    if ru > uk:
        return "ru"
    return None


def word_lemma(word: str, cyrillic: str | None) -> str:
    """One document word's lemma (see the module docstring for the language)."""
    if _LATIN.search(word):
        return lemma(word, "en")
    if _CYRILLIC.search(word):
        if cyrillic is not None:
            return lemma(word, cyrillic)
        ru = lemma(word, "ru")
        return ru if ru != word else lemma(word, "uk")
    return word


_WORDS: dict[str | None, dict[str, str]] = {None: {}, "ru": {}, "uk": {}}


def lemma_words(words: list[str], lang: str | None, text: str) -> list[str]:
    """The lemma of each word of a normalised text (``text`` is that text, read for its letters)."""
    cyrillic = cyrillic_lang(text, lang)
    known = _WORDS[cyrillic]
    if len(known) > _CACHE_WORDS:
        known.clear()
    out = list(map(known.get, words))
    if None in out:
        for i, found in enumerate(out):
            if found is None:
                word = words[i]
                out[i] = known[word] = word_lemma(word, cyrillic) if word else word
    return out


def lemma_text(norm_text: str, lang: str | None = None) -> str:
    """The lemmas of a normalised text, one per word, single-space separated like the text itself
    (so word positions agree: word ``i`` of one is word ``i`` of the other)."""
    return " ".join(lemma_words(norm_text.split(" "), lang, norm_text))


def phrase_lemmas(phrase: str) -> set[str]:
    """Every lemma form of a rule phrase (normalised text): one per language its words could be in."""
    words = phrase.split(" ")
    forms = set()
    for lang in ("en", "ru", "uk"):
        forms.add(" ".join(lemma(w, lang) if _script_allows(w, lang) else w for w in words))
    forms.discard(phrase)
    return forms


def _script_allows(word: str, lang: str) -> bool:
    if lang == "en":
        return bool(_LATIN.search(word))
    if not _CYRILLIC.search(word):
        return False
    return not (_UK_ONLY.search(word) if lang == "ru" else _RU_ONLY.search(word))
