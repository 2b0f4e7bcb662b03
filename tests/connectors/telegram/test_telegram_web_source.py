"""``TelegramChannelSource`` against a local preview server: paging back to the cap or the cursor,
channels without preview as clear source errors, 429 honoured for every channel of the host, the
per-host spacing, and the registry's dispatch between the two adapters."""

from __future__ import annotations

import pytest

from connectors.errors import BadInput, FetchError, RetryLater
from connectors.hosts import HostRateLimiter
from connectors.http import make_session
from connectors.registry import factory_for
from connectors.telegram.adapter import TelegramAdapter
from connectors.telegram.channel import NoPublicPreview
from connectors.telegram.source import TelegramChannelSource
from core.settings import TelegramSettings
from schemas import Source, SourceState
from tests.conftest import LOCAL
from tests.connectors.telegram.tg_helpers import PreviewSite, serve_preview

FAST = TelegramSettings(host_min_interval_secs=0, host_jitter_secs=0)


def channel(name: str = "somechannel", base: str = "", **extra) -> Source:
    return Source(id=f"tg-{name}", type="telegram", channel=name, base_url=base, **extra)


async def poll(site: PreviewSite | None, source_kwargs: dict, cursor: int | None = None, config=FAST):
    async with serve_preview(site) as (base, served), make_session(policy=LOCAL) as session:
        adapter = TelegramChannelSource(session, config)
        source = channel(base=base, **source_kwargs)
        result = await adapter.poll(source, SourceState(source_id=source.id, cursor=cursor))
    return result, served


async def test_first_run_reads_every_backfill_page_and_returns_all_posts_oldest_first():
    result, site = await poll(None, {"backfill_pages": 3})
    assert [i.telegram.message_id for i in result.items] == [102, 103, 105, 107, 109, 111, 112, 113,
                                                            115, 116, 117, 118, 119, 120]
    assert site.requests == ["/s/somechannel", "/s/somechannel?before=112", "/s/somechannel?before=105"]
    assert result.cursor == 120 and result.received_bytes > 20_000 and result.warnings == []
    assert {i.source_id for i in result.items} == {"tg-somechannel"}


async def test_page_cap_stops_paging_before_the_start_of_the_channel():
    result, site = await poll(None, {"backfill_pages": 2})
    assert [i.telegram.message_id for i in result.items][:2] == [105, 107] and len(result.items) == 12
    assert len(site.requests) == 2


@pytest.mark.parametrize("cursor, requests", [(120, 1), (111, 1), (110, 2), (104, 2), (103, 3)])
async def test_later_polls_page_back_only_until_the_cursor(cursor, requests):
    result, site = await poll(None, {"backfill_pages": 1}, cursor=cursor)
    assert len(site.requests) == requests
    assert result.cursor == 120
    assert result.items[-1].telegram.message_id == 120  # page 1 always comes back: edits of recent posts


async def test_cursor_never_moves_backwards():
    result, _ = await poll(None, {}, cursor=500)
    assert result.cursor == 500


async def test_channel_redirected_away_from_the_preview_is_a_no_preview_source_error():
    with pytest.raises(NoPublicPreview) as caught:
        await poll(None, {"name": "closedchannel"})
    assert caught.value.kind == "no_preview" and isinstance(caught.value, BadInput)
    assert str(caught.value) == "tg-closedchannel: channel closedchannel has no public preview (redirected to /closedchannel)"


async def test_preview_page_without_messages_is_a_no_preview_source_error():
    with pytest.raises(NoPublicPreview, match="^tg-emptychannel: channel emptychannel shows no messages"):
        await poll(None, {"name": "emptychannel"})


async def test_unknown_channel_page_is_an_http_error_naming_the_source():
    with pytest.raises(FetchError) as caught:
        await poll(None, {"name": "nosuchchannel"})
    assert caught.value.kind == "http_error" and str(caught.value).startswith("tg-nosuchchannel: HTTP 404")


async def test_429_reschedules_the_source_and_holds_back_every_channel_on_that_host():
    site = PreviewSite(limited={"somechannel": 120})
    config = TelegramSettings(host_min_interval_secs=0, host_jitter_secs=0, max_host_wait_secs=10)
    async with serve_preview(site) as (base, served), make_session(policy=LOCAL) as session:
        adapter = TelegramChannelSource(session, config)
        with pytest.raises(RetryLater) as first:
            await adapter.poll(channel(base=base), SourceState(source_id="tg-somechannel"))
        with pytest.raises(RetryLater) as second:
            await adapter.poll(channel("emptychannel", base=base), SourceState(source_id="tg-emptychannel"))
    assert first.value.retry_after_secs == 120 and first.value.kind == "rate_limited"
    assert 100 < second.value.retry_after_secs <= 120 and "rate limited" in str(second.value)
    assert served.requests == ["/s/somechannel"]  # the second channel did not hit the host


async def test_host_limiter_spaces_requests_per_host_with_jitter():
    now = [0.0]
    waits: list[float] = []

    async def sleep(secs: float) -> None:
        waits.append(secs)

    limiter = HostRateLimiter(1.0, 0.4, 10, clock=lambda: now[0], sleep=sleep, rng=lambda: 0.5)
    for _ in range(3):
        await limiter.acquire("t.me", "tg")
    await limiter.acquire("mirror.example", "tg")
    assert waits == [pytest.approx(1.2), pytest.approx(2.4)]  # first call and the other host: no wait
    limiter.defer("t.me", 30)  # a 429 said 30 s: longer than the 10 s a poll may wait
    with pytest.raises(RetryLater) as caught:
        await limiter.acquire("t.me", "tg")
    assert caught.value.retry_after_secs == pytest.approx(30)
    now[0] = 100.0
    await limiter.acquire("t.me", "tg")
    assert len(waits) == 2  # past the deferral the host is free again


async def test_registry_builds_the_telegram_adapter_and_routes_mtproto_sources_to_their_adapter(monkeypatch):
    for name in ("API_ID", "API_HASH", "SESSION"):
        monkeypatch.delenv(f"WATCHFLOOR_TELEGRAM_{name}", raising=False)
    async with make_session(policy=LOCAL) as session:
        adapter = factory_for("telegram")(session, None)
        assert isinstance(adapter, TelegramAdapter) and adapter.source_type == "telegram"
        source = Source(id="tg-api", type="telegram", channel="somechannel", adapter="mtproto")
        with pytest.raises(BadInput, match="^tg-api: the MTProto adapter is not configured: invalid setting "
                                           "WATCHFLOOR_TELEGRAM_API_ID: required by sources with adapter: mtproto$"):
            await adapter.poll(source, SourceState(source_id="tg-api"))
