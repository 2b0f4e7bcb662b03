"""feedparser entries → ``schemas.Item``.

Identity: ``item_id`` is ``rss:{source_id}:{digest}`` where the digest is taken from the entry's
guid, else its normalised link, else its title and date. So the same article keeps its id across
fetches and restarts, and two sources never collide.
"""

from __future__ import annotations

import calendar
import hashlib
from datetime import datetime, timezone

from pydantic import ValidationError

from connectors.rss.text import absolute_http_url, fold, html_to_text, language_tag, normalise_link
from schemas import Item, Source

_HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_TEXT_CHARS = 100_000


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def item_id_for(source_id: str, entry, link: str | None, title: str) -> str:
    guid = fold(str(entry.get("id") or ""))
    if guid:
        key = _digest("guid", guid)
    elif link:
        key = _digest("link", normalise_link(link))
    else:
        date = str(entry.get("published") or entry.get("updated") or "")
        key = _digest("title+date", title, date)
    return f"rss:{source_id}:{key}"


def content_hash(title: str, text: str) -> str:
    return _digest(title, text)


def entry_time(entry) -> datetime | None:
    for field in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(field)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc)
            except (OverflowError, ValueError, OSError, TypeError):
                continue
    return None


def _body(entry) -> tuple[str | None, str | None]:
    """``(html, declared_language)`` of the richest body the entry has (content, else summary)."""
    for content in entry.get("content") or []:
        value = content.get("value")
        if value:
            return value, content.get("language")
    detail = entry.get("summary_detail") or {}
    return entry.get("summary"), detail.get("language")


def normalise_entry(entry, *, source: Source, feed_lang: str | None, base_url: str | None,
                    fetched_at: datetime) -> Item:
    """One entry as an ``Item`` (raises ``ValueError``/``ValidationError`` if it cannot be one)."""
    title = html_to_text(entry.get("title"))[:MAX_TEXT_CHARS]
    body_html, body_lang = _body(entry)
    text = html_to_text(body_html)[:MAX_TEXT_CHARS]
    link = absolute_http_url(entry.get("link"), base_url)
    published = entry_time(entry)
    title_lang = (entry.get("title_detail") or {}).get("language")
    lang = language_tag(body_lang or title_lang or feed_lang or source.lang)
    return Item(
        item_id=item_id_for(source.id, entry, link, title),
        source_type="rss",
        source_id=source.id,
        url=link,
        title=title,
        text=text,
        html=body_html or None,
        published_at=published or fetched_at,
        published_at_estimated=published is None,
        fetched_at=fetched_at,
        lang=lang,
        author=fold(entry.get("author") or "") or None,
        content_hash=content_hash(title, text),
    )


def normalise_feed(parsed, *, source: Source, base_url: str | None, fetched_at: datetime,
                   name: str) -> tuple[list[Item], list[str]]:
    """Every usable entry as an ``Item``, oldest first, and one warning per entry that was not."""
    feed = parsed.get("feed") or {}
    feed_lang = feed.get("language") or (parsed.get("headers") or {}).get("content-language")
    items: list[Item] = []
    warnings: list[str] = []
    for index, entry in enumerate(parsed.get("entries") or []):
        try:
            item = normalise_entry(entry, source=source, feed_lang=feed_lang, base_url=base_url,
                                   fetched_at=fetched_at)
        except (ValueError, TypeError, ValidationError) as exc:
            warnings.append(f"{name}: entry {index} skipped: {type(exc).__name__}")
            continue
        if not item.title and not item.text and not item.url:
            warnings.append(f"{name}: entry {index} skipped: no title, text or link")
            continue
        items.append(item)
    # Feeds list newest first; reversing before the stable sort keeps undated entries oldest first too.
    items.reverse()
    items.sort(key=lambda it: it.published_at)
    return items, warnings
