"""The alert store: idempotent by alert_id, filtered history, acknowledgements and the delivery log,
all surviving a reopen of the same file."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from desk.filters import AlertFilter
from desk.store import AlertStore
from schemas.classified import EntityHit, ThemeHit
from tests.desk.alerts import make_alert


def test_replayed_alert_id_is_stored_once_and_reported_as_not_new(tmp_path):
    store = AlertStore(tmp_path / "desk.sqlite3")
    alert = make_alert()
    first = store.add(alert, ["ops"])
    replay = store.add(alert.model_copy(update={"title": "changed on replay"}), ["ops"])
    assert first is not None and first.seq == 1
    assert replay is None
    assert [s.alert.title for s in store.query()] == [alert.title]
    assert store.last_seq() == 1


def test_history_is_newest_first_and_filters_by_severity_theme_entity_and_source(tmp_path):
    store = AlertStore(tmp_path / "desk.sqlite3")
    old = make_alert(severity="info", source_id="wire-two", themes=[ThemeHit(theme="referendum", score=1)],
                     entities=[])
    mid = make_alert(severity="high")
    new = make_alert(severity="critical", entities=[EntityHit(id="person:x", name="Олена Зеленська", type="person")])
    store.add_many([(old, []), (new, []), (mid, [])])  # arrival order differs from alerted_at order

    def ids(**query):
        return [s.alert.alert_id for s in store.query(AlertFilter.from_query(query))]

    assert ids() == [new.alert_id, mid.alert_id, old.alert_id]
    assert ids(severity="high") == [new.alert_id, mid.alert_id]
    assert ids(theme="REFERENDUM") == [old.alert_id]
    assert ids(entity="place:kyiv") == [mid.alert_id]
    assert ids(entity="олена зеленська") == [new.alert_id]
    assert ids(source="wire-two") == [old.alert_id]
    assert ids(theme="sanctions,referendum", severity="critical") == [new.alert_id]
    assert ids(theme="referendum", severity="critical") == []


def test_acknowledgement_and_delivery_log_survive_reopening_the_store(tmp_path):
    path = tmp_path / "desk.sqlite3"
    store = AlertStore(path)
    alert = make_alert()
    store.add(alert, ["ops", "chat"])
    acked = store.acknowledge(alert.alert_id, "duty editor")
    store.acknowledge(alert.alert_id, "someone later")  # the first acknowledgement stands
    store.record_attempt(alert.alert_id, "ops", delivered=False, error="HTTP 503")
    store.record_attempt(alert.alert_id, "ops", delivered=True)
    store.record_attempt(alert.alert_id, "chat", delivered=False, error="HTTP 404", give_up=True)
    store.close()

    reopened = AlertStore(path)
    stored = reopened.get(alert.alert_id)
    assert acked is not None and stored.acked_at == acked.acked_at and stored.acked_by == "duty editor"
    ops = reopened.delivery(alert.alert_id, "ops")
    assert (ops.state, ops.attempts, ops.last_error, ops.delivered_at is not None) == ("delivered", 2, None, True)
    assert reopened.delivery(alert.alert_id, "chat").state == "failed"
    assert reopened.pending("ops") == [] and reopened.pending("chat") == []
    # A delivered row is closed: a late attempt record changes nothing.
    assert reopened.record_attempt(alert.alert_id, "ops", delivered=False, error="late").attempts == 2


def test_unknown_alert_cannot_be_acknowledged(tmp_path):
    assert AlertStore(tmp_path / "desk.sqlite3").acknowledge("alert-nope") is None


def test_pending_lists_only_open_deliveries_of_that_endpoint_in_arrival_order(tmp_path):
    store = AlertStore(tmp_path / "desk.sqlite3")
    a, b, c = make_alert(), make_alert(), make_alert()
    store.add_many([(a, ["ops"]), (b, ["ops", "chat"]), (c, ["chat"])])
    store.record_attempt(a.alert_id, "ops", delivered=False, error="timeout")
    assert [(s.alert.alert_id, n) for s, n in store.pending("ops")] == [(a.alert_id, 1), (b.alert_id, 0)]
    assert [s.alert.alert_id for s, _ in store.pending("chat")] == [b.alert_id, c.alert_id]


def test_a_stored_alert_is_on_disk_when_add_returns(tmp_path):
    store = AlertStore(tmp_path / "desk.sqlite3")
    # FULL (2), not NORMAL (1): under WAL, NORMAL may lose the last commits on power loss, and the
    # feed commits Kafka offsets right after storing.
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_prune_forgets_old_alerts_with_their_tags_and_deliveries_and_keeps_recent_ones(tmp_path):
    store = AlertStore(tmp_path / "desk.sqlite3")
    old, recent = make_alert(), make_alert()
    store.add(old, ["ops"])
    store._conn.execute("UPDATE alerts SET received_at = '2020-01-01T00:00:00.000000Z' WHERE alert_id = ?",
                        (old.alert_id,))
    store._conn.commit()
    store.add(recent, ["ops"])
    assert store.prune(datetime.now(timezone.utc) - timedelta(days=90)) == 1
    assert store.get(old.alert_id) is None and store.deliveries(old.alert_id) == []
    assert store.get(recent.alert_id) is not None and len(store.deliveries(recent.alert_id)) == 1
    seqs = {row[0] for row in store._conn.execute("SELECT seq FROM alert_tags")}
    assert seqs <= {store.get(recent.alert_id).seq}


def test_prune_keeps_an_old_alert_a_person_labelled_not_relevant(tmp_path):
    store = AlertStore(tmp_path / "desk.sqlite3")
    labelled, other = make_alert(), make_alert()
    for alert in (labelled, other):
        store.add(alert, ["ops"])
        store._conn.execute("UPDATE alerts SET received_at = '2020-01-01T00:00:00.000000Z' WHERE alert_id = ?",
                            (alert.alert_id,))
    store._conn.commit()
    store.record_feedback(labelled.alert_id, "not_relevant", "night desk")
    assert store.prune(datetime.now(timezone.utc) - timedelta(days=90)) == 1
    assert store.get(other.alert_id) is None
    assert [(s.alert.alert_id, f.by) for s, f in store.feedback()] == [(labelled.alert_id, "night desk")]
