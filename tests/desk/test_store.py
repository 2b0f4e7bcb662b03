"""The alert store: idempotent by alert_id, filtered history, acknowledgements and the delivery log,
all surviving a reopen of the same file."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from desk.filters import AlertFilter
from desk.store import AlertStore, new_action
from schemas.base import iso_utc, utcnow
from schemas.classified import EntityHit, ThemeHit
from schemas.desk import DeskAction
from streams.rules import compile_pack, load_pack
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


def _action(alert_id: str, kind: str, at_minutes: float, **fields) -> DeskAction:
    at = datetime(2026, 12, 2, 6, 0, tzinfo=timezone.utc) + timedelta(minutes=at_minutes)
    return DeskAction(action_id=f"act-{alert_id}-{kind}-{at_minutes}", alert_id=alert_id, action=kind, at=at,
                      **fields)


def test_desk_state_is_the_replay_of_its_actions_whatever_order_they_arrived_in(tmp_path):
    alert = make_alert()
    actions = [
        _action(alert.alert_id, "ack", 1, by="anna"),
        _action(alert.alert_id, "assign", 2, by="anna", value="boris"),
        _action(alert.alert_id, "note", 3, by="boris", value="Checked with the Kyiv office: confirmed."),
        _action(alert.alert_id, "ack", 4, by="boris"),  # the first acknowledgement stands
        _action(alert.alert_id, "resolve", 5, by="boris"),
    ]
    in_order, shuffled = AlertStore(tmp_path / "a.sqlite3"), AlertStore(tmp_path / "b.sqlite3")
    for store in (in_order, shuffled):
        store.add(alert)
    in_order.apply(actions)
    for action in (actions[4], actions[0], actions[3], actions[2], actions[1], actions[0]):  # and one twice
        shuffled.apply([action], published=True)
    a, b = in_order.get(alert.alert_id), shuffled.get(alert.alert_id)
    assert (a.status, a.acked_by, a.assignee, a.notes, a.resolved_by) == ("resolved", "anna", "boris", 1, "boris")
    assert (b.status, b.acked_by, b.assignee, b.notes, b.resolved_by) == ("resolved", "anna", "boris", 1, "boris")
    assert [x.action for x in shuffled.trail(alert.alert_id)] == ["ack", "assign", "note", "ack", "resolve"]
    # Only actions taken here wait in the outbox; those read from the topic were published already.
    assert [x.action_id for x in in_order.unpublished()] == [x.action_id for x in actions]
    assert shuffled.unpublished() == []
    in_order.mark_published(x.action_id for x in actions[:2])
    assert [x.action for x in in_order.unpublished()] == ["note", "ack", "resolve"]


def test_reopen_after_resolve_makes_the_alert_open_and_unacknowledged_again(tmp_path):
    store = AlertStore(tmp_path / "desk.sqlite3")
    alert = make_alert()
    store.add(alert)
    store.apply([_action(alert.alert_id, "ack", 1), _action(alert.alert_id, "resolve", 2),
                 _action(alert.alert_id, "reopen", 3, by="anna")])
    reopened = store.get(alert.alert_id)
    assert (reopened.status, reopened.acked_at, reopened.resolved_at) == ("open", None, None)
    assert [s.alert.alert_id for s in store.query(view="open")] == [alert.alert_id]


def test_actions_that_arrive_before_their_alert_apply_when_it_is_stored(tmp_path):
    store = AlertStore(tmp_path / "desk.sqlite3")
    alert = make_alert()
    assert store.apply([_action(alert.alert_id, "assign", 1, value="night desk")], published=True) == []
    stored = store.add(alert)
    assert stored.assignee == "night desk" and store.get(alert.alert_id).assignee == "night desk"


def test_status_views_hide_resolved_and_snoozed_alerts_until_the_snooze_ends(tmp_path):
    store = AlertStore(tmp_path / "desk.sqlite3")
    fresh, acked, resolved, sleeping, woken = (make_alert() for _ in range(5))
    for alert in (fresh, acked, resolved, sleeping, woken):
        store.add(alert)
    now = utcnow()
    store.apply([
        new_action(acked.alert_id, "ack"),
        new_action(resolved.alert_id, "resolve"),
        new_action(sleeping.alert_id, "snooze", until=now + timedelta(hours=1)),
        new_action(woken.alert_id, "snooze", until=now - timedelta(minutes=1)),
    ])

    def ids(view):
        return {s.alert.alert_id for s in store.query(view=view)}

    assert ids("active") == {fresh.alert_id, acked.alert_id, woken.alert_id}
    assert ids("open") == {fresh.alert_id, woken.alert_id}
    assert ids("acknowledged") == {acked.alert_id}
    assert ids("snoozed") == {sleeping.alert_id}
    assert ids("resolved") == {resolved.alert_id}
    assert len(ids("all")) == 5


@pytest.mark.parametrize("bad", [dict(action="note"), dict(action="resolve", value="x"),
                                 dict(action="ack", until=utcnow()), dict(action="escalate")])
def test_actions_are_checked_before_they_are_stored(bad):
    with pytest.raises(ValueError):
        new_action("alert-1", **bad)


RYABKOV = [  # one event told in three languages, then another event with the same official
    ("en", "Deputy foreign minister Sergei Ryabkov warned that Russia could resume nuclear weapons tests if "
           "Washington carries out one first."),
    ("ru", "Замминистра иностранных дел Сергей Рябков предупредил, что Россия может возобновить ядерные "
           "испытания, если США проведут их первыми."),
    ("uk", "Заступник міністра закордонних справ РФ Сергій Рябков пригрозив, що Росія може відновити ядерні "
           "випробування, якщо США зроблять це першими."),
    ("en", "Ryabkov told NATO that any troops it sends to Finland's border would become a legitimate target for "
           "Russian strikes."),
    ("en", "Lavrov warned that Russia could resume nuclear tests if the United States does so first."),
]


def test_related_coverage_joins_one_event_across_languages_and_keeps_other_events_apart(tmp_path):
    rules = compile_pack(load_pack(None))
    store = AlertStore(tmp_path / "desk.sqlite3")
    stored = []
    for n, (lang, text) in enumerate(RYABKOV):
        found = rules.classify(text, lang=lang)
        assert [t.theme for t in found.themes] == ["escalation"], text
        stored.append(store.add(make_alert(title=text, text=text, lang=lang, story_id=f"story-{n}",
                                           themes=found.themes, entities=found.entities)))
    events = [s.event_key for s in stored]
    # The three tellings of the test threat are one event, filed under the first story.
    assert events[:3] == ["story:story-0"] * 3
    # The same official on another threat, and another official on the same threat, stay apart.
    assert events[3] == "story:story-3" and events[4] == "story:story-4"
    # A later copy of a joined story stays with its event.
    copy = store.add(make_alert(story_id="story-2", themes=stored[2].alert.themes, entities=[]))
    assert copy.event_key == "story:story-0"
    assert {s.event_key for s in store.query()} == {"story:story-0", "story:story-3", "story:story-4"}


def test_a_store_from_before_desk_actions_keeps_its_acknowledgements_and_verdicts_as_actions(tmp_path):
    path = tmp_path / "desk.sqlite3"
    acked, labelled = make_alert(), make_alert()
    old = sqlite3.connect(path)  # the schema and rows the previous release wrote
    old.executescript("""
        CREATE TABLE alerts (seq INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL UNIQUE,
            severity_rank INTEGER NOT NULL, source_key TEXT NOT NULL, alerted_at TEXT NOT NULL,
            received_at TEXT NOT NULL, body TEXT NOT NULL, acked_at TEXT, acked_by TEXT);
        CREATE TABLE feedback (alert_id TEXT PRIMARY KEY, verdict TEXT NOT NULL, at TEXT NOT NULL, by TEXT);
    """)
    for alert, acked_at in ((acked, "2026-11-30T08:00:00.000000Z"), (labelled, None)):
        old.execute("INSERT INTO alerts (alert_id, severity_rank, source_key, alerted_at, received_at, body,"
                    " acked_at, acked_by) VALUES (?, 2, 'wire-one', ?, ?, ?, ?, ?)",
                    (alert.alert_id, iso_utc(alert.alerted_at), iso_utc(alert.alerted_at), alert.model_dump_json(),
                     acked_at, "old editor" if acked_at else None))
    old.execute("INSERT INTO feedback VALUES (?, 'not_relevant', '2026-11-30T09:00:00.000000Z', 'night desk')",
                (labelled.alert_id,))
    old.commit()
    old.close()

    store = AlertStore(path)
    before = store.get(acked.alert_id)
    assert (before.status, before.acked_by) == ("acknowledged", "old editor")
    store.apply([new_action(acked.alert_id, "note", by="anna", value="still relevant")])
    after = store.get(acked.alert_id)  # a later action does not lose the acknowledgement
    assert (after.status, after.acked_at, after.acked_by, after.notes) == (
        "acknowledged", "2026-11-30T08:00:00.000000Z", "old editor", 1)
    assert [a.action for a in store.unpublished()] == ["ack", "not_relevant", "note"]  # shared with other desks
    assert store.feedback_for(labelled.alert_id).by == "night desk"


def test_an_action_taken_here_comes_after_actions_stamped_by_a_desk_whose_clock_runs_ahead(tmp_path):
    store = AlertStore(tmp_path / "desk.sqlite3")
    alert = make_alert()
    store.add(alert)
    ahead = DeskAction(action_id="from-a-fast-clock", alert_id=alert.alert_id, action="resolve",
                       at=utcnow() + timedelta(minutes=2), by="fast desk")
    store.apply([ahead], published=True)
    store.apply([new_action(alert.alert_id, "reopen", by="anna")])
    assert store.get(alert.alert_id).status == "open"
    assert [a.action for a in store.trail(alert.alert_id)] == ["resolve", "reopen"]


def test_an_alert_published_at_the_edge_of_time_is_stored_without_related_coverage(tmp_path):
    store = AlertStore(tmp_path / "desk.sqlite3")
    person = EntityHit(id="ryabkov", name="Sergei Ryabkov", type="person")
    for year in (1, 9999):
        when = datetime(year, 1 if year == 1 else 12, 1, tzinfo=timezone.utc)
        stored = store.add(make_alert(published_at=when, entities=[person], story_id=f"edge-{year}"))
        assert stored.event_key == f"story:edge-{year}"


def test_an_action_record_with_a_time_outside_utc_is_refused_as_invalid():
    with pytest.raises(ValueError, match="out of range"):
        DeskAction.model_validate_json('{"action_id": "abcdefgh", "alert_id": "a1", "action": "ack",'
                                       ' "at": "0001-01-01T00:00:00+01:00"}')
