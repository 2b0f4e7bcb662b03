"""Plain text and link hygiene for feed content: tags stripped, entities decoded, whitespace folded;
links made absolute, tracking parameters dropped, only http(s) kept."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

_SPACE = re.compile(r"\s+")
_SKIPPED = {"script", "style", "template", "noscript"}
_BLOCK = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th",
    "blockquote", "pre", "section", "article", "header", "footer", "figure", "figcaption", "hr",
}
_TRACKING = re.compile(r"^(utm_[a-z]+|fbclid|gclid|yclid|mc_cid|mc_eid|_ga)$", re.IGNORECASE)
_LANG = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")


class _TextCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED:
            self.skipping += 1
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in _SKIPPED and self.skipping:
            self.skipping -= 1
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(value: str | None) -> str:
    """Visible text of an HTML fragment: tags stripped, entities decoded, whitespace folded."""
    if not value:
        return ""
    if "<" not in value and "&" not in value:
        return fold(value)
    collector = _TextCollector()
    collector.feed(value)
    collector.close()
    return fold("".join(collector.parts))


def fold(value: str) -> str:
    return _SPACE.sub(" ", value).strip()


def absolute_http_url(link: str | None, base: str | None) -> str | None:
    """``link`` resolved against ``base``; None unless the result is http(s) (no javascript: links)."""
    if not link:
        return None
    link = link.strip()
    try:
        full = urljoin(base, link) if base else link
        parts = urlsplit(full)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return full


def normalise_link(link: str) -> str:
    """A link in one spelling: scheme and host lower case, default port, fragment and trackers dropped."""
    parts = urlsplit(link)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


def language_tag(value: str | None) -> str | None:
    """A BCP 47-looking language tag (``en``, ``uk-UA``), or None for anything else."""
    if not value:
        return None
    value = value.strip().replace("_", "-")
    if not _LANG.match(value):
        return None
    head, _, rest = value.partition("-")
    return f"{head.lower()}-{rest.upper()}" if rest and len(rest) == 2 else (head.lower() + (f"-{rest}" if rest else ""))
