"""Untrusted feed content on the page (headless Chromium) and in the Atom feed: the feedparser
sanitize corpus and hand-written attacks arrive, are shown as text, and execute nothing."""

from __future__ import annotations

import aiohttp
import feedparser
from playwright.async_api import expect

from desk.service import Desk
from desk.store import STORE_FILE, AlertStore
from desk.text import safe_link
from tests.conftest import wait_until
from tests.desk.alerts import produce_alerts
from tests.desk.browser import PageWatch, chromium
from tests.desk.hostile import HAND_WRITTEN, hostile_alerts

ROW_TEXT = """rows => Object.fromEntries(rows.map(r => [r.dataset.alertId,
    r.querySelector('.headline > :first-child').textContent]))"""
ACTIVE = "#rows img, #rows script, #rows iframe, #rows svg, #rows style, #rows math, #rows body, #why img, #why script"


async def test_sanitize_corpus_and_handwritten_attacks_reach_the_page_as_text_and_run_nothing(settings, topics):
    alerts = hostile_alerts()
    half = len(alerts) // 2
    await produce_alerts(settings, topics["alerts"], alerts[:half])
    async with Desk(settings.model_copy(update={"web_port": 0}), targets=[]) as desk, chromium() as browser:
        await wait_until(lambda: desk.store.last_seq() >= half, 60, "the first half in the store")
        page = await browser.new_page(viewport={"width": 1400, "height": 900})
        watch = PageWatch(desk.url)
        await watch.attach(page)
        await page.goto(f"{desk.url}/")
        await page.wait_for_selector("body[data-conn=live]", timeout=30_000)
        await produce_alerts(settings, topics["alerts"], alerts[half:])  # the rest arrive live
        await expect(page.locator("#rows > article")).to_have_count(len(alerts), timeout=60_000)

        shown = await page.eval_on_selector_all("#rows > article", ROW_TEXT)
        assert shown == {a.alert_id: a.title for a in alerts}  # every payload, verbatim, as text
        hrefs = await page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        assert all(h.startswith(("http://", "https://")) for h in hrefs)
        assert len([h for h in hrefs if not h.startswith(desk.url)]) == len([a for a in alerts if safe_link(a.url)])

        for payload, _ in HAND_WRITTEN[::-1]:  # the why-it-fired view renders every field too
            row = page.locator("#rows > article").filter(has_text=payload[:20]).first
            await row.locator(".snippet").click()
            await expect(page.locator("#why h2")).to_have_text(payload[:300], timeout=10_000)
        await page.fill("#who", '<img src=x onerror="window.__xss=1">')
        await page.locator("#rows > article button.ack").first.click()
        await expect(page.locator("#rows .acked").first).to_contain_text("<img src=x", timeout=10_000)
        await page.select_option("select[name=theme]", index=1)
        await expect(page.locator("#rows > article").first).to_be_visible(timeout=10_000)

        assert await page.locator(ACTIVE).count() == 0
        await watch.assert_nothing_ran(page)


async def test_atom_feed_of_hostile_alerts_is_valid_for_feedparser_and_links_only_http(settings):
    alerts = hostile_alerts()
    store = AlertStore(settings.data_dir / STORE_FILE)
    store.add_many([(a, []) for a in alerts])
    store.close()
    async with Desk(settings.model_copy(update={"web_port": 0}), targets=[], consume=False) as desk, \
            aiohttp.ClientSession() as session:
        async with session.get(f"{desk.url}/alerts.atom?limit=1000") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("application/atom+xml")
            body = await response.read()
        async with session.get(f"{desk.url}/alerts.atom", params={"severity": "critical"}) as response:
            empty = feedparser.parse(await response.read())
    feed = feedparser.parse(body)
    assert feed.bozo is False, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert len(feed.entries) == len(alerts)
    by_id = {a.alert_id: a for a in alerts}
    for entry in feed.entries:
        alert = by_id[entry.id.removeprefix("urn:watchfloor:alert:")]
        assert entry.title == f"[{alert.severity.upper()}] {alert.title.strip()}"
        assert [link.href for link in entry.get("links", []) if link.rel == "alternate"] == (
            [alert.url] if safe_link(alert.url) else [])
        assert "<script" not in entry.content[0].value.lower()
    assert feed.bozo is False and empty.bozo is False and empty.entries == []
