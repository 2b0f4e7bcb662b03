"""The message contract: committed JSON Schemas match the models, and every model survives a real
round trip through Kafka with CloudEvents headers."""

from __future__ import annotations

import json
from datetime import datetime, timezone
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


def test_iso_utc_writes_every_timestamp_as_isoformat_does_in_utc_with_six_digits_and_z():
    from datetime import timedelta

    from schemas.base import iso_utc

    plus_three = timezone(timedelta(hours=3))
    samples = [datetime(1, 1, 1, tzinfo=timezone.utc), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
               datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc), datetime(2026, 11, 28, 12, 0, 0, 5, tzinfo=plus_three),
               datetime(2024, 2, 29, 23, 30, 1, 120000, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))]
    samples += [datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=s * 7919.123457) for s in range(2000)]
    for value in samples:
        expected = value.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
        assert iso_utc(value) == expected
        assert iso_utc(value) == expected  # the second call comes from the kept last value
    # The kept value is the object itself, not an equal one in another zone.
    assert iso_utc(samples[3]) == "2026-11-28T09:00:00.000005Z"
    assert iso_utc(samples[3].astimezone(timezone.utc)) == "2026-11-28T09:00:00.000005Z"
