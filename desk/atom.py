"""``/alerts.atom``: the alert history as an Atom 1.0 feed (RFC 4287).

Every value from a feed is data: ElementTree escapes text and attributes, characters XML cannot
carry are dropped, the entry's HTML content is built here from escaped parts (matched terms in
``<mark>``), and only http(s) URLs become links.
"""

from __future__ import annotations

import html
from urllib.parse import quote, urlencode
from xml.etree import ElementTree as ET

from desk.filters import AlertFilter
from desk.store import StoredAlert
from desk.text import explanation, safe_link, snippet_spans, xml_safe

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_ID = "urn:watchfloor:desk:alerts"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: xml_safe(v) for k, v in attrs.items()})
    if text is not None:
        element.text = xml_safe(text)
    return element


def _iso(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def entry_html(stored: StoredAlert) -> str:
    """The entry body: the snippet with matched terms marked, then why the alert fired."""
    alert, parts, cursor = stored.alert, [], 0
    points = list(alert.snippet)
    for start, end in snippet_spans(alert):
        parts.append(html.escape("".join(points[cursor:start])))
        parts.append(f"<mark>{html.escape(''.join(points[start:end]))}</mark>")
        cursor = end
    parts.append(html.escape("".join(points[cursor:])))
    why = "".join(f"<li>{html.escape(line)}</li>" for line in explanation(alert))
    return f"<p>{''.join(parts)}</p><ul>{why}</ul>"


def render_atom(alerts: list[StoredAlert], flt: AlertFilter, base_url: str) -> bytes:
    """The feed for ``alerts`` (newest first) as served at ``base_url + /alerts.atom?<flt>``."""
    query = urlencode(flt.as_query(), doseq=True)
    self_url = f"{base_url}/alerts.atom" + (f"?{query}" if query else "")
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _sub(feed, "id", FEED_ID + (f"?{query}" if query else ""))
    _sub(feed, "title", "watchfloor alerts" + (f" ({query})" if query else ""))
    _sub(feed, "subtitle", "Explained alerts from the watchfloor monitoring pipeline.")
    newest = max((s.alert.alerted_at for s in alerts), default=None)
    _sub(feed, "updated", _iso(newest) if newest else "1970-01-01T00:00:00Z")
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=f"{base_url}/")
    author = _sub(feed, "author")
    _sub(author, "name", "watchfloor")
    _sub(feed, "generator", "watchfloor desk")
    for stored in alerts:
        _entry(feed, stored)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8", xml_declaration=False)


def _entry(feed: ET.Element, stored: StoredAlert) -> None:
    alert = stored.alert
    entry = _sub(feed, "entry")
    _sub(entry, "id", "urn:watchfloor:alert:" + quote(alert.alert_id, safe=""))
    title = alert.title.strip() or alert.description or alert.trigger_id
    _sub(entry, "title", f"[{alert.severity.upper()}] {title}", type="text")
    _sub(entry, "updated", _iso(alert.alerted_at))
    _sub(entry, "published", _iso(alert.published_at))
    link = safe_link(alert.url)
    if link:
        _sub(entry, "link", rel="alternate", type="text/html", href=link)
    _sub(entry, "category", term=alert.severity, label=f"severity {alert.severity}",
         scheme="urn:watchfloor:severity")
    for hit in alert.themes:
        _sub(entry, "category", term=hit.theme, scheme="urn:watchfloor:theme")
    source = _sub(entry, "source")
    _sub(source, "id", "urn:watchfloor:source:" + quote(alert.source_id, safe=""))
    _sub(source, "title", alert.source_id)
    _sub(source, "updated", _iso(alert.fetched_at))
    _sub(entry, "summary", " ".join(alert.snippet.split())[:500], type="text")
    _sub(entry, "content", entry_html(stored), type="html")
