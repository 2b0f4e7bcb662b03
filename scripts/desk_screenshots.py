"""Take the screenshots in docs/desk.md: the desk on the embedded broker with a few alerts, in the
Debian headless Chromium the tests use. Run from the checkout: `.venv/bin/python scripts/desk_screenshots.py`.

The alerts are made up here (an item with two triggers, a story carried by two feeds, a theme the
learned model assigned, one threat told in English and Russian); nothing reaches the internet.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import timedelta
from pathlib import Path

from playwright.async_api import async_playwright

from core.kafka import create_topics, start_producer
from core.settings import Settings
from desk.service import Desk
from schemas import Alert
from schemas.base import utcnow
from schemas.classified import EntityHit, Match, ThemeHit
from schemas.topics import TOPICS
from watchfloor.broker import EmbeddedBroker

ROOT = Path(__file__).resolve().parents[1]

OUT = ROOT / "docs" / "desk"
CHROMIUM = "/usr/bin/chromium"


def alert(n: int, trigger: str, severity: str, title: str, text: str, terms: dict[str, list[str]], **extra) -> Alert:
    doc = f"{title}\n{text}"
    now = utcnow() - timedelta(minutes=30 - n)
    themes = [ThemeHit(theme=theme, score=float(len(words)),
                       matches=[Match(text=w, start=doc.index(w), end=doc.index(w) + len(w),
                                      term=extra.get("term", w.lower())) for w in words],
                       model=extra.get("model"))
              for theme, words in terms.items()]
    # (name, type) or (name, type, the words in the text that name it)
    entities = [EntityHit(id=e[0].lower(), name=e[0], type=e[1],
                          mentions=[Match(text=w, start=doc.index(w), end=doc.index(w) + len(w))])
                for e in extra.get("entities", []) if (w := e[2] if len(e) > 2 else e[0]) in doc]
    fields = dict(alert_id=f"demo-{n}", kind=extra.get("kind", "item"), trigger_id=trigger, severity=severity,
                  description=extra.get("description", ""), themes=themes, entities=entities,
                  snippet=text, snippet_offset=len(title) + 1, rules_version="demo", source_type="rss",
                  source_id=extra.get("source", "wire"), item_id=extra.get("item", f"rss:wire:{n}"),
                  url=f"https://news.example.org/{n}", title=title, lang=extra.get("lang", "en"), published_at=now,
                  fetched_at=now, classified_at=now, alerted_at=now + timedelta(seconds=n),
                  story_id=extra.get("story"), source_count=extra.get("sources", 1))
    return Alert(**fields)


ALERTS = [
    alert(1, "mobilisation_by_official", "high", "Putin announces a new wave of mobilisation",
          "The Kremlin said reservists would be called up, and Putin warned the West not to test Russia's resolve.",
          {"escalation": ["mobilisation", "warned"]}, item="rss:wire:1", entities=[("Putin", "person")],
          description="Mobilisation announced by a named official"),
    alert(2, "nuclear_threat_by_official", "critical", "Putin announces a new wave of mobilisation",
          "The Kremlin said reservists would be called up, and Putin warned the West not to test Russia's resolve.",
          {"escalation": ["warned"]}, item="rss:wire:1", entities=[("Putin", "person")],
          description="Nuclear or escalation threat by a named official"),
    alert(3, "new_sanctions_package", "warning", "EU agrees its 19th package against Russia",
          "Envoys approved restrictions on the shadow fleet and on refiners buying crude from Russia.",
          {"sanctions": ["restrictions", "shadow fleet"]}, story="story-eu19", sources=1, entities=[("Russia", "place")],
          description="A new sanctions package"),
    alert(4, "new_sanctions_package", "warning", "EU agrees its 19th package against Russia",
          "Envoys approved restrictions on the shadow fleet and on refiners buying crude from Russia.",
          {"sanctions": ["restrictions", "shadow fleet"]}, story="story-eu19", sources=2, source="brussels-desk",
          item="rss:brussels-desk:4", entities=[("Russia", "place")], description="A new sanctions package"),
    alert(5, "referendum_in_occupied_region", "high", "Duma ratifies the treaties on four regions",
          "Deputies voted unanimously for the accession treaties drawn up after the September ballots.",
          {"referendum": ["accession treaties", "ballots"]}, term="model", model=0.91,
          entities=[("Duma", "organisation")], description="Referendum or annexation step in an occupied region"),
    alert(6, "nuclear_threat_by_official", "critical", "Ryabkov: Russia could resume nuclear tests",
          "The deputy foreign minister said Moscow would test again if the United States did so first.",
          {"escalation": ["test again"]}, story="story-ryabkov-en", source="wire",
          entities=[("Ryabkov", "person"), ("Russia", "place", "Moscow"), ("United States", "place")],
          description="Nuclear or escalation threat by a named official"),
    alert(7, "nuclear_threat_by_official", "critical", "Рябков: Россия может возобновить ядерные испытания",
          "Замминистра заявил, что Москва проведёт испытания, если их первыми проведут США.",
          {"escalation": ["проведёт испытания"]}, story="story-ryabkov-ru", source="ru-wire", lang="ru",
          item="rss:ru-wire:7", entities=[("Ryabkov", "person", "Рябков"), ("Russia", "place", "Москва"),
                                          ("United States", "place", "США")],
          description="Nuclear or escalation threat by a named official"),
]


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with EmbeddedBroker("127.0.0.1", 0) as broker, tempfile.TemporaryDirectory() as tmp:
        settings = Settings(kafka_bootstrap=broker.bootstrap, data_dir=Path(tmp), web_port=0, kafka_idempotence="off")
        await create_topics(settings)
        producer = await start_producer(settings)
        for a in ALERTS:
            await producer.send_and_wait(TOPICS["alerts"].name(settings.topic_prefix), a.to_bytes(),
                                         key=a.alert_id.encode())
        await producer.stop()
        async with Desk(settings, targets=[]) as desk, async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                       args=["--no-sandbox", "--disable-gpu"])
            page = await browser.new_page(viewport={"width": 1400, "height": 720})
            await page.goto(f"{desk.url}/")
            await page.wait_for_selector("body[data-conn=live]")
            await page.fill("#who", "olena")
            await page.locator("#rows > article").nth(3).wait_for()
            await page.screenshot(path=str(OUT / "rows.png"))
            await page.locator('#rows > article[data-group="item:rss:wire:1"] .snippet').click()
            await page.locator("#why .row-trigger").first.wait_for()
            await page.screenshot(path=str(OUT / "why-two-triggers.png"))
            await page.locator('#rows > article[data-alert-id="demo-5"] .snippet').click()
            await page.locator("#why mark.model-word").first.wait_for()
            await page.screenshot(path=str(OUT / "why-model.png"))
            # The workbench: related coverage in Russian on the English story's row, assigned, noted, acknowledged.
            # Which of the two stories leads the row depends on which the desk stored first (two partitions).
            ryabkov = page.locator("#rows > article:has(.related)")
            await ryabkov.wait_for()
            await ryabkov.locator(".snippet").click()
            await page.locator("#related .related-item").wait_for()
            await page.locator("#desk-actions .assignee-input").fill("taras")
            await page.locator("#desk-actions button.do-assign").click()
            await page.locator("#rows .life.assignee").wait_for()
            await page.locator("#desk-actions .note-input").fill("Same statement as TASS at 09:40; asked the "
                                                                 "Moscow stringer for the full quote.")
            await page.locator("#desk-actions button.do-note").click()
            await page.locator("#rows .life.notes").wait_for()
            await page.locator("#desk-actions button.do-ack").click()
            await page.locator("#trail li").nth(2).wait_for()
            await page.set_viewport_size({"width": 1400, "height": 1000})
            await page.screenshot(path=str(OUT / "workbench.png"))
            await browser.close()
    print(f"wrote {', '.join(p.name for p in sorted(OUT.glob('*.png')))} in {OUT}")


if __name__ == "__main__":
    asyncio.run(main())
