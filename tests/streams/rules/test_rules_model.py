"""The learned second opinion (``streams.rules.model``, ``streams.rules.train``): it scores as trained,
it generalises to passages it never saw, it explains itself with exact offsets, and a pack carrying a
broken model is refused with the file named."""

from __future__ import annotations

import base64
import json
import math
import subprocess
import sys
from itertools import chain
from pathlib import Path

import numpy as np
import pytest

from schemas.rules import ModelTheme, RulePack, TextModel
from streams.rules import RulePackError, compile_pack, load_pack, read_pack
from streams.rules.evaluate import LabelledItem, evaluate, read_set, read_sets
from streams.rules.expr import parse_phrase
from streams.rules.lemmas import lemma_words
from streams.rules.loader import check_pack
from streams.rules.model import (
    VETOED_THRESHOLD,
    CompiledModel,
    decode_weights,
    document_features,
    encode_weights,
    word_buckets,
)
from streams.rules.normalize import normalize
from streams.rules.train import feature_matrix, hash_folds, median_bars, train_model

QUALITY = Path(__file__).resolve().parents[2] / "data" / "quality"
TERMS_ONLY = load_pack().model_copy(update={"model": None})


def pack_with(model: TextModel, base: RulePack = TERMS_ONLY) -> RulePack:
    return base.model_copy(update={"model": model, "version": ""})


@pytest.fixture(scope="module")
def trained():
    """A model trained on the first three dev splits only; dev4 was written and labelled apart."""
    train = read_sets([QUALITY / "dev.jsonl", QUALITY / "dev2.jsonl", QUALITY / "dev3.jsonl"])
    # One cross-validation split (not the shipped five): what these tests check does not need them.
    return train_model(compile_pack(TERMS_ONLY), train, trained_on="dev, dev2, dev3", repeats=1)


def test_trained_model_lifts_f1_on_passages_it_never_saw(trained):
    held_out = read_set(QUALITY / "dev4.jsonl")
    terms = evaluate(compile_pack(TERMS_ONLY), held_out)
    both = evaluate(compile_pack(pack_with(trained)), held_out)
    # Measured: 0.877 with the terms alone, 0.941 with the model beside them.
    assert both.macro_f1 >= terms.macro_f1 + 0.04, (terms.macro_f1, both.macro_f1)
    for theme in both.themes:
        assert both.overall[theme].precision >= 0.92, theme
        assert both.overall[theme].recall >= terms.overall[theme].recall, theme


def test_runtime_score_equals_the_trained_logistic_model(trained):
    items = read_set(QUALITY / "dev4.jsonl")[:40]
    assert trained.features == "lemma-ngrams-concepts-v2"
    x = feature_matrix(items, trained.bits, trained.min_buckets, compile_pack(TERMS_ONLY))
    rules = compile_pack(pack_with(trained))
    for theme, spec in trained.themes.items():
        weights = decode_weights(spec.weights, trained.bits).astype(np.float64)
        expected = 1 / (1 + np.exp(-(x @ weights + spec.bias)))
        index = rules.theme_index(theme)
        got = [rules.model_probability(rules.analyse(i.text, i.lang), index) for i in items]
        assert np.allclose(got, expected, atol=1e-4), theme


def test_a_theme_assigned_by_the_model_names_the_words_that_counted(trained):
    rules = compile_pack(pack_with(trained))
    # A threat told without the pack's escalation words: the terms stay below the threshold, the
    # model (which never saw this passage) carries it.
    [item] = [i for i in read_set(QUALITY / "dev4.jsonl") if i.id == "en4a-008"]
    assert item.themes == ["escalation"]
    text = item.text
    assert rules.partial_theme(rules.analyse(text, "en"), "escalation")[0] < rules.theme_threshold("escalation")
    [hit] = [h for h in rules.classify(text, lang="en").themes if h.theme == "escalation"]
    assert hit.model is not None and hit.model >= trained.themes["escalation"].threshold
    model_words = [m for m in hit.matches if m.term == "model"]
    assert model_words and all(text[m.start:m.end] == m.text for m in model_words)
    explained = rules.explain(text, lang="en").render()
    assert "model: probability" in explained and "theme escalation: score" in explained


def test_weights_round_trip_and_a_wrong_size_is_refused():
    weights = np.linspace(-2, 2, 1 << 10)
    assert np.allclose(decode_weights(encode_weights(weights), 10), weights, atol=2e-3)
    with pytest.raises(ValueError, match="buckets"):
        decode_weights(encode_weights(weights), 11)


