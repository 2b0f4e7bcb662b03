"""One formatted-text model shared by both Telegram adapters, so that the same post gives the same
``Item.text``, ``Item.html`` and therefore the same ``content_hash`` whichever adapter read it.

The web preview yields a DOM and MTProto yields a string with entity offsets; each adapter turns
its input into a list of ``Span`` (text with a set of marks and an optional link target). Everything
after that (whitespace rules, link canonicalisation, plain text, sanitised HTML) happens here once.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

# Outermost first: the HTML renderer nests tags in this order, which makes the output canonical.
MARK_ORDER = ("quote", "pre", "link", "code", "b", "i", "u", "s", "spoiler")
_TAGS = {
    "quote": ("<blockquote>", "</blockquote>"),
    "pre": ("<pre>", "</pre>"),
    "code": ("<code>", "</code>"),
    "b": ("<b>", "</b>"),
    "i": ("<i>", "</i>"),
    "u": ("<u>", "</u>"),
    "s": ("<s>", "</s>"),
    "spoiler": ('<span class="tg-spoiler">', "</span>"),
}
_SAFE_SCHEMES = ("http", "https", "mailto", "tg")
_SCHEME = re.compile(r"^(?:https?://|mailto:)", re.IGNORECASE)
PERMALINK_BASE = "https://t.me"


@dataclass(frozen=True)
class Span:
    """A run of text sharing the same marks (``MARK_ORDER`` names but 'link') and link target."""

    text: str
    marks: frozenset[str] = frozenset()
    href: str | None = None


def is_autolink(text: str, href: str) -> bool:
    """True when the link only repeats its own text (a bare URL, @mention, #hashtag, e-mail):
    Telegram links those by itself, so the plain text needs no "(target)" after them."""
    text = text.strip()
    if text[:1] in ("#", "$"):
        return "?q=" in href
    if text[:1] == "@":
        return href.rstrip("/").lower().endswith("/" + text[1:].lower())
    return _strip_scheme(text) == _strip_scheme(href)


def canonical_href(text: str, href: str | None, channel: str) -> str | None:
    """One spelling of a link target for both adapters; None for targets unsafe to display."""
    if not href:
        return None
    text = text.strip()
    if is_autolink(text, href):
        if text[:1] in ("#", "$"):
            return f"{PERMALINK_BASE}/s/{channel}?q={quote(text, safe='')}"
        if text[:1] == "@":
            return f"{PERMALINK_BASE}/{text[1:]}"
        if href.lower().startswith("mailto:"):
            return "mailto:" + text
        return text if _SCHEME.match(text) else "http://" + text
    absolute = urljoin(f"{PERMALINK_BASE}/s/{channel}", href)
    scheme = urlsplit(absolute).scheme.lower()
    return absolute if scheme in _SAFE_SCHEMES else None


def _strip_scheme(value: str) -> str:
    return _SCHEME.sub("", value.strip()).rstrip("/").lower()


def normalise(spans: list[Span]) -> list[Span]:
    """Canonical form: non-breaking spaces and tabs as spaces, runs of spaces folded, lines
    trimmed, at most one blank line in a row, no leading/trailing blank; adjacent spans with
    the same marks merged. Work per character so the rules cross span boundaries."""
    out: list[tuple[str, frozenset[str], str | None]] = []
    for span in spans:
        pre = "pre" in span.marks
        for ch in span.text.replace("\r\n", "\n").replace("\r", "\n"):
            if ch in "\u00a0\t\f\v":
                ch = " "
            if not pre and not _keep(out, ch):
                continue
            if ch == "\n" and not pre:
                while out and out[-1][0] == " " and "pre" not in out[-1][1]:
                    out.pop()
            out.append((ch, span.marks, span.href))
    while out and out[-1][0] in " \n":
        out.pop()
    return _merge(out)


def _keep(out: list, ch: str) -> bool:
    if ch == " ":
        return bool(out) and out[-1][0] not in " \n"
    if ch == "\n":
        return bool(out) and not (len(out) >= 2 and out[-1][0] == "\n" and out[-2][0] == "\n")
    return True


def _merge(chars: list[tuple[str, frozenset[str], str | None]]) -> list[Span]:
    spans: list[Span] = []
    for ch, marks, href in chars:
        if spans and spans[-1].marks == marks and spans[-1].href == href:
            spans[-1] = Span(spans[-1].text + ch, marks, href)
        else:
            spans.append(Span(ch, marks, href))
    return spans


def to_plain(spans: list[Span]) -> str:
    """Plain text with line breaks; a link whose target is not its own text keeps the target
    in brackets after it, so analysts (and the classifier) see where it pointed."""
    parts: list[str] = []
    for href, group in _groups_by_href(spans):
        text = "".join(s.text for s in group)
        parts.append(text)
        if href and not is_autolink(text, href):
            parts.append(f" ({href})")
    return "".join(parts)


def to_html(spans: list[Span]) -> str:
    """Sanitised HTML built from the spans (never copied from the source): only the tags in
    ``_TAGS``, ``<a href>`` with a safe scheme, and ``<br>``; every text run escaped."""
    return _render(spans, 0)


def _render(spans: list[Span], level: int) -> str:
    if level == len(MARK_ORDER):
        return "".join(html.escape(s.text, quote=False).replace("\n", "<br>") for s in spans)
    mark = MARK_ORDER[level]
    if mark == "link":
        out = []
        for href, group in _groups_by_href(spans):
            inner = _render(group, level + 1)
            out.append(f'<a href="{html.escape(href)}" rel="nofollow noopener">{inner}</a>' if href else inner)
        return "".join(out)
    out = []
    for has_mark, group in _groups_by(spans, lambda s: mark in s.marks):
        inner = _render(group, level + 1)
        out.append(f"{_TAGS[mark][0]}{inner}{_TAGS[mark][1]}" if has_mark else inner)
    return "".join(out)


def _groups_by_href(spans: list[Span]):
    return _groups_by(spans, lambda s: s.href)


def _groups_by(spans: list[Span], key):
    groups: list[tuple[object, list[Span]]] = []
    for span in spans:
        k = key(span)
        if groups and groups[-1][0] == k:
            groups[-1][1].append(span)
        else:
            groups.append((k, [span]))
    return groups

