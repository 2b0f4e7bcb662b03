"""The shared text model: whitespace rules, link canonicalisation, sanitised HTML, and Telegram's
UTF-16 entity offsets, each checked on both adapters' inputs where they must agree."""

from __future__ import annotations

from telethon.tl import types

from connectors.telegram.entities import message_spans
from connectors.telegram.page import parse_preview
from connectors.telegram.richtext import Span, canonical_href, is_autolink, normalise, to_html, to_plain
from tests.connectors.telegram.fake_telethon import entity


def page_spans(inner: str) -> list[Span]:
    widget = (f'<div class="tgme_widget_message" data-post="chan/1"><div class="tgme_widget_message_text">{inner}'
              '</div><time datetime="2026-11-20T10:00:00+00:00"></time></div>')
    return normalise(list(parse_preview(widget, "chan").posts[0].spans))


def test_entity_offsets_count_utf16_units_so_marks_after_astral_emoji_land_on_the_right_words():
    text = "😀😀 bold then link"
    spans = normalise(message_spans(text, [
        entity(types.MessageEntityBold, text, "bold"),
        entity(types.MessageEntityTextUrl, text, "link", url="https://example.com/x")], "chan"))
    assert to_html(spans) == '😀😀 <b>bold</b> then <a href="https://example.com/x" rel="nofollow noopener">link</a>'
    assert to_plain(spans) == "😀😀 bold then link (https://example.com/x)"


def test_overlapping_marks_render_the_same_from_entities_and_from_the_page():
    text = "Слава героям"
    from_api = normalise(message_spans(text, [
        entity(types.MessageEntityTextUrl, text, "Слава героям", url="https://example.org/a"),
        entity(types.MessageEntityBold, text, "героям")], "chan"))
    from_page = page_spans('<a href="https://example.org/a">Слава <b>героям</b></a>')
    assert from_api == from_page
    assert to_html(from_api) == '<a href="https://example.org/a" rel="nofollow noopener">Слава <b>героям</b></a>'


def test_whitespace_folds_outside_pre_and_is_kept_inside_it():
    spans = page_spans("  a \n  b<br/>   <br/><br/><br/>c<pre>x  =  1\n  y</pre>")
    assert to_plain(spans) == "a b\n\ncx  =  1\n  y"
    api = normalise(message_spans("a b\n\ncx  =  1\n  y", [entity(types.MessageEntityPre, "a b\n\ncx  =  1\n  y",
                                                                   "x  =  1\n  y", language="")], "chan"))
    assert to_html(api) == to_html(spans) == "a b<br><br>c<pre>x  =  1<br>  y</pre>"


def test_autolinks_are_recognised_and_spelled_one_way():
    assert is_autolink("t.me/telegram/81", "http://t.me/telegram/81")
    assert is_autolink("@durov", "https://t.me/durov") and is_autolink("#war", "?q=%23war")
    assert not is_autolink("report", "https://example.org/report")
    assert canonical_href("#війна", "?q=%23%D0%B2%D1%96%D0%B9%D0%BD%D0%B0", "chan") == \
        "https://t.me/s/chan?q=%23%D0%B2%D1%96%D0%B9%D0%BD%D0%B0"
    assert canonical_href("example.com", "https://example.com/", "chan") == "http://example.com"
    assert canonical_href("a@b.example", "mailto:a@b.example", "chan") == "mailto:a@b.example"


def test_unsafe_link_schemes_are_dropped_and_text_kept():
    assert canonical_href("x", "javascript:alert(1)", "chan") is None
    assert canonical_href("x", "data:text/html,hi", "chan") is None
    assert to_html(page_spans('<a href="vbscript:x">go</a> & <span class="tg-spoiler">secret</span>')) == \
        'go &amp; <span class="tg-spoiler">secret</span>'