def test_weights_that_are_not_finite_are_refused_both_ways():
    # Scoring takes back weights a word brought twice: exact for finite weights only (inf - inf is NaN).
    with pytest.raises(ValueError, match="not finite"):
        encode_weights(np.array([0.5, 1e6]))
    broken = np.zeros(1 << 4, dtype="<f2")
    broken[3] = np.inf
    with pytest.raises(ValueError, match="1 weights are not finite"):
        decode_weights(base64.b64encode(broken.tobytes()).decode("ascii"), 4)


def test_a_pack_with_a_broken_model_is_refused_naming_the_file(tmp_path):
    (tmp_path / "themes.yaml").write_text("themes:\n  - id: sanctions\n    terms: {sanctions: 1}\n")
    bad = TextModel(bits=10, themes={"sanction": ModelTheme(bias=0.0, weights=encode_weights(np.zeros(1 << 10))),
                                     "sanctions": ModelTheme(bias=0.0, weights=encode_weights(np.zeros(8)))})
    (tmp_path / "model.json").write_text(json.dumps({"model": bad.model_dump()}))
    _, problems = read_pack(tmp_path)
    messages = [str(p) for p in problems]
    assert any("model.json" in m and "'sanction', which is not a theme" in m for m in messages), messages
    assert any("model.json" in m and "unreadable weights" in m for m in messages), messages
    with pytest.raises(RulePackError):
        load_pack(tmp_path)


def test_two_model_files_in_one_pack_are_refused(tmp_path):
    (tmp_path / "themes.yaml").write_text("themes:\n  - id: sanctions\n    terms: {sanctions: 1}\n")
    model = {"model": TextModel(bits=8, themes={}).model_dump()}
    (tmp_path / "a.json").write_text(json.dumps(model))
    (tmp_path / "b.json").write_text(json.dumps(model))
    _, problems = read_pack(tmp_path)
    assert any("second learned model" in str(p) for p in problems)


def test_a_model_with_no_verdict_for_a_theme_leaves_it_to_the_terms():
    model = TextModel(bits=8, themes={})
    rules = compile_pack(pack_with(model))
    assert isinstance(rules.tables.model, CompiledModel)
    hit = rules.classify("The EU extended sanctions on Russia.", lang="en").themes
    assert [h.theme for h in hit] == ["sanctions"] and hit[0].model is None


@pytest.mark.parametrize("min_buckets", [1, 50])
def test_the_model_probability_is_a_logistic_of_the_scaled_features(min_buckets):
    # One theme, every bucket weighing 1: a document of n distinct buckets scores
    # n / sqrt(max(n, min_buckets)) + bias; "ok" has a handful of buckets, fewer than 50.
    model = TextModel(bits=8, min_buckets=min_buckets,
                      themes={"sanctions": ModelTheme(bias=-3.0, threshold=0.9, weights=encode_weights(np.ones(256)))})
    rules = compile_pack(pack_with(model))
    a = rules.analyse("ok", "en")
    n = len(document_features(a.lemmas, 255, {}))
    assert 1 < n < 50
    assert math.isclose(a.model.probabilities[rules.theme_index("sanctions")],
                        1 / (1 + math.exp(-(n / math.sqrt(max(n, min_buckets)) - 3.0))), rel_tol=1e-4)


def test_a_headline_of_a_few_words_cannot_carry_a_theme_on_the_model_alone():
    # Short negatives the model once took for escalation: "nuclear" in a band's name, in energy.
    rules = compile_pack(load_pack())
    for text, lang in (("Новый альбом группы «Ядерное лето» возглавил чарты второй неделю подряд.", "ru"),
                       ("Ядерна енергетика залишається основою енергосистеми Франції.", "uk")):
        assert "escalation" not in {h.theme for h in rules.classify(text, lang=lang).themes}, text


