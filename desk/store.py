"""The alert store: SQLite in the data directory, keyed by ``alert_id``.

It holds the alert history the page and the Atom feed read, the acknowledgements, and the webhook
delivery log. A delivery row is written in the same transaction as its alert (an outbox), so an
alert stored before a crash is still delivered after the restart, and one delivered is never sent
again.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from desk.filters import AlertFilter, entity_tags, theme_tags
from desk.text import safe_link, snippet_spans
from schemas import Alert
from schemas.base import SEVERITY_ORDER, utcnow

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
"""

_ALERT_COLUMNS = "a.seq, a.body, a.received_at, a.acked_at, a.acked_by"


def _now() -> str:
    return utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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

    def to_json(self) -> dict:
        """The API and SSE shape; ``highlights`` are snippet ranges in characters (code points)."""
        return {"seq": self.seq, "received_at": self.received_at, "acked_at": self.acked_at,
                "acked_by": self.acked_by, "link": safe_link(self.alert.url),
                "highlights": snippet_spans(self.alert), "alert": self.alert.model_dump(mode="json")}


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


def _row(row: Sequence) -> StoredAlert:
    seq, body, received, acked_at, acked_by = row
    return StoredAlert(seq, Alert.model_validate_json(body), body, received, acked_at, acked_by)


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
        cursor = self._conn.execute(
            "INSERT OR IGNORE INTO alerts (alert_id, severity_rank, source_key, alerted_at, received_at, body)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (alert.alert_id, SEVERITY_ORDER[alert.severity], alert.source_id.casefold(),
             alert.model_dump(mode="json")["alerted_at"], received, body))
        if cursor.rowcount == 0:
            return None
        seq = cursor.lastrowid
        tags = [("theme", t) for t in theme_tags(alert)] + [("entity", e) for e in entity_tags(alert)]
        self._conn.executemany("INSERT OR IGNORE INTO alert_tags (kind, value, seq) VALUES (?, ?, ?)",
                               [(kind, value, seq) for kind, value in tags])
        self._conn.executemany(
            "INSERT OR IGNORE INTO deliveries (alert_id, endpoint, state) VALUES (?, ?, 'pending')",
            [(alert.alert_id, name) for name in endpoints])
        return StoredAlert(seq, alert, body, received)

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
            return self._conn.execute(f"DELETE FROM alerts WHERE {old}", (cutoff,)).rowcount

    def get(self, alert_id: str) -> StoredAlert | None:
        rows = self._select(f"SELECT {_ALERT_COLUMNS} FROM alerts a WHERE a.alert_id = ?", (alert_id,))
        return rows[0] if rows else None

    def query(self, flt: AlertFilter = AlertFilter(), limit: int = 200) -> list[StoredAlert]:
        """Newest first (by ``alerted_at``, then arrival), matching ``flt``."""
        where, params = ["a.severity_rank >= ?"], [flt.min_rank]
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
        with self._lock, self._conn:
            self._conn.execute("UPDATE alerts SET acked_at = ?, acked_by = ? WHERE alert_id = ? AND acked_at IS NULL",
                               (_now(), by, alert_id))
        return self.get(alert_id)

    def record_feedback(self, alert_id: str, verdict: str, by: str | None = None) -> Feedback | None:
        """Record (or replace) the desk's verdict on an alert; None for an unknown id."""
        with self._lock, self._conn:
            if self._conn.execute("SELECT 1 FROM alerts WHERE alert_id = ?", (alert_id,)).fetchone() is None:
                return None
            self._conn.execute("INSERT OR REPLACE INTO feedback (alert_id, verdict, at, by) VALUES (?, ?, ?, ?)",
                               (alert_id, verdict, _now(), by))
        return self.feedback_for(alert_id)

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
        return [(_row(row[:5]), Feedback(*row[5:])) for row in rows]

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
        return [(_row(row[:5]), row[5]) for row in rows]

    def due(self, endpoint: str, limit: int = 100) -> list[tuple[StoredAlert, int]]:
        """Deliveries to ``endpoint`` whose next attempt is due, oldest first: a page of the outbox.
        One that failed waits for its own backoff without holding up the ones behind it."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_ALERT_COLUMNS}, d.attempts FROM deliveries d JOIN alerts a ON a.alert_id = d.alert_id"
                " WHERE d.endpoint = ? AND d.state = 'pending' AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?)"
                " ORDER BY a.seq LIMIT ?", (endpoint, _now(), limit)).fetchall()
        return [(_row(row[:5]), row[5]) for row in rows]

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
