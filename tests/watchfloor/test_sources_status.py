"""`watchfloor sources status` shows where a source moved permanently, without the query string."""

from __future__ import annotations

from schemas import SourceState
from watchfloor.commands.sources import STATUS_COLUMNS, _status_row

MOVED = STATUS_COLUMNS.index("MOVED TO")


def test_a_permanent_redirect_is_shown_without_its_query_string():
    state = SourceState(source_id="wire", url="https://new.example/feed.xml?apikey=s3cret#top",
                        redirected_from="https://old.example/feed.xml")
    row = _status_row("wire", "rss", "ok", state)
    assert len(row) == len(STATUS_COLUMNS)
    assert row[MOVED] == "https://new.example/feed.xml" and "s3cret" not in " ".join(map(str, row))
    assert _status_row("wire", "rss", "ok", SourceState(source_id="wire", url="https://x.example/"))[MOVED] == "-"


def test_status_shows_the_poller_the_learned_interval_the_cadence_and_the_last_item_delay():
    state = SourceState(source_id="wire", polled_by="host-a:4242", interval_secs=5400.0, cadence_secs=90.0,
                        last_item_delay_secs=42.0)
    row = dict(zip(STATUS_COLUMNS, _status_row("wire", "rss", "active", state)))
    assert (row["POLLED BY"], row["INTERVAL"], row["CADENCE"], row["LAST ITEM DELAY"]) == (
        "host-a:4242", "1.5h", "1.5m", "42s")


def test_status_shows_the_push_state_and_the_lease_of_an_active_subscription():
    from datetime import datetime, timezone

    lease = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
    rows = {name: dict(zip(STATUS_COLUMNS, _status_row("wire", "rss", "active", state))) for name, state in {
        "no hub": SourceState(source_id="wire"),
        "active": SourceState(source_id="wire", push_hub="https://hub.example/", push_state="active",
                              push_lease_until=lease),
        "lapsed": SourceState(source_id="wire", push_hub="https://hub.example/", push_state="lapsed"),
    }.items()}
    assert {name: row["PUSH"] for name, row in rows.items()} == {
        "no hub": "-", "active": "active to 2026-11-29 12:00:00Z", "lapsed": "lapsed"}