def test_rules_train_writes_a_model_the_pack_then_loads(tmp_path):
    pack_dir = tmp_path / "pack"
    pack_dir.mkdir()
    (pack_dir / "themes.yaml").write_text(
        "themes:\n  - id: sanctions\n    threshold: 2\n    terms: {sanctions: 1, sanctioned: 1}\n")
    done = subprocess.run([sys.executable, "-m", "watchfloor", "rules", "train", str(pack_dir),
                           "--set", str(QUALITY / "dev.jsonl"), "--min-precision", "0.8", "--repeats", "1"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "a model for 1 theme(s) from 319 passages" in done.stdout
    pack = load_pack(pack_dir)
    assert set(pack.model.themes) == {"sanctions"} and "319 labelled passages (dev.jsonl)" in pack.model.trained_on
    items = [LabelledItem(id="1", lang="en", text="Washington blacklisted two Russian banks and froze their assets.")]
    assert evaluate(compile_pack(pack), items).errors[0].model is not None  # a false alarm or not, it is scored


def _always(probability: float) -> TextModel:
    """A model that puts sanctions at ``probability`` in any text (threshold 0.5)."""
    bias = float(np.log(probability / (1 - probability)))
    return TextModel(bits=8, themes={"sanctions": ModelTheme(bias=bias, threshold=0.5, weights=encode_weights(np.zeros(256)))})


def test_an_exclusion_raises_the_models_bar_for_its_theme_to_the_vetoed_threshold():
    base = RulePack.model_validate({"name": "t", "themes": [
        {"id": "sanctions", "threshold": 1, "terms": {"sanctioned": 1}, "exclude": ['"league" NEAR/5 "sanctioned"']}]})
    excluded = "The league sanctioned the transfer."
    unsure = compile_pack(pack_with(_always(VETOED_THRESHOLD - 0.05), base))
    assert [h.theme for h in unsure.classify("Prices rose in March.").themes] == ["sanctions"]  # above 0.5
    assert unsure.classify(excluded).themes == []  # but under the bar an exclusion sets
    shown = unsure.explain(excluded).render()
    assert "theme sanctions: score 0 / threshold 1 -> not assigned" in shown
    # The explanation shows the bar the model had to reach here, not the theme's usual 0.5.
    assert f"/ threshold {VETOED_THRESHOLD:g} (raised: an exclusion vetoed a term of this theme)" in shown
    assert "/ threshold 0.5" not in shown
    assert "/ threshold 0.5" in unsure.explain("Prices rose in March.").render()
    sure = compile_pack(pack_with(_always(VETOED_THRESHOLD + 0.05), base))
    assert [h.theme for h in sure.classify(excluded).themes] == ["sanctions"]


def test_part_of_the_terms_lowers_the_models_bar_to_with_terms_unless_a_term_was_vetoed():
    base = RulePack.model_validate({"name": "t", "themes": [
        {"id": "sanctions", "threshold": 2, "terms": {"sanctioned": 1},
         "exclude": ['"league" NEAR/5 "sanctioned"']}]})
    model = _always(0.6)
    model.themes["sanctions"] = model.themes["sanctions"].model_copy(update={"threshold": 0.8, "with_terms": 0.5})
    rules = compile_pack(pack_with(model, base))
    assert rules.classify("Prices rose in March.").themes == []  # no term: 0.6 is under 0.8
    [hit] = rules.classify("Washington sanctioned two banks.").themes  # one term of weight 1 of 2: 0.5 is enough
    assert (hit.theme, hit.score, [m.text for m in hit.matches]) == ("sanctions", 1.0, ["sanctioned"])
    assert "model: probability 0.600 / threshold 0.5 (lowered: the terms found part of this theme)" in \
        rules.explain("Washington sanctioned two banks.").render()
    assert rules.classify("The league sanctioned the transfer.").themes == []  # vetoed: the bar goes up
    # A model trained before with_terms existed (no field) keeps one bar.
    old = compile_pack(pack_with(_always(0.6).model_copy(update={"themes": {"sanctions": ModelTheme(
        bias=float(np.log(1.5)), threshold=0.8, weights=encode_weights(np.zeros(256)))}}), base))
    assert old.classify("Washington sanctioned two banks.").themes == []


def test_training_picks_a_with_terms_bar_only_where_it_buys_f1_at_the_precision_floor():
    from streams.rules.train import _thresholds

    # Positives the terms half-found sit at 0.6; negatives without terms at 0.7; strong positives at 0.95.
    y = np.array([True] * 10 + [True] * 10 + [False] * 10)
    p = np.array([0.95] * 10 + [0.6] * 10 + [0.7] * 10)
    partial = np.array([False] * 10 + [True] * 10 + [False] * 10)
    none = np.zeros(30, dtype=bool)
    threshold, with_terms, vetoed, _, f1 = _thresholds(p, none, partial, y, 0.95)
    assert threshold > 0.7 and with_terms is not None and with_terms <= 0.6 and vetoed is None and f1 == 1.0
    # Where the half-found passages are negatives, the lower bar would cost precision: none is given.
    threshold, with_terms, _, _, _ = _thresholds(p, none, partial, np.array([True] * 10 + [False] * 20), 0.95)
    assert threshold > 0.7 and with_terms is None


def test_training_raises_the_vetoed_bar_where_vetoed_look_alikes_score_high_and_keeps_the_threshold():
    from streams.rules.train import _thresholds

    # Unvetoed positives at 0.85; look-alikes an exclusion vetoed at 0.88; vetoed positives at 0.99.
    y = np.array([True] * 20 + [False] * 6 + [True] * 4)
    p = np.array([0.85] * 20 + [0.88] * 6 + [0.99] * 4)
    vetoed = np.array([False] * 20 + [True] * 10)
    none = np.zeros(30, dtype=bool)
    threshold, with_terms, bar, caution, f1 = _thresholds(p, none, none, y, 0.95, vetoed)
    assert threshold <= 0.85 and bar in (0.90, 0.95) and f1 == 1.0  # both keep the look-alikes out
    # One bar for every passage would have to rise above the look-alikes, and lose the 0.85 positives.
    threshold, _, bar, _, f1 = _thresholds(p, none, none, y, 0.95)
    assert threshold == 0.90 and bar is None and f1 < 0.5
    # Where no look-alike stands among the vetoed passages, the bar stays the default (None).
    _, _, bar, _, _ = _thresholds(p, none, none, np.array([True] * 20 + [True] * 10), 0.95, vetoed)
    assert bar is None


def test_training_gives_passages_a_caution_context_met_a_bar_of_their_own():
    from streams.rules.train import _thresholds

    # Positives at 0.85; look-alikes beside a caution context at 0.88; cautioned positives at 0.99;
    # and vetoed positives at 0.82, which a bar shared with the cautioned passages would lose.
    y = np.array([True] * 20 + [False] * 6 + [True] * 4 + [True] * 4)
    p = np.array([0.85] * 20 + [0.88] * 6 + [0.99] * 4 + [0.82] * 4)
    cautioned = np.array([False] * 20 + [True] * 10 + [False] * 4)
    vetoed = np.array([False] * 30 + [True] * 4)
    none = np.zeros(34, dtype=bool)
    threshold, _, bar, caution, f1 = _thresholds(p, none, none, y, 0.95, vetoed, cautioned=cautioned)
    assert threshold <= 0.80 and bar is None and caution in (0.90, 0.95) and f1 == 1.0
    # Where the look-alikes had a term vetoed as well, the higher of the two bars keeps them out.
    both = _thresholds(p, none, none, y, 0.95, vetoed | cautioned, cautioned=cautioned)
    assert max(both[2] or 0.8, both[3] or 0.8) >= 0.90 and both[4] == 1.0


def test_training_takes_the_cautious_bars_when_a_lower_one_buys_less_f1_than_the_tolerance():
    from streams.rules.train import _thresholds

    # 1,000 positives the model is sure of; beside part of the terms, 3 positives and 2 negatives at 0.4.
    y = np.array([True] * 1000 + [True] * 3 + [False] * 2)
    p = np.array([0.95] * 1000 + [0.4] * 5)
    partial = np.array([False] * 1000 + [True] * 5)
    none = np.zeros(1005, dtype=bool)
    # The lower bar gains 0.0005 of F1 and two false alarms: strictly best, it wins only without tolerance.
    assert _thresholds(p, none, partial, y, 0.95, tolerance=0.0)[1] <= 0.4
    assert _thresholds(p, none, partial, y, 0.95, tolerance=0.002)[1] is None


def test_a_trained_vetoed_bar_decides_where_an_exclusion_vetoed_a_term():
    base = RulePack.model_validate({"name": "t", "themes": [
        {"id": "sanctions", "threshold": 1, "terms": {"sanctioned": 1}, "exclude": ['"league" NEAR/5 "sanctioned"']}]})
    model = _always(0.9)
    model.themes["sanctions"] = model.themes["sanctions"].model_copy(update={"vetoed": 0.95})
    rules = compile_pack(pack_with(model, base))
    assert rules.classify("The league sanctioned the transfer.").themes == []  # 0.9 is under the trained 0.95
    assert "/ threshold 0.95 (raised: an exclusion vetoed a term of this theme)" in \
        rules.explain("The league sanctioned the transfer.").render()
    assert [h.theme for h in rules.classify("Prices rose in March.").themes] == ["sanctions"]  # no veto: 0.5
    default = compile_pack(pack_with(_always(0.9), base))  # no trained bar: VETOED_THRESHOLD
    assert [h.theme for h in default.classify("The league sanctioned the transfer.").themes] == ["sanctions"]


def test_a_caution_context_raises_the_models_bar_where_it_meets_but_vetoes_no_term():
    base = RulePack.model_validate({"name": "t", "themes": [
        {"id": "sanctions", "threshold": 2, "terms": {"sanctions": 2}, "caution": ['"tariff*" NEAR/4 "steel"'],
         "exclude": ['"league" NEAR/2 "sanctions"']}]})
    model = _always(0.9)
    model.themes["sanctions"] = model.themes["sanctions"].model_copy(update={"caution": 0.95, "vetoed": 0.85})
    rules = compile_pack(pack_with(model, base))
    bar = rules.tables.model.bar
    assert (bar(0), bar(0, vetoed=True), bar(0, cautioned=True), bar(0, vetoed=True, cautioned=True)) == \
        (0.5, 0.85, 0.95, 0.95)  # where both hold, the higher bar
    assert [h.theme for h in rules.classify("Prices rose in March.").themes] == ["sanctions"]  # 0.9 over 0.5
    tariffs = "Washington raised tariffs on steel from Canada."
    assert rules.classify(tariffs).themes == []  # the model alone now needs 0.95
    assert "/ threshold 0.95 (raised: caution context \"tariff*\" NEAR/4 \"steel\" matched)" in \
        rules.explain(tariffs).render()
    # The context vetoes nothing: the terms still carry the theme beside it, with their matches.
    [hit] = rules.classify("Washington raised tariffs on steel and imposed sanctions on two banks.").themes
    assert (hit.theme, hit.score, [m.text for m in hit.matches]) == ("sanctions", 2.0, ["sanctions"])
    # Where the context does not match ("tariffs" too far from "steel"), the usual bar holds.
    far = "Washington raised tariffs on cars, trucks, buses, tractors and also on steel."
    assert [h.theme for h in rules.classify(far).themes] == ["sanctions"]
    # A vetoed term alone: the vetoed bar, and the explanation blames the exclusion.
    assert "/ threshold 0.85 (raised: an exclusion vetoed a term of this theme)" in \
        rules.explain("The league sanctions were lifted in May.").render()
    # Both: the higher bar (the caution's here), and the explanation names what set it.
    shown = rules.explain("The league sanctions were lifted as Washington raised tariffs on steel.").render()
    assert "/ threshold 0.95 (raised: caution context \"tariff*\" NEAR/4 \"steel\" matched)" in shown


def test_a_silence_context_keeps_the_model_from_assigning_its_theme_alone_but_not_the_terms():
    base = RulePack.model_validate({"name": "t", "themes": [
        {"id": "sanctions", "threshold": 2, "terms": {"legitimate targets": 2},
         "silence": ['"nonsense" NEAR/8 "attack*" NOT "nonsense" NEAR/2 "but"']}]})
    rules = compile_pack(pack_with(_always(0.99), base))
    denial = "Peskov called talk of Russia preparing to attack NATO complete nonsense."
    assert rules.classify(denial).themes == []  # the model's 0.99 alone no longer carries it
    shown = rules.explain(denial).render()
    assert 'silenced: context "nonsense" NEAR/8 "attack*" NOT "nonsense" NEAR/2 "but" matched' in shown
    # The terms still carry the theme beside the denial, with their matches.
    [hit] = rules.classify(denial + " Western instructors are legitimate targets, he added.").themes
    assert (hit.theme, hit.score, [m.text for m in hit.matches]) == ("sanctions", 2.0, ["legitimate targets"])
    # A dismissal turned round by "but", and a text without the context: the model assigns as before.
    turned = "He called talk of an attack nonsense, but moved more troops west."
    assert [h.theme for h in rules.classify(turned).themes] == ["sanctions"]
    assert [h.theme for h in rules.classify("Troops moved west in March.").themes] == ["sanctions"]


def test_training_chooses_the_bars_on_what_runs_where_a_silence_context_keeps_the_model_quiet():
    # dev31, dev32 and dev65: officials' denials, which the escalation model reads high beside vetoed terms. The
    # silence contexts keep it from assigning them alone, so training must not count them as its false alarms:
    # with the silences it needs no bar as high as without them.
    items = read_sets([QUALITY / "dev31.jsonl", QUALITY / "dev32.jsonl", QUALITY / "dev65.jsonl"])
    quiet = TERMS_ONLY.model_copy(update={"themes": [t.model_copy(update={"silence": []}) for t in TERMS_ONLY.themes]})
    aware = train_model(compile_pack(TERMS_ONLY), items, repeats=1).themes["escalation"]
    unaware = train_model(compile_pack(quiet), items, repeats=1).themes["escalation"]

    def bars(theme: ModelTheme) -> list[float]:
        return [theme.threshold, theme.with_terms or theme.threshold, theme.vetoed or VETOED_THRESHOLD,
                theme.caution or VETOED_THRESHOLD]

    assert all(a <= b for a, b in zip(bars(aware), bars(unaware))) and bars(aware) != bars(unaware)


def test_a_silence_context_naming_an_unknown_concept_is_refused():
    pack = RulePack.model_validate({"name": "t", "themes": [
        {"id": "escalation", "threshold": 1, "terms": {"threat": 1}, "silence": ['"@denials" NEAR/4 "attack"']}]})
    problems = check_pack(pack)
    assert any(loc[:3] == ("themes", 0, "silence") and "denials" in message for loc, message in problems)


def test_a_caution_context_naming_an_unknown_concept_is_refused():
    pack = RulePack.model_validate({"name": "t", "themes": [
        {"id": "sanctions", "threshold": 1, "terms": {"sanctions": 1}, "caution": ['"@tariffs"']}]})
    problems = check_pack(pack)
    assert any(loc[:3] == ("themes", 0, "caution") and "tariffs" in message for loc, message in problems)


def test_a_model_too_large_to_travel_as_one_record_is_refused():
    themes = {f"t{n}": ModelTheme(bias=0.0, weights=encode_weights(np.zeros(1 << 16))) for n in range(5)}
    pack = TERMS_ONLY.model_copy(update={"model": TextModel(bits=16, themes=themes), "version": ""})
    messages = [message for _, message in check_pack(pack)]
    assert any("must stay under 700 KB (fewer bits)" in m for m in messages), messages


def test_the_fast_document_features_are_the_union_of_each_words_buckets():
    # document_features (every document) and word_buckets (what the explanation ranks) must agree bucket for bucket.
    mask = (1 << 15) - 1
    for item in read_set(QUALITY / "dev4.jsonl")[:200]:
        norm = normalize(item.text).text
        lemmas = lemma_words(norm.split(" "), item.lang, norm)
        assert document_features(lemmas, mask, {}) == set(chain.from_iterable(word_buckets(lemmas, mask, {})))


def test_the_scorers_bucket_array_holds_exactly_the_documents_features():
    # CompiledModel.present (numpy, every document) must be the set the model was trained on.
    rules = compile_pack(load_pack())
    model = rules.tables.model
    assert model.uses_concepts, "the shipped model reads the pack's concepts (features v2)"
    with_concepts = 0
    for item in read_set(QUALITY / "dev5.jsonl")[:200]:
        analysis = rules.analyse(item.text, item.lang)
        concepts = rules.concepts_hit(analysis)
        with_concepts += bool(concepts)
        present = model.present(analysis.lemmas, concepts).tolist()
        assert present == sorted(document_features(analysis.lemmas, model.mask, {}, concepts))
    assert with_concepts > 50
    assert model.present(["", ""]).tolist() == []


def test_a_concept_marked_not_a_model_feature_narrows_its_exclusion_but_is_no_feature():
    # vote_generic (vote_word without "referendum") exists to scope the exclusion of elections; the
    # model reads vote_word already, so the part is matched but never hashed into a bucket.
    text = "Voters cast their ballot in the presidential election on Sunday."
    rules = compile_pack(TERMS_ONLY)
    assert not next(c for c in rules.pack.concepts if c.id == "vote_generic").model_feature
    analysis = rules.analyse(text, "en")
    assert rules.tables.phrase_ids[parse_phrase("@vote_generic")[0]] in analysis.hits  # matched ...
    hit = rules.concepts_hit(analysis)
    assert "@vote_word" in hit and "@election_word" in hit
    assert "@vote_generic" not in hit  # ... but not a feature
    concepts = [c.model_copy(update={"model_feature": True}) if c.id == "vote_generic" else c
                for c in TERMS_ONLY.concepts]
    flagged = compile_pack(TERMS_ONLY.model_copy(update={"concepts": concepts, "version": ""}))
    assert "@vote_generic" in flagged.concepts_hit(flagged.analyse(text, "en"))


def test_the_models_evidence_ranks_words_by_the_weight_of_their_own_buckets():
    # evidence (cached sums per lemma, one gather for the pairs) against its definition: each word's
    # word_buckets summed along the theme's weights, times the document's scale, the best three.
    rules = compile_pack(load_pack())
    model = rules.tables.model
    checked = 0
    for item in read_set(QUALITY / "dev6.jsonl")[:150]:
        analysis = rules.analyse(item.text, item.lang)
        for theme in analysis.model.probabilities:
            column = model.weights[model.columns.index(theme)].astype(np.float64)
            per_word = word_buckets(analysis.lemmas, model.mask, {})
            gains = [(float(column[list(b)].sum()) * analysis.model.scale, i) for i, b in enumerate(per_word)]
            expected = sorted(((g, i) for g, i in gains if g > 0 and per_word[i]), reverse=True)[:3]
            found = model.evidence(analysis.lemmas, analysis.model, theme)
            assert [i for i, _ in found] == [i for _, i in expected], item.id
            assert [g for _, g in found] == pytest.approx([g for g, _ in expected], rel=1e-6)
            checked += 1
    assert checked > 300


def test_held_out_scores_each_set_with_a_model_that_never_saw_it():
    from streams.rules.train import held_out
    sets = {name: read_set(QUALITY / name)[:150] for name in ("dev.jsonl", "dev2.jsonl")}
    pooled, each = held_out(compile_pack(TERMS_ONLY), sets, repeats=1)  # one CV split: the mechanics, quickly
    assert set(each) == set(sets) and [r.items for r in each.values()] == [150, 150]
    assert pooled.items == 300
    for theme, counts in pooled.overall.items():
        assert counts.tp + counts.fn == sum(r.overall[theme].tp + r.overall[theme].fn for r in each.values())
    # A model trained on 150 passages of the other set: measured 0.97 on each.
    assert all(report.macro_f1 >= 0.9 for report in each.values()), {n: r.macro_f1 for n, r in each.items()}


def test_rules_train_refuses_fewer_than_one_cross_validation_split():
    done = subprocess.run([sys.executable, "-m", "watchfloor", "rules", "train", "--repeats", "0"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--repeats must be 1 or more, not 0" in done.stderr


def test_held_out_asks_for_two_sets():
    done = subprocess.run([sys.executable, "-m", "watchfloor", "rules", "train", "--held-out",
                           "--set", str(QUALITY / "dev.jsonl")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "needs at least two sets" in done.stderr


def test_hash_folds_split_every_passage_once_and_keep_a_passage_in_its_fold_when_others_are_added():
    items = read_set(QUALITY / "dev.jsonl")
    folds = hash_folds(items, 5, repeat=0)
    tested = sorted(i for _, test in folds for i in test)
    assert tested == list(range(len(items)))
    assert all(set(train).isdisjoint(test) and len(train) + len(test) == len(items) for train, test in folds)
    assert all(0.1 < len(test) / len(items) < 0.3 for _, test in folds)  # each fold about a fifth
    fold_of = {items[i].id: k for k, (_, test) in enumerate(folds) for i in test}
    more = read_set(QUALITY / "dev2.jsonl") + items  # a new split, listed first: every index moves
    grown = {more[i].id: k for k, (_, test) in enumerate(hash_folds(more, 5, repeat=0)) for i in test}
    assert all(grown[item_id] == k for item_id, k in fold_of.items())
    again = {items[i].id: k for k, (_, test) in enumerate(hash_folds(items, 5, repeat=1)) for i in test}
    assert again != fold_of  # each repeat deals afresh


def test_hash_folds_deal_a_handful_of_positives_round_the_folds_so_every_training_part_has_both_labels():
    items = read_set(QUALITY / "dev.jsonl")[:200]
    for repeat in range(20):
        y = np.zeros(len(items), dtype=bool)
        # Five positives that the plain hash puts in one fold: its training part would hold none.
        _, same_fold = hash_folds(items, 5, repeat)[0]
        y[same_fold[:5]] = True
        folds = hash_folds(items, 5, repeat, y)
        assert all(y[train].any() and (~y[train]).any() for train, _ in folds)
        assert sorted(i for _, test in folds for i in test) == list(range(len(items)))


def test_each_bar_is_the_median_of_the_repeats_choices_with_no_bar_counted_as_the_bar_it_stands_for():
    chosen = [(0.60, None, 0.98, None), (0.65, 0.50, None, None), (0.60, 0.50, 0.85, 0.90)]
    # with_terms: None stands for the threshold (0.60), so 0.60, 0.50, 0.50; vetoed: None is 0.80.
    assert median_bars(chosen) == (0.60, 0.50, 0.85, None)
    assert median_bars([(0.60, None, None, 0.95), (0.55, None, None, 0.95), (0.70, 0.65, None, None)]) \
        == (0.60, None, None, 0.95)
    # Of an even number of choices, the higher middle one: a bar the grid offers, and the more cautious.
    assert median_bars([(0.60, None, 0.85, None), (0.65, None, 0.95, None)]) == (0.65, None, 0.95, None)
    # Most repeats found no threshold that keeps precision: no model for the theme.
    assert median_bars([(None, None, None, None), (0.90, None, None, None), (None, None, None, None)]) \
        == (None, None, None, None)


def test_a_theme_whose_terms_alone_miss_the_precision_floor_keeps_a_model_held_to_the_terms_precision():
    # The terms of every theme assign some dev passages the labels reject: at a floor of 0.999 no choice of
    # bars could keep it, and every theme lost its model for the terms' own errors. The floor is now the
    # terms' precision where that is lower, so the model still finds what the terms miss.
    items = read_sets([QUALITY / "dev.jsonl", QUALITY / "dev2.jsonl", QUALITY / "dev3.jsonl"])
    rules = compile_pack(TERMS_ONLY)
    model = train_model(rules, items, min_precision=0.999, repeats=1)
    assert set(model.themes) == {"referendum", "escalation", "sanctions"}
    terms_alone = evaluate(rules, items)
    with_model = evaluate(compile_pack(pack_with(model)), items)
    for theme in model.themes:
        assert with_model.overall[theme].recall > terms_alone.overall[theme].recall, theme


def test_a_floor_for_one_theme_moves_that_themes_bars_and_leaves_the_others_as_trained():
    # dev and dev2: the terms assign escalation without a false alarm, so a floor of 0.999 for it binds (its
    # model may add no false alarm either) while the default 0.95 leaves room for a lower with_terms bar.
    items = read_sets([QUALITY / "dev.jsonl", QUALITY / "dev2.jsonl"])
    rules = compile_pack(TERMS_ONLY)
    assert evaluate(rules, items).overall["escalation"].precision == 1.0
    default = train_model(rules, items, repeats=1)
    strict = train_model(rules, items, repeats=1, theme_precision={"escalation": 0.999})
    for theme in ("referendum", "sanctions"):
        assert strict.themes[theme] == default.themes[theme], theme
    bars = ("threshold", "with_terms", "vetoed", "caution")
    assert [getattr(strict.themes["escalation"], b) for b in bars] != [getattr(default.themes["escalation"], b) for b in bars]
    with pytest.raises(ValueError, match="names no theme of the pack: escalaton"):
        train_model(rules, items, repeats=1, theme_precision={"escalaton": 0.9})


@pytest.mark.parametrize("pair, problem", [("escalation", "expected THEME=P"), ("escalation=high", "expected THEME=P"),
                                           ("escalation=1.5", "expected THEME=P"), (" =0.9", "expected THEME=P"),
                                           ("escalaton=0.9", "names no theme of the pack")])
def test_rules_train_refuses_a_theme_floor_it_cannot_use_in_one_line(tmp_path, pair, problem):
    done = subprocess.run([sys.executable, "-m", "watchfloor", "rules", "train", "--out", str(tmp_path / "m.json"),
                           "--set", str(QUALITY / "dev.jsonl"), "--theme-precision", pair, "--repeats", "1"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and problem in done.stderr and pair.split("=")[0] in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "m.json").exists()


def test_rules_train_refuses_a_theme_given_two_floors(tmp_path):
    done = subprocess.run([sys.executable, "-m", "watchfloor", "rules", "train", "--out", str(tmp_path / "m.json"),
                           "--set", str(QUALITY / "dev.jsonl"), "--theme-precision", "escalation=0.9",
                           "--theme-precision", "escalation=0.8", "--repeats", "1"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "escalation is given twice" in done.stderr, done.stderr
    assert not (tmp_path / "m.json").exists()
