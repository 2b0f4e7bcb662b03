"""Reading rule files: one pack from a file or a directory, and every problem reported with the file,
the line and the field, as ``watchfloor rules check`` prints it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streams.rules import DEFAULT_PACK, RulePackError, compile_pack, load_pack, read_pack

THEMES = """\
themes:
  - id: escalation
    threshold: 2
    terms:
      nuclear weapon*: 2
      ядерн* оружи*: 2
"""
ENTITIES = """\
entities:
  - {id: putin, name: Vladimir Putin, type: person, tags: [official], variants: [Putin, Путин*]}
"""
TRIGGERS = """\
triggers:
  - id: threat
    severity: critical
    description: Nuclear threat by an official.
    when: theme:escalation AND entity_tag:official
"""


def write(directory: Path, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def test_a_directory_of_files_merges_into_one_pack_that_classifies(tmp_path):
    path = write(tmp_path / "pack", **{"a_themes.yaml": THEMES, "b_entities.yml": ENTITIES, "c.yaml": TRIGGERS})
    pack = load_pack(path)
    assert (pack.name, len(pack.themes), len(pack.entities), len(pack.triggers)) == ("pack", 1, 1, 1)
    assert len(pack.version) == 16
    result = compile_pack(pack).classify("Путин пригрозил применить ядерное оружие")
    assert [t.id for t in result.triggers] == ["threat"]


def test_a_pack_published_as_json_loads_back_with_the_same_version(tmp_path):
    pack = load_pack(write(tmp_path / "pack", **{"all.yaml": THEMES + ENTITIES + TRIGGERS}))
    (tmp_path / "pack.json").write_text(pack.model_dump_json(), encoding="utf-8")
    assert load_pack(tmp_path / "pack.json").version == pack.version


def test_the_default_pack_loads_and_names_itself_default():
    pack = load_pack(None)
    assert pack.name == "default"
    assert {t.id for t in pack.themes} == {"referendum", "escalation", "sanctions"}
    assert load_pack(DEFAULT_PACK).version == pack.version


@pytest.mark.parametrize("text, line, fragment", [
    (THEMES.replace("threshold: 2", "treshold: 2"), 3, "themes[0].treshold"),
    (THEMES.replace("nuclear weapon*: 2", "nuclear weapon*: lots"), 5, "themes[0].terms.nuclear weapon*"),
    (THEMES.replace("nuclear weapon*: 2", "nu*: 2"), 5, "at least 3 letters"),
    (THEMES.replace("ядерн* оружи*: 2", "'\"ядерн NEAR/3': 2"), 6, "unbalanced quote"),
    (THEMES + "  - id: escalation\n", 7, "duplicate theme id 'escalation'"),
    (THEMES + "entities:\n  - {id: kyiv, name: Kyiv, type: place}\n  - {id: kyiv, name: Kyiv, type: place}\n", 9,
     "duplicate entity id 'kyiv'"),
    (THEMES + "    exclude: [nuclear fusion NOT \"@nope\"]\n", 7, "unknown concept '@nope'"),
    (TRIGGERS.replace("entity_tag:official", "theme:nope"), 5, "unknown theme 'nope'"),
    (TRIGGERS.replace("severity: critical", "severity: urgent"), 3, "triggers[0].severity"),
    ("themes:\n  - id: x\n    terms: {a: 1\n", 4, "not valid YAML"),
])
def test_each_problem_names_the_file_and_line(tmp_path, text, line, fragment):
    path = write(tmp_path / "pack", **{"rules.yaml": text})
    _, problems = read_pack(path)
    assert problems, text
    where = f"{path / 'rules.yaml'}:{line}"
    assert any(str(p).startswith(where) and fragment in str(p) for p in problems), [str(p) for p in problems]


def test_yaml_syntax_errors_raise_one_line_config_errors_with_the_line(tmp_path):
    path = write(tmp_path / "pack", **{"rules.yaml": "themes:\n  - id: x\n    terms: {a: 1\n"})
    with pytest.raises(RulePackError, match=r"rules\.yaml:4: not valid YAML"):
        load_pack(path)


def test_problems_in_a_second_file_name_that_file_and_its_own_line(tmp_path):
    bad_triggers = TRIGGERS.replace("entity_tag:official", "entity:medvedev")
    path = write(tmp_path / "pack", **{"a.yaml": THEMES + ENTITIES, "b.yaml": bad_triggers})
    with pytest.raises(RulePackError) as err:
        load_pack(path)
    message = str(err.value)
    assert message.startswith(f"{path / 'b.yaml'}:5 (triggers[0].when): unknown entity 'medvedev'")
    assert "\n" not in message


def test_every_problem_is_reported_and_load_pack_counts_the_rest(tmp_path):
    text = THEMES.replace("nuclear weapon*: 2", "nu*: 2").replace("ядерн* оружи*: 2", "я*: 2")
    path = write(tmp_path / "pack", **{"rules.yaml": text})
    _, problems = read_pack(path)
    assert [str(p).split(" ")[0] for p in problems] == [f"{path / 'rules.yaml'}:5", f"{path / 'rules.yaml'}:6"]
    with pytest.raises(RulePackError, match=r"and 1 more; see 'watchfloor rules check'"):
        load_pack(path)


@pytest.mark.parametrize("setup, fragment", [
    (lambda d: d / "missing.yaml", "no such rule file or directory"),
    (lambda d: write(d / "empty", **{"notes.txt": "x"}), "no rule files"),
    (lambda d: write(d / "list", **{"r.yaml": "- a\n- b\n"}) / "r.yaml", "a rule file is a mapping"),
])
def test_unusable_paths_raise_config_errors_naming_the_path(tmp_path, setup, fragment):
    with pytest.raises(RulePackError, match=fragment):
        load_pack(setup(tmp_path))


def test_an_empty_file_is_an_empty_part_of_the_pack(tmp_path):
    path = write(tmp_path / "pack", **{"a.yaml": THEMES, "b.yaml": ""})
    assert len(load_pack(path).themes) == 1


def test_json_rule_files_are_read_like_yaml(tmp_path):
    doc = {"themes": [{"id": "s", "threshold": 1, "terms": {"санкці*": 1}}]}
    path = write(tmp_path / "pack", **{"s.json": json.dumps(doc, ensure_ascii=False)})
    result = compile_pack(load_pack(path)).classify("Нові санкції")
    assert [t.theme for t in result.themes] == ["s"]
