"""Matching semantics on small packs written here: prefixes, chains, NEAR, NOT and exclusion vetoes,
weights and thresholds, entity variants across scripts, triggers, offsets, versions and caching."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from schemas.rules import ConceptDef, RulePack
from streams.rules import RulePackError, compile_pack, pack_version


def make_pack(themes=(), entities=(), triggers=(), name="test") -> RulePack:
    return RulePack(name=name, themes=list(themes), entities=list(entities), triggers=list(triggers))


def theme(terms, threshold=1.0, exclude=(), id="t"):
    return {"id": id, "threshold": threshold, "terms": terms, "exclude": list(exclude)}


def matched(rules, text, title=None) -> dict[str, list[str]]:
    result = rules.classify(text, title=title)
    return {hit.theme: [m.text for m in hit.matches] for hit in result.themes}


def test_prefix_wildcard_matches_inflections_but_only_from_a_word_start():
    rules = compile_pack(make_pack([theme({"референдум*": 1})]))
    assert matched(rules, "о референдуме и референдумах") == {"t": ["референдуме", "референдумах"]}
    assert matched(rules, "псевдореферендум") == {}


def test_exact_terms_need_a_word_boundary_on_both_sides_in_latin_and_cyrillic():
    rules = compile_pack(make_pack([theme({"nato": 1, "ес": 1})]))
    assert matched(rules, "notorious natolian, если весна") == {}
    assert matched(rules, "NATO's summit; ЕС, (ес)") == {"t": ["NATO", "ЕС", "ес"]}


def test_phrases_match_across_punctuation_and_line_breaks_but_not_inside_words():
    rules = compile_pack(make_pack([theme({"so-called referendum": 1})]))
    assert matched(rules, "the so called\n\nreferendum") == {"t": ["so called\n\nreferendum"]}
    assert matched(rules, "the so-called referendumsx") == {}
    assert matched(rules, "the so-calledreferendum") == {}


def test_an_exact_term_matches_its_inflections_through_lemmas_in_each_language():
    rules = compile_pack(make_pack([theme({"package of sanctions": 1, "санкция": 1, "заморозити активи": 1})]))
    assert matched(rules, "a new packages of sanction was agreed") == {"t": ["packages of sanction"]}
    assert matched(rules, "под санкциями оказались банки") == {"t": ["санкциями"]}
    assert matched(rules, "Японія заморозила активи посадовців") == {"t": ["заморозила активи"]}


def test_one_word_matched_by_two_terms_counts_once():
    # "sanctioned" is a term and also the lemma form of "sanctions": its weight counts once.
    rules = compile_pack(make_pack([theme({"sanctions": 1, "sanctioned": 1}, threshold=2)]))
    assert matched(rules, "a sanctioned building plan") == {}
    rules = compile_pack(make_pack([theme({"sanctions": 1, "asset freeze": 1}, threshold=2)]))
    assert matched(rules, "sanctions and an asset freeze") == {"t": ["sanctions", "asset freeze"]}


def test_a_concept_stands_for_any_of_its_phrases_in_a_term():
    pack = make_pack([theme({'"@sanctioner" NEAR/4 "@measure"': 2}, threshold=2)])
    pack = pack.model_copy(update={"concepts": [
        ConceptDef(id="sanctioner", phrases=["eu", "японі*"]),
        ConceptDef(id="measure", phrases=["restrictive measure", "обмеження"])]})
    rules = compile_pack(pack)
    assert matched(rules, "the EU adopted restrictive measures") == {"t": ["EU", "restrictive measures"]}
    assert matched(rules, "Японія запровадила нові обмеження") == {"t": ["Японія", "обмеження"]}
    assert matched(rules, "the EU adopted a budget for farms and roads; restrictive measures came later") == {}


def test_a_concept_includes_another_by_naming_it_as_a_whole_phrase():
    pack = make_pack([theme({'"@vote_word" NEAR/4 "annex*"': 1, '"@vote_generic" NEAR/4 "mayor"': 1})])
    pack = pack.model_copy(update={"concepts": [
        ConceptDef(id="vote_word", phrases=["referendum*", "@vote_generic"]),
        ConceptDef(id="vote_generic", phrases=["ballot", "голосуванн*"])]})
    rules = compile_pack(pack)
    # vote_word matches its own phrases and every phrase of the concept it includes.
    assert matched(rules, "a referendum on annexation") == {"t": ["referendum", "annexation"]}
    assert matched(rules, "a ballot on annexation") == {"t": ["ballot", "annexation"]}
    assert matched(rules, "голосування щодо annexation") == {"t": ["голосування", "annexation"]}
    # The included concept alone does not take the includer's phrases.
    assert matched(rules, "a referendum for mayor") == {}


@pytest.mark.parametrize("concepts, message", [
    ([ConceptDef(id="a", phrases=["x", "@b"]), ConceptDef(id="b", phrases=["y", "@a"])],
     "concept includes itself: @a -> @b -> @a"),
    ([ConceptDef(id="a", phrases=["x", "@missing"])], "unknown concept '@missing'"),
    ([ConceptDef(id="a", phrases=["x", "@b*"]), ConceptDef(id="b", phrases=["y"])],
     r"concepts\[0\]\.phrases\[1\]: a concept reference is '@' and a name"),
])
def test_a_concept_include_that_loops_names_nothing_or_is_misspelt_is_refused(concepts, message):
    pack = make_pack([theme({'"@a"': 1})]).model_copy(update={"concepts": concepts})
    with pytest.raises(RulePackError, match=message):
        compile_pack(pack)


def test_rules_check_warns_of_a_phrase_the_included_concept_already_has():
    from streams.rules.loader import redundancies

    pack = make_pack([theme({'"@a"': 1})]).model_copy(update={"concepts": [
        ConceptDef(id="a", phrases=["@b", "vote", "referendum*"]), ConceptDef(id="b", phrases=["vote", "ballot"])]})
    assert redundancies(pack) == [(("concepts", 0, "phrases", 1),
                                   "'vote' adds nothing: '@b', which the concept includes, has it")]


def test_an_exclusions_own_not_spares_the_places_it_meets():
    pack = make_pack([theme({"голосуванн*": 1, "всеукраїнськ* голосуванн*": 2}, threshold=1,
                            exclude=['"голосуванн*" NEAR/5 "вибори" NOT "всеукраїнськ* голосуванн*"'])])
    rules = compile_pack(pack)
    # An election's vote stays vetoed; the popular vote named beside elections is spared.
    assert matched(rules, "голосування на вибори") == {}
    assert matched(rules, "всеукраїнське голосування або вибори") == {
        "t": ["всеукраїнське голосування", "голосування"]}
    # Where both stand in one text, only the place the NOT meets is spared.
    assert matched(rules, "голосування на вибори, а потім всеукраїнське голосування") == {
        "t": ["всеукраїнське голосування", "голосування"]}
    assert rules.analyse("голосування на вибори, а потім всеукраїнське голосування").term_vetoed


def test_chain_of_prefixes_matches_adjacent_inflected_words():
    rules = compile_pack(make_pack([theme({"ядерн* оружи*": 1})]))
    assert matched(rules, "применение ядерного оружия") == {"t": ["ядерного оружия"]}
    assert matched(rules, "ядерного и оружия") == {}


def test_near_matches_within_the_distance_in_either_order_and_not_beyond():
    rules = compile_pack(make_pack([theme({'"nuclear" NEAR/3 "use"': 1})]))
    assert matched(rules, "nuclear weapons they may use") == {"t": ["nuclear", "use"]}
    assert matched(rules, "the use of nuclear arms") == {"t": ["use", "nuclear"]}
    assert matched(rules, "nuclear one two three four use") == {}


def test_not_context_vetoes_only_the_overlapping_matches_of_its_term():
    rules = compile_pack(make_pack([theme({'sanction* NOT "league" NEAR/4 "sanction*"': 1})]))
    assert matched(rules, "the league sanctioned the transfer") == {}
    text = "the league sanctioned the transfer on Monday. Separately, the EU adopted sanctions on Russia"
    assert matched(rules, text) == {"t": ["sanctions"]}


def test_theme_exclude_vetoes_matches_inside_the_excluded_context():
    rules = compile_pack(make_pack([theme({"nuclear*": 1}, exclude=["nuclear fusion"])]))
    assert matched(rules, "a nuclear fusion start-up") == {}
    assert matched(rules, "nuclear fusion, and a nuclear threat") == {"t": ["nuclear"]}


def test_each_term_counts_once_and_the_threshold_decides():
    rules = compile_pack(make_pack([theme({"sanctions": 1, "price cap": 2}, threshold=2)]))
    assert rules.classify("sanctions, sanctions, sanctions").themes == []
    hits = rules.classify("sanctions and a price cap").themes
    assert [(h.theme, h.score) for h in hits] == [("t", 3.0)]


def test_negative_weights_lower_the_score():
    rules = compile_pack(make_pack([theme({"sanctions": 2, "football": -2}, threshold=2)]))
    assert matched(rules, "sanctions") == {"t": ["sanctions"]}
    assert matched(rules, "football sanctions") == {}


ZAPORIZHZHIA = {"id": "zap", "name": "Zaporizhzhia", "type": "place", "tags": ["occupied"],
                "variants": ["Zaporizhia", "Zaporozhye", "Запоріжжя", "Запорожье", "Запорожской", "Запоріжж*"]}


@pytest.mark.parametrize("text", ["Zaporizhzhia", "Zaporizhia", "ZAPOROZHYE", "Запоріжжя", "Запорожье",
                                  "Запоро́жье", "Запорожской", "у Запоріжжі"])
def test_every_spelling_of_an_entity_resolves_to_its_canonical_id(text):
    rules = compile_pack(make_pack(entities=[ZAPORIZHZHIA]))
    result = rules.classify(f"Shelling near {text} overnight")
    assert [(e.id, e.name, e.type) for e in result.entities] == [("zap", "Zaporizhzhia", "place")]
    mention = result.entities[0].mentions[0]
    assert result.document[mention.start:mention.end] == mention.text
    assert mention.text.endswith(text.split()[-1][-3:])


def test_a_variant_inside_a_longer_variant_of_the_same_entity_is_one_mention():
    entity = {"id": "znpp", "name": "ZNPP", "type": "place", "variants": ["Zaporizhzhia nuclear plant", "ZNPP"]}
    rules = compile_pack(make_pack(entities=[entity, ZAPORIZHZHIA]))
    result = rules.classify("The Zaporizhzhia nuclear plant (ZNPP)")
    mentions = {e.id: [m.text for m in e.mentions] for e in result.entities}
    assert mentions == {"znpp": ["Zaporizhzhia nuclear plant", "ZNPP"], "zap": ["Zaporizhzhia"]}


UN = {"id": "un", "name": "United Nations", "type": "organisation", "tags": ["intl"], "variants": ["UN", "ООН"]}
KIM = {"id": "kim", "name": "Kim Jong Un", "type": "person", "hides": ["un"]}


def test_a_mention_inside_a_longer_name_that_hides_its_entity_is_no_mention_of_it():
    rules = compile_pack(make_pack(entities=[UN, KIM], triggers=[
        {"id": "intl", "severity": "info", "when": "entity_tag:intl"}]))
    result = rules.classify("Kim Jong Un spoke; the UN answered.")
    assert {e.id: [m.text for m in e.mentions] for e in result.entities} == {"kim": ["Kim Jong Un"], "un": ["UN"]}
    result = rules.classify("Kim Jong Un inspected a missile.")
    assert [e.id for e in result.entities] == ["kim"] and result.triggers == []
    lines = rules.explain("Kim Jong Un inspected a missile.").render().splitlines()
    assert "entity un (United Nations): not mentioned; part of a longer name: 'Un' [9:11] inside kim" in lines


def test_only_the_entities_named_are_hidden_and_never_by_a_mention_of_the_same_span():
    other = {"id": "un2", "name": "UN Two", "type": "organisation", "variants": ["UN"], "hides": ["un"]}
    rules = compile_pack(make_pack(entities=[UN, KIM, other]))
    assert sorted(e.id for e in rules.classify("The UN met.").entities) == ["un", "un2"]
    assert sorted(e.id for e in rules.classify("Kim Jong Un").entities) == ["kim", "un2"]


@pytest.mark.parametrize("hides, message", [(["nobody"], "unknown entity 'nobody'"), (["kim"], "not itself")])
def test_an_entity_hiding_an_unknown_entity_or_itself_is_refused(hides, message):
    with pytest.raises(RulePackError) as err:
        compile_pack(make_pack(entities=[UN, {**KIM, "hides": hides}]))
    assert "entities[1].hides[0]" in str(err.value) and message in str(err.value)


def test_triggers_combine_themes_entities_tags_and_keywords():
    pack = make_pack(
        [theme({"referendum*": 2}, threshold=2, id="referendum")], [ZAPORIZHZHIA],
        [{"id": "occupied_vote", "severity": "high", "when": "theme:referendum AND entity_tag:occupied"},
         {"id": "kw", "severity": "info", "when": 'keyword "sham*" AND NOT entity:zap'},
         {"id": "quiet", "severity": "warning", "when": "NOT theme:referendum"}])
    rules = compile_pack(pack)
    fired = rules.classify("A sham referendum in Zaporozhye").triggers
    assert [(t.id, t.severity) for t in fired] == [("occupied_vote", "high")]
    fired = rules.classify("A sham vote elsewhere").triggers
    assert [(t.id, t.severity, [m.text for m in t.keywords]) for t in fired] == [
        ("quiet", "warning", []), ("kw", "info", ["sham"])]


def test_a_document_without_a_theme_skips_the_triggers_only_where_every_trigger_needs_one():
    needs = [{"id": "occupied_vote", "severity": "high", "when": "theme:referendum AND entity_tag:occupied"},
             {"id": "either", "severity": "info", "when": "(theme:referendum OR theme:other) AND NOT entity:zap"}]
    themes = [theme({"referendum*": 2}, threshold=2, id="referendum"), theme({"other": 1}, id="other")]
    rules = compile_pack(make_pack(themes, [ZAPORIZHZHIA], needs))
    assert rules.tables.triggers_need_theme
    assert rules.classify("A sham vote in Zaporozhye").triggers == []
    # explain still shows the atoms present where the triggers were skipped
    report = rules.explain("A sham vote in Zaporozhye")
    assert ("entity_tag:occupied", True) in next(t for t in report.triggers if t.trigger == "occupied_vote").atoms
    # One trigger that can fire without a theme turns the skip off for the pack.
    alone = {"id": "named", "severity": "info", "when": "entity:zap AND NOT theme:referendum"}
    rules = compile_pack(make_pack(themes, [ZAPORIZHZHIA], [*needs, alone]))
    assert not rules.tables.triggers_need_theme
    assert [t.id for t in rules.classify("A sham vote in Zaporozhye").triggers] == ["named"]


def test_offsets_index_title_newline_text_when_a_title_is_given():
    rules = compile_pack(make_pack([theme({"референдум*": 1})]))
    result = rules.classify("Итоги референдума", title="Референдум")
    assert result.document == "Референдум\nИтоги референдума"
    assert [(m.start, m.end) for m in result.themes[0].matches] == [(0, 10), (17, 28)]
    assert all(result.document[m.start:m.end] == m.text for m in result.themes[0].matches)


def test_version_is_a_content_hash_stable_across_compiles_and_changed_by_any_edit():
    pack = make_pack([theme({"a word": 1})])
    assert compile_pack(pack).version == pack_version(pack) == pack_version(pack.model_copy())
    assert compile_pack(pack) is compile_pack(make_pack([theme({"a word": 1})]))  # cached by hash
    assert compile_pack(make_pack([theme({"a word": 2})])).version != pack_version(pack)
    assert rules_version_of(pack) == compile_pack(pack).classify("a word").version


def rules_version_of(pack):
    return pack_version(pack)


def test_a_pack_round_trips_through_json_with_the_same_version_and_results():
    pack = make_pack([theme({'"nuclear" NEAR/5 "use"': 1, "ядерн* удар*": 1})], [ZAPORIZHZHIA])
    again = RulePack.model_validate_json(pack.model_dump_json())
    text = "Nuclear arms may use; ядерный удар по Запоріжжю"
    assert compile_pack(again).classify(text) == compile_pack(pack).classify(text)


def test_compiling_a_broken_pack_raises_a_config_error_naming_the_field():
    pack = make_pack([theme({"ok": 1, "x*": 1})], triggers=[{"id": "a", "severity": "info", "when": "theme:nope"}])
    with pytest.raises(RulePackError) as err:
        compile_pack(pack)
    assert isinstance(err.value, ConfigError) and isinstance(err.value, ValueError)
    assert "themes[0].terms.x*" in str(err.value) and "\n" not in str(err.value)


def test_ten_thousand_terms_compile_and_match_by_their_first_word():
    terms = {f"term{i} word{i % 97}": 1.0 for i in range(10_000)}
    rules = compile_pack(make_pack([theme(terms, id="big")]))
    assert len(rules.tables.phrases) == 10_000
    assert matched(rules, "x term9999 word9999 y term5 word5") == {"big": ["term5 word5"]}


@pytest.mark.parametrize("text", ["", " ", "...", "'", "\u0301", "ßßß", "\u00ad\u200b", "x" * 50_000])
def test_degenerate_documents_classify_to_nothing_without_errors(text):
    rules = compile_pack(make_pack([theme({"nuclear*": 1})], [ZAPORIZHZHIA]))
    result = rules.classify(text)
    assert (result.themes, result.entities, result.triggers, result.document) == ([], [], [], text)
