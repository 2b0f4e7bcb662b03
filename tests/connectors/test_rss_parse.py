"""Parsing and normalising feeds: hostile documents are refused with a typed error, every file of
feedparser's own test corpus gives items or a typed error, and items come out stable and clean."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.errors import BadInput, ConnectorError
from connectors.rss.parse import parse_feed
from connectors.rss.source import parse_items
from schemas import Source
from tests.connectors.rss_helpers import rss

CORPUS = Path("/work/shared/corpora/feedparser-tests")
SOURCE = Source(id="news", type="rss", url="https://news.example/feed")


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in (".xml", ".json"))


def quadratic_feed(value_bytes: int = 20_000, references: int = 2_500) -> bytes:
    """A ~28 KB feed whose title expands to value_bytes * references (50 MB by default)."""
    refs = "&a;" * references
    return (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{"x" * value_bytes}">]>'
            f"<rss version=\"2.0\"><channel><title>t</title><item><title>{refs}</title></item>"
            "</channel></rss>").encode()


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared feedparser corpus is not on this machine")
def test_every_corpus_file_gives_items_or_a_typed_one_line_error():
    outcomes = {"items": 0, "empty": 0, "error": 0}
    for path in corpus_files():
        try:
            items, _warnings = parse_items(SOURCE, path.read_bytes(), "http://127.0.0.1/feed", {})
        except ConnectorError as exc:
            message = str(exc)
            assert message.startswith("news: ") and "\n" not in message, (path, message)
            assert isinstance(exc, BadInput), path
            outcomes["error"] += 1
            continue
        assert all(item.source_id == "news" and item.item_id.startswith("rss:news:") for item in items), path
        outcomes["items" if items else "empty"] += 1
    assert sum(outcomes.values()) == len(corpus_files()) > 2000
    # The corpus holds both kinds; if either count were 0 the parser would be ignoring input.
    assert outcomes["items"] > 400 and outcomes["error"] > 100, outcomes


def test_entity_declaration_is_refused_before_feedparser():
    with pytest.raises(BadInput, match="news: the document declares XML entities"):
        parse_feed(quadratic_feed(), url=None, headers=None, name="news")


def test_feedparser_alone_would_expand_the_declared_entity():
    # Why the guard exists: without it, feedparser multiplies the entity into the title.
    import io

    import feedparser
    parsed = feedparser.parse(io.BytesIO(quadratic_feed(100, 50)))
    assert len(parsed.entries[0].title) == 100 * 50


def test_entity_declaration_in_utf16_or_ill_formed_document_is_refused():
    utf16 = quadratic_feed(100, 10).decode().replace('<?xml version="1.0"?>', "").encode("utf-16")
    broken = quadratic_feed(100, 10).replace(b"</channel>", b"<<<")
    for data in (utf16, broken):
        with pytest.raises(BadInput, match="declares XML entities"):
            parse_feed(data, url=None, headers=None, name="news")


_MEASURE = """
import sys, time, threading, os
from tests_connectors_feed import quadratic_feed
from connectors.rss.parse import parse_feed
from connectors.errors import BadInput
threading.Timer(2.0, lambda: (print("deadline: not rejected within 2s", flush=True), os._exit(3))).start()
data = quadratic_feed()
started = time.monotonic()
try:
    parse_feed(data, url=None, headers=None, name="news")
    outcome = "accepted"
except BadInput:
    outcome = "rejected"
elapsed = time.monotonic() - started
# The peak of this process's own memory (VmHWM): ru_maxrss would also count the pytest process it was
# forked from, since Linux does not reset it on exec.
peak = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(outcome, len(data), peak, elapsed, flush=True)
os._exit(0)
"""


def test_quadratic_entity_feed_is_rejected_in_a_process_that_stays_under_200_mb(tmp_path):
    (tmp_path / "tests_connectors_feed.py").write_text(
        "from __future__ import annotations\n" + _source_of(quadratic_feed))
    proc = subprocess.run([sys.executable, "-c", _MEASURE], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, env={"PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outcome, size, max_rss, elapsed = proc.stdout.split()
    print(f"quadratic feed of {size} bytes: {outcome} in {float(elapsed) * 1000:.1f} ms, "
          f"peak RSS {int(max_rss) / 2**20:.0f} MiB")
    assert outcome == "rejected" and int(size) < 30_000
    assert int(max_rss) < 200 * 2**20


def test_items_are_plain_text_with_sanitised_html_kept_apart():
    doc = rss(("g1", "Vote &amp; <i>count</i>", "&lt;p&gt;Polls &lt;script&gt;alert(1)&lt;/script&gt;"
               "open\n\n  now&lt;/p&gt;"))
    [item] = parse_items(SOURCE, doc, "https://news.example/feed", {})[0]
    assert item.title == "Vote & count"
    assert item.text == "Polls open now"
    assert "<script" not in (item.html or "") and "<p>" in (item.html or "")
    assert item.url == "https://news.example/g1" and item.lang == "en"
    assert item.published_at.isoformat() == "2026-11-20T12:00:00+00:00" and not item.published_at_estimated


def test_item_id_is_stable_and_namespaced_by_source():
    doc = rss(("g1", "Title", "Text"))
    first = parse_items(SOURCE, doc, None, {})[0][0]
    again = parse_items(SOURCE, doc, None, {})[0][0]
    other = parse_items(Source(id="other", type="rss", url="https://other.example/feed"), doc, None, {})[0][0]
    assert first.item_id == again.item_id and first.content_hash == again.content_hash
    assert first.item_id.startswith("rss:news:") and other.item_id.startswith("rss:other:")
    assert first.item_id.split(":")[2] == other.item_id.split(":")[2]


def test_without_guid_the_normalised_link_is_the_identity():
    def doc(link):
        return (f'<rss version="2.0"><channel><item><title>T</title><link>{link}</link></item>'
                "</channel></rss>").encode()
    a = parse_items(SOURCE, doc("HTTPS://News.Example:443/a?utm_source=x&id=1#top"), None, {})[0][0]
    b = parse_items(SOURCE, doc("https://news.example/a?id=1"), None, {})[0][0]
    c = parse_items(SOURCE, doc("https://news.example/b?id=1"), None, {})[0][0]
    assert a.item_id == b.item_id != c.item_id


def test_missing_date_uses_fetch_time_and_says_so_and_javascript_links_are_dropped():
    doc = (b'<rss version="2.0"><channel><item><title>Undated</title><link>javascript:alert(1)</link>'
           b"</item></channel></rss>")
    [item] = parse_items(SOURCE, doc, "https://news.example/feed", {})[0]
    assert item.published_at_estimated and item.published_at == item.fetched_at
    assert item.url is None and item.item_id.startswith("rss:news:")
    assert json.loads(item.model_dump_json())["published_at"].endswith("Z")


def test_bozo_feed_with_entries_is_kept_with_a_warning_and_without_entries_is_an_error():
    kept, warnings = parse_items(SOURCE, rss(("g1", "T", "x")).replace(b"</rss>", b"<oops"), None, {})
    assert len(kept) == 1 and any("not well-formed" in w for w in warnings)
    with pytest.raises(BadInput, match="news: not a usable feed"):
        parse_items(SOURCE, b"<html><body><p>not a feed", None, {})
    with pytest.raises(BadInput, match="news: empty document"):
        parse_items(SOURCE, b"  \n", None, {})


def _source_of(func) -> str:
    import inspect
    return inspect.getsource(func)
