"""Parse one page of a channel's public web preview (``{base}/s/{channel}``) into ``Post``s.

The markup is t.me's own (the classes public scrapers rely on): each message is a
``div.tgme_widget_message[data-post="channel/123"]``; its body ``.tgme_widget_message_text``, its
time ``.tgme_widget_message_date time[datetime]``, its views ``.tgme_widget_message_views``
("1.2K"), the word "edited" in ``.tgme_widget_message_meta``; forwards carry
``.tgme_widget_message_forwarded_from_name`` (a link to the original post when public), replies a
``a.tgme_widget_message_reply``; pinned notices and the like are ``service_message``. Older pages
are reached through ``a.tme_messages_more[data-before]``.

A widget that cannot be read (no id, no date) is skipped with a warning; the rest of the page is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from connectors.telegram.post import Post, parse_views
from connectors.telegram.richtext import Span, canonical_href

_MARK_TAGS = {
    "b": "b", "strong": "b", "i": "i", "em": "i", "u": "u", "ins": "u", "s": "s", "strike": "s",
    "del": "s", "code": "code", "pre": "pre", "blockquote": "quote", "tg-spoiler": "spoiler",
}
_SKIP_TAGS = {"script", "style", "template", "noscript"}
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_POST_LINK = re.compile(r"^/?([A-Za-z0-9_]+)(?:/(\d+))?/?$")
# First match in document order wins, so an album reports the kind of its first element, as
# the MTProto adapter does for the first message of a grouped album.
_MEDIA = (
    ("sticker", ("tgme_widget_message_sticker", "tgme_widget_message_tgsticker", "tgme_widget_message_videosticker")),
    ("voice", ("tgme_widget_message_voice",)),
    ("video", ("tgme_widget_message_video_player", "tgme_widget_message_roundvideo_player")),
    ("photo", ("tgme_widget_message_photo_wrap",)),
    ("poll", ("tgme_widget_message_poll",)),
    ("location", ("tgme_widget_message_location_wrap", "tgme_widget_message_venue_wrap")),
    ("document", ("tgme_widget_message_document_wrap",)),
)
_MEDIA_SELECTOR = ", ".join("." + cls for _, classes in _MEDIA for cls in classes)


@dataclass
class PreviewPage:
    """One fetched page: its posts oldest first, every message id on it (service messages too)."""

    posts: list[Post] = field(default_factory=list)
    message_ids: list[int] = field(default_factory=list)
    before: int | None = None
    """``data-before`` of the "more" link: the id to ask for the next (older) page."""
    warnings: list[str] = field(default_factory=list)


MAX_DEPTH = 64  # markup nested deeper than this in one post is hostile, not formatting


class TooDeep(Exception):
    """A post whose markup nests beyond ``MAX_DEPTH``: that post is skipped, the page is kept."""


def parse_preview(body: str, channel: str) -> PreviewPage:
    tree = LexborHTMLParser(body)
    page = PreviewPage(before=_before(tree))
    for widget in tree.css("div.tgme_widget_message[data-post]"):
        _read_widget(widget, channel.lower(), page)
    page.posts.sort(key=lambda p: p.message_id)
    page.message_ids.sort()
    return page


def _read_widget(widget: LexborNode, channel: str, page: PreviewPage) -> None:
    data_post = widget.attributes.get("data-post") or ""
    _, _, tail = data_post.rpartition("/")
    if not tail.isdigit():
        page.warnings.append(f"telegram {channel}: skipped a message with data-post {data_post!r}: no message id")
        return
    message_id = int(tail)
    page.message_ids.append(message_id)
    if _has_class(widget, "service_message"):
        return
    published = _published(widget)
    if published is None:
        page.warnings.append(f"telegram {channel}/{message_id}: skipped: no readable date")
        return
    try:
        page.posts.append(_post(widget, channel, message_id, published))
    except TooDeep:
        page.warnings.append(f"telegram {channel}/{message_id}: skipped: markup nested deeper than {MAX_DEPTH} levels")


def _post(widget: LexborNode, channel: str, message_id: int, published: datetime) -> Post:
    views, approximate = parse_views(_text(widget.css_first(".tgme_widget_message_views")))
    fwd_from, fwd_post = _forward(widget)
    meta = widget.css_first(".tgme_widget_message_meta")
    return Post(
        channel=channel,
        message_id=message_id,
        published_at=published,
        spans=tuple(_body_spans(widget, channel)),
        views=views,
        views_approximate=approximate,
        forwarded_from=fwd_from,
        forwarded_post=fwd_post,
        reply_to=_reply_to(widget),
        media_kind=_media_kind(widget),
        edited=meta is not None and "edited" in meta.text(deep=True).lower(),
        author=_text(widget.css_first(".tgme_widget_message_from_author")) or None,
    )


def _published(widget: LexborNode) -> datetime | None:
    node = widget.css_first(".tgme_widget_message_date time[datetime]") or widget.css_first("time[datetime]")
    try:
        return datetime.fromisoformat(node.attributes["datetime"]) if node is not None else None
    except (ValueError, TypeError):
        return None


def _body_spans(widget: LexborNode, channel: str) -> list[Span]:
    for node in widget.css(".tgme_widget_message_text"):
        if not _inside(node, widget, "tgme_widget_message_reply"):
            out: list[Span] = []
            _walk(node, frozenset(), channel, out)
            return out
    return []


def _walk(node: LexborNode, marks: frozenset[str], channel: str, out: list[Span], depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise TooDeep()
    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "-text":
            text = child.text(deep=False) or ""
            out.append(Span(text if "pre" in marks else _HTML_SPACE.sub(" ", text), marks))
        elif tag == "br":
            out.append(Span("\n", marks))
        elif tag in _SKIP_TAGS:
            continue
        elif tag == "i" and _has_class(child, "emoji"):
            out.append(Span(child.text(deep=True), marks))  # the emoji itself, sans image markup
        elif tag == "a":
            _walk_link(child, marks, channel, out, depth + 1)
        else:
            mark = "spoiler" if _has_class(child, "tg-spoiler") else _MARK_TAGS.get(tag)
            _walk(child, marks | {mark} if mark else marks, channel, out, depth + 1)


def _walk_link(node: LexborNode, marks: frozenset[str], channel: str, out: list[Span], depth: int) -> None:
    inner: list[Span] = []
    _walk(node, marks, channel, inner, depth)
    href = node.attributes.get("href") or ""
    if "onclick" in node.attributes:
        href = href.replace("&amp;", "&")  # t.me double-escapes '&' in these links (seen since 2024)
    target = canonical_href("".join(s.text for s in inner), href, channel)
    out.extend(Span(s.text, s.marks, target) for s in inner)


def _forward(widget: LexborNode) -> tuple[str | None, int | None]:
    node = widget.css_first(".tgme_widget_message_forwarded_from_name")
    if node is None:
        return None, None
    href = node.attributes.get("href") or ""
    parts = urlsplit(href)
    match = _POST_LINK.match(parts.path) if parts.path else None
    if match:
        return match.group(1).lower(), int(match.group(2)) if match.group(2) else None
    return _text(node) or None, None


def _reply_to(widget: LexborNode) -> int | None:
    node = widget.css_first("a.tgme_widget_message_reply")
    tail = (node.attributes.get("href") or "").rstrip("/").rpartition("/")[2] if node is not None else ""
    return int(tail) if tail.isdigit() else None


def _media_kind(widget: LexborNode) -> str | None:
    for node in widget.css(_MEDIA_SELECTOR):
        if _inside(node, widget, "tgme_widget_message_reply"):
            continue
        for kind, classes in _MEDIA:
            if any(_has_class(node, cls) for cls in classes):
                if kind == "document" and node.css_first(".audio") is not None:
                    return "audio"
                return kind
    return None


def _before(tree: LexborHTMLParser) -> int | None:
    more = tree.css_first("a.tme_messages_more[data-before]")
    if more is not None and (more.attributes.get("data-before") or "").isdigit():
        return int(more.attributes["data-before"])
    prev = tree.css_first('link[rel="prev"][href]')
    values = parse_qs(urlsplit(prev.attributes["href"] or "").query).get("before") if prev is not None else None
    return int(values[0]) if values and values[0].isdigit() else None


def _has_class(node: LexborNode, cls: str) -> bool:
    return cls in (node.attributes.get("class") or "").split()


def _inside(node: LexborNode, stop: LexborNode, cls: str) -> bool:
    parent = node.parent
    while parent is not None and parent != stop:
        if _has_class(parent, cls):
            return True
        parent = parent.parent
    return False


def _text(node: LexborNode | None) -> str:
    return _HTML_SPACE.sub(" ", node.text(deep=True)).strip() if node is not None else ""
