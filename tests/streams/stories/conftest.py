"""Story fixtures: syndicated copies as RSS and Telegram items, and helpers that read the story and
alert topics."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from schemas import Alert, ClassifiedItem, Item
from schemas.item import TelegramMeta
from tests.conftest import consume_until, read_to_end

BASE = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def copy_item(n: int, text: str, source: str, *, at: datetime = BASE, title: str = "") -> Item:
    """RSS for even ``n``, Telegram for odd: the grouping must not care which."""
    if n % 2:
        channel = source.replace("-", "_")
        return Item(item_id=f"telegram:{channel}/{n}", source_type="telegram", source_id=source,
                    url=f"https://t.me/{channel}/{n}", text=text, published_at=at,
                    fetched_at=at + timedelta(seconds=n), telegram=TelegramMeta(channel=channel, message_id=n))
    return Item(item_id=f"rss:{source}:{n}", source_type="rss", source_id=source, url=f"https://example.org/{n}",
                title=title, text=text, published_at=at, fetched_at=at + timedelta(seconds=n))


async def storied(settings, topic: str, count: int, timeout_secs: float = 60.0) -> dict[str, ClassifiedItem]:
    """item_id → storied item, once ``count`` distinct items reached ``items.stories``."""
    def done(records):
        return len({r.key + b"|" + ClassifiedItem.model_validate_json(r.value).item.item_id.encode()
                    for r in records}) >= count
    records = await consume_until(settings, topic, done, timeout_secs=timeout_secs)
    return {c.item.item_id: c for c in (ClassifiedItem.model_validate_json(r.value) for r in records)}


async def alerts_until(settings, topic: str, done, timeout_secs: float = 60.0) -> list[Alert]:
    await consume_until(settings, topic, lambda rs: done([Alert.model_validate_json(r.value) for r in rs]),
                        timeout_secs=timeout_secs)
    return [Alert.model_validate_json(r.value) for r in await read_to_end(settings, topic)]
