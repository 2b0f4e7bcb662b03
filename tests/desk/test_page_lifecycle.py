"""The desk page as a workbench, in headless Chromium on the real broker: assign, notes,
acknowledge, snooze (hidden, then back at its time), resolve and reopen, all surviving a reload;
related coverage in another language attached to its story's row."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import expect

from schemas.base import iso_utc, utcnow
from schemas.classified import EntityHit, ThemeHit
from tests.desk.alerts import make_alert, produce_alerts
from tests.desk.test_page import WAIT_MS, live_desk, rows

RYABKOV = [EntityHit(id="ryabkov", name="Sergei Ryabkov", type="person"),
           EntityHit(id="russia", name="Russia", type="place"),
           EntityHit(id="united_states", name="United States", type="place")]
ESCALATION = [ThemeHit(theme="escalation", score=4.0)]


def row_of(page, alert):
    return page.locator(f'#rows > article[data-alert-id="{alert.alert_id}"]')


async def reload(page) -> None:
    await page.reload()
    await page.wait_for_selector("body[data-conn=live]", timeout=WAIT_MS)


async def test_assign_note_ack_snooze_resolve_and_reopen_on_the_page_survive_a_reload(settings, topics):
    work, later = make_alert(severity="high", story_id="s-work"), make_alert(severity="warning", story_id="s-later")
    await produce_alerts(settings, topics["alerts"], [work, later])
    async with live_desk(settings, 2, viewport={"width": 1500, "height": 900}) as (desk, session, page):
        await page.fill("#who", "anna")
        await row_of(page, work).locator(".snippet").click()
        panel = page.locator("#desk-actions")
        await panel.locator(".assignee-input").fill("boris")
        await panel.locator("button.do-assign").click()
        await expect(row_of(page, work).locator(".life.assignee")).to_have_text("→ boris", timeout=WAIT_MS)
        await page.locator("#desk-actions .note-input").fill("Checked with the Kyiv office: <b>confirmed</b>.")
        await page.locator("#desk-actions button.do-note").click()
        await expect(row_of(page, work).locator(".life.notes")).to_have_text("1 note", timeout=WAIT_MS)
        await page.locator("#desk-actions button.do-ack").click()
        await expect(row_of(page, work).locator(".acked")).to_have_text("✓ anna", timeout=WAIT_MS)

        await reload(page)
        await expect(row_of(page, work).locator(".life.assignee")).to_have_text("→ boris", timeout=WAIT_MS)
        assert await row_of(page, work).locator(".acked").inner_text() == "✓ anna"
        await row_of(page, work).locator(".snippet").click()
        trail = page.locator("#trail li")
        await expect(trail).to_have_count(3, timeout=WAIT_MS)
        texts = await trail.all_inner_texts()
        assert "anna assigned to boris" in texts[0] and "anna noted" in texts[1] and "anna acknowledged" in texts[2]
        # A note is text, never markup.
        assert await page.locator("#trail blockquote").inner_text() == "Checked with the Kyiv office: <b>confirmed</b>."
        assert await page.locator("#trail b").count() == 0
        assert await page.locator("#desk-actions .life-line").inner_text() == "acknowledged · assigned to boris"

        # Snooze from the page: the row leaves the active view and is listed under "snoozed".
        await row_of(page, later).locator(".snippet").click()
        await page.locator("#desk-actions button.do-snooze").click()
        await expect(row_of(page, later)).to_have_count(0, timeout=WAIT_MS)
        await page.select_option("select[name=status]", "snoozed")
        await expect(row_of(page, later).locator(".life.snoozed")).to_contain_text("snoozed until", timeout=WAIT_MS)
        await reload(page)  # the view is in the address: still the snoozed view, still snoozed
        await expect(row_of(page, later).locator(".life.snoozed")).to_contain_text("snoozed until", timeout=WAIT_MS)
        assert await page.locator("select[name=status]").input_value() == "snoozed"
        # Another desk shortens the snooze to two seconds: back in the active view at that time, no reload.
        await page.select_option("select[name=status]", "active")
        await expect(row_of(page, later)).to_have_count(0, timeout=WAIT_MS)
        await expect(row_of(page, work)).to_have_count(1, timeout=WAIT_MS)
        soon = utcnow() + timedelta(seconds=2)
        async with session.post(f"{desk.url}/api/actions", json={
                "alert_ids": [later.alert_id], "action": "snooze", "by": "boris", "until": iso_utc(soon)}) as response:
            assert response.status == 200
        await expect(row_of(page, later)).to_have_count(1, timeout=WAIT_MS)
        assert utcnow() >= soon

        # Resolve: gone from the active view, listed under "resolved" after a reload, and reopened from there.
        await row_of(page, work).locator(".snippet").click()
        await page.locator("#desk-actions button.do-resolve").click()
        await expect(row_of(page, work)).to_have_count(0, timeout=WAIT_MS)
        await page.select_option("select[name=status]", "resolved")
        await expect(row_of(page, later)).to_have_count(0, timeout=WAIT_MS)
        await expect(row_of(page, work)).to_have_count(1, timeout=WAIT_MS)
        assert "status=resolved" in page.url
        await reload(page)
        await expect(row_of(page, work).locator(".resolved")).to_have_text("✔ resolved", timeout=WAIT_MS)
        await row_of(page, work).locator(".snippet").click()
        await page.locator("#desk-actions button.do-reopen").click()
        await expect(rows(page)).to_have_count(0, timeout=WAIT_MS)
        await page.select_option("select[name=status]", "open")
        await expect(row_of(page, work).locator("button.ack")).to_have_count(1, timeout=WAIT_MS)


async def test_the_same_event_in_another_language_joins_its_story_row_as_related_coverage(settings, topics):
    english = make_alert(severity="high", story_id="s-en", trigger_id="nuclear_threat_by_official", lang="en",
                         title="Ryabkov: Russia could resume nuclear tests if Washington tests first",
                         themes=ESCALATION, entities=RYABKOV)
    other = make_alert(severity="high", story_id="s-finland", trigger_id="nuclear_threat_by_official", lang="en",
                       title="Ryabkov warns NATO troops in Finland would be legitimate targets", themes=ESCALATION,
                       entities=[RYABKOV[0], RYABKOV[1], EntityHit(id="nato", name="NATO", type="organisation"),
                                 EntityHit(id="finland", name="Finland", type="place")])
    await produce_alerts(settings, topics["alerts"], [english, other])
    async with live_desk(settings, 2, viewport={"width": 1500, "height": 900}) as (desk, session, page):
        await expect(rows(page)).to_have_count(2, timeout=WAIT_MS)
        russian = make_alert(severity="warning", story_id="s-ru", trigger_id="nuclear_threat_by_official", lang="ru",
                             title="Рябков: Россия может возобновить ядерные испытания", themes=ESCALATION,
                             entities=RYABKOV, source_id="wire-ru")
        await produce_alerts(settings, topics["alerts"], [russian])
        event_row = page.locator('#rows > article[data-group="story:s-en"]')
        await expect(event_row.locator(".related")).to_have_text("+1 related", timeout=WAIT_MS)
        await expect(rows(page)).to_have_count(2, timeout=WAIT_MS)  # joined, not a third row
        await event_row.locator(".snippet").click()
        related = page.locator("#related .related-item")
        await expect(related).to_have_count(1, timeout=WAIT_MS)
        assert "Рябков: Россия может возобновить ядерные испытания" in await related.inner_text()
        # The timeline lists every alert on the row in the order they fired, with their sources.
        timeline = await page.locator("#timeline li").all_inner_texts()
        assert len(timeline) == 2
        assert "wire-one · nuclear_threat_by_official" in timeline[0] and "wire-ru" in timeline[1]
        # The other threat by the same official keeps its own row.
        assert await page.locator('#rows > article[data-group="story:s-finland"]').count() == 1
