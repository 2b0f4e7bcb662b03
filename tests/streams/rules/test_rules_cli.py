"""The command line: ``watchfloor classify`` (JSON Lines in, one line out per input, same order),
``watchfloor rules check`` and ``rules explain``."""

from __future__ import annotations

import io
import json
import re
import sys

import pytest

from streams.rules import compile_pack, load_pack
from watchfloor.cli import main

ITEMS = [
    {"id": "a", "title": "Кремль", "text": "Путин пригрозил ядерным ударом после референдума в Запоріжжі", "lang": "ru"},
    {"id": "b", "text": "The league sanctioned the transfer."},
    {"id": "c", "text": "EU agrees 14th sanctions package"},
]


def run_classify(monkeypatch, capsys, lines: list[str], *args: str) -> tuple[int, list[dict], str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(line + "\n" for line in lines)))
    status = main(["classify", *args])
    out, err = capsys.readouterr()
    return status, [json.loads(line) for line in out.splitlines()], err


def test_classify_writes_one_line_per_item_in_order_with_the_documented_fields(monkeypatch, capsys):
    status, out, _ = run_classify(monkeypatch, capsys, [json.dumps(i, ensure_ascii=False) for i in ITEMS])
    assert status == 0
    assert [o["id"] for o in out] == ["a", "b", "c"]
    assert all(set(o) == {"id", "themes", "entities", "triggers", "rules_version"} for o in out)
    first = out[0]
    assert {t["theme"] for t in first["themes"]} == {"escalation", "referendum"}
    assert set(first["themes"][0]) == {"theme", "score", "matches"}
    assert set(first["themes"][0]["matches"][0]) == {"text", "start", "end"}
    assert {"id": "zaporizhzhia", "name": "Zaporizhzhia", "type": "place",
            "mentions": [{"text": "Запоріжжі", "start": 58, "end": 67}]} in first["entities"]
    assert first["triggers"][0] == {"id": "nuclear_threat_by_official", "severity": "critical"}
    document = ITEMS[0]["title"] + "\n" + ITEMS[0]["text"]
    for theme in first["themes"]:
        assert all(document[m["start"]:m["end"]] == m["text"] for m in theme["matches"])
    assert out[1]["themes"] == [] and out[1]["triggers"] == []
    assert [t["id"] for t in out[2]["triggers"]] == ["new_sanctions_package"]
    assert {o["rules_version"] for o in out} == {load_pack(None).version}


def test_classify_reports_bad_lines_in_place_and_keeps_the_good_ones(monkeypatch, capsys, caplog):
    lines = [json.dumps(ITEMS[2]), "{not json", json.dumps({"id": "x"}), "[1, 2]", json.dumps(ITEMS[1])]
    status, out, _ = run_classify(monkeypatch, capsys, lines)
    assert status == 1
    assert [o.get("id") for o in out] == ["c", None, None, None, "b"]
    assert out[1]["line"] == 2 and out[1]["error"].startswith("stdin line 2: ")
    assert out[2]["error"] == "stdin line 3: field 'text' is missing or not a string"
    assert out[3]["error"] == "stdin line 4: expected a JSON object"
    assert "Skipped stdin line 3 because it is not a usable item" in caplog.text


