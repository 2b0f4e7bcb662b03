"""`watchfloor sources status` shows where a source moved permanently, without the query string."""

from __future__ import annotations

from schemas import SourceState
from watchfloor.commands.sources import _status_row


def test_a_permanent_redirect_is_shown_without_its_query_string():
    state = SourceState(source_id="wire", url="https://new.example/feed.xml?apikey=s3cret#top",
                        redirected_from="https://old.example/feed.xml")
    row = _status_row("wire", "rss", "ok", state)
    assert row[-1] == "https://new.example/feed.xml" and "s3cret" not in " ".join(map(str, row))
    assert _status_row("wire", "rss", "ok", SourceState(source_id="wire", url="https://x.example/"))[-1] == "-"
