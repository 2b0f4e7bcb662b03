"""``watchfloor rules backtest``: a candidate pack against the pack in use, over the items on the raw
topic of the real broker; the alerts it would add and those it would drop are both printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from streams.rules import load_pack
from streams.rules.publish import publish_pack
from tests.streams.conftest import make_item, produce, produce_items

THEMES = [{"id": "sanctions", "threshold": 1, "terms": {"sanctions": 1}},
          {"id": "escalation", "threshold": 1, "terms": {"nuclear": 1}}]
BASELINE = {"themes": THEMES, "triggers": [
    {"id": "sanctions_any", "severity": "warning", "when": "theme:sanctions"},
    {"id": "nuclear_any", "severity": "high", "when": "theme:escalation"}]}
CANDIDATE = {"themes": THEMES, "triggers": [
    {"id": "nuclear_any", "severity": "high", "when": "theme:escalation"},
    {"id": "kyiv_named", "severity": "info", "when": 'keyword "kyiv"'}]}


def pack_dir(tmp_path, name: str, pack: dict):
    path = tmp_path / name
    path.mkdir()
    (path / "pack.yaml").write_text(yaml.safe_dump(pack))
    return path


def run_backtest(settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "WATCHFLOOR_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
           "WATCHFLOOR_TOPIC_PREFIX": settings.topic_prefix}
    return subprocess.run([sys.executable, "-m", "watchfloor", "rules", "backtest", *args], env=env,
                          capture_output=True, text=True, timeout=120)


async def test_backtest_prints_the_alerts_a_pack_change_adds_and_those_it_drops(settings, topics, tmp_path):
    items = [make_item(1, "New sanctions on Moscow banks."), make_item(2, "A nuclear threat against Kyiv."),
             make_item(3, "Rain is expected in Lviv.")]
    await produce_items(settings, topics["items_raw"], items)
    await produce(settings, topics["items_raw"], [(b"bad", b"not an item")])
    candidate = pack_dir(tmp_path, "candidate", CANDIDATE)

    done = run_backtest(settings, str(candidate), "--baseline", str(pack_dir(tmp_path, "baseline", BASELINE)),
                        "--since", "1h", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["items"] == 3
    assert result["triggers"]["sanctions_any"] == {"severity": "warning", "added": [], "removed": ["rss:feed-a:1"],
                                                   "unchanged": 0}
    assert result["triggers"]["kyiv_named"]["added"] == ["rss:feed-a:2"]
    assert result["triggers"]["nuclear_any"]["unchanged"] == 1
    assert "(1 undecodable records skipped)" in done.stdout
    assert "1 alerts added, 1 removed" in done.stdout
    assert "  + rss:feed-a:2  A nuclear threat against Kyiv." in done.stdout
    assert "  - rss:feed-a:1  New sanctions on Moscow banks." in done.stdout


async def test_the_baseline_is_the_newest_pack_on_the_rules_topic(settings, topics, tmp_path):
    await produce_items(settings, topics["items_raw"], [make_item(1, "New sanctions on Moscow banks.")])
    baseline = load_pack(pack_dir(tmp_path, "baseline", BASELINE))
    await publish_pack(settings, baseline)
    done = run_backtest(settings, str(pack_dir(tmp_path, "candidate", CANDIDATE)), "--json")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("baseline: the rules topic")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["baseline"] == baseline.version
    assert result["triggers"]["sanctions_any"]["removed"] == ["rss:feed-a:1"]


def test_a_bad_duration_is_refused_in_one_line(settings, tmp_path):
    done = run_backtest(settings, str(tmp_path), "--since", "a week")
    assert done.returncode == 2 and "--since: invalid duration_secs value: 'a week'" in done.stderr


def test_a_duration_that_is_not_finite_is_refused(settings, tmp_path):
    done = run_backtest(settings, str(tmp_path), "--since", "inf")
    assert done.returncode == 2 and "--since: invalid duration_secs value: 'inf'" in done.stderr
