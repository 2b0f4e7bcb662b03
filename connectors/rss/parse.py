"""Bytes → feedparser result, safely.

Two guards run before feedparser sees a document:

1. Entity declarations are refused (``defusedxml``). feedparser keeps "safe-looking" internal
   entities and lets expat expand them, so a 25 KB feed can become a 50 MB title (quadratic
   blow-up); a size cap on the download does not help because the growth happens while parsing.
   When expat cannot read the document at all (ill-formed, or an encoding it does not know),
   feedparser's own fallback would still honour the declarations, so we look for them in the
   bytes the way feedparser does, in every byte layout an XML declaration can take.
2. feedparser is handed a stream, never a string: a string is taken for a URL (a blocking fetch
   with no timeout) or a file name.
"""

from __future__ import annotations

import io
import re
import xml.parsers.expat
from collections.abc import Mapping
from xml.etree.ElementTree import ParseError

import defusedxml
import defusedxml.ElementTree
import feedparser

from connectors.errors import BadInput

# feedparser's RE_ENTITY_PATTERN, made case-insensitive and searched anywhere.
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)


def reject_entity_declarations(data: bytes, name: str) -> None:
    """Raise ``BadInput`` if the document declares XML entities (a billion-laughs or quadratic blow-up)."""
    if not _mentions_entity(data):
        return
    parser = defusedxml.ElementTree.XMLParser(forbid_dtd=False, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(data)
        parser.close()
    except defusedxml.DefusedXmlException as exc:
        raise BadInput(f"{name}: the document declares XML entities, refused ({type(exc).__name__})") from None
    except (ParseError, xml.parsers.expat.ExpatError, ValueError, LookupError):
        # expat could not read it; feedparser's lenient path would still expand the entities.
        raise BadInput(f"{name}: the document declares XML entities, refused (EntityDeclaration)") from None


def _mentions_entity(data: bytes) -> bool:
    if _ENTITY_DECL.search(data):
        return True
    # UTF-16/32 put NUL bytes between the ASCII letters; drop them and look again.
    if b"\x00" in data[:4096]:
        return bool(_ENTITY_DECL.search(data.replace(b"\x00", b"")))
    return False


def parse_feed(data: bytes, *, url: str | None, headers: Mapping[str, str] | None, name: str):
    """Parse a feed document; return ``(parsed, warnings)`` or raise ``BadInput`` saying why.

    A bozo (not well-formed) feed that still yields entries is accepted and its problem returned as a
    warning; one that yields nothing is an error. A well-formed feed with no entries is fine (empty).
    """
    if not data.strip():
        raise BadInput(f"{name}: empty document")
    reject_entity_declarations(data, name)
    response_headers = {k.lower(): v for k, v in (headers or {}).items() if k.lower() in _PASSED_HEADERS}
    if url and url.startswith(("http://", "https://")):
        response_headers.setdefault("content-location", url)
    try:
        parsed = feedparser.parse(io.BytesIO(data), response_headers=response_headers)
    except Exception as exc:  # feedparser has many internal failure modes; none may escape
        raise BadInput(f"{name}: the feed parser failed ({type(exc).__name__}: {_first_line(exc)})") from None
    return parsed, _check(parsed, name)


_PASSED_HEADERS = ("content-type", "content-language", "content-location")


# Bozo reasons about the HTTP envelope, not the document: a feed parsed despite them is a good feed.
_BENIGN = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def _check(parsed, name: str) -> list[str]:
    entries = parsed.get("entries") or []
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        reason = _first_line(exc) or "not well-formed"
        if isinstance(exc, _BENIGN) and parsed.get("version"):
            return [f"{name}: {reason}; parsed anyway"]
        if not entries:
            raise BadInput(f"{name}: not a usable feed: {reason}")
        return [f"{name}: feed is not well-formed ({reason}); {len(entries)} entries kept"]
    if not entries and not parsed.get("version"):
        raise BadInput(f"{name}: no RSS or Atom feed found in the document")
    return []


def _first_line(exc) -> str:
    if exc is None:
        return ""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first[:200]
