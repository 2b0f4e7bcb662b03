"""The rule languages: term expressions (phrases, prefixes, chains, NEAR, NOT) and trigger
conditions (AND, OR, NOT, parentheses over themes, entities, tags and keywords)."""

from __future__ import annotations

import pytest

from streams.rules.expr import Near, Phrase, RuleSyntaxError, parse_condition, parse_phrase, parse_term


def test_bare_and_quoted_phrases_parse_to_the_same_normalised_chain():
    assert parse_phrase("So-called referendum") == parse_phrase('"so called referendum"')
    assert parse_phrase("So-called referendum") == (Phrase("so called referendum", False),)


def test_trailing_star_makes_the_last_word_a_prefix_inside_or_outside_quotes():
    assert parse_phrase("референдум*") == (Phrase("референдум", True),)
    assert parse_phrase('"референдум*"') == parse_phrase('"референдум"*')


def test_a_star_on_an_inner_word_splits_the_phrase_into_a_chain():
    assert parse_phrase("ядерн* оружи*") == (Phrase("ядерн", True), Phrase("оружи", True))
    assert parse_phrase("так назыв* референдум") == (Phrase("так назыв", True), Phrase("референдум", False))


@pytest.mark.parametrize("bad, reason", [
    ("ab*", "at least 3"),
    ("ref*erendum", "only at the end of a word"),
    ('"—"', "no letters"),
    ("", "no letters"),
])
def test_unusable_phrases_are_rejected_with_the_reason(bad, reason):
    with pytest.raises(RuleSyntaxError, match=reason):
        parse_phrase(bad)


def test_near_takes_two_phrases_and_a_word_distance():
    term = parse_term('"nuclear" NEAR/5 "use"')
    assert term.pattern == Near((Phrase("nuclear", False),), (Phrase("use", False),), 5)
    assert term.nots == ()


def test_not_adds_veto_contexts_which_may_themselves_be_near_patterns():
    term = parse_term('sanction* NOT "league" NEAR/6 "sanction*" NOT fifa')
    assert term.pattern == (Phrase("sanction", True),)
    assert term.nots == (Near((Phrase("league", False),), (Phrase("sanction", True),), 6), (Phrase("fifa", False),))


def test_lowercase_not_and_near_are_words_not_operators():
    assert parse_term("not near").pattern == (Phrase("not near", False),)


@pytest.mark.parametrize("bad", ['"nuclear" NEAR/5', "NOT x", '"a" "b"', '"unbalanced', '"a" NEAR/0 "b"'])
def test_malformed_terms_raise_rule_syntax_errors(bad):
    with pytest.raises(RuleSyntaxError):
        parse_term(bad)


def test_condition_precedence_is_not_then_and_then_or():
    cond = parse_condition("theme:a OR theme:b AND NOT entity:x")
    assert cond.test({("theme", "a"), ("entity", "x")})
    assert cond.test({("theme", "b")})
    assert not cond.test({("theme", "b"), ("entity", "x")})
    assert not cond.test(set())


def test_parentheses_and_keywords_in_conditions():
    cond = parse_condition('theme:s and (keyword "new sanctions" or "пакет* санкций")')
    kw_new = ("keyword", parse_phrase("new sanctions"))
    kw_pack = ("keyword", parse_phrase("пакет* санкций"))
    assert cond.atoms == {("theme", "s"), kw_new, kw_pack}
    assert cond.test({("theme", "s"), kw_pack})
    assert not cond.test({kw_pack, kw_new})


def test_condition_is_compiled_from_atoms_never_from_the_rules_text():
    # The compiled test names atoms by position; the rule's own text (quotes, parentheses, Python) is data.
    cond = parse_condition('keyword "x) or True or (y" OR NOT NOT (theme:a AND theme:a) OR entity:__import__')
    kw = ("keyword", parse_phrase("x) or True or (y"))
    assert cond.atoms == {kw, ("theme", "a"), ("entity", "__import__")}
    assert not cond.test(set())
    assert cond.test({kw}) and cond.test({("theme", "a")}) and cond.test({("entity", "__import__")})
    assert not cond.test({("theme", "b"), ("keyword", "x")})


@pytest.mark.parametrize("depth", [300, 2000])
def test_a_condition_nested_hundreds_deep_is_refused_with_a_reason_not_a_crash(depth):
    with pytest.raises(RuleSyntaxError, match="nests too deeply"):
        parse_condition("(" * depth + "theme:a OR NOT (theme:b OR entity:c)" + ")" * depth)


def test_alternating_groups_nest_as_deep_as_the_parser_allows_and_still_evaluate():
    source = "theme:z"
    for i in range(60):  # each level: NOT ( … OR theme:i ), a group the compiled expression keeps
        source = f"NOT ({source} OR theme:t{i})"
    cond = parse_condition(source)
    # Level i is NOT (level i-1 OR t_i): with nothing present the levels alternate True, False, … and the
    # sixtieth is False; the innermost atom present flips every level; the outermost's own atom ends it.
    assert cond.test(set()) is False
    assert cond.test({("theme", "z")}) is True
    assert cond.test({("theme", "z"), ("theme", "t59")}) is False


@pytest.mark.parametrize("bad, reason", [
    ("theme:a AND", "ends too early"),
    ("(theme:a OR theme:b", "missing '\\)'"),
    ("colour:red", "unknown atom"),
    ("theme:a theme:b", "unexpected"),
    ("theme:a & theme:b", "cannot read"),
])
def test_malformed_conditions_name_the_problem(bad, reason):
    with pytest.raises(RuleSyntaxError, match=reason):
        parse_condition(bad)
