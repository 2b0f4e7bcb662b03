"""The source list: the shipped default, the YAML file with one-line errors, the topic overriding the
file, and ``watchfloor sources add|remove|list``."""

from __future__ import annotations

import contextlib
import io

import pytest

from connectors.sources import DEFAULT_SOURCES_PATH, load_sources_file, merge_sources
from core.errors import ConfigError
from schemas import Source
from watchfloor.cli import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_shipped_list_loads_with_rss_feeds_and_telegram_channels():
    sources = load_sources_file(DEFAULT_SOURCES_PATH)
    kinds = {s.type for s in sources}
    assert kinds == {"rss", "telegram"} and len(sources) >= 20
    assert all(s.url.startswith("https://") for s in sources if s.type == "rss")


def test_invalid_entry_is_one_line_naming_file_entry_and_field(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("sources:\n  - {id: ok, type: rss, url: 'https://a/'}\n  - {id: bad, type: rss, url: 'https://b/', poll_interval_secs: -1}\n")
    with pytest.raises(ConfigError) as caught:
        load_sources_file(path)
    assert str(caught.value).startswith(f"{path}: sources[1] (bad).poll_interval_secs:")
    assert "\n" not in str(caught.value)


def test_duplicate_ids_and_broken_yaml_are_refused(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("sources:\n  - {id: a, type: rss, url: 'https://a/'}\n  - {id: a, type: rss, url: 'https://b/'}\n")
    with pytest.raises(ConfigError, match=r"sources\[1\]: duplicate id 'a'"):
        load_sources_file(path)
    path.write_text("sources: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_sources_file(path)


def test_topic_entries_override_the_file_and_tombstones_remove():
    a = Source(id="a", type="rss", url="https://a/")
    b = Source(id="b", type="rss", url="https://b/")
    a2 = Source(id="a", type="rss", url="https://a2/")
    c = Source(id="c", type="telegram", channel="chan")
    merged = merge_sources([a, b], {"a": a2, "b": None, "c": c})
    assert [(s.id, s.url or s.channel) for s in merged] == [("a", "https://a2/"), ("c", "chan")]


def test_sources_add_list_remove_edit_the_configured_file(tmp_path, monkeypatch):
    path = tmp_path / "sources.yaml"
    monkeypatch.setenv("WATCHFLOOR_SOURCES_PATH", str(path))
    monkeypatch.chdir(tmp_path)
    assert run("sources", "add", "kyiv", "--url", "https://kyivindependent.com/rss/", "--tag", "ukraine")[0] == 0
    assert run("sources", "add", "zel", "--type", "telegram", "--channel", "V_Zelenskiy_official")[0] == 0
    code, out, _ = run("sources", "list")
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == ["ID", "kyiv", "zel"]
    assert run("sources", "add", "kyiv", "--url", "https://x/")[2].startswith("watchfloor: sources: ")
    assert run("sources", "remove", "kyiv") == (0, "removed kyiv\n", "")
    assert [s.id for s in load_sources_file(path)] == ["zel"]
    code, _, err = run("sources", "remove", "nope")
    assert code == 2 and err == f"watchfloor: sources: {path} has no source 'nope'\n"


def test_sources_add_without_a_file_setting_refuses_to_edit_the_shipped_list(tmp_path, monkeypatch):
    monkeypatch.delenv("WATCHFLOOR_SOURCES_PATH", raising=False)
    monkeypatch.chdir(tmp_path)
    before = DEFAULT_SOURCES_PATH.read_bytes()
    code, _, err = run("sources", "add", "x", "--url", "https://x/")
    assert code == 2 and "shipped list is read-only" in err and DEFAULT_SOURCES_PATH.read_bytes() == before
