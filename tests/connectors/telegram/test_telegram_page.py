"""The web-preview page parser on fixture pages written in t.me's own markup: every field of a post,
service messages skipped, the "more" link, and hostile or broken markup kept from hurting the rest."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from connectors.telegram.page import parse_preview
from connectors.telegram.post import parse_views, post_to_item
from tests.connectors.telegram.tg_helpers import page

FETCHED = datetime(2026, 11, 21, tzinfo=timezone.utc)


def items(name: str):
    parsed = parse_preview(page(name), "somechannel")
    return {p.message_id: post_to_item(p, source_id="tg", fetched_at=FETCHED) for p in parsed.posts}


def test_first_page_lists_posts_oldest_first_skips_the_service_message_and_finds_the_more_link():
    parsed = parse_preview(page("somechannel_page1.html"), "somechannel")
    assert [p.message_id for p in parsed.posts] == [112, 113, 115, 116, 117, 118, 119, 120]
    assert parsed.message_ids == list(range(112, 121))  # 114, the pinned notice, is seen but not a post
    assert parsed.before == 112 and parsed.warnings == []


def test_russian_post_keeps_line_breaks_link_target_hashtag_and_exact_date():
    item = items("somechannel_page1.html")[112]
    assert item.item_id == "telegram:somechannel:112" and item.url == "https://t.me/somechannel/112"
    assert item.text == ("Срочно: в Херсонской области объявлена эвакуация.\n\n"
                         "Подробности в докладе (https://example.org/ru/evac?id=5&lang=ru).\n#Херсон")
    assert item.title == ""  # posts have no title; the classifier must not read the first line twice
    assert item.text.startswith("Срочно: в Херсонской области объявлена эвакуация.")
    assert item.published_at == datetime(2026, 11, 20, 8, 15, tzinfo=timezone.utc)
    assert item.source_type == "telegram" and item.content_hash


def test_sanitised_html_keeps_formatting_and_safe_links_only():
    html = items("somechannel_page1.html")[112].html
    assert html.startswith("<b>Срочно:</b> в Херсонской")
    assert '<a href="https://example.org/ru/evac?id=5&amp;lang=ru" rel="nofollow noopener">докладе</a>' in html
    assert "onclick" not in html and "target=" not in html and "<br><br>" in html
    formatted = items("somechannel_page1.html")[118].html
    assert "<i>Not verified yet</i>, <s>rumours</s> <u>denied</u> by <code>MoD</code>." in formatted


def test_rounded_views_are_expanded_and_marked_approximate():
    posts = items("somechannel_page1.html")
    assert (posts[112].telegram.views, posts[112].telegram.views_approximate) == (1200, True)
    assert (posts[113].telegram.views, posts[113].telegram.views_approximate) == (15300, True)
    assert (posts[118].telegram.views, posts[118].telegram.views_approximate) == (6_700_000, True)
    assert (posts[115].telegram.views, posts[115].telegram.views_approximate) == (987, False)


@pytest.mark.parametrize("shown, expected", [
    ("987", (987, False)), ("1.2K", (1200, True)), ("12K", (12000, True)), ("4.85K", (4850, True)),
    ("1,5M", (1_500_000, True)), ("", (None, False)), ("lots", (None, False)), ("1.2.3K", (None, False)),
])
def test_views_text_parsing(shown, expected):
    assert parse_views(shown) == expected


def test_forwarded_ukrainian_post_names_origin_channel_and_post():
    item = items("somechannel_page1.html")[113]
    assert (item.telegram.forwarded_from, item.telegram.forwarded_post) == ("ukrpravda_news", 4321)
    assert item.text == "Зеленський провів нараду щодо енергетики.\nУкренерго попереджає про відключення у Харкові."


def test_edited_english_post_with_emoji_is_flagged_edited():
    posts = items("somechannel_page1.html")
    assert posts[115].telegram.edited and not posts[112].telegram.edited
    assert posts[115].text == ("🇪🇺 Sanctions package adopted: 14 entities listed, "
                               "see the full list (https://example.com/list).")


def test_reply_uses_its_own_text_not_the_quoted_one_and_keeps_custom_emoji():
    item = items("somechannel_page1.html")[117]
    assert item.telegram.reply_to == 112
    assert item.text == "Обновление: эвакуация продлена до пятницы 🙏\nБерегите себя ❤️"


def test_media_kinds_and_media_only_posts():
    first, second, third = items("somechannel_page1.html"), items("somechannel_page2.html"), items("somechannel_page3.html")
    kinds = {i: it.telegram.media_kind for i, it in {**first, **second, **third}.items()}
    assert kinds == {102: None, 103: "location", 105: "document", 107: "voice", 109: None, 111: "sticker",
                     112: None, 113: None, 115: None, 116: "photo", 117: None, 118: "video", 119: "poll", 120: None}
    assert first[116].text == "" and first[116].title == "" and first[116].html is None


def test_mentions_and_bare_urls_are_not_followed_by_their_target():
    item = items("somechannel_page1.html")[120]
    assert item.text == "Джерело: @ukrpravda_news, деталі на pravda.com.ua/news/1"
    assert (item.telegram.views, item.telegram.views_approximate) == (3, False)


def test_signed_post_has_its_author():
    assert items("somechannel_page1.html")[118].author == "Jane Doe"


def test_older_page_reads_before_link_not_the_after_link_and_folds_blank_lines():
    parsed = parse_preview(page("somechannel_page2.html"), "somechannel")
    assert parsed.before == 105 and [p.message_id for p in parsed.posts] == [105, 107, 109, 111]
    text = items("somechannel_page2.html")[109].text
    assert text == "Итоги дня:\nРакетная опасность отменена в 04:12.\nКод оповещения: ALERT-7\n\nКонец сводки."


def test_first_page_of_the_channel_has_no_more_link():
    parsed = parse_preview(page("somechannel_page3.html"), "somechannel")
    assert parsed.before is None and [p.message_id for p in parsed.posts] == [102, 103]


def test_page_of_a_channel_without_preview_has_no_messages():
    assert parse_preview(page("emptychannel.html"), "emptychannel").message_ids == []
    assert parse_preview(page("closedchannel.html"), "closedchannel").message_ids == []


def test_unreadable_widgets_are_skipped_with_a_warning_naming_them_and_the_rest_kept():
    good = ('<div class="tgme_widget_message" data-post="chan/7"><div class="tgme_widget_message_text">ok</div>'
            '<a class="tgme_widget_message_date"><time datetime="2026-11-20T10:00:00+00:00"></time></a></div>')
    no_id = '<div class="tgme_widget_message" data-post="chan/abc"><time datetime="2026-11-20T10:00:00+00:00"></time></div>'
    no_date = '<div class="tgme_widget_message" data-post="chan/8"><time datetime="yesterday"></time></div>'
    parsed = parse_preview(no_id + good + no_date, "chan")
    assert [p.message_id for p in parsed.posts] == [7]
    assert parsed.warnings == ["telegram chan: skipped a message with data-post 'chan/abc': no message id",
                               "telegram chan/8: skipped: no readable date"]


def test_scripts_event_handlers_and_javascript_links_never_reach_the_html():
    hostile = ('<div class="tgme_widget_message" data-post="chan/9"><div class="tgme_widget_message_text">'
               '<script>alert(1)</script><img src=x onerror="alert(2)">hi <a href="javascript:alert(3)">click</a>'
               ' &lt;b&gt;</div><time datetime="2026-11-20T10:00:00+00:00"></time></div>')
    item = post_to_item(parse_preview(hostile, "chan").posts[0], source_id="tg", fetched_at=FETCHED)
    assert item.html == "hi click &lt;b&gt;" and item.text == "hi click <b>"


def _widget(message_id: int, inner: str) -> str:
    return (f'<div class="tgme_widget_message" data-post="somechannel/{message_id}">'
            f'<div class="tgme_widget_message_text">{inner}</div>'
            f'<a class="tgme_widget_message_date"><time datetime="2026-11-20T10:00:00+00:00"></time></a></div>')


def test_a_post_nested_a_thousand_levels_deep_is_skipped_and_the_rest_of_the_page_kept():
    hostile = "<b>" * 1000 + "deep" + "</b>" * 1000
    body = f"<html><body>{_widget(7, 'Before')}{_widget(8, hostile)}{_widget(9, 'After')}</body></html>"
    parsed = parse_preview(body, "somechannel")
    assert [p.message_id for p in parsed.posts] == [7, 9]
    assert parsed.message_ids == [7, 8, 9]  # the cursor still moves past the hostile post
    assert parsed.warnings == ["telegram somechannel/8: skipped: markup nested deeper than 64 levels"]
