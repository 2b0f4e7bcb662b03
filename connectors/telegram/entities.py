"""Telethon message → the adapter-neutral pieces of a ``Post``: formatted spans from the text and
its entities, and the media kind, spelled as the web preview shows them (see ``page.py``)."""

from __future__ import annotations

from urllib.parse import quote

from telethon.tl import types

from connectors.telegram.richtext import Span, canonical_href

_MARKS = {
    types.MessageEntityBold: "b",
    types.MessageEntityItalic: "i",
    types.MessageEntityUnderline: "u",
    types.MessageEntityStrike: "s",
    types.MessageEntityCode: "code",
    types.MessageEntityPre: "pre",
    types.MessageEntitySpoiler: "spoiler",
    types.MessageEntityBlockquote: "quote",
}


def message_spans(text: str, entities, channel: str) -> list[Span]:
    """Spans of ``text`` with its entities applied. Entity offsets count UTF-16 code units (an
    emoji outside the BMP counts two), so marks are laid on code units, then read per character."""
    units = len(text.encode("utf-16-le")) // 2
    marks: list[set[str]] = [set() for _ in range(units)]
    hrefs: list[str | None] = [None] * units
    for entity in entities or ():
        start, end = entity.offset, min(units, entity.offset + entity.length)
        mark = _MARKS.get(type(entity))
        href = _href(entity, _slice(text, start, end), channel)
        for unit in range(start, end):
            if mark:
                marks[unit].add(mark)
            if href:
                hrefs[unit] = href
    spans: list[Span] = []
    unit = 0
    for ch in text:
        spans.append(Span(ch, frozenset(marks[unit]) if unit < units else frozenset(),
                          hrefs[unit] if unit < units else None))
        unit += 2 if ord(ch) > 0xFFFF else 1
    return spans


def _slice(text: str, start: int, end: int) -> str:
    return text.encode("utf-16-le")[2 * start:2 * end].decode("utf-16-le", errors="replace")


def _href(entity, piece: str, channel: str) -> str | None:
    """The link an entity makes, as the preview page writes it, then canonicalised like the page's."""
    if isinstance(entity, types.MessageEntityTextUrl):
        raw = entity.url
    elif isinstance(entity, types.MessageEntityUrl):
        raw = piece if "://" in piece else "http://" + piece
    elif isinstance(entity, types.MessageEntityEmail):
        raw = "mailto:" + piece
    elif isinstance(entity, types.MessageEntityMention):
        raw = "https://t.me/" + piece.lstrip("@")
    elif isinstance(entity, (types.MessageEntityHashtag, types.MessageEntityCashtag)):
        raw = "?q=" + quote(piece, safe="")
    else:
        return None
    return canonical_href(piece, raw, channel)


def media_kind(message) -> str | None:
    """One of ``post.MEDIA_KINDS`` or None; a link preview is not media (the page shows it apart)."""
    if message.media is None or isinstance(message.media, (types.MessageMediaWebPage, types.MessageMediaEmpty)):
        return None
    if message.sticker is not None:
        return "sticker"
    if message.voice is not None:
        return "voice"
    if message.video is not None or message.gif is not None:
        return "video"
    if message.photo is not None:
        return "photo"
    if message.poll is not None:
        return "poll"
    if message.geo is not None:
        return "location"
    if message.audio is not None:
        return "audio"
    if message.document is not None:
        return "document"
    return None
