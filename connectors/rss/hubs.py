"""WebSub discovery: the hubs a feed advertises and its own (``self``) URL.

The W3C WebSub recommendation (section 4) lets a publisher name its hubs in HTTP ``Link`` headers
(``Link: <https://hub.example/>; rel="hub"``) or in the document (Atom ``<link rel="hub">``, RSS
``<atom:link rel="hub">``), and says a subscriber looks at the headers first. feedparser reports
the document's links in ``feed.links``, already made absolute against the feed's address.

Only http(s) hubs are kept; ``connectors.websub`` subscribes to the first one, using the ``self``
URL as the topic (else the URL the feed was fetched from).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import urljoin, urlsplit

_LINK = re.compile(r"<([^>]*)>([^<]*)")
_REL = re.compile(r""";\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))""", re.I)


def link_header_values(headers: Mapping[str, str] | None) -> list[str]:
    """Every ``Link`` header value (a response may carry several)."""
    if headers is None:
        return []
    getall = getattr(headers, "getall", None)
    if getall is not None:
        return list(getall("Link", []))
    return [v for k, v in headers.items() if k.lower() == "link"]


def parse_link_headers(values: Iterable[str], base: str | None) -> list[tuple[str, set[str]]]:
    """``Link`` header values → ``(absolute url, rel values)`` in order (RFC 8288, leniently)."""
    links = []
    for value in values:
        for match in _LINK.finditer(value):
            rels = set()
            for found in _REL.finditer(match.group(2)):
                rels.update((found.group(1) or found.group(2) or "").lower().split())
            links.append((urljoin(base or "", match.group(1).strip()), rels))
    return links


def discover(link_headers: Iterable[str], feed_links: Iterable[Mapping],
             base: str | None) -> tuple[list[str], str | None]:
    """``(hubs, self_url)`` from the response's ``Link`` headers, else from the document's links."""
    header_links = parse_link_headers(link_headers, base)
    body_links = [(urljoin(base or "", str(link.get("href") or "").strip()), {str(link.get("rel") or "").lower()})
                  for link in feed_links if link.get("href")]
    hubs = _named(header_links, "hub") or _named(body_links, "hub")
    own = _named(header_links, "self") or _named(body_links, "self")
    return hubs, (own[0] if own else None)


def _named(links: list[tuple[str, set[str]]], rel: str) -> list[str]:
    found: list[str] = []
    for url, rels in links:
        parts = urlsplit(url)
        if rel in rels and parts.scheme.lower() in ("http", "https") and parts.hostname and url not in found:
            found.append(url)
    return found
