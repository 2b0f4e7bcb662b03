"""Phrase matching word by word: each distinct word of the texts seen is looked up once per pack and
language, and what it can start is kept with it.

A document's words (the normalised text split on its single spaces) are matched against the pack's
phrase keys: each exact phrase's text and lemma forms, each prefix phrase's text. A key matches

- as written: its words equal the document's words, except that its last word may be a prefix of the
  document's (a prefix phrase, ``санкци*``), or the document's word may add a possessive ``'s``
  (``NATO's`` matches ``nato``, the span stopping before the ``'s``);
- by lemma: an exact phrase's key equals the lemmas of as many words (``санкциями`` → ``санкция``),
  the span covering those words whole.

What one word can start depends only on the word, its lemma and the pack, so it is worked out once
(``WordKeys.info``) and cached by word (``WordInfos``), with the learned model's entry for its lemma
(``CompiledModel.entry``), so scoring the document looks nothing up again; the per-document pass
(``word_hits``, in C as ``_native.word_hits`` when built) is a lookup per word and a few comparisons
per word that starts something.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from streams.rules.expr import MIN_PREFIX_CHARS, Phrase, is_concept
from streams.rules.lemmas import word_lemma

Span = tuple[int, int]
# What a word starts (``WordKeys.info``): None when nothing; else (singles, by_next, loose, by_next_lemma)
# with singles flat pairs (phrase id, characters cut from the word's end: 2 for a possessive, else 0);
# the keys of more words as candidates, (rest of the key's words, whether its last word is a prefix,
# phrase ids) matched as written, (rest of the key's words, phrase ids) matched by lemma: ``by_next``
# those matched as written by the next word (a one-word rest also by it with a possessive), ``loose``
# those whose one-word rest is a prefix (any next word may start with it), ``by_next_lemma`` those
# matched by lemma, by the next word's lemma. So a word that starts many keys ("the", "в") checks only
# those the next word can continue.
Starts = tuple[tuple[int, ...], dict, tuple, dict] | None
# A word as ``WordInfos`` keeps it: (lemma, entry) when it starts nothing, else (lemma, entry, *Starts);
# entry is the model's ``entry`` of the lemma, or None (no model, or no C loops).
WordInfo = tuple
Entry = bytes | None

POSSESSIVE = "'s"


@dataclass(frozen=True)
class WordKeys:
    """A pack's phrase keys by their first word, for ``info``."""

    exact: dict[str, tuple[int, ...]]
    prefixes: dict[str, tuple[int, ...]]
    longest_prefix: int
    multi: dict[str, tuple[dict, tuple]]  # first word → (by_next, loose) (``Starts``)
    lemma_exact: dict[str, tuple[int, ...]]
    lemma_multi: dict[str, dict]  # first lemma → by_next_lemma (``Starts``)

    @classmethod
    def build(cls, phrases: list[Phrase], lemma_forms: list[tuple[str, ...]],
              concepts: dict[int, list[int]] | None = None) -> WordKeys:
        """Keys of every phrase but concepts: an exact phrase under its text and its lemma forms, both
        as written and by lemma (a rule word may already be a lemma, and a document may write the
        lemma form); a prefix phrase under its text, as written. ``concepts``: the concepts (their
        phrase ids) that have a phrase as a member of one piece, hit wherever it is."""
        concepts = concepts or {}

        def with_concepts(pids: list[int]) -> list[int]:
            return list(dict.fromkeys(x for pid in pids for x in (pid, *concepts.get(pid, ()))))

        written: dict[tuple[str, bool], list[int]] = {}
        by_lemma: dict[str, list[int]] = {}
        for pid, phrase in enumerate(phrases):
            if is_concept(phrase):
                continue
            if phrase.prefix:
                written.setdefault((phrase.text, True), []).append(pid)
                continue
            for form in (phrase.text, *lemma_forms[pid]):
                written.setdefault((form, False), []).append(pid)
                by_lemma.setdefault(form, []).append(pid)
        exact: dict[str, list[int]] = {}
        prefixes: dict[str, list[int]] = {}
        multi: dict[str, list] = {}
        for (key, prefix), pids in written.items():
            first, *rest = key.split(" ")
            pids = with_concepts(pids)
            if rest:
                multi.setdefault(first, []).append((tuple(rest), prefix, tuple(pids)))
            else:
                (prefixes if prefix else exact).setdefault(first, []).extend(pids)
        lemma_exact: dict[str, list[int]] = {}
        lemma_multi: dict[str, list] = {}
        for key, pids in by_lemma.items():
            first, *rest = key.split(" ")
            pids = with_concepts(pids)
            if rest:
                lemma_multi.setdefault(first, []).append((tuple(rest), tuple(pids)))
            else:
                lemma_exact.setdefault(first, []).extend(pids)

        def frozen(table: dict) -> dict:
            return {k: tuple(dict.fromkeys(v)) for k, v in table.items()}

        return cls(frozen(exact), frozen(prefixes), max(map(len, prefixes), default=0),
                   {first: _by_next(cands) for first, cands in frozen(multi).items()}, frozen(lemma_exact),
                   {first: _by_next_lemma(cands) for first, cands in frozen(lemma_multi).items()})

    def info(self, word: str, lemma: str) -> Starts:
        """What ``word`` (with ``lemma``) starts; see ``Starts``."""
        pairs: list[tuple[int, int]] = [(pid, 0) for pid in self.exact.get(word, ())]
        if word.endswith(POSSESSIVE):
            pairs += [(pid, len(POSSESSIVE)) for pid in self.exact.get(word[:-len(POSSESSIVE)], ())]
        for n in range(MIN_PREFIX_CHARS, min(len(word), self.longest_prefix) + 1):
            pairs += [(pid, 0) for pid in self.prefixes.get(word[:n], ())]
        pairs += [(pid, 0) for pid in self.lemma_exact.get(lemma, ())]
        singles = tuple(x for pair in dict.fromkeys(pairs) for x in pair)
        multi, lemma_multi = self.multi.get(word), self.lemma_multi.get(lemma)
        if not singles and multi is None and lemma_multi is None:
            return None
        by_next, loose = multi or _NO_MULTI
        return singles, by_next, loose, _NOTHING if lemma_multi is None else lemma_multi


