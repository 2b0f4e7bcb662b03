"""Text normalisation for matching, with a map from normalised offsets back to the original text.

Rule terms and documents go through the same steps, so a term matches every spelling a reader would
call the same word:

1. Unicode NFKC (full-width letters, ligatures, composed accents), then case folding;
2. soft hyphens, zero-width characters and Russian stress marks (U+0301) removed;
3. one spelling for apostrophes (Ukrainian ʼ ’ ' and friends), quotes and dashes; ё → е (in the same pass as
   step 4, which reads every character anyway);
4. every character that is not part of a word (a letter or a digit) becomes a space, an underscore too
   except inside an @handle, and each run of them one space. An apostrophe counts as part of a word
   only between two word characters (``об'єкт``, ``Putin's``), not when it quotes one.

Steps 1–3 keep the length for almost all real text (Latin and Cyrillic news), so the common case is
a few C-level string calls plus one entry per collapsed separator run. Text that NFKC or case folding
changes (``‼``, ``№``, ``ß``, ``ﬁ``, no-break spaces) is folded through a table of its distinct
characters; only text with combining marks (stress marks) takes the per-character path. Both record
for every folded character the original span it came from.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

from streams.rules.native import spaces as _native_spaces

_APOSTROPHES = "\u02bc\u2019\u2018\u201b\u0060\u00b4\u2032\uff07"
_QUOTES = "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\u2039\u203a"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"

_REPLACE = {**{c: "'" for c in _APOSTROPHES}, **{c: '"' for c in _QUOTES}, **{c: "-" for c in _DASHES},
            "ё": "е"}
# A regex finds the few characters to replace; str.translate with a dict costs a lookup per character.
_REPLACE_RE = re.compile(f"[{''.join(_REPLACE)}]")
# Characters dropped outright: soft hyphen, zero-width space/joiners, BOM, combining grave/acute
# (Russian and Ukrainian texts mark stress with them: "Запоро́жье").
_DROP = "\u00ad\u200b\u200c\u200d\u2060\ufeff\u0300\u0301"
_DROP_RE = re.compile(f"[{_DROP}]")
# Not part of a word: anything but \w and apostrophe, plus an apostrophe not between word characters.
# Plain spaces already are what they become, so the pattern skips them (most separators are spaces).
_SEPARATOR_RE = re.compile(r"[^\w ']")
_LOOSE_APOSTROPHE_RE = re.compile(r"(?<!\w)'|'(?!\w)")
# An underscore separates words too (Telegram writes multi-word hashtags with it: "#ядерний_шантаж",
# "#Кривий_Ріг"), except inside an @handle: a channel's "@moscow_live" under every post names no place.
_UNDERSCORE_RE = re.compile(r"@\w+|_")
_SPACES_RE = re.compile(r" {2,}")


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """``text`` is the matching form: words separated by single spaces.

    Offsets go back in two steps. Runs of separators collapsed into one space: after normalised
    position ``breaks[k]`` add ``shifts[k]`` to get the position in the folded text. Folding: folded
    character ``i`` came from ``original[starts[i]:ends[i]]``; ``starts``/``ends`` are ``None`` when
    folding kept every character in place (the common case), which saves two lists per document.
    """

    original: str
    text: str
    breaks: list[int]
    shifts: list[int]
    starts: list[int] | None = None
    ends: list[int] | None = None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original offsets of the normalised span ``text[start:end]`` (``end`` exclusive)."""
        # Called for every match shown (~10 a passage): the two lookups are written out here.
        last = end - 1
        breaks = self.breaks
        if breaks:
            k = bisect.bisect_right(breaks, start)
            if k:
                start += self.shifts[k - 1]
            k = bisect.bisect_right(breaks, last, k)  # last >= start: its break is at k or after
            if k:
                last += self.shifts[k - 1]
        if self.starts is None:
            return start, last + 1
        return self.starts[start], self.ends[last]


def _fold_fast(text: str) -> str | None:
    """The folded text when folding keeps every character in place, else ``None``. Apostrophes, quotes,
    dashes and ё are left as they are: the last step (``spaces``) spells them one way as it reads them."""
    if not text.isascii() and (not unicodedata.is_normalized("NFKC", text) or _DROP_RE.search(text)):
        return None
    folded = text.casefold()
    # Case folding never deletes a character, so equal total length means one char per char.
    if len(folded) != len(text):
        return None
    return folded


def _replace(text: str) -> str:
    return _REPLACE_RE.sub(lambda m: _REPLACE[m.group()], text) if _REPLACE_RE.search(text) else text


# A character folded on its own, or None for a combining mark (it folds with the character before
# it). Bounded by the characters Unicode has; a few thousand in practice.
_PIECES: dict[str, str | None] = {}
_UNSEEN = object()


def _piece(ch: str) -> str | None:
    found = _PIECES.get(ch, _UNSEEN)
    if found is _UNSEEN:
        if unicodedata.combining(ch):
            found = None
        else:
            folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", ch).casefold())
            found = _DROP_RE.sub("", folded)
        _PIECES[ch] = found
    return found


def _is_plain(ch: str) -> bool:
    """Whether a character's fold is its case folding, one character for one (most letters, digits and
    punctuation are)."""
    piece = _piece(ch)
    return piece is not None and len(piece) == 1 and piece == ch.casefold()


