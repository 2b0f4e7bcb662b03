"""The MTProto adapter through a fake client with Telethon's interface and real Telethon message
objects: identical Items to the web preview for the same posts, FloodWait as a reschedule, cached
resolution, the recheck window for edits, albums, and secrets that never surface."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr
from telethon import TelegramClient
from telethon.tl import types

from connectors.errors import RetryLater
from connectors.http import make_session
from connectors.telegram.channel import NoPublicPreview
from connectors.telegram.mtproto import TelegramMtprotoSource, telethon_client
from connectors.telegram.source import TelegramChannelSource
from core.errors import ConfigError
from core.settings import TelegramSettings, load_settings
from schemas import Source, SourceState
from tests.conftest import LOCAL
from tests.connectors.telegram.fake_telethon import fixture_client, message, utc
from tests.connectors.telegram.tg_helpers import serve_preview

SECRETS = {"api_id": "918273", "api_hash": "0123456789abcdef0123456789abcdef", "session": ""}
CONFIG = TelegramSettings(**SECRETS)
WEB_FAST = dict(host_min_interval_secs=0, host_jitter_secs=0)


def source(**extra) -> Source:
    return Source(id="tg-some", type="telegram", channel="somechannel", adapter="mtproto", **extra)


def adapter_with(client, config: TelegramSettings = CONFIG) -> TelegramMtprotoSource:
    return TelegramMtprotoSource(config, client_factory=lambda cfg: client)


async def test_both_adapters_produce_identical_items_for_the_same_posts():
    from core.settings import TelegramSettings

    api = await adapter_with(fixture_client()).poll(source(), SourceState(source_id="tg-some"))
    async with serve_preview() as (base, _), make_session(policy=LOCAL) as session:
        web_source = source(base_url=base).model_copy(update={"adapter": "web"})
        web = await TelegramChannelSource(session, TelegramSettings(**WEB_FAST)).poll(
            web_source, SourceState(source_id="tg-some"))
    assert [i.item_id for i in api.items] == [i.item_id for i in web.items]
    assert len(api.items) == 8 and api.cursor == web.cursor == 120
    rounded = {"fetched_at": True, "telegram": {"views", "views_approximate"}}
    for from_api, from_web in zip(api.items, web.items):
        assert from_api.model_dump(exclude=rounded) == from_web.model_dump(exclude=rounded)
        assert from_api.content_hash == from_web.content_hash
    exact = {"fetched_at"}  # where the page shows the exact count, nothing at all differs
    for mid in (115, 120):
        a, w = (next(i for i in items if i.telegram.message_id == mid) for items in (api.items, web.items))
        assert a.model_dump(exclude=exact) == w.model_dump(exclude=exact)
    first_api, first_web = api.items[0].telegram, web.items[0].telegram
    assert (first_api.views, first_api.views_approximate, first_web.views, first_web.views_approximate) == (
        1234, False, 1200, True)


async def test_forward_origin_channel_and_media_come_from_the_api_objects():
    items = {i.telegram.message_id: i for i in (await adapter_with(fixture_client()).poll(
        source(), SourceState(source_id="tg-some"))).items}
    assert (items[113].telegram.forwarded_from, items[113].telegram.forwarded_post) == ("ukrpravda_news", 4321)
    assert {m: i.telegram.media_kind for m, i in items.items() if i.telegram.media_kind} == {
        116: "photo", 118: "video", 119: "poll"}
    assert 114 not in items  # the pinned-message service entry
    assert items[115].telegram.edited and items[117].telegram.reply_to == 112 and items[118].author == "Jane Doe"


async def test_flood_wait_reschedules_the_source_without_waiting():
    client = fixture_client()
    client.flood_seconds = 3600
    with pytest.raises(RetryLater) as caught:
        await adapter_with(client).poll(source(), SourceState(source_id="tg-some"))
    assert caught.value.retry_after_secs == 3600 and caught.value.kind == "flood_wait"
    assert str(caught.value) == "tg-some: Telegram asks to wait 3600s (FloodWait)"


async def test_channel_and_forward_origin_are_resolved_once_across_polls():
    client = fixture_client()
    adapter = adapter_with(client)
    first = await adapter.poll(source(), SourceState(source_id="tg-some"))
    await adapter.poll(source(), SourceState(source_id="tg-some", cursor=first.cursor))
    lookups = [c for c in client.calls if c[0] == "get_entity"]
    assert lookups == [("get_entity", "somechannel"), ("get_entity", types.PeerChannel(777))]


async def test_later_polls_read_above_the_cursor_minus_the_recheck_window_and_see_edits():
    history = fixture_client().history
    client = fixture_client(history)
    adapter = adapter_with(client, CONFIG.model_copy(update={"recheck_ids": 5, "max_pages": 2}))
    first = await adapter.poll(source(backfill_pages=1), SourceState(source_id="tg-some"))
    history[-1] = message(120, utc(2026, 11, 20, 16, 20), "Джерело уточнено.", views=9,
                          edit_date=utc(2026, 11, 20, 17, 0))
    history.append(message(121, utc(2026, 11, 20, 19, 0), "Вечерняя сводка."))
    second = await adapter.poll(source(backfill_pages=1), SourceState(source_id="tg-some", cursor=first.cursor))
    assert [c[2:] for c in client.calls if c[0] == "iter_messages"] == [(20, 0), (40, 115)]
    assert [i.telegram.message_id for i in second.items] == [116, 117, 118, 119, 120, 121]
    edited = second.items[4]
    assert edited.item_id == "telegram:somechannel:120" and edited.text == "Джерело уточнено."
    assert edited.content_hash != first.items[-1].content_hash and second.cursor == 121


async def test_album_messages_fold_into_one_post_under_the_first_id_with_the_caption():
    photo = types.MessageMediaPhoto(photo=types.Photo(id=5, access_hash=5, file_reference=b"",
                                                      date=utc(2026, 11, 21), sizes=[], dc_id=2))
    album = [message(mid, utc(2026, 11, 21, 9), "Фото з місця подій" if mid == 131 else "",
                     grouped_id=77, media=photo, views=50) for mid in (131, 132, 133)]
    result = await adapter_with(fixture_client(album)).poll(source(), SourceState(source_id="tg-some"))
    assert [(i.telegram.message_id, i.text, i.telegram.media_kind) for i in result.items] == [
        (131, "Фото з місця подій", "photo")]
    assert result.cursor == 133


async def test_unknown_channel_is_a_no_preview_error_and_unauthorised_session_is_named():
    with pytest.raises(NoPublicPreview, match="^tg-some: no public channel is named nosuch$"):
        await adapter_with(fixture_client()).poll(
            source().model_copy(update={"channel": "nosuch"}), SourceState(source_id="tg-some"))
    client = fixture_client()
    client.authorised = False
    with pytest.raises(Exception, match="session is not authorised"):
        await adapter_with(client).poll(source(), SourceState(source_id="tg-some"))


async def test_secrets_never_appear_in_reprs_errors_or_logs(caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    client = fixture_client()
    client.flood_seconds = 5
    with pytest.raises(RetryLater) as caught:
        await adapter_with(client).poll(source(), SourceState(source_id="tg-some"))
    shown = " ".join([repr(CONFIG), str(CONFIG), str(caught.value), caplog.text])
    for name in ("api_id", "api_hash"):
        assert SECRETS[name] not in shown
    assert isinstance(CONFIG.api_hash, SecretStr)
    monkeypatch.setenv("WATCHFLOOR_TELEGRAM_API_ID", "not-a-number-secret")
    monkeypatch.setenv("WATCHFLOOR_TELEGRAM_API_HASH", SECRETS["api_hash"])
    monkeypatch.setenv("WATCHFLOOR_TELEGRAM_SESSION", "")
    with pytest.raises(ConfigError) as bad:
        load_settings()
    assert str(bad.value) == "invalid setting WATCHFLOOR_TELEGRAM_API_ID: Value error, must be the numeric api_id"


async def test_default_factory_builds_a_real_telethon_client_that_raises_flood_waits():
    client = telethon_client(CONFIG)
    assert isinstance(client, TelegramClient)
    assert client.api_id == 918273 and client.flood_sleep_threshold == 0
