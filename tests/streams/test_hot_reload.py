"""Rule packs reach every running worker without a restart, and an invalid pack is never published."""

from __future__ import annotations

import copy

import pytest

from core.errors import ConfigError
from schemas import Alert
from streams.rules.publish import prepare_pack, publish_pack
from tests.conftest import consume_until, wait_until
from tests.streams.conftest import TEST_PACK, make_item, produce_items, write_pack


def pack_with_zebra_trigger() -> dict:
    pack = copy.deepcopy(TEST_PACK)
    pack["name"] = TEST_PACK["name"]
    pack["triggers"].append({"id": "zebra-watch", "severity": "info", "description": "Zebras",
                             "when": 'keyword "zebra"'})
    return pack


async def test_pushed_pack_judges_the_next_item_on_every_worker(settings, topics, run_pipeline, tmp_path):
    first, second = await run_pipeline(), await run_pipeline()
    old_version = first.rules.current.version
    path = tmp_path / "v2.yaml"
    write_pack(path, pack_with_zebra_trigger())
    pack = prepare_pack(path)
    version = await publish_pack(settings, pack)
    assert version != old_version

    await wait_until(lambda: first.rules.current.version == version and second.rules.current.version == version,
                     timeout_secs=5, what="both workers to switch to the pushed pack within 5 s")
    await produce_items(settings, topics["items_raw"], [make_item(1, "A zebra escaped from the Kyiv zoo.")])
    records = await consume_until(settings, topics["alerts"], lambda rs: len(rs) >= 1)
    alert = Alert.model_validate_json(records[0].value)
    assert alert.trigger_id == "zebra-watch"
    assert alert.rules_version == version
    assert first.metrics.rules_info.labels(version)._value.get() == 1


def test_an_invalid_pack_is_refused_with_its_file_named(tmp_path):
    broken = copy.deepcopy(TEST_PACK)
    broken["triggers"][0]["when"] = "theme:escalation AND AND"
    path = tmp_path / "broken.yaml"
    write_pack(path, broken)
    with pytest.raises(ConfigError) as info:
        prepare_pack(path)
    assert "broken.yaml" in str(info.value)
    assert "\n" not in str(info.value)


def run_cli(settings, *args: str):
    import os
    import subprocess
    import sys

    env = {**os.environ, "WATCHFLOOR_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
           "WATCHFLOOR_TOPIC_PREFIX": settings.topic_prefix}
    return subprocess.run([sys.executable, "-m", "watchfloor", *args], env=env, capture_output=True, text=True,
                          timeout=60)


async def test_rules_push_refuses_an_invalid_pack_and_publishes_a_valid_one(settings, topics, tmp_path):
    from tests.conftest import read_to_end

    broken = copy.deepcopy(TEST_PACK)
    broken["themes"][0]["terms"] = {'"nuclear" NEAR/x "use"': 1.0}
    bad = tmp_path / "bad.yaml"
    write_pack(bad, broken)
    refused = run_cli(settings, "rules", "push", str(bad))
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1 and "bad.yaml" in refused.stderr
    assert await read_to_end(settings, topics["rules"]) == []

    good = tmp_path / "good.yaml"
    write_pack(good, pack_with_zebra_trigger())
    published = run_cli(settings, "rules", "push", str(good))
    assert published.returncode == 0, published.stderr
    records = await read_to_end(settings, topics["rules"])
    assert len(records) == 1 and records[0].key == TEST_PACK["name"].encode()
    assert prepare_pack(good).version in published.stdout
