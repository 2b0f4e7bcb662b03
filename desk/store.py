"""The alert store: SQLite in the data directory, keyed by ``alert_id``.

It holds the alert history the page and the Atom feed read, the desk actions taken on each alert
(acknowledge, assign, snooze, resolve, reopen, notes, "not relevant") with the state they add up to,
and the webhook delivery log. A delivery row is written in the same transaction as its alert (an outbox), so an
alert stored before a crash is still delivered after the restart, and one delivered is never sent
again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from desk.filters import AlertFilter, entity_tags, theme_tags
from desk.text import safe_link, snippet_spans
from schemas import Alert
from schemas.base import SEVERITY_ORDER, iso_utc, utcnow
from schemas.desk import DeskAction

STORE_FILE = "desk.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL UNIQUE,
    severity_rank INTEGER NOT NULL,
    source_key TEXT NOT NULL,
    alerted_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    body TEXT NOT NULL,
    acked_at TEXT,
    acked_by TEXT
);
CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts (alerted_at DESC, seq DESC);
CREATE TABLE IF NOT EXISTS alert_tags (
    kind TEXT NOT NULL, value TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (kind, value, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deliveries (
    alert_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_attempt_at TEXT,
    delivered_at TEXT,
    next_attempt_at TEXT,
    PRIMARY KEY (alert_id, endpoint)
);
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (endpoint, state);
CREATE TABLE IF NOT EXISTS feedback (
    alert_id TEXT PRIMARY KEY,
    verdict TEXT NOT NULL CHECK (verdict IN ('not_relevant')),
    at TEXT NOT NULL,
    by TEXT
);
CREATE INDEX IF NOT EXISTS alerts_by_received ON alerts (received_at);
CREATE TABLE IF NOT EXISTS actions (
    action_id TEXT PRIMARY KEY,
    alert_id TEXT NOT NULL,
    at TEXT NOT NULL,
    body TEXT NOT NULL,
    published INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS actions_by_alert ON actions (alert_id, at, action_id);
CREATE INDEX IF NOT EXISTS actions_unpublished ON actions (published) WHERE published = 0;
"""

# Columns added after the first release; a store written before them gets them on open.
_ADDED_COLUMNS = {
    "story_key": "TEXT",
    "event_key": "TEXT",
    "published_at": "TEXT",
    "sig": "TEXT",
    "status": "TEXT NOT NULL DEFAULT 'open'",
    "assignee": "TEXT",
    "snoozed_until": "TEXT",
    "resolved_at": "TEXT",
    "resolved_by": "TEXT",
    "notes": "INTEGER NOT NULL DEFAULT 0",
}

_ALERT_COLUMNS = ("a.seq, a.body, a.received_at, a.acked_at, a.acked_by, a.status, a.assignee, a.snoozed_until,"
                  " a.resolved_at, a.resolved_by, a.notes, a.event_key")
_NCOLS = 12

RELATED_WINDOW = timedelta(hours=12)
"""Related coverage: stories published this close together may be one event."""
RELATED_MIN_JACCARD = 0.5
"""Related coverage: the share of their entities two stories must have in common."""

STATUSES = ("open", "acknowledged", "resolved")
VIEWS = ("active", "open", "acknowledged", "snoozed", "resolved", "all")
"""Status views of the history: ``active`` is everything not resolved and not snoozed now."""


def _now() -> str:
    return iso_utc(utcnow())


def new_action(alert_id: str, action: str, *, by: str | None = None, value: str | None = None,
               until: datetime | None = None, desk: str | None = None) -> DeskAction:
    """A new action taken now, with a fresh id; ``ValueError`` names what is wrong with it."""
    return DeskAction(action_id=uuid.uuid4().hex, alert_id=alert_id, action=action, by=by, at=utcnow(),
                      value=value, until=until, desk=desk)