_NOTHING: dict = {}  # shared, never changed
_NO_MULTI = (_NOTHING, ())


def _by_next(candidates: tuple) -> tuple[dict, tuple]:
    """``Starts``'s (by_next, loose) of keys as written, each candidate in its order."""
    by_next: dict[str, list] = {}
    loose = []
    for candidate in candidates:
        rest, prefix, _ = candidate
        if len(rest) == 1 and prefix:
            loose.append(candidate)
            continue
        by_next.setdefault(rest[0], []).append(candidate)
        if len(rest) == 1:  # the key's last word: the document's may add a possessive
            by_next.setdefault(rest[0] + POSSESSIVE, []).append(candidate)
    return {k: tuple(v) for k, v in by_next.items()}, tuple(loose)


def _by_next_lemma(candidates: tuple) -> dict:
    """``Starts``'s by_next_lemma of keys by lemma."""
    by_next: dict[str, list] = {}
    for candidate in candidates:
        by_next.setdefault(candidate[0][0], []).append(candidate)
    return {k: tuple(v) for k, v in by_next.items()}


class WordInfos(dict):
    """``word → WordInfo`` for one pack and one Cyrillic language (``lemmas.cyrillic_lang``), filled on
    first sight (``__missing__``, so a lookup of a known word stays a plain dict lookup). ``entry``: the
    pack's model's ``CompiledModel.entry`` when the C loops score it, else None."""

    def __init__(self, keys: WordKeys, cyrillic: str | None, entry: Callable[[str], Entry] | None = None):
        super().__init__()
        self.keys, self.cyrillic, self.entry = keys, cyrillic, entry

    def __missing__(self, word: str) -> WordInfo:
        lemma = word_lemma(word, self.cyrillic) if word else word
        starts = self.keys.info(word, lemma)
        entry = self.entry(lemma) if self.entry is not None else None
        info = self[word] = (lemma, entry) if starts is None else (lemma, entry, *starts)
        return info


def word_hits(words: list[str], infos: WordInfos) -> tuple[dict[int, list[Span]], list[str], list[Entry]]:
    """The phrase hits (phrase id → spans in the text ``" ".join(words)``, in word order), the lemma of
    each word and its model entry (``WordInfos``). Twin of ``_native.word_hits``."""
    found = [infos[word] for word in words]
    lemmas = [info[0] for info in found]
    entries = [info[1] for info in found]
    hits: dict[int, list[Span]] = {}

    def add(pid: int, span: Span) -> None:
        spans = hits.setdefault(pid, [])
        if span not in spans:
            spans.append(span)

    n, start = len(words), 0
    for i, info in enumerate(found):
        if len(info) > 2:
            _, _, singles, by_next, loose, by_next_lemma = info
            end = start + len(words[i])
            for k in range(0, len(singles), 2):
                add(singles[k], (start, end - singles[k + 1]))
            following = (*by_next.get(words[i + 1], ()), *loose) if i + 1 < n else ()
            for rest, prefix, pids in following:
                last = i + len(rest)
                if last >= n or any(words[i + 1 + j] != w for j, w in enumerate(rest[:-1])):
                    continue
                stop = start + len(" ".join(words[i:last + 1]))
                word, key_word = words[last], rest[-1]
                if not (word == key_word or (prefix and word.startswith(key_word))):
                    if prefix or word != key_word + POSSESSIVE:
                        continue
                    stop -= len(POSSESSIVE)  # the span stops before the possessive
                for pid in pids:
                    add(pid, (start, stop))
            for rest, pids in by_next_lemma.get(lemmas[i + 1], ()) if i + 1 < n else ():
                last = i + len(rest)
                if last < n and all(lemmas[i + 1 + j] == w for j, w in enumerate(rest)):
                    stop = start + len(" ".join(words[i:last + 1]))
                    for pid in pids:
                        add(pid, (start, stop))
        start += len(words[i]) + 1
    return hits, lemmas, entries
