"""The alert ledger: which alerts were raised, and the cooldown window of each trigger × entity.

Every worker holds the whole ledger in memory and follows the compacted ``alert-ledger`` topic, so
a revision of an item (same ``item_id``, same ``alert_id``) or a partition that moved to another
worker never raises an alert twice. Changes are produced with the alerts they account for, before
the stage commits its input offsets.

Cooldown: the first alert of a trigger about an entity goes out at once and opens a window of
``cooldown_secs``; alerts inside the window are folded (counted, not sent). When the window ends
with alerts folded, ``flush`` emits one follow-up alert that carries the count, and opens the next
window, so a flood becomes one alert plus a count per window.

Memory is bounded by count as well as by time: at most ``max_ids`` alert ids (oldest first out,
past the ``horizon_secs`` of 7 days) and ``max_windows`` cooldown windows (the longest-open first
out). Eviction trades exactness for a bound: an evicted id re-alerts only if its item comes back
(a revision, a replay) after ``max_ids`` newer alerts — days of traffic at the default; an evicted
window loses its folded count, and the next alert of its key opens a new window at once.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field

from pydantic_core import to_json

from schemas import Alert
from streams.alerts.build import alert_id_for
from streams.stage import Output


@dataclass
class Window:
    started: float
    first_alert_id: str
    folded: int = 0
    last_folded: str | None = None  # JSON of the newest folded alert, for the follow-up
    seq: int = 0
    owner: str = ""  # the worker that opened the window flushes it (others only if it went silent)


@dataclass
class Decision:
    emit: bool
    reason: str = ""  # "duplicate" or "cooldown" when not emitted


MAX_IDS = 200_000
MAX_WINDOWS = 10_000


@dataclass
class AlertLedger:
    """Decides whether an alert goes out (see the module). ``alerted`` and ``windows`` are kept in
    insertion order (oldest first) and never exceed ``max_ids`` / ``max_windows``; evictions are
    tombstoned on the ledger topic, so a restart replays a bounded ledger too."""

    topic: str
    cooldown_secs: float
    owner: str = ""
    horizon_secs: float = 7 * 86400
    max_ids: int = MAX_IDS
    max_windows: int = MAX_WINDOWS
    alerted: dict[str, float] = field(default_factory=dict)
    windows: dict[str, Window] = field(default_factory=dict)

    # -- decisions (called by the alert stage) ---------------------------------------------------
    def decide(self, alert: Alert, key: str, now: float, out: list[Output]) -> Decision:
        if alert.alert_id in self.alerted:
            return Decision(False, "duplicate")
        self._remember(alert.alert_id, now, out)
        if self.cooldown_secs <= 0:
            return Decision(True)  # no cooldown: no window to fold into, none to keep
        window = self.windows.get(key)
        if window is not None and now - window.started < self.cooldown_secs:
            window.folded += 1
            window.seq += 1
            window.last_folded = alert.model_dump_json()
            self._save_window(key, window, out)
            return Decision(False, "cooldown")
        self._save_window(key, Window(started=now, first_alert_id=alert.alert_id,
                                      seq=(window.seq + 1) if window else 1, owner=self.owner), out)
        return Decision(True)

    def flush(self, now: float, out: list[Output]) -> list[Alert]:
        """Follow-up alerts for windows that ended with folded alerts; forget expired entries."""
        followups = []
        for key, window in list(self.windows.items()):
            if now - window.started < self.cooldown_secs:
                continue
            if window.owner != self.owner and now - window.started < 2 * self.cooldown_secs:
                continue  # its owner flushes it; we step in only when the owner went silent
            if window.folded and window.last_folded:
                last = Alert.model_validate_json(window.last_folded)
                followup = last.model_copy(update={
                    "alert_id": alert_id_for(last.trigger_id, f"folded:{window.first_alert_id}"),
                    "folded_count": window.folded,
                    "alerted_at": _utc(now),
                })
                self._remember(followup.alert_id, now, out)
                followups.append(followup)
                self._save_window(key, Window(started=now, first_alert_id=followup.alert_id,
                                              seq=window.seq + 1, owner=self.owner), out)
            elif now - window.started > self.horizon_secs:
                del self.windows[key]
                out.append(Output(self.topic, f"c:{key}".encode(), None))
        while self.alerted:  # oldest first, so a flush does not scan every id it keeps
            alert_id, at = next(iter(self.alerted.items()))
            if now - at <= self.horizon_secs:
                break  # an older id replayed out of order behind it waits for this one or the cap
            del self.alerted[alert_id]
            out.append(Output(self.topic, f"a:{alert_id}".encode(), None))
        return followups

    def remember(self, alert_id: str, now: float, out: list[Output]) -> None:
        """Record an alert raised outside ``decide`` (story updates), so it is never raised twice."""
        self._remember(alert_id, now, out)

    # -- persistence -----------------------------------------------------------------------------
    def _remember(self, alert_id: str, now: float, out: list[Output]) -> None:
        self.alerted[alert_id] = now
        out.append(Output(self.topic, f"a:{alert_id}".encode(), to_json({"at": now})))
        for evicted in self._evict(self.alerted, self.max_ids):
            out.append(Output(self.topic, f"a:{evicted}".encode(), None))

    def _save_window(self, key: str, window: Window, out: list[Output]) -> None:
        self.windows.pop(key, None)  # re-inserted last: the dict stays ordered by window start
        self.windows[key] = window
        out.append(Output(self.topic, f"c:{key}".encode(), to_json(asdict(window))))
        for evicted in self._evict(self.windows, self.max_windows):
            out.append(Output(self.topic, f"c:{evicted}".encode(), None))

    @staticmethod
    def _evict(entries: dict, limit: int) -> list[str]:
        """Drop the oldest entries past ``limit``; their keys, for tombstones."""
        evicted = []
        while len(entries) > limit:
            key = next(iter(entries))
            del entries[key]
            evicted.append(key)
        return evicted

    def apply_record(self, record) -> None:
        """Apply a ledger-topic record (ours or another worker's); newer windows win by ``seq``."""
        key = record.key.decode("utf-8")
        kind, _, name = key.partition(":")
        if kind == "a":
            if record.value is None:
                self.alerted.pop(name, None)
            else:
                self.alerted.setdefault(name, json.loads(record.value)["at"])
                self._evict(self.alerted, self.max_ids)
        elif kind == "c":
            if record.value is None:
                self.windows.pop(name, None)
                return
            incoming = Window(**json.loads(record.value))
            current = self.windows.get(name)
            if current is None or incoming.seq > current.seq:
                self.windows.pop(name, None)
                self.windows[name] = incoming
                self._evict(self.windows, self.max_windows)


def _utc(ts: float):
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, tz=timezone.utc)


def wall_clock() -> float:
    return time.time()
