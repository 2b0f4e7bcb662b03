"""``Item``: one normalised post or article, as written to ``watchfloor.items.raw.v1``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import Message, SourceType, UtcDatetime


class TelegramMeta(Message):
    """What a Telegram post carries beyond its text."""

    channel: str = Field(description="Channel username, lower case, without '@'.")
    message_id: int = Field(description="The post's id within its channel.")
    views: int | None = Field(None, description="View count as shown; approximate when views_approximate.")
    views_approximate: bool = Field(
        False, description="True when the count was shown rounded (\"1.2K\" becomes 1200)."
    )
    forwarded_from: str | None = Field(None, description="Channel (or name) the post was forwarded from.")
    forwarded_post: int | None = Field(None, description="Message id of the original post when known.")
    reply_to: int | None = Field(None, description="Message id this post replies to.")
    media_kind: str | None = Field(
        None, description="photo, video, document, audio, voice, sticker, poll, location, or None."
    )
    edited: bool = Field(False, description="The channel shows the post as edited.")


def document_of(text: str, title: str | None) -> str:
    """The analysed document, which every match offset indexes: ``title + "\\n" + text`` when there is
    a title, else ``text``. The rule engine and the alert's snippet both read it from here."""
    return f"{title}\n{text}" if title else text


class Item(Message):
    """A normalised article or post.

    ``item_id`` is stable across fetches and restarts: RSS uses guid, then the normalised link, then
    a hash of title and date, namespaced by source; Telegram uses ``telegram:{channel}:{id}``.
    The same ``item_id`` with changed content is emitted again with ``revision`` + 1.
    """

    schema_version: Literal[1] = 1
    item_id: str = Field(description="Stable identity of the item; the Kafka key.")
    source_type: SourceType = Field(description="Kind of connector that produced the item.")
    source_id: str = Field(description="Id of the configured source.")
    url: str | None = Field(None, description="Absolute link to the original.")
    title: str = Field("", description="Plain-text title (tags stripped, entities decoded).")
    text: str = Field("", description="Plain-text body (tags stripped, entities decoded, whitespace folded).")
    html: str | None = Field(None, description="Sanitised HTML of the body, for display.")
    published_at: UtcDatetime = Field(description="When the source says the item was published (UTC).")
    published_at_estimated: bool = Field(
        False, description="True when the source gave no date and published_at is the fetch time."
    )
    fetched_at: UtcDatetime = Field(description="When the connector fetched the item (UTC).")
    lang: str | None = Field(None, description="Language declared by the source (BCP 47), if any.")
    author: str | None = Field(None, description="Author as declared by the source.")
    revision: int = Field(0, ge=0, description="0 on first sight; +1 each time the content changes.")
    content_hash: str = Field("", description="Hash of title and text; a change makes a new revision.")
    telegram: TelegramMeta | None = Field(None, description="Telegram specifics; None for RSS.")
