"""Normalisation: every spelling a reader calls the same word matches alike, and every normalised
span maps back to the exact original characters it came from."""

from __future__ import annotations

import re

import pytest

from streams.rules.normalize import normalize, normalize_phrase


def words_back(text: str) -> list[tuple[str, str]]:
    """(normalised word, original slice it maps to) for every word of ``text``."""
    n = normalize(text)
    return [(m.group(), text[slice(*n.span(m.start(), m.end()))]) for m in re.finditer(r"\S+", n.text)]


@pytest.mark.parametrize("spelling", ["об'єкт", "обʼєкт", "об’єкт", "об‘єкт", "ОБ'ЄКТ", "об`єкт"])
def test_ukrainian_apostrophe_variants_normalise_to_one_spelling(spelling):
    assert normalize(spelling).text == "об'єкт"


def test_nfkc_and_case_folding_unify_fullwidth_ligatures_and_capitals():
    assert normalize("ＮＡＴＯ ﬁnal STRAẞE").text == "nato final strasse"


def test_yo_becomes_ye_in_both_cases():
    assert normalize("Ёлка, ещё Семёрка").text == "елка еще семерка"


def test_stress_marks_soft_hyphens_and_zero_width_characters_are_dropped():
    assert normalize("Запоро\u0301жье ре\u00adферен\u200bдум").text == "запорожье референдум"


def test_separators_become_single_spaces_and_quoting_apostrophes_are_separators():
    assert normalize("«U.S.»  sanctions —\n\n'new' package; Putin's").text == " u s sanctions new package putin's"


def test_the_underscores_of_a_hashtag_separate_its_words_and_map_back():
    norm = normalize("#Кривий_Ріг #ядерний_шантаж x_'y")
    assert norm.text == " кривий ріг ядерний шантаж x y"
    start = norm.text.index("ріг")
    assert norm.original[slice(*norm.span(start, start + 3))] == "Ріг"


def test_an_at_handle_keeps_its_underscores_so_a_channels_signature_names_no_place():
    assert normalize("Подписаться: @moscow_live, #новости_дня").text == "подписаться moscow_live новости дня"


@pytest.mark.parametrize("text", [
    "Запоро\u0301жье — «референдум» в Запоріжжі, Putin's STRAẞE ﬁne",
    "  U.S.  sanctions,\n\nновые  санкції  ",
    "İstanbul ǅemal ŉ ΐ ﬃ x",
    "ОБʼЄДНАННЯ   об’єкт ‘quoted’",
])
def test_every_normalised_word_maps_back_to_its_original_characters(text):
    pairs = words_back(text)
    assert pairs, text
    for word, original in pairs:
        assert original, (word, text)
        # The original slice, normalised on its own, gives back the word (or contains it, for
        # characters that expand into several words, which none of these do).
        assert normalize_phrase(original) == word, (word, original)


def test_identity_map_is_used_for_plain_text():
    n = normalize("Plain news text, in English and русский.")
    assert n.starts is None and n.ends is None


def test_slow_path_is_used_when_folding_changes_length():
    n = normalize("Straße")
    assert n.starts is not None
    assert n.text == "strasse"
    assert n.span(0, len(n.text)) == (0, 6)


def test_normalize_phrase_collapses_and_strips():
    assert normalize_phrase('  "So-Called"   Referendum ') == "so called referendum"


def test_characters_that_fold_alone_take_the_table_path_and_map_back_exactly():
    n = normalize("№5‼ Запоріжжя\u00a0… ﬁnal")
    assert n.text == "no5 запоріжжя final"
    assert [n.original[slice(*n.span(m.start(), m.end()))] for m in re.finditer(r"\S+", n.text)] == \
        ["№5", "Запоріжжя", "ﬁnal"]


def _every_char_sample() -> list[str]:
    """Texts mixing plain letters with characters folding changes: compatibility forms, expanding
    case folds, drops, combining marks (which fold with the letter before them)."""
    import random
    import unicodedata
    rng = random.Random(5)
    odd = [chr(c) for c in range(0xA0, 0x3000)
           if unicodedata.normalize("NFKC", chr(c)) != chr(c) or len(chr(c).casefold()) != 1
           or unicodedata.combining(chr(c))]
    plain = list("abc ЗапоріжжяЁё'’ .,-")
    return ["".join(rng.choice(odd if rng.random() < 0.2 else plain) for _ in range(rng.randint(1, 40)))
            for _ in range(3000)]


def test_the_table_path_folds_exactly_as_the_per_character_path():
    from streams.rules.normalize import _fold_chars, _fold_slow
    compared = 0
    for text in _every_char_sample():
        fast = _fold_chars(text)
        if fast is None:  # combining marks: the per-character path's case
            continue
        folded, starts, ends = _fold_slow(text)
        assert fast[0] == folded, text
        assert (fast[1] or list(range(len(text)))) == starts, text
        assert (fast[2] or list(range(1, len(text) + 1))) == ends, text
        compared += 1
    assert compared > 500
