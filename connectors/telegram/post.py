"""``Post``: what either adapter read about one channel message, and its single conversion into the
``schemas.Item`` written to Kafka. Both adapters go through ``post_to_item`` so that switching
adapters can change neither the identity (``item_id``) nor the content hash of a post."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from connectors.telegram.richtext import PERMALINK_BASE, Span, normalise, to_html, to_plain
from schemas import Item
from schemas.item import TelegramMeta

MEDIA_KINDS = ("photo", "video", "document", "audio", "voice", "sticker", "poll", "location")
_VIEWS = re.compile(r"^(\d+(?:[.,]\d+)?)\s*([KMB]?)$", re.IGNORECASE)
_MULTIPLIER = {"": 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}


@dataclass(frozen=True)
class Post:
    """One channel message as an adapter read it; ``spans`` are raw (``post_to_item`` normalises)."""

    channel: str
    message_id: int
    published_at: datetime
    spans: tuple[Span, ...] = ()
    views: int | None = None
    views_approximate: bool = False
    forwarded_from: str | None = None
    forwarded_post: int | None = None
    reply_to: int | None = None
    media_kind: str | None = None
    edited: bool = False
    author: str | None = None


def item_id_for(channel: str, message_id: int) -> str:
    return f"telegram:{channel.lower()}:{message_id}"


def parse_views(shown: str | None) -> tuple[int | None, bool]:
    """'987' → (987, False); '1.2K' → (1200, True); '3M' → (3000000, True); junk → (None, False)."""
    if not shown:
        return None, False
    match = _VIEWS.match(shown.strip().replace("\u00a0", "").replace(" ", ""))
    if not match:
        return None, False
    number, suffix = match.group(1).replace(",", "."), match.group(2).upper()
    if not suffix:
        return (int(number), False) if number.isdigit() else (None, False)
    return round(float(number) * _MULTIPLIER[suffix]), True


def content_hash(title: str, text: str) -> str:
    """Hash of what a reader sees; views and fetch time stay out so they never make a revision."""
    return hashlib.sha256(f"{title}\x1f{text}".encode("utf-8")).hexdigest()[:32]


def post_to_item(post: Post, *, source_id: str, fetched_at: datetime, lang: str | None = None) -> Item:
    channel = post.channel.lower()
    spans = normalise(list(post.spans))
    text = to_plain(spans)
    # A post has no title. Deriving one from the first line would make the classifier read that
    # line twice (it analyses title + "\n" + text); the desk shows a headline derived at alert time.
    title = ""
    return Item(
        item_id=item_id_for(channel, post.message_id),
        source_type="telegram",
        source_id=source_id,
        url=f"{PERMALINK_BASE}/{channel}/{post.message_id}",
        title=title,
        text=text,
        html=to_html(spans) or None,
        published_at=post.published_at,
        fetched_at=fetched_at,
        lang=lang,
        author=post.author or None,
        content_hash=content_hash(title, text),
        telegram=TelegramMeta(
            channel=channel,
            message_id=post.message_id,
            views=post.views,
            views_approximate=post.views_approximate,
            forwarded_from=post.forwarded_from,
            forwarded_post=post.forwarded_post,
            reply_to=post.reply_to,
            media_kind=post.media_kind,
            edited=post.edited,
        ),
    )
