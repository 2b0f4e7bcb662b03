"""Hostile alerts: built from feedparser's ``sanitize`` test files (read in place from the shared
corpus, never copied) and from hand-written payloads, with the attack in every text field."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from defusedxml.ElementTree import fromstring

from schemas import Alert
from schemas.classified import EntityHit, Match, ThemeHit
from tests.desk.alerts import make_alert

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "feedparser-tests"

# Each sets window.__xss or opens a dialog if it ever runs.
HAND_WRITTEN = [
    ("<script>window.__xss=1</script>", "javascript:window.__xss=1"),
    ('<img src=x onerror="window.__xss=1;alert(1)">', "JaVaScRiPt:window.__xss=1"),
    ('"><svg onload=window.__xss=1>', " javascript:window.__xss=1"),
    ("<iframe src=javascript:window.__xss=1></iframe>", "data:text/html,<script>window.__xss=1</script>"),
    ("</textarea><a href=javascript:window.__xss=1>click</a>", "vbscript:msgbox(1)"),
    ("<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>", "java\tscript:window.__xss=1"),
    ("<body onload=alert(document.cookie)>\u2028{{constructor.constructor('window.__xss=1')()}}", "//evil.example/x"),
]


def sanitize_files() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.fail(f"the feedparser test corpus is missing at {CORPUS}")
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and "sanitize" in str(p.relative_to(CORPUS)))
    assert len(files) > 100, f"expected the sanitize corpus under {CORPUS}, found {len(files)} files"
    return files


def payload_of(path: Path) -> tuple[str, str]:
    """The file's most hostile string (the longest text or inline markup in it) and its description."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    description = (re.search(r"Description:\s*(.+)", raw) or [None, path.name])[1].strip()
    candidates = [raw]
    try:
        root = fromstring(raw.encode("utf-8"))
        candidates = []
        for element in root.iter():
            if element.text and element.text.strip():
                candidates.append(element.text)  # escaped HTML, now unescaped: the attack itself
            for child in element:
                if not child.tag.startswith("{http://www.w3.org/2005/Atom}"):
                    candidates.append(ET.tostring(child, encoding="unicode"))
    except Exception:  # a file the parser refuses still makes a payload: its raw text
        pass
    return max(candidates or [raw], key=len), description


def hostile_alert(payload: str, url: str | None, description: str, n: int) -> Alert:
    """``payload`` in every text field; a match inside it so highlighting splits the markup."""
    cut = payload[:300]
    term = cut[: max(1, min(6, len(cut)))]
    snippet = f"{cut} … {description}"
    return make_alert(
        title=cut, text=snippet, snippet=snippet, snippet_offset=0, url=url, description=description[:200] + cut[:60],
        trigger_id=f"t{n}-{cut[:40]}", source_id=f"src-{n % 5}-{cut[:30]}", rules_version=cut[:40],
        themes=[ThemeHit(theme=f"{cut[:24]}#{n % 3}", score=1.5, matches=[Match(text=term, start=0, end=len(term))])],
        entities=[EntityHit(id=f"x:{n}", name=cut[:60] or "x", type="person",
                            mentions=[Match(text=term, start=0, end=len(term))])],
        matches=[Match(text=term, start=0, end=len(term), term=term)],
    )


def hostile_alerts() -> list[Alert]:
    alerts = []
    for n, path in enumerate(sanitize_files()):
        payload, description = payload_of(path)
        link = re.search(r"""(?:href|src)\s*=\s*["']?([^"' >]+)""", payload)
        alerts.append(hostile_alert(payload, link[1] if link else None, description, n))
    base = len(alerts)
    for i, (payload, url) in enumerate(HAND_WRITTEN):
        alerts.append(hostile_alert(payload, url, payload, base + i))
    return alerts