def test_classify_reads_a_file_with_a_rules_directory(tmp_path, capsys):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "t.yaml").write_text("themes:\n  - {id: fruit, terms: {apple*: 1}}\n", encoding="utf-8")
    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps({"id": 1, "title": "Apples", "text": "and pears"}) + "\n", encoding="utf-8")
    assert main(["classify", "--rules", str(rules), str(items)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["themes"] == [{"theme": "fruit", "score": 1.0, "matches": [{"text": "Apples", "start": 0, "end": 6}]}]


def test_classify_with_a_broken_rule_pack_fails_with_one_line_naming_file_and_line(tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text("themes:\n  - id: x\n    terms: {ab*: 1}\n", encoding="utf-8")
    assert main(["classify", "--rules", str(tmp_path / "bad.yaml"), "-"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"watchfloor: {tmp_path / 'bad.yaml'}:3 (themes[0].terms.ab*)") and "\n" not in err


def test_rules_check_lists_every_problem_with_file_and_line(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text("themes:\n  - id: x\n    terms: {ab*: 1, ok: 1}\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("triggers:\n  - {id: t, severity: high, when: 'theme:y'}\n", encoding="utf-8")
    assert main(["rules", "check", str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{tmp_path / 'a.yaml'}:3 (themes[0].terms.ab*): a prefix needs")
    assert lines[1] == f"{tmp_path / 'b.yaml'}:2 (triggers[0].when): unknown theme 'y'"
    assert lines[2] == f"2 problem(s) in {tmp_path}"


def test_rules_check_accepts_the_shipped_pack(capsys):
    from streams.rules import DEFAULT_PACK

    assert main(["rules", "check", str(DEFAULT_PACK)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: 3 themes, ") and "warning" not in out  # no phrase in it adds nothing


REDUNDANT = """\
concepts:
  - id: voters
    phrases: [шотландц*, крым*, stop list, крым*,
              шотландці*, stop-list]
themes:
  - id: referendum
    threshold: 1
    terms: {'"@voters" NEAR/3 "vote*"': 1}
entities:
  - {id: kyiv, name: Kyiv, type: place, variants: [Kiev, Kyiv]}
"""


def test_rules_check_warns_of_phrases_that_add_nothing_and_the_pack_still_loads(tmp_path, capsys):
    from streams.rules import compile_pack, load_pack

    (tmp_path / "a.yaml").write_text(REDUNDANT, encoding="utf-8")
    assert main(["rules", "check", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    where = tmp_path / "a.yaml"
    assert lines[:3] == [
        f"{where}:4 (concepts[0].phrases[4]): warning: 'шотландці*' adds nothing: 'шотландц*' of the same concept "
        "matches every word it does",
        f"{where}:4 (concepts[0].phrases[5]): warning: 'stop-list' reads the same as 'stop list' of the same concept",
        f"{where}:10 (entities[0].variants[1]): warning: variant 'Kyiv' is written twice",
    ]  # 'крым*' written again letter for letter is the per-language lists' habit: not reported
    assert lines[3].startswith("ok: 1 themes, ") and lines[3].endswith("; 3 warning(s)")
    rules = compile_pack(load_pack(tmp_path))  # warnings do not stop a pack
    assert [t.theme for t in rules.classify("Шотландці vote on Tuesday").themes] == ["referendum"]


def test_rules_explain_shows_matches_vetoes_missing_terms_and_trigger_atoms(capsys):
    text = "The league sanctioned the transfer; Putin threatened a nuclear strike"
    assert main(["rules", "explain", "--text", text]) == 0
    out = capsys.readouterr().out
    assert re.search(r"theme escalation: score \d+(\.\d+)? / threshold 2 -> ASSIGNED", out)  # half terms count 0.5
    assert "+2  nuclear strike*  matched 'nuclear strike' [" in out
    assert "theme sanctions: score 0 / threshold 2 -> not assigned" in out
    assert "vetoed by a NOT/exclude context at 'sanctioned'" in out
    assert "entity putin (Vladimir Putin): 'Putin' [36:41]" in out
    assert "trigger nuclear_threat_by_official (critical): FIRED" in out
    assert 'entity_tag:official=yes, keyword "dirty bomb*"=no' in out


def test_rules_explain_lemmatises_in_the_declared_language_as_classify_does(tmp_path, capsys):
    # "бив" has no letter that tells Russian from Ukrainian: undeclared, it is read as Russian
    # (lemma "бива"); declared Ukrainian, its lemma is the rule word "бити".
    (tmp_path / "t.yaml").write_text("themes:\n  - {id: strike, terms: {бити: 1}, threshold: 1}\n", encoding="utf-8")
    rules = compile_pack(load_pack(tmp_path))
    assert [hit.theme for hit in rules.classify("вони бив", lang="uk").themes] == ["strike"]
    assert rules.classify("вони бив").themes == []

    assert main(["rules", "explain", str(tmp_path), "--text", "вони бив", "--lang", "uk"]) == 0
    out = capsys.readouterr().out
    assert "theme strike: score 1 / threshold 1 -> ASSIGNED" in out
    assert "matched 'бив' [5:8] (lemma бити)" in out
    assert main(["rules", "explain", str(tmp_path), "--text", "вони бив"]) == 0
    assert "theme strike: score 0 / threshold 1 -> not assigned" in capsys.readouterr().out


SELF_VETO = """\
concepts:
  - id: vote_word
    phrases: [referendum*, ballot*]
  - id: company_vote
    phrases: [union members, {union}]
themes:
  - id: referendum
    threshold: 1
    terms: {{'"@vote_word"': 1}}
    exclude: ['"@vote_word" NEAR/10 "@company_vote"']
"""


def test_rules_check_warns_of_an_exclusion_that_two_words_of_one_side_trip(tmp_path, capsys):
    from streams.rules import compile_pack, load_pack

    # "balloted" reads as its lemma "ballot", which @vote_word's "ballot*" matches too: a ballot beside
    # a referendum then vetoes both, with no union in sight.
    (tmp_path / "a.yaml").write_text(SELF_VETO.format(union="balloted"), encoding="utf-8")
    assert main(["rules", "check", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (f"{tmp_path / 'a.yaml'}:10 (themes[0].exclude[0]): warning: 'balloted' reads as 'ballot', "
                        "which 'ballot*' on the other side matches too: two such words alone trip this exclusion "
                        "and veto the theme's terms")
    assert lines[1].endswith("; 1 warning(s)")
    text = "Voters cast their ballots in the referendum on Sunday."
    assert compile_pack(load_pack(tmp_path)).classify(text).themes == []

    (tmp_path / "a.yaml").write_text(SELF_VETO.format(union="balloted its members"), encoding="utf-8")
    assert main(["rules", "check", str(tmp_path)]) == 0
    assert "warning" not in capsys.readouterr().out
    rules = compile_pack(load_pack(tmp_path))
    assert [t.theme for t in rules.classify(text).themes] == ["referendum"]
    assert rules.classify("The union balloted its members, and the referendum on pay failed.").themes == []


@pytest.mark.parametrize("field, effect", [
    # The same clash in a caution vetoes nothing, but it would raise the model's bar beside any ballot; in a
    # silence it would keep the model from assigning the theme alone beside any ballot.
    ("caution", "caution and raise the model's bar"),
    ("silence", "silence and keep the model from assigning the theme alone"),
])
def test_rules_check_warns_of_a_caution_or_silence_that_two_words_of_one_side_trip(tmp_path, capsys, field, effect):
    pack = SELF_VETO.format(union="balloted").replace("    exclude: ['", f"    {field}: ['")
    (tmp_path / "a.yaml").write_text(pack, encoding="utf-8")
    assert main(["rules", "check", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith(
        f"(themes[0].{field}[0]): warning: 'balloted' reads as 'ballot', which 'ballot*' on the other side "
        f"matches too: two such words alone trip this {effect}")


def test_rules_check_warns_of_a_not_context_that_two_words_of_one_side_trip(tmp_path, capsys):
    pack = SELF_VETO.format(union="balloted").replace(
        """terms: {'"@vote_word"': 1}""", """terms: {'"@vote_word" NOT "@vote_word" NEAR/10 "@company_vote"': 1}""")
    (tmp_path / "a.yaml").write_text(pack, encoding="utf-8")
    assert main(["rules", "check", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert """(themes[0].terms."@vote_word" NOT "@vote_word" NEAR/10 "@company_vote"): warning: 'balloted' reads as""" \
        in out and out.strip().endswith("; 2 warning(s)")  # the NOT context, and the exclusion as before