# Characters seen that are plain. Bounded by the characters Unicode has, like ``_PIECES``.
_PLAIN: set[str] = set()
# Every character that may not be plain: all but the plain ones of Latin-1 and Cyrillic (worked out
# here, ~1 ms), which is all but a few characters of a Russian, Ukrainian or English text; a scan for
# it is a regex pass instead of a set of a string's characters (a new object per Cyrillic character).
_MAYBE_ODD_RE = re.compile("[^" + re.escape("".join(filter(_is_plain, map(chr, range(0x500))))) + "]")


def _fold_chars(text: str) -> tuple[str, list[int] | None, list[int] | None] | None:
    """``_fold_slow``'s result, character by character, when no character is a combining mark (then
    each character folds on its own), else ``None``.

    Telegram posts and news carry a few characters NFKC changes (``‼``, ``№``, ``…``, no-break spaces,
    the zero-width joiners of emoji) beside the quotes and dashes matching replaces (``«``, ``—``).
    One regex pass finds the text's odd characters (those whose fold is not their one-character case
    folding); the runs between them are case folded whole, and the offset lists are built from
    ranges between the characters whose fold changes the length, instead of a Python step per
    character (~1 ms for a 300-character post) or a translation table over every distinct character."""
    odd: dict[str, str] = {}
    for ch in set(_MAYBE_ODD_RE.findall(text)).difference(_PLAIN):
        piece = _piece(ch)
        if piece is None:
            return None
        if _is_plain(ch):
            _PLAIN.add(ch)
        else:
            odd[ch] = piece
    positions = sorted(i for ch in odd for i in _positions(text, ch))
    parts: list[str] = []
    done = 0
    for i in positions:
        parts += (text[done:i].casefold(), odd[text[i]])
        done = i + 1
    parts.append(text[done:].casefold())
    folded = "".join(parts)
    if all(len(piece) == 1 for piece in odd.values()):
        return folded, None, None
    starts: list[int] = []
    ends: list[int] = []
    done = 0
    for i in positions:
        width = len(odd[text[i]])
        if width == 1:
            continue
        starts.extend(range(done, i))
        ends.extend(range(done + 1, i + 1))
        starts.extend([i] * width)
        ends.extend([i + 1] * width)
        done = i + 1
    starts.extend(range(done, len(text)))
    ends.extend(range(done + 1, len(text) + 1))
    return folded, starts, ends


def _positions(text: str, ch: str):
    i = text.find(ch)
    while i >= 0:
        yield i
        i = text.find(ch, i + 1)


def _fold_slow(text: str) -> tuple[str, list[int], list[int]]:
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        # A base character and its combining marks normalise together (и + ̆ → й).
        while j < n and unicodedata.combining(text[j]):
            j += 1
        piece = unicodedata.normalize("NFKC", text[i:j]).casefold()
        piece = _DROP_RE.sub("", unicodedata.normalize("NFKC", piece))
        for ch in piece:
            out.append(ch)
            starts.append(i)
            ends.append(j)
        i = j
    return "".join(out), starts, ends


def normalize(text: str) -> NormalizedText:
    """The matching form of ``text``: folded, word characters kept, everything else a space."""
    folded = _fold_fast(text)
    starts = ends = None
    if folded is None:
        folded, starts, ends = _fold_chars(text) or _fold_slow(text)
    collapsed, breaks, shifts = (_native_spaces or _spaces)(folded)
    return NormalizedText(text, collapsed, breaks, shifts, starts, ends)


def _spaces(folded: str) -> tuple[str, list[int], list[int]]:
    """Every character that is not part of a word a space, each run of spaces one space; with the
    ``breaks`` and ``shifts`` of ``NormalizedText``; apostrophes, quotes, dashes and ё first spelled one way
    (``_REPLACE``). (``native.spaces`` does the same in C.)"""
    folded = _replace(folded)
    if "_" in folded:
        folded = _UNDERSCORE_RE.sub(_outside_handles, folded)
    spaced = _SEPARATOR_RE.sub(" ", folded)
    # One class without lookarounds is several times faster; apostrophes are rarer, so test first.
    if "'" in spaced:
        spaced = _LOOSE_APOSTROPHE_RE.sub(" ", spaced)
    # Collapse separator runs ("U.S. sanctions", ", ", "\n\n") so phrases match across them.
    return _collapse(spaced)


def _outside_handles(match: re.Match) -> str:
    return " " if match.group() == "_" else match.group()


def _collapse(spaced: str) -> tuple[str, list[int], list[int]]:
    # str.find is a C fast search; a regex scan over the whole text costs several times more.
    pieces, breaks, shifts, shift, pos = [], [], [], 0, 0
    run = spaced.find("  ")
    while run >= 0:
        end = run + 2
        while end < len(spaced) and spaced[end] == " ":
            end += 1
        pieces.append(spaced[pos:run + 1])
        shift += end - run - 1
        breaks.append(end - shift)
        shifts.append(shift)
        pos = end
        run = spaced.find("  ", pos)
    if not breaks:
        return spaced, breaks, shifts
    pieces.append(spaced[pos:])
    return "".join(pieces), breaks, shifts


def normalize_phrase(phrase: str) -> str:
    """The matching form of a rule phrase: normalised, with single spaces and no padding."""
    return _SPACES_RE.sub(" ", normalize(phrase).text).strip()