@dataclass(frozen=True)
class StoredAlert:
    seq: int
    """Arrival order in this store; the SSE event id."""
    alert: Alert
    body: str
    """The alert JSON exactly as stored: what webhooks sign and send."""
    received_at: str
    acked_at: str | None = None
    acked_by: str | None = None
    status: str = "open"
    """``open``, ``acknowledged`` or ``resolved``: what the desk actions on it add up to."""
    assignee: str | None = None
    snoozed_until: str | None = None
    resolved_at: str | None = None
    resolved_by: str | None = None
    notes: int = 0
    event_key: str | None = None
    """The event this alert's story belongs to: its own story, or an earlier story it is related
    coverage of (the same event in other words or another language); the desk's row."""

    def to_json(self) -> dict:
        """The API and SSE shape; ``highlights`` are snippet ranges in characters (code points)."""
        return {"seq": self.seq, "received_at": self.received_at, "acked_at": self.acked_at,
                "acked_by": self.acked_by, "status": self.status, "assignee": self.assignee,
                "snoozed_until": self.snoozed_until, "resolved_at": self.resolved_at,
                "resolved_by": self.resolved_by, "notes": self.notes, "event_key": self.event_key,
                "link": safe_link(self.alert.url),
                "highlights": snippet_spans(self.alert), "alert": self.alert.model_dump(mode="json")}


@dataclass
class Lifecycle:
    """What an alert's actions add up to, replayed in ``(at, action_id)`` order: the same actions
    give the same state on every desk, whatever order they arrived in."""

    status: str = "open"
    acked_at: str | None = None
    acked_by: str | None = None
    assignee: str | None = None
    snoozed_until: str | None = None
    resolved_at: str | None = None
    resolved_by: str | None = None
    notes: int = 0
    verdict: DeskAction | None = None
    trail: list[DeskAction] = field(default_factory=list)

    @classmethod
    def replay(cls, actions: Iterable[DeskAction]) -> Lifecycle:
        state = cls()
        for action in sorted(actions, key=lambda a: (a.at, a.action_id)):
            state.apply(action)
        return state

    def apply(self, action: DeskAction) -> None:
        at, kind = iso_utc(action.at), action.action
        self.trail.append(action)
        if kind == "ack":
            if self.acked_at is None:  # the first acknowledgement stands
                self.acked_at, self.acked_by = at, action.by
            if self.status == "open":
                self.status = "acknowledged"
        elif kind == "assign":
            self.assignee = (action.value or "").strip() or None
        elif kind == "snooze":
            self.snoozed_until = iso_utc(action.until) if action.until else None
        elif kind == "resolve":
            self.status, self.resolved_at, self.resolved_by, self.snoozed_until = "resolved", at, action.by, None
        elif kind == "reopen":
            self.status, self.resolved_at, self.resolved_by = "open", None, None
            self.acked_at = self.acked_by = None
        elif kind == "note":
            self.notes += 1
        elif kind == "not_relevant":
            self.verdict = action

    def columns(self) -> tuple:
        return (self.status, self.acked_at, self.acked_by, self.assignee, self.snoozed_until, self.resolved_at,
                self.resolved_by, self.notes)


@dataclass(frozen=True)
class Feedback:
    """A desk's verdict on an alert ("not relevant"): a labelled example for ``watchfloor eval``."""

    alert_id: str
    verdict: str
    at: str
    by: str | None

    def to_json(self) -> dict:
        return {"alert_id": self.alert_id, "verdict": self.verdict, "at": self.at, "by": self.by}


@dataclass(frozen=True)
class Delivery:
    alert_id: str
    endpoint: str
    state: str
    attempts: int
    last_error: str | None
    last_attempt_at: str | None
    delivered_at: str | None


def feedback_examples(data_dir: Path) -> list[dict]:
    """The desk's "not relevant" verdicts in ``data_dir`` as labelled examples for ``watchfloor eval``
    (JSON Lines fields of a labelled set); ``FileNotFoundError`` when there is no desk store."""
    path = Path(data_dir) / STORE_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: no desk store here")
    store = AlertStore(path)
    try:
        rows = store.feedback()
    finally:
        store.close()
    # Not relevant: the passage carries none of the themes the alert fired on (the others are unknown).
    return [{"id": f"desk:{s.alert.alert_id}", "lang": s.alert.lang or "und", "title": s.alert.title or None,
             "text": s.alert.snippet, "themes": [], "entities": [], "source_url": s.alert.url,
             "verdict": verdict.verdict, "not_themes": [t.theme for t in s.alert.themes],
             "trigger_id": s.alert.trigger_id, "rules_version": s.alert.rules_version, "by": verdict.by,
             "at": verdict.at} for s, verdict in rows]


