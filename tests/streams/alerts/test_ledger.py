"""The alert ledger: an alert id is raised once; a flood inside the cooldown becomes one alert plus
a count; workers share the ledger through its topic."""

from __future__ import annotations

from collections import namedtuple
from datetime import datetime, timezone

from schemas import Alert
from streams.alerts.ledger import AlertLedger

Record = namedtuple("Record", "key value")
T0 = 1_800_000_000.0


def make_alert(alert_id: str, trigger: str = "nuclear-threat") -> Alert:
    ts = datetime.fromtimestamp(T0, tz=timezone.utc)
    return Alert(alert_id=alert_id, trigger_id=trigger, severity="critical", rules_version="v", source_type="rss",
                 source_id="s", item_id=f"item-{alert_id}", published_at=ts, fetched_at=ts, classified_at=ts,
                 alerted_at=ts)


def replay(out, into: AlertLedger) -> None:
    for o in out:
        into.apply_record(Record(o.key, o.value))


def test_same_alert_id_is_emitted_once_and_then_reported_as_duplicate():
    ledger, out = AlertLedger("ledger", cooldown_secs=0), []
    assert ledger.decide(make_alert("a1"), "k", T0, out).emit
    again = ledger.decide(make_alert("a1"), "k", T0 + 5, out)
    assert not again.emit and again.reason == "duplicate"


def test_flood_inside_cooldown_folds_into_one_alert_then_a_followup_with_the_count():
    ledger, out = AlertLedger("ledger", cooldown_secs=60, owner="w1"), []
    decisions = [ledger.decide(make_alert(f"a{i}"), "nuclear-threat|person:x", T0 + i, out) for i in range(10)]
    assert [d.emit for d in decisions] == [True] + [False] * 9
    assert {d.reason for d in decisions[1:]} == {"cooldown"}
    assert ledger.flush(T0 + 30, out) == []  # window still open
    followups = ledger.flush(T0 + 61, out)
    assert len(followups) == 1
    assert followups[0].folded_count == 9
    assert followups[0].alert_id not in {f"a{i}" for i in range(10)}
    assert ledger.flush(T0 + 200, out) == []  # counted once only


def test_cooldown_is_per_trigger_and_entity():
    ledger, out = AlertLedger("ledger", cooldown_secs=60), []
    assert ledger.decide(make_alert("a1"), "t|person:a", T0, out).emit
    assert ledger.decide(make_alert("a2"), "t|person:b", T0 + 1, out).emit
    assert not ledger.decide(make_alert("a3"), "t|person:a", T0 + 2, out).emit


def test_a_second_worker_that_reads_the_ledger_topic_does_not_raise_the_same_alert():
    first, second, out = AlertLedger("ledger", 60, owner="w1"), AlertLedger("ledger", 60, owner="w2"), []
    first.decide(make_alert("a1"), "k", T0, out)
    first.decide(make_alert("a2"), "k", T0 + 1, out)
    replay(out, second)
    assert second.decide(make_alert("a1"), "k", T0 + 2, []).reason == "duplicate"
    assert second.decide(make_alert("a3"), "k", T0 + 3, []).reason == "cooldown"
    # Only the window's owner flushes it while the owner is alive.
    assert second.flush(T0 + 61, []) == []
    assert len(first.flush(T0 + 61, [])) == 1


def test_stale_ledger_records_do_not_overwrite_a_newer_window():
    ledger, out = AlertLedger("ledger", 60, owner="w1"), []
    ledger.decide(make_alert("a1"), "k", T0, out)
    ledger.decide(make_alert("a2"), "k", T0 + 1, out)
    ledger.decide(make_alert("a3"), "k", T0 + 2, out)
    replay(out[:2], ledger)  # our own first write arrives late from the topic
    assert ledger.windows["k"].folded == 2


def test_expired_entries_are_forgotten_with_tombstones():
    ledger, out = AlertLedger("ledger", 60, horizon_secs=3600), []
    ledger.decide(make_alert("a1"), "k", T0, out)
    out.clear()
    ledger.flush(T0 + 7200, out)
    assert "a1" not in ledger.alerted and "k" not in ledger.windows
    assert {o.key for o in out if o.value is None} == {b"a:a1", b"c:k"}


def test_headline_is_the_first_line_cut_at_a_word():
    from streams.alerts.build import headline

    assert headline("\n\nFirst line\nsecond") == "First line"
    cut = headline("word " * 40, limit=30)
    assert cut.endswith("…") and len(cut) <= 30 and not cut[:-1].endswith(" ")
