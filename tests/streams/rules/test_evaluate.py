"""``watchfloor eval`` and the blind evaluation set (docs/quality.md): the set is what the method
says it is, the test split is frozen, and the scores are computed as documented."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from schemas.rules import RulePack
from streams.rules import compile_pack
from streams.rules.evaluate import LabelledItem, evaluate, read_set, render
from streams.rules.loader import load_pack

QUALITY = Path(__file__).resolve().parents[2] / "data" / "quality"
# The test splits are frozen (docs/quality.md): the first before any rule was tuned, the second, written and
# labelled blind after the first had been scored 49 times, before its first scoring. Changing one needs a new
# evaluation set, not an edit: each hash is its split's fingerprint.
TEST_SPLITS_SHA256 = {
    "test.jsonl": "2a9444af18b6d1d3cae0b635a70a0f62ca3c65b05095022c0c7ae06849d05643",
    "test2.jsonl": "ddb02841cb2f601c330c44e7c4cb0837edf69a0dcc9402df08a02553241304bf",
}


def test_the_test_splits_are_frozen():
    for name, digest in TEST_SPLITS_SHA256.items():
        assert hashlib.sha256((QUALITY / name).read_bytes()).hexdigest() == digest, name


def test_the_set_has_every_language_hard_negatives_and_a_source_for_each_passage():
    items = [i for name in (*DEV_SPLITS, *TEST_SPLITS_SHA256) for i in read_set(QUALITY / name)]
    assert len(items) >= 900
    assert len({i.id for i in items}) == len(items)
    langs = Counter(i.lang for i in items)
    assert set(langs) == {"en", "ru", "uk"} and min(langs.values()) >= 150
    assert sum(not i.themes for i in items) / len(items) >= 0.30
    assert all(i.source_url and i.source_url.startswith(("https://", "http://")) for i in items)
    assert all(set(i.themes) <= {"referendum", "escalation", "sanctions"} for i in items)


def test_eval_and_train_default_to_every_dev_split_in_order_and_never_the_test_split(tmp_path):
    from watchfloor.commands.eval import default_sets

    assert [p.name for p in default_sets()] == list(DEV_SPLITS)
    for name in ("dev.jsonl", "dev10.jsonl", "dev2.jsonl", *TEST_SPLITS_SHA256):
        (tmp_path / name).write_text("")
    assert [p.name for p in default_sets(tmp_path)] == ["dev.jsonl", "dev2.jsonl", "dev10.jsonl"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no labelled sets"):
        default_sets(empty)


PACK = RulePack.model_validate({
    "themes": [{"id": "sanctions", "threshold": 1, "terms": {"sanctions": 1}}],
    "entities": [{"id": "russia", "name": "Russia", "type": "place", "variants": ["Russia", "Росси*"]}],
})


def test_precision_recall_and_entity_recall_are_counted_per_theme_and_language():
    items = [
        LabelledItem(id="1", lang="en", text="New sanctions on Russia.", themes=["sanctions"], entities=["Russia"]),
        LabelledItem(id="2", lang="en", text="Frozen assets in Russia.", themes=["sanctions"], entities=["Russia"]),
        LabelledItem(id="3", lang="ru", text="FIFA sanctions for the club", themes=[], entities=["FIFA"]),
        LabelledItem(id="4", lang="ru", text="Погода в России", themes=[], entities=["Russia"]),
    ]
    report = evaluate(compile_pack(PACK), items)
    sanctions = report.overall["sanctions"]
    assert (sanctions.tp, sanctions.fp, sanctions.fn) == (1, 1, 1)
    assert report.by_lang["en"]["sanctions"].recall == 0.5 and report.by_lang["ru"]["sanctions"].precision == 0.0
    assert (report.entities_found, report.entities_expected) == (3, 3)  # FIFA is not in the gazetteer
    assert report.gazetteer_coverage == 0.75
    kinds = sorted((e.kind, e.item.id) for e in report.errors)
    assert kinds == [("false_alarm", "3"), ("miss", "2")]


def test_a_miss_reports_what_the_theme_reached_in_the_items_own_language():
    # "бив" reads as Russian unless the item says it is Ukrainian; then its lemma is the rule word.
    pack = RulePack.model_validate({"name": "t", "themes": [{"id": "strike", "threshold": 2, "terms": {"бити": 1}}]})
    item = LabelledItem(id="1", lang="uk", text="вони бив", themes=["strike"])
    [error] = evaluate(compile_pack(pack), [item]).errors
    assert (error.kind, error.score, error.threshold, error.matched) == ("miss", 1.0, 2, ["бив"])


def test_a_bad_line_is_named_by_file_and_line(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text('{"id": "a", "lang": "en", "text": "x"}\n{"id": "b"}\n')
    try:
        read_set(path)
    except ValueError as exc:
        assert str(exc).startswith(f"{path}:2: not a labelled item")
    else:
        raise AssertionError("a line without text was accepted")


def test_eval_command_prints_a_table_and_one_json_object_on_the_last_line():
    done = subprocess.run([sys.executable, "-m", "watchfloor", "eval", "--json", "--show", "3"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["items"] == sum(len(read_set(QUALITY / name)) for name in DEV_SPLITS)
    assert set(summary["themes"]) == {"referendum", "escalation", "sanctions"}
    assert set(summary["by_lang"]) == {"en", "ru", "uk"}
    assert 0 <= summary["macro_f1"] <= 1 and 0 <= summary["entity_recall"] <= 1
    assert "Misses (" in done.stdout and "False alarms (" in done.stdout


# Regression floor for the shipped pack on the dev splits, per theme and language, so a rule or model
# change that loses recall or precision fails CI. Measured on the twelve dev splits with the shipped pack
# (terms, and the model trained on these splits, so in-sample): macro F1 0.988, entity recall 0.969;
# the floors sit a few points below. dev31 (officials and analysts denying or weighing a threat in its own
# words, which the terms and the model of dev..dev29 read as threats) took escalation's precision to 0.93
# in every language: its floors follow (0.90), the set being harder, not the pack worse (docs/quality.md).
# dev32-dev36 (negation, Russian media's own threats, war aims inside Ukraine, Ukrainian retellings)
# took Russian and Ukrainian escalation recall to 0.95 (510 of 535, 437 of 461): their floors follow (0.93).
# dev44 (Russian Telegram written to be hard for escalation: threats told in the channels' own shorthand,
# fresh recall 0.70, 0.77 after its fixes) took Russian escalation recall to 0.92 (683 of 743): its floor
# follows (0.90). dev50-dev52 (Russian threats without threat words, and the same speakers not threatening)
# took Russian escalation to 0.91 / 0.90 (1,072 of 1,194) and Ukrainian escalation recall to 0.95: the
# floors follow (0.88 / 0.87, 0.92). A model retrained on them was measured and not kept (docs/quality.md).
# dev53-dev55 (Russian and Ukrainian threats, Ukrainian sanctions and look-alikes, English referendums without
# the word) left every cell above its floor. dev56 (the same Russian speakers sharp without threatening, whose
# names the model reads as threats: fresh Russian escalation precision 0.47) took English and Russian escalation
# precision to 0.90 and 0.89, at their floors' edge; the set is harder, the pack no worse (docs/quality.md).
# dev57-dev58 (Russian threats told sideways, Ukrainian sanctions look-alikes; fresh Russian escalation P 0.84-0.86)
# left every cell above its floor after round twenty-eight's fixes. dev59 (English negatives sharing escalation's
# vocabulary: Western officials' warnings, other wars' "escalation", nuclear risk with no threat quoted; fresh
# English escalation precision 0.80) took English escalation precision to 0.90: its floor follows (0.88).
# dev61-dev62 (Ukrainian news next to sanctions; Russian threats over seized tankers, which the model alone reads
# as sanctions) took Russian sanctions precision to 0.95: its floor follows (0.93). dev63-dev64 (Russian threats
# of 2022 and 2025 in wire style, Ukrainian sanctions and look-alikes, a general mix) left every cell above its floor;
# so did dev65 (denials, and threats wrapped in denials: fresh escalation precision 0.57, 0.61 after its fixes) and
# dev66-dev67 (Ukrainian outlets and channels retelling Russian threats, often mocking them; plain Ukrainian news of
# Russian and Belarusian threats, fresh Ukrainian escalation P 0.89 / R 0.89) and dev68 (Ukrainian threats beside
# denials, Russian threats in plain news, Ukrainian sanctions and look-alikes; fresh Ukrainian sanctions P 0.79) and
# dev69 (the same in plain news, cut short when the writers' search budget ran out). With dev65's denials and
# dev68-dev69 all dev measures macro F1 0.950 (13,825 passages), at the old floor's edge: it follows (0.94).
# dev70 (Russian and Ukrainian threats beside denials and votes, Ukrainian sanctions look-alikes) and dev71 (the
# same in Telegram style; sanctions on Iran, Georgia's officials and Syria) and dev72-dev75 (the same in plain wire
# style, its negatives the same Russian and Belarusian speakers accusing without threatening; fresh Ukrainian
# escalation precision 0.77-0.88, nearly all the model alone reading the speaker) took Ukrainian escalation
# precision to 0.898 (1,190 of 1,325): its floor follows (0.89).
# Round thirty then retrained the shipped model on every dev split (dev..dev75, escalation's floor 0.90), chosen on
# two held-out checks (trained without dev63-dev69, and without dev70-dev75, each scored on the splits it never saw:
# macro F1 +0.009 and escalation precision +0.03 on both; docs/quality.md). The model now knows the regression set,
# so the figures rose (macro F1 0.976) and every floor moves to about three points under its measure, or stays
# where it was where that is higher.
# dev76-dev77 (round thirty-one: English and Russian threats, regional outlets, near-misses; not trained on) leave
# every figure over its floor (all dev macro F1 0.975); so do dev78-dev79 (round thirty-two: the same in plain wire
# and Telegram style) and dev80-dev81 (round thirty-three: Ukrainian sanctions and their look-alikes, Ukrainian
# threats and near-misses) and dev82 (round thirty-four: referendums and their look-alikes in all three languages)
# and dev83-dev84 (round thirty-five: English and Russian threats of 2014-2021 and of 2025, and their near-misses)
# and dev85-dev86 (the same: threats of 2022-2024 as outlets outside Europe retell them, English and Russian)
# and dev87-dev88 (round thirty-six: threats kind by kind, five of each of fourteen kinds per language) and
# dev89-dev90 (round thirty-seven: the weakest kinds, the Zaporizhzhia plant, drills, strikes, war with NATO).
# Those were written to find what the pack misses (fresh English escalation recall 0.77 on dev89) and took all dev
# English escalation recall to 0.948 (1,231 of 1,299): its floor follows (0.93), as earlier floors followed harder
# splits. dev91-dev92 (round thirty-eight: an ordinary day's mix of all three themes, English and Russian) leave every
# figure over its floor. dev93-dev94 (round thirty-nine: other states' threats, Iran, Israel, North Korea, China,
# Turkey, Serbia; fresh escalation recall 0.33-0.36, 0.45 and 0.38 after the round) are the pack's known gap, and
# took all dev Russian escalation recall to 0.947 (2,482 of 2,622): its floor follows (0.93), as English did.
# dev95-dev96 (round forty: a desk's day with other states' threats in it) decided, by a rule written before their
# labels were read, to ship the model retrained on dev..dev94 (docs/quality.md, round forty). The model now knows
# the regression set again (all dev macro F1 0.977; English and Russian escalation recall 0.985 and 0.980), so those
# two floors go back to 0.95, three points under.
# dev97-dev98 (round forty-one: English referendums and their look-alikes, many without the word; English threats
# from outlets beyond the big wires) read fresh referendum recall 0.98 and escalation recall 0.94-0.96, and leave
# every figure over its floor. dev99-dev100 (a desk's day in all three languages) then decided, by a rule written
# before they were labelled, to ship the model retrained on dev..dev98 (docs/quality.md, round forty-one).
# dev101-dev102 (round forty-two: English threats told as "responses" and "consequences" beside their economic and
# diplomatic look-alikes; other states' threats in English, fresh escalation recall 0.70) and dev103-dev104 (round
# forty-three: other states' threats in Russian and Ukrainian, fresh 0.74 and 0.55) leave every figure over its floor.
# dev105-dev106 (round forty-four: a desk's day with other states' threats, in all three languages) decided, by a rule
# written before they were labelled, not to ship the model retrained on dev..dev104 (docs/quality.md). dev107-dev108
# (round forty-five: a desk's day in all three languages) decided, the same way, to ship the model retrained on
# dev..dev106. dev109 (round forty-six: a Russian desk's day, threats first) leaves every figure over its floor.
# dev110-dev111 (round forty-seven: an English desk's day, threats first; Russian and Ukrainian desk's days) decided,
# by a rule written before they were labelled, not to ship the model retrained on dev..dev109 (docs/quality.md).
# dev112-dev113 (round forty-eight: threats told in other words, in English and Russian) decided the same way not
# to ship the model retrained on dev..dev111 (two escalation false alarms more, the rule allows one).
# dev114-dev115 (round forty-nine: a desk's day in all three languages, half told in other words) decided the same
# way not to ship the model retrained on dev..dev113 (macro F1 0.965 against 0.972).
# dev116-dev118 (round fifty: desk's days threats first, in English and Russian) decided the same way not to ship
# the model retrained on dev..dev115 (0.941 against 0.954).
# dev119-dev121 (round fifty-one: desk's days in all three languages) decided the same way not to ship either model
# retrained on dev..dev118 (escalation precision floors 0.90 and 0.92: 0.961 each, as the shipped one).
# dev122 (round fifty-two: threats beside their look-alikes, 55 passages: the session's search budget ran out) reads
# escalation recall 1.00 and precision 0.83 fresh, and leaves every figure over its floor.
# dev123 (round fifty-three: ordinary news off the themes, 300 passages, one referendum among them) reads one false
# alarm fresh, unions threatening a strike, fixed before it was added.
# dev124 (the same, half in Telegram style, written before that fix and scored after it) reads one false alarm fresh:
# a council's budget vote, read as a referendum by the model alone.
# dev125-dev126 (round fifty-four: threats told by role and metaphor, in English and Russian, beside polls, books,
# films, anniversaries, denials and drills in the same words) read escalation precision 0.79 and recall 0.91 fresh.
# dev127 (round fifty-five: a desk's day in all three languages, 240 passages) decided, by the rule written before
# it, not to ship the model retrained on dev..dev126 (macro F1 0.968 against 0.965, under the 0.005 the rule asks).
# dev128 (round fifty-six: ordinary city and regional channels, every post in Telegram style with hashtags and
# handles, 213 passages: the search budget ran out) reads no false alarm fresh.
# dev129 (round fifty-seven: the news of 2025-2026, threats beside arms-control look-alikes, en and ru, 300 passages)
# reads escalation precision 0.87 and recall 0.92 fresh (arms control told as history and counts, fixed after).
# dev130 (round fifty-eight: threats said without saying them, beside look-alikes in their words, all three languages,
# 300 passages) reads escalation precision 0.86 and recall 0.90 fresh (1.00 / 0.97 in English).
# dev131 (round fifty-nine: a desk's day in all three languages, 174 passages: the search budget ran out) decided, by
# the rule written before it, not to ship the model retrained on dev..dev130 (macro F1 0.976 against 0.973).
# dev132 (round sixty: how threats are told in English and Russian in 2024-2026, beside look-alikes in their words,
# 300 passages) reads macro F1 0.934 fresh; escalation precision / recall 0.89 / 0.89 in English, 0.86 / 1.00 in Russian.
# dev133 (round sixty-one: the voices of escalation, TV hosts to ambassadors, and the same voices on other things, en and
# ru, 300 passages) reads macro F1 0.957 fresh; escalation 0.95 / 0.93 in English, 0.81 / 0.93 in Russian.
# dev134 (round sixty-two: a desk's day in all three languages, 270 passages) decided, by the rule written with dev133,
# to ship the model retrained on dev..dev133 (macro F1 0.972 against 0.964, no more false alarms in any theme).
# dev135 (round sixty-three: popular votes and the votes that are not, all three languages, 148 passages: the search
# budget ran out) reads macro F1 0.977 fresh; referendum recall 0.83 in Russian (US state propositions, which earlier
# labellers had read as no referendum).
# dev136 (round sixty-four: referendums told in English and threats told in Russian, beside look-alikes, 300 passages)
# reads macro F1 0.933 fresh; referendum precision 0.88 in English (recall votes, polls before a runoff, an AGM called
# a 'plebiscite'), escalation 0.87 / 0.95 in Russian.
# dev137 (round sixty-five: a desk's day in all three languages, 270 passages) reads macro F1 0.964 fresh, and decided,
# by the rule written with dev136, not to ship the model retrained on dev..dev136 (0.970 against 0.968).
# dev138 (round sixty-six: the annexation votes and their aftermath told in English with the fewest obvious words, and
# threats told by Russian channels and talk shows, 300 passages) reads macro F1 0.937 fresh; referendum recall 0.89 in
# English (accession ceremonies, Crimea's anniversaries, sanctions "over the annexation").
# dev139 (round sixty-seven: a desk's day in all three languages, 106 passages: the search budget ran out) decided, by
# the rule written with dev138, to ship the model retrained on dev..dev138 (macro F1 0.977 against 0.962).
FLOOR_MACRO_F1, FLOOR_ENTITY_RECALL = 0.95, 0.94
FLOOR = {  # (theme, lang): (precision, recall)
    ("referendum", "en"): (0.94, 0.95), ("referendum", "ru"): (0.95, 0.95), ("referendum", "uk"): (0.92, 0.93),
    ("escalation", "en"): (0.91, 0.95), ("escalation", "ru"): (0.92, 0.95), ("escalation", "uk"): (0.92, 0.94),
    ("sanctions", "en"): (0.95, 0.96), ("sanctions", "ru"): (0.95, 0.96), ("sanctions", "uk"): (0.95, 0.96),
}
DEV_SPLITS = ("dev.jsonl", "dev2.jsonl", "dev3.jsonl", "dev4.jsonl", "dev5.jsonl", "dev6.jsonl", "dev7.jsonl",
              "dev8.jsonl", "dev9.jsonl", "dev10.jsonl", "dev11.jsonl", "dev12.jsonl", "dev13.jsonl", "dev14.jsonl",
              "dev15.jsonl", "dev16.jsonl", "dev17.jsonl", "dev18.jsonl", "dev19.jsonl",
              "dev20.jsonl", "dev21.jsonl", "dev22.jsonl", "dev23.jsonl", "dev24.jsonl", "dev25.jsonl", "dev26.jsonl",
              "dev27.jsonl", "dev28.jsonl", "dev29.jsonl", "dev30.jsonl", "dev31.jsonl", "dev32.jsonl",
              "dev33.jsonl", "dev34.jsonl", "dev35.jsonl",
              "dev36.jsonl", "dev37.jsonl", "dev38.jsonl", "dev39.jsonl", "dev40.jsonl", "dev41.jsonl", "dev42.jsonl", "dev43.jsonl",
              "dev44.jsonl", "dev45.jsonl", "dev46.jsonl", "dev47.jsonl",
              "dev48.jsonl", "dev49.jsonl", "dev50.jsonl", "dev51.jsonl", "dev52.jsonl", "dev53.jsonl", "dev54.jsonl", "dev55.jsonl",
              "dev56.jsonl", "dev57.jsonl", "dev58.jsonl", "dev59.jsonl", "dev60.jsonl", "dev61.jsonl", "dev62.jsonl",
              "dev63.jsonl", "dev64.jsonl", "dev65.jsonl", "dev66.jsonl",
              "dev67.jsonl", "dev68.jsonl", "dev69.jsonl", "dev70.jsonl",
              "dev71.jsonl", "dev72.jsonl", "dev73.jsonl", "dev74.jsonl", "dev75.jsonl", "dev76.jsonl", "dev77.jsonl",
              "dev78.jsonl", "dev79.jsonl", "dev80.jsonl", "dev81.jsonl", "dev82.jsonl",
              "dev83.jsonl", "dev84.jsonl", "dev85.jsonl", "dev86.jsonl",
              "dev87.jsonl", "dev88.jsonl", "dev89.jsonl", "dev90.jsonl",
              "dev91.jsonl", "dev92.jsonl", "dev93.jsonl", "dev94.jsonl",
              "dev95.jsonl", "dev96.jsonl", "dev97.jsonl", "dev98.jsonl",
              "dev99.jsonl", "dev100.jsonl", "dev101.jsonl", "dev102.jsonl",
              "dev103.jsonl", "dev104.jsonl", "dev105.jsonl", "dev106.jsonl",
              "dev107.jsonl", "dev108.jsonl", "dev109.jsonl", "dev110.jsonl", "dev111.jsonl",
              "dev112.jsonl", "dev113.jsonl", "dev114.jsonl", "dev115.jsonl",
              "dev116.jsonl", "dev117.jsonl", "dev118.jsonl", "dev119.jsonl", "dev120.jsonl", "dev121.jsonl",
              "dev122.jsonl", "dev123.jsonl",
              "dev124.jsonl", "dev125.jsonl", "dev126.jsonl",
              "dev127.jsonl", "dev128.jsonl", "dev129.jsonl",
              "dev130.jsonl", "dev131.jsonl", "dev132.jsonl",
              "dev133.jsonl", "dev134.jsonl", "dev135.jsonl",
              "dev136.jsonl", "dev137.jsonl", "dev138.jsonl", "dev139.jsonl")


def test_the_shipped_pack_keeps_its_measured_quality_on_the_dev_splits():
    report = evaluate(compile_pack(load_pack()), [i for name in DEV_SPLITS for i in read_set(QUALITY / name)])
    assert report.macro_f1 >= FLOOR_MACRO_F1, render(report, show=10)
    for (theme, lang), (precision, recall) in FLOOR.items():
        counts = report.by_lang[lang][theme]
        assert counts.precision >= precision and counts.recall >= recall, f"{theme} {lang}\n" + render(report, show=10)
    assert report.entity_recall >= FLOOR_ENTITY_RECALL