def _signature(alert: Alert) -> dict:
    """What related coverage compares: themes and entities (ids and types), the same in every language."""
    return {"t": sorted({t.theme for t in alert.themes}), "e": sorted({(e.id, e.type) for e in alert.entities})}


def related_score(a: dict, b: dict) -> float:
    """How likely two stories tell one event: 0 unless they share a theme and a person or organisation
    (places alone, "Russia" and "Ukraine", join unrelated events); else the Jaccard index of their
    entities."""
    if not set(a["t"]) & set(b["t"]):
        return 0.0
    ea, eb = {tuple(e) for e in a["e"]}, {tuple(e) for e in b["e"]}
    shared = ea & eb
    if not any(kind != "place" for _, kind in shared):
        return 0.0
    return len(shared) / len(ea | eb)


def _row(row: Sequence) -> StoredAlert:
    seq, body, received, *state = row
    return StoredAlert(seq, Alert.model_validate_json(body), body, received, *state)


class AlertStore:
    """Thread-safe (one connection behind a lock; every write one short transaction), so async code
    calls it through ``asyncio.to_thread``. ``add`` is idempotent by ``alert_id``."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10.0)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk when it returns. The feed commits Kafka offsets right after
        # storing a batch; with NORMAL a power loss could drop alerts whose offsets were committed.
        self._conn.execute("PRAGMA synchronous=FULL")
        with self._lock, self._conn:
            self._conn.executescript(_SCHEMA)
            columns = {row[1] for row in self._conn.execute("PRAGMA table_info(deliveries)")}
            if "next_attempt_at" not in columns:  # a store written before retries were scheduled
                self._conn.execute("ALTER TABLE deliveries ADD COLUMN next_attempt_at TEXT")
            columns = {row[1] for row in self._conn.execute("PRAGMA table_info(alerts)")}
            for name, decl in _ADDED_COLUMNS.items():
                if name not in columns:  # a store written before the desk had a lifecycle
                    self._conn.execute(f"ALTER TABLE alerts ADD COLUMN {name} {decl}")
            if "status" not in columns:
                self._actions_from_older_store()
            self._conn.execute("CREATE INDEX IF NOT EXISTS alerts_by_status ON alerts (status)")
            self._conn.execute("CREATE INDEX IF NOT EXISTS alerts_by_story ON alerts (story_key)")
            self._conn.execute("CREATE INDEX IF NOT EXISTS alerts_by_published ON alerts (published_at)")

    def _actions_from_older_store(self) -> None:
        """A store from before desk actions kept acknowledgements and verdicts in columns: write them
        as actions (ids derived from the alert, so every desk upgrading makes the same ones), so that
        the state replayed from actions keeps them and other desks learn them."""
        rows = self._conn.execute(
            "SELECT alert_id, 'ack', acked_at, acked_by FROM alerts WHERE acked_at IS NOT NULL UNION ALL"
            " SELECT alert_id, verdict, at, by FROM feedback").fetchall()
        for alert_id, kind, at, by in rows:
            action_id = hashlib.sha256(f"{kind}:{alert_id}".encode()).hexdigest()[:32]
            action = DeskAction(action_id=action_id, alert_id=alert_id, action=kind, at=at, by=by)
            self._conn.execute("INSERT OR IGNORE INTO actions (action_id, alert_id, at, body, published)"
                               " VALUES (?, ?, ?, ?, 0)", (action_id, alert_id, iso_utc(action.at),
                                                          action.model_dump_json()))
        for alert_id in dict.fromkeys(row[0] for row in rows):
            self._restate(alert_id)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> AlertStore:
        return cls(Path(data_dir) / STORE_FILE)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- alerts ---------------------------------------------------------------------------------

    def add_many(self, alerts: Sequence[tuple[Alert, Iterable[str]]]) -> list[StoredAlert]:
        """Store each alert not seen before, with a pending delivery for each endpoint name given
        beside it; return the new ones in order. A known ``alert_id`` (a replay) is skipped."""
        added: list[StoredAlert] = []
        with self._lock, self._conn:
            for alert, endpoints in alerts:
                stored = self._insert(alert, endpoints)
                if stored is not None:
                    added.append(stored)
        return added

    def add(self, alert: Alert, endpoints: Iterable[str] = ()) -> StoredAlert | None:
        added = self.add_many([(alert, endpoints)])
        return added[0] if added else None

    def _insert(self, alert: Alert, endpoints: Iterable[str]) -> StoredAlert | None:
        body, received = alert.model_dump_json(), _now()
        if self._conn.execute("SELECT 1 FROM alerts WHERE alert_id = ?", (alert.alert_id,)).fetchone():
            return None
        story_key = None if alert.kind == "surge" else (f"story:{alert.story_id}" if alert.story_id
                                                         else f"item:{alert.item_id}")
        sig = _signature(alert)
        event_key = self._event_of(story_key, sig, alert.published_at) if story_key else None
        cursor = self._conn.execute(
            "INSERT INTO alerts (alert_id, severity_rank, source_key, alerted_at, received_at, body, story_key,"
            " event_key, published_at, sig) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (alert.alert_id, SEVERITY_ORDER[alert.severity], alert.source_id.casefold(),
             iso_utc(alert.alerted_at), received, body, story_key, event_key, iso_utc(alert.published_at),
             json.dumps(sig, separators=(",", ":"))))
        seq = cursor.lastrowid
        tags = [("theme", t) for t in theme_tags(alert)] + [("entity", e) for e in entity_tags(alert)]
        self._conn.executemany("INSERT OR IGNORE INTO alert_tags (kind, value, seq) VALUES (?, ?, ?)",
                               [(kind, value, seq) for kind, value in tags])
        self._conn.executemany(
            "INSERT OR IGNORE INTO deliveries (alert_id, endpoint, state) VALUES (?, ?, 'pending')",
            [(alert.alert_id, name) for name in endpoints])
        # Actions can arrive before their alert (another desk acted on it first): apply them now.
        if self._conn.execute("SELECT 1 FROM actions WHERE alert_id = ? LIMIT 1", (alert.alert_id,)).fetchone():
            self._restate(alert.alert_id)
            return _row(self._conn.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts a WHERE a.seq = ?", (seq,)).fetchone())
        return StoredAlert(seq, alert, body, received, event_key=event_key)

    def _event_of(self, story_key: str, sig: dict, published: datetime) -> str:
        """The event a story belongs to: the one it was filed under before, else the event of the
        most similar earlier story (related coverage), else a new event named after the story."""
        known = self._conn.execute("SELECT event_key FROM alerts WHERE story_key = ? AND event_key IS NOT NULL"
                                   " LIMIT 1", (story_key,)).fetchone()
        if known:
            return known[0]
        actors = [e for e, kind in sig["e"] if kind != "place"]
        if not actors or not sig["t"]:
            return story_key
        try:
            lo, hi = iso_utc(published - RELATED_WINDOW), iso_utc(published + RELATED_WINDOW)
        except OverflowError:  # published in year 1 or 9999: nothing is close to it
            return story_key
        rows = self._conn.execute(
            "SELECT event_key, sig FROM alerts WHERE published_at BETWEEN ? AND ? AND story_key != ?"
            " AND event_key IS NOT NULL AND seq IN (SELECT seq FROM alert_tags WHERE kind = 'entity' AND value IN"
            f" ({','.join('?' * len(actors))})) ORDER BY seq DESC LIMIT 500",
            (lo, hi, story_key, *[a.casefold() for a in actors])).fetchall()
        best, best_score = story_key, 0.0
        for event_key, other in rows:
            score = related_score(sig, json.loads(other))
            if score >= RELATED_MIN_JACCARD and score > best_score:
                best, best_score = event_key, score
        return best

    def prune(self, older_than: datetime) -> int:
        """Forget alerts received before ``older_than`` (their tags and deliveries too); return how
        many. A forgotten alert replayed from the topic would be stored again, so keep the desk's
        retention longer than the alerts topic's."""
        cutoff = older_than.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self._lock, self._conn:
            # An alert a person labelled ("not relevant") is kept: it is a labelled example for eval.
            old = "received_at < ? AND alert_id NOT IN (SELECT alert_id FROM feedback)"
            self._conn.execute(f"DELETE FROM alert_tags WHERE seq IN (SELECT seq FROM alerts WHERE {old})", (cutoff,))
            self._conn.execute(f"DELETE FROM deliveries WHERE alert_id IN (SELECT alert_id FROM alerts WHERE {old})",
                               (cutoff,))
            removed = self._conn.execute(f"DELETE FROM alerts WHERE {old}", (cutoff,)).rowcount
            self._conn.execute("DELETE FROM actions WHERE at < ? AND published = 1 AND alert_id NOT IN"
                               " (SELECT alert_id FROM alerts)", (cutoff,))
            return removed

    def get(self, alert_id: str) -> StoredAlert | None:
        rows = self._select(f"SELECT {_ALERT_COLUMNS} FROM alerts a WHERE a.alert_id = ?", (alert_id,))
        return rows[0] if rows else None

    def query(self, flt: AlertFilter = AlertFilter(), limit: int = 200, view: str = "all") -> list[StoredAlert]:
        """Newest first (by ``alerted_at``, then arrival), matching ``flt`` and the status ``view``
        (one of ``VIEWS``)."""
        where, params = ["a.severity_rank >= ?"], [flt.min_rank]
        if view not in VIEWS:
            raise ValueError(f"status: must be one of {', '.join(VIEWS)}")
        now = _now()
        if view in ("open", "acknowledged"):
            where.append("a.status = ? AND (a.snoozed_until IS NULL OR a.snoozed_until <= ?)")
            params += [view, now]
        elif view == "active":
            where.append("a.status != 'resolved' AND (a.snoozed_until IS NULL OR a.snoozed_until <= ?)")
            params.append(now)
        elif view == "snoozed":
            where.append("a.status != 'resolved' AND a.snoozed_until > ?")
            params.append(now)
        elif view == "resolved":
            where.append("a.status = 'resolved'")
        if flt.sources:
            where.append(f"a.source_key IN ({','.join('?' * len(flt.sources))})")
            params += sorted(flt.sources)
        for kind, values in (("theme", flt.themes), ("entity", flt.entities)):
            if values:
                where.append(f"EXISTS (SELECT 1 FROM alert_tags t WHERE t.seq = a.seq AND t.kind = ?"
                             f" AND t.value IN ({','.join('?' * len(values))}))")
                params += [kind, *sorted(values)]
        sql = (f"SELECT {_ALERT_COLUMNS} FROM alerts a WHERE {' AND '.join(where)}"
               " ORDER BY a.alerted_at DESC, a.seq DESC LIMIT ?")
        return self._select(sql, (*params, limit))

    def after(self, seq: int, limit: int = 1000) -> list[StoredAlert]:
        """Alerts stored after ``seq``, in arrival order: what an SSE client missed."""
        return self._select(f"SELECT {_ALERT_COLUMNS} FROM alerts a WHERE a.seq > ? ORDER BY a.seq LIMIT ?",
                            (seq, limit))

    def last_seq(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM alerts").fetchone()[0]

    def acknowledge(self, alert_id: str, by: str | None = None) -> StoredAlert | None:
        """Mark acknowledged (the first acknowledgement stands); None for an unknown id."""
        if self.get(alert_id) is None:
            return None
        self.apply([new_action(alert_id, "ack", by=by)])
        return self.get(alert_id)

    def record_feedback(self, alert_id: str, verdict: str, by: str | None = None) -> Feedback | None:
        """Record (or replace) the desk's verdict on an alert; None for an unknown id."""
        if self.get(alert_id) is None:
            return None
        self.apply([new_action(alert_id, verdict, by=by)])
        return self.feedback_for(alert_id)

    # -- desk actions ---------------------------------------------------------------------------

    def apply(self, actions: Sequence[DeskAction], *, published: bool = False) -> list[StoredAlert]:
        """Record actions (idempotent by ``action_id``) and bring their alerts' state up to date;
        return the stored alerts whose state they changed. ``published`` says the actions came from
        the actions topic; the others wait in the outbox (``unpublished``) until sent."""
        touched: dict[str, None] = {}
        with self._lock, self._conn:
            for action in actions:
                if self._conn.execute("SELECT 1 FROM actions WHERE action_id = ?", (action.action_id,)).fetchone():
                    if published:  # our own action back from the topic: sent, whatever the outbox says
                        self._conn.execute("UPDATE actions SET published = 1 WHERE action_id = ?", (action.action_id,))
                    continue
                if not published:
                    action = self._after_latest(action)
                self._conn.execute(
                    "INSERT INTO actions (action_id, alert_id, at, body, published) VALUES (?, ?, ?, ?, ?)",
                    (action.action_id, action.alert_id, iso_utc(action.at), action.model_dump_json(), int(published)))
                touched[action.alert_id] = None
            changed = [alert_id for alert_id in touched if self._restate(alert_id)]
            rows = [self._conn.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts a WHERE a.alert_id = ?",
                                       (alert_id,)).fetchone() for alert_id in changed]
        return [_row(row) for row in rows if row is not None]

    def _after_latest(self, action: DeskAction) -> DeskAction:
        """An action taken here comes after every action already known for its alert, even when
        another desk's clock runs ahead: a reopen after a resolve must not replay before it."""
        row = self._conn.execute("SELECT MAX(at) FROM actions WHERE alert_id = ?", (action.alert_id,)).fetchone()
        if row[0] and row[0] >= iso_utc(action.at):
            latest = datetime.strptime(row[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
            return action.model_copy(update={"at": latest + timedelta(microseconds=1)})
        return action

    def _restate(self, alert_id: str) -> bool:
        """Replay an alert's actions into its columns (inside the caller's transaction)."""
        state = Lifecycle.replay(self._actions(alert_id))
        cursor = self._conn.execute(
            "UPDATE alerts SET status = ?, acked_at = ?, acked_by = ?, assignee = ?, snoozed_until = ?,"
            " resolved_at = ?, resolved_by = ?, notes = ? WHERE alert_id = ?", (*state.columns(), alert_id))
        if state.verdict is not None:
            v = state.verdict
            self._conn.execute("INSERT OR REPLACE INTO feedback (alert_id, verdict, at, by) VALUES (?, ?, ?, ?)",
                               (alert_id, v.action, iso_utc(v.at), v.by))
        return cursor.rowcount > 0

    def _actions(self, alert_id: str) -> list[DeskAction]:
        rows = self._conn.execute("SELECT body FROM actions WHERE alert_id = ? ORDER BY at, action_id", (alert_id,))
        return [DeskAction.model_validate_json(body) for (body,) in rows]

    def trail(self, alert_id: str) -> list[DeskAction]:
        """Every action taken on an alert, oldest first: its audit trail."""
        with self._lock:
            return self._actions(alert_id)

    def unpublished(self, limit: int = 500) -> list[DeskAction]:
        """Actions taken here and not yet on the actions topic, oldest first (the outbox)."""
        with self._lock:
            rows = self._conn.execute("SELECT body FROM actions WHERE published = 0 ORDER BY at, action_id LIMIT ?",
                                      (limit,)).fetchall()
        return [DeskAction.model_validate_json(body) for (body,) in rows]

    def mark_published(self, action_ids: Iterable[str]) -> None:
        with self._lock, self._conn:
            self._conn.executemany("UPDATE actions SET published = 1 WHERE action_id = ?",
                                   [(action_id,) for action_id in action_ids])

    def feedback_for(self, alert_id: str) -> Feedback | None:
        with self._lock:
            row = self._conn.execute("SELECT alert_id, verdict, at, by FROM feedback WHERE alert_id = ?",
                                     (alert_id,)).fetchone()
        return Feedback(*row) if row else None

    def feedback(self) -> list[tuple[StoredAlert, Feedback]]:
        """Every verdict with its alert, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_ALERT_COLUMNS}, f.alert_id, f.verdict, f.at, f.by FROM feedback f "
                "JOIN alerts a ON a.alert_id = f.alert_id ORDER BY f.at").fetchall()
        return [(_row(row[:_NCOLS]), Feedback(*row[_NCOLS:])) for row in rows]

    def _select(self, sql: str, params: Sequence) -> list[StoredAlert]:
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [_row(row) for row in rows]

    # -- webhook delivery log ------------------------------------------------------------------

    def pending(self, endpoint: str, limit: int = 1000) -> list[tuple[StoredAlert, int]]:
        """Alerts still owed to ``endpoint`` with the attempts made so far, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_ALERT_COLUMNS}, d.attempts FROM deliveries d JOIN alerts a ON a.alert_id = d.alert_id"
                " WHERE d.endpoint = ? AND d.state = 'pending' ORDER BY a.seq LIMIT ?", (endpoint, limit)).fetchall()
        return [(_row(row[:_NCOLS]), row[_NCOLS]) for row in rows]

    def due(self, endpoint: str, limit: int = 100) -> list[tuple[StoredAlert, int]]:
        """Deliveries to ``endpoint`` whose next attempt is due, oldest first: a page of the outbox.
        One that failed waits for its own backoff without holding up the ones behind it."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_ALERT_COLUMNS}, d.attempts FROM deliveries d JOIN alerts a ON a.alert_id = d.alert_id"
                " WHERE d.endpoint = ? AND d.state = 'pending' AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?)"
                " ORDER BY a.seq LIMIT ?", (endpoint, _now(), limit)).fetchall()
        return [(_row(row[:_NCOLS]), row[_NCOLS]) for row in rows]

    def next_due(self, endpoint: str) -> datetime | None:
        """When the earliest pending delivery to ``endpoint`` that is waiting out a backoff is due."""
        with self._lock:
            row = self._conn.execute("SELECT MIN(next_attempt_at) FROM deliveries WHERE endpoint = ? AND"
                                     " state = 'pending' AND next_attempt_at IS NOT NULL", (endpoint,)).fetchone()
        return datetime.strptime(row[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc) if row[0] else None

    def record_attempt(self, alert_id: str, endpoint: str, *, delivered: bool, error: str | None = None,
                       give_up: bool = False, retry_after_secs: float = 0.0) -> Delivery:
        """Count one attempt; ``delivered`` closes the row, ``give_up`` marks it failed, otherwise
        the next attempt is due ``retry_after_secs`` from now."""
        state = "delivered" if delivered else ("failed" if give_up else "pending")
        now = _now()
        retry_at = (utcnow() + timedelta(seconds=retry_after_secs)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self._lock, self._conn:
            self._conn.execute(
                "UPDATE deliveries SET attempts = attempts + 1, state = ?, last_error = ?, last_attempt_at = ?,"
                " delivered_at = CASE WHEN ? THEN ? ELSE delivered_at END, next_attempt_at = ?"
                " WHERE alert_id = ? AND endpoint = ? AND state = 'pending'",
                (state, error, now, delivered, now, retry_at, alert_id, endpoint))
        found = self.delivery(alert_id, endpoint)
        if found is None:
            raise KeyError(f"no delivery of alert {alert_id} to webhook {endpoint}")
        return found

    def delivery(self, alert_id: str, endpoint: str) -> Delivery | None:
        rows = self.deliveries(alert_id, endpoint)
        return rows[0] if rows else None

    def deliveries(self, alert_id: str, endpoint: str | None = None) -> list[Delivery]:
        sql = ("SELECT alert_id, endpoint, state, attempts, last_error, last_attempt_at, delivered_at"
               " FROM deliveries WHERE alert_id = ?")
        params: tuple = (alert_id,)
        if endpoint is not None:
            sql, params = sql + " AND endpoint = ?", (alert_id, endpoint)
        with self._lock:
            return [Delivery(*row) for row in self._conn.execute(sql + " ORDER BY endpoint", params)]
