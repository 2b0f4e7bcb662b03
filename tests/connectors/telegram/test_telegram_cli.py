"""The done-when line, through the real command in a subprocess against a local preview server:
``watchfloor fetch telegram somechannel --base-url http://127.0.0.1:PORT`` prints every post of
every page down to the cap, oldest first; a channel without preview exits 2 with one line."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest

from tests.connectors.telegram.tg_helpers import PreviewSite, serve_preview

FAST = {"WATCHFLOOR_TELEGRAM_HOST_MIN_INTERVAL_SECS": "0", "WATCHFLOOR_TELEGRAM_HOST_JITTER_SECS": "0"}


async def fetch(base: str, *args: str) -> tuple[int, list[dict], list[str]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "watchfloor", "fetch", "telegram", *args, "--base-url", base, env={**os.environ, **FAST},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode, [json.loads(line) for line in out.splitlines()], err.decode().splitlines()


async def test_fetch_prints_every_post_of_every_page_down_to_the_cap_oldest_first():
    async with serve_preview() as (base, site):
        code, items, err = await fetch(base, "somechannel", "--pages", "3")
    assert code == 0 and err == []
    assert [i["telegram"]["message_id"] for i in items] == [102, 103, 105, 107, 109, 111, 112, 113,
                                                           115, 116, 117, 118, 119, 120]
    assert all(i["item_id"] == f"telegram:somechannel:{i['telegram']['message_id']}" for i in items)
    dates = [i["published_at"] for i in items]
    assert dates == sorted(dates) and dates[0] == "2026-11-01T09:00:00.000000Z"
    by_id = {i["telegram"]["message_id"]: i for i in items}
    assert by_id[112]["text"].startswith("Срочно: в Херсонской области объявлена эвакуация.\n\nПодробности")
    assert by_id[113]["telegram"]["forwarded_from"] == "ukrpravda_news"
    assert by_id[113]["telegram"]["forwarded_post"] == 4321
    assert (by_id[113]["telegram"]["views"], by_id[113]["telegram"]["views_approximate"]) == (15300, True)
    assert (by_id[102]["telegram"]["views"], by_id[120]["published_at"]) == (312, "2026-11-20T16:20:00.000000Z")
    assert by_id[115]["text"].startswith("🇪🇺 Sanctions") and by_id[115]["telegram"]["edited"] is True
    assert site.requests == ["/s/somechannel", "/s/somechannel?before=112", "/s/somechannel?before=105"]


@pytest.mark.parametrize("pages, count, oldest", [("1", 8, 112), ("2", 12, 105)])
async def test_fetch_stops_at_the_page_cap(pages, count, oldest):
    async with serve_preview() as (base, site):
        code, items, _ = await fetch(base, "somechannel", "--pages", pages)
    assert code == 0 and len(items) == count and items[0]["telegram"]["message_id"] == oldest
    assert len(site.requests) == int(pages)


@pytest.mark.parametrize("channel, line", [
    ("closedchannel", "watchfloor: telegram: channel closedchannel has no public preview (redirected to /closedchannel)"),
    ("emptychannel", "watchfloor: telegram: channel emptychannel shows no messages in its public preview"),
    ("nosuchchannel", "watchfloor: telegram: channel nosuchchannel: HTTP 404 Not Found"),
])
async def test_fetch_of_a_channel_without_preview_exits_2_with_one_line(channel, line):
    async with serve_preview() as (base, _):
        code, items, err = await fetch(base, channel)
    assert (code, items, err) == (2, [], [line])


async def test_fetch_when_rate_limited_exits_2_naming_the_wait():
    async with serve_preview(PreviewSite(limited={"somechannel": 90})) as (base, _):
        code, items, err = await fetch(base, "somechannel")
    assert (code, items) == (2, []) and err == ["watchfloor: telegram: channel somechannel: HTTP 429; retry after 90s"]
