"""`watchfloor rules suggest`: changes proposed from the desk's "not relevant" verdicts, each
measured on a copy of the pack: the verdicts it clears and the labelled positives it costs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from desk.store import AlertStore
from streams.rules import compile_pack, load_pack
from streams.rules.evaluate import LabelledItem
from streams.rules.suggest import _changed, suggest
from tests.desk.alerts import make_alert

PACK = """name: tiny
themes:
  - id: sanctions
    threshold: 2
    terms:
      sanction*: 2
      embargo*: 2
"""
LEAGUE = "The football league imposed sanctions on the club over fan violence."
LABELLED = [
    LabelledItem(id="p1", lang="en", text="The EU imposed sanctions on Russian banks over the war.",
                 themes=["sanctions"]),
    LabelledItem(id="p2", lang="en", text="Washington sanctioned three Rosneft executives on Tuesday.",
                 themes=["sanctions"]),
    LabelledItem(id="p3", lang="en", text="Brussels agreed an oil embargo and more sanctions on tankers.",
                 themes=["sanctions"]),
    LabelledItem(id="n1", lang="en", text="The club was fined after fans threw flares at the stadium.", themes=[]),
]


def _pack(tmp_path):
    path = tmp_path / "pack.yaml"
    path.write_text(PACK)
    return path


def test_suggestions_clear_the_verdict_cheapest_first_and_name_what_each_would_cost(tmp_path):
    rules = compile_pack(load_pack(_pack(tmp_path)))
    verdict = LabelledItem(id="desk:a1", lang="en", text=LEAGUE, not_themes=["sanctions"])
    report = suggest(rules, [verdict], LABELLED, top=10)
    assert [i.id for i in report.firing["sanctions"]] == ["desk:a1"]
    by_change = {s.change: s for s in report.suggestions}
    first = report.suggestions[0]
    assert first.kind == "exclude" and [v.id for v in first.cleared] == ["desk:a1"] and first.lost == []
    # A context word the labelled positives use too ("imposed sanctions") costs one of them.
    impose = by_change["""themes[sanctions].exclude += '"impose" NEAR/8 "sanction"'"""]
    assert [i.id for i in impose.lost] == ["p1"]
    # Halving the term clears the verdict too, and loses every positive it carries alone.
    weight = by_change["themes[sanctions].terms['sanction*']: 2 -> 1"]
    assert [i.id for i in weight.lost] == ["p1", "p2"]
    order = report.suggestions.index
    assert order(first) < order(impose) < order(weight)
    # The proposed change, applied, stops the alert and keeps the positives.
    changed = compile_pack(_changed(rules.pack, "sanctions", "exclude", first.change.split("+= ")[1].strip("'")))
    assert changed.classify(LEAGUE, lang="en").themes == []
    assert all(changed.classify(i.text, lang="en").themes for i in LABELLED if i.themes)


def test_rules_suggest_reads_the_verdicts_from_the_desk_store(tmp_path):
    store = AlertStore(tmp_path / "data" / "desk.sqlite3")
    wrong = make_alert(title="Fan violence", text=LEAGUE, lang="en")
    store.add(wrong)
    store.record_feedback(wrong.alert_id, "not_relevant", "night desk")
    store.close()
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text("".join(i.model_dump_json() + "\n" for i in LABELLED))
    env = {**os.environ, "WATCHFLOOR_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-m", "watchfloor", "rules", "suggest", str(_pack(tmp_path)), "--set",
                           str(labelled), "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["firing"] == {"sanctions": [f"desk:{wrong.alert_id}"]}
    assert result["suggestions"][0]["cleared"] == [f"desk:{wrong.alert_id}"]
    assert result["suggestions"][0]["lost"] == []
    assert f"would not have alerted: desk:{wrong.alert_id}" in done.stdout


def test_a_false_alarm_the_model_carries_alone_gets_a_caution_context_that_clears_it(tmp_path):
    import numpy as np

    from schemas.rules import ModelTheme, TextModel
    from streams.rules.model import encode_weights

    # A model that puts sanctions at 0.7 in any text: over its 0.5 threshold, under the 0.80 caution bar.
    model = TextModel(bits=8, themes={"sanctions": ModelTheme(
        bias=float(np.log(0.7 / 0.3)), threshold=0.5, weights=encode_weights(np.zeros(256)))})
    rules = compile_pack(load_pack(_pack(tmp_path)).model_copy(update={"model": model, "version": ""}))
    text = "Ticket prices for the cup final rose again in March."
    assert [h.theme for h in rules.classify(text, lang="en").themes] == ["sanctions"]  # the model alone
    verdict = LabelledItem(id="desk:a2", lang="en", text=text, not_themes=["sanctions"])
    report = suggest(rules, [verdict], LABELLED, top=10)
    assert [i.id for i in report.model_only["sanctions"]] == ["desk:a2"]
    cautions = [s for s in report.suggestions if s.kind == "caution"]
    assert cautions and all([v.id for v in s.cleared] == ["desk:a2"] for s in cautions)
    first = cautions[0]
    # The labelled positives are carried by their terms, so a caution costs none of them.
    assert first.lost == [] and first.change.startswith("themes[sanctions].caution += '\"")
    changed = compile_pack(_changed(rules.pack, "sanctions", "caution", first.change.split("+= ")[1].strip("'")))
    assert changed.classify(text, lang="en").themes == []
    assert all(changed.classify(i.text, lang="en").themes for i in LABELLED if i.themes)
