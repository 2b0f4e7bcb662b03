"""Text helpers shared by the page's server side, the Atom feed and the webhooks: which URLs may
become links, which characters XML can carry, and where the matched terms sit in a snippet."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from schemas import Alert

# XML 1.0 allows tab, LF, CR and most of the rest; everything else (NUL, other C0 controls,
# lone surrogates, U+FFFE/FFFF) makes a feed ill-formed, so it is dropped.
_XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str | None) -> str:
    return _XML_INVALID.sub("", text or "")


def safe_link(url: str | None) -> str | None:
    """The URL when it is an absolute http(s) URL without whitespace or controls, else None: a
    ``javascript:``, ``data:`` or relative link from a feed never becomes a link."""
    if not url or len(url) > 4096 or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def snippet_spans(alert: Alert) -> list[tuple[int, int]]:
    """Merged ``[start, end)`` ranges of the snippet to highlight, in snippet characters.

    Match offsets index the whole document; the snippet starts at ``snippet_offset``. When an
    offset does not land on the matched text (a producer's bug, or a snippet that was cut), the
    text is looked up in the snippet instead, so a wrong offset never highlights the wrong words.
    """
    snippet, folded = alert.snippet, alert.snippet.casefold()
    spans = []
    for match in _all_matches(alert):
        start = match.start - alert.snippet_offset
        end = start + len(match.text)
        if not match.text or not (0 <= start and end <= len(snippet)
                                  and snippet[start:end].casefold() == match.text.casefold()):
            start = folded.find(match.text.casefold()) if match.text else -1
            end = start + len(match.text)
        if start >= 0 and end > start:
            spans.append((start, end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _all_matches(alert: Alert):
    yield from alert.matches
    for hit in alert.themes:
        yield from hit.matches
    for entity in alert.entities:
        yield from entity.mentions


def explanation(alert: Alert) -> list[str]:
    """Why the alert fired, as plain lines (for the Atom entry; the page builds its own view)."""
    lines = [f"Trigger {alert.trigger_id} ({alert.severity}): {alert.description}".rstrip(": ")]
    for hit in alert.themes:
        terms = ", ".join(sorted({m.text for m in hit.matches}))
        lines.append(f"Theme {hit.theme} score {hit.score:g}" + (f": {terms}" if terms else ""))
    if alert.entities:
        lines.append("Entities: " + ", ".join(f"{e.name} ({e.type})" for e in alert.entities))
    lines.append(f"Source {alert.source_type}:{alert.source_id}; rules {alert.rules_version}")
    return lines
