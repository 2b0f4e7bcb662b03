"""The message contract: committed JSON Schemas match the models, and every model survives a real
round trip through Kafka with CloudEvents headers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest

from core.kafka import ce_type_for, cloudevent_headers, start_producer
from schemas import (
    EXPORTED_MODELS,
    Alert,
    ClassifiedItem,
    EntityHit,
    Item,
    Match,
    RulePack,
    Source,
    SourceState,
    TelegramMeta,
    ThemeHit,
    TriggerHit,
)
from schemas.desk import DeskAction
from schemas.export import SCHEMA_DIR, export, render
from schemas.webhook import WebhookConfig, WebhookEndpoint
from tests.conftest import consume_until

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def sample_documents() -> dict[str, object]:
    item = Item(
        item_id="telegram:zsu_news:42", source_type="telegram", source_id="tg-zsu", url="https://t.me/zsu_news/42",
        title="", text="Запоріжжя: «референдум» ʼ 🚀", published_at=T0, fetched_at=T0, lang="uk",
        revision=1, content_hash="abc", telegram=TelegramMeta(channel="zsu_news", message_id=42, views=1200,
                                                             views_approximate=True, edited=True),
    )
    match = Match(text="референдум", start=13, end=23, term="референдум*")
    classified = ClassifiedItem(
        item=item, themes=[ThemeHit(theme="referendum", score=2.0, matches=[match])],
        entities=[EntityHit(id="place:zaporizhzhia", name="Zaporizhzhia", type="place",
                            mentions=[Match(text="Запоріжжя", start=0, end=9)])],
        triggers=[TriggerHit(id="referendum-occupied", severity="high")], rules_version="r1", classified_at=T0,
    )
    alert = Alert(
        alert_id="a1", trigger_id="referendum-occupied", severity="high", themes=classified.themes,
        entities=classified.entities, matches=[match], snippet="Запоріжжя: «референдум»", rules_version="r1",
        source_type="telegram", source_id="tg-zsu", item_id=item.item_id, published_at=T0, fetched_at=T0,
        classified_at=T0, alerted_at=T0,
    )
    return {
        "item": item,
        "classified_item": classified,
        "alert": alert,
        "source": Source(id="kyiv-independent", type="rss", url="https://kyivindependent.com/feed/"),
        "source_state": SourceState(source_id="kyiv-independent", etag='"x"', consecutive_failures=2),
        "rule_pack": RulePack(name="t"),
        "webhook_config": WebhookConfig(webhooks=[WebhookEndpoint(
            name="desk-chat", url="https://chat.example.org/hook", secret_env="DESK_CHAT_SECRET",
            min_severity="high")]),
        "desk_action": DeskAction(action_id="0f3c2a9e", alert_id="a1", action="snooze", by="night desk", at=T0,
                                  until=T0, desk="127.0.0.1:6066"),
    }


def test_committed_json_schemas_match_the_models():
    for name in EXPORTED_MODELS:
        committed = (SCHEMA_DIR / f"{name}.v1.json").read_text(encoding="utf-8")
        assert committed == render(name), (
            f"schemas/json/{name}.v1.json drifted from the model: run `watchfloor schemas export schemas/json`"
        )


def test_export_writes_one_file_per_model_byte_for_byte(tmp_path: Path):
    written = export(tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in SCHEMA_DIR.glob("*.v1.json"))
    for path in written:
        assert path.read_bytes() == (SCHEMA_DIR / path.name).read_bytes()


def test_every_model_has_a_sample_that_validates_against_its_json_schema():
    samples = sample_documents()
    assert set(samples) == set(EXPORTED_MODELS)
    for name, doc in samples.items():
        schema = json.loads((SCHEMA_DIR / f"{name}.v1.json").read_text(encoding="utf-8"))
        jsonschema.validate(json.loads(doc.model_dump_json()), schema)
        assert "schema_version" in schema["properties"], name


def test_timestamps_are_written_in_utc_with_z_suffix():
    item = Item(item_id="x", source_type="rss", source_id="s",
                published_at=datetime.fromisoformat("2026-11-28T15:00:00+03:00"), fetched_at=T0)
    data = json.loads(item.model_dump_json())
    assert data["published_at"] == "2026-11-28T12:00:00.000000Z"


async def test_every_schema_round_trips_through_a_real_topic(settings, topics):
    topic = topics["items_raw"]
    samples = sample_documents()
    producer = await start_producer(settings)
    try:
        for name, doc in samples.items():
            await producer.send_and_wait(
                topic, doc.model_dump_json().encode(), key=name.encode(),
                headers=cloudevent_headers(ce_type_for(doc)),
            )
    finally:
        await producer.stop()
    records = await consume_until(settings, topic, lambda rs: len(rs) >= len(samples))
    assert len(records) == len(samples)
    for record in records:
        name = record.key.decode()
        model = EXPORTED_MODELS[name]
        assert model.model_validate_json(record.value) == samples[name]
        headers = {k: v.decode() for k, v in record.headers}
        assert headers["ce_specversion"] == "1.0"
        assert headers["ce_type"] == f"watchfloor.{model.__name__}.v1"
        assert headers["content-type"] == "application/json"


def test_config_documents_reject_unknown_fields_with_the_field_named():
    with pytest.raises(Exception) as info:
        Source(id="x", type="rss", url="http://127.0.0.1/", pol_interval_secs=5)
    assert "pol_interval_secs" in str(info.value)


def _timestamp_samples() -> list[datetime]:
    plus_three = timezone(timedelta(hours=3))
    samples = [datetime(1, 1, 1, tzinfo=timezone.utc), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
               datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc), datetime(2026, 11, 28, 12, 0, 0, 5, tzinfo=plus_three),
               datetime(2024, 2, 29, 23, 30, 1, 120000, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
               datetime(2026, 11, 28, 12, 0), datetime(1, 1, 1, tzinfo=plus_three), datetime(1, 1, 1, 0, 30)]
    return samples + [datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=s * 7919.123457)
                      for s in range(2000)]


@pytest.mark.parametrize("name", ["iso_utc", "py_iso_utc"])
def test_iso_utc_writes_every_timestamp_as_isoformat_does_in_utc_with_six_digits_and_z(name):
    import schemas.base

    iso_utc = getattr(schemas.base, name)
    for value in _timestamp_samples():
        if value.tzinfo is not None and value.year > 1:
            expected = value.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
            assert iso_utc(value) == expected
    assert iso_utc(datetime(2026, 11, 28, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=3)))) == \
        "2026-11-28T09:00:00.000005Z"


def test_the_c_timestamp_functions_answer_as_their_python_twins_on_every_sample():
    """``schemas/_utc.c`` (built by setup.py, as CI does) against the Python it replaces: the same value,
    type and zone, or the same error, for naive, UTC, other zones and the ends of the calendar."""
    import shutil
    import sysconfig
    from pathlib import Path

    from schemas import base
    from schemas.base import py_iso_utc, py_to_utc

    if base._utc is None:
        if shutil.which("cc") is None or not Path(sysconfig.get_paths()["include"], "Python.h").exists():
            pytest.skip("no C compiler or Python headers: the pure-Python twins run")
        pytest.fail("pip install -e . should have compiled schemas/_utc.c")
    _utc = base._utc

    def answer(function, value):
        try:
            result = function(value)
        except Exception as exc:
            return type(exc), str(exc)
        return result, type(result), getattr(result, "tzinfo", None)

    for value in _timestamp_samples():
        assert answer(_utc.to_utc, value) == answer(py_to_utc, value), value
        assert answer(_utc.iso_utc, value) == answer(py_iso_utc, value), value
    assert answer(_utc.to_utc, datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=3))))[0] is ValueError
