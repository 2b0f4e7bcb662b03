"""Alerts: classified items → alerts, once per alert id, with the cooldown folding floods.

``Alerter`` is the logic, with no consumer of its own. Without story grouping it runs chained inside
the classify stage (``ClassifyStage.steps``): its input is keyed like the classify stage's (by
item_id), so a separate hop would only re-read and re-parse every classified record. With story
grouping ``AlertStage`` runs it on ``items.stories``, keyed by story_id, so one worker at a time
sees every item of a story (``streams/alerts/storybook.py``); there it also writes the surge detector's
mentions, because only then is the item's story known.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from core.kafka import ce_type_for, cloudevent_headers
from core.metrics import WorkerMetrics
from schemas import Alert, ClassifiedItem
from streams.alerts.build import build_alert, cooldown_key, cooldown_subject
from streams.alerts.ledger import AlertLedger, wall_clock
from streams.alerts.storybook import StoryBook
from streams.alerts.surge import mention_outputs
from streams.stage import BatchStage, Handoff, Output

log = logging.getLogger(__name__)

CE_ALERT = ce_type_for(Alert)


class Alerter:
    """Decides and builds the alerts of classified items; the outputs go to ``out`` (alerts, ledger
    and story-book records). ``flush`` raises the follow-ups of cooldown windows that ended."""

    name = "alert"

    def __init__(self, *, ledger: AlertLedger, alerts_topic: str, metrics: WorkerMetrics, clock=wall_clock,
                 story_book: StoryBook | None = None):
        self.ledger = ledger
        self.story_book = story_book  # set when the input is items.stories
        self.alerts_topic = alerts_topic
        self.metrics = metrics
        self.clock = clock
        self._counters: dict[tuple[str, str], object] = {}  # (severity, theme) → its alerts counter

    def alert_output(self, alert: Alert) -> Output:
        theme = alert.themes[0].theme if alert.themes else "none"
        counter = self._counters.get((alert.severity, theme))
        if counter is None:  # a labels() lookup per alert cost more than the increment
            counter = self._counters[(alert.severity, theme)] = self.metrics.alerts.labels(alert.severity, theme)
        counter.inc()
        now = alert.alerted_at
        self.metrics.latency_from_published.observe(max(0.0, (now - alert.published_at).total_seconds()))
        self.metrics.latency_from_fetched.observe(max(0.0, (now - alert.fetched_at).total_seconds()))
        # Debug, not info: at a breaking story this is thousands of lines a minute, and every alert is
        # on the alerts topic and the desk anyway.
        log.debug("Alert %s: %s (%s) on %s.", alert.alert_id, alert.trigger_id, alert.severity, alert.item_id)
        return Output(self.alerts_topic, alert.alert_id.encode(), alert.to_bytes(),
                      cloudevent_headers(CE_ALERT, event_id=alert.alert_id, time=now))

    def handle(self, classified: ClassifiedItem, value: bytes | None, out: list[Output]) -> None:
        if not classified.triggers and self.story_book is None:
            return
        now = self.clock()
        stamp = datetime.fromtimestamp(now, tz=timezone.utc)
        story = self.story_book.observe(classified, now, out) if self.story_book else None
        subject = cooldown_subject(classified) if classified.triggers else "-"  # once, for every trigger
        for trigger in classified.triggers:
            alert = build_alert(classified, trigger, stamp) if story is None \
                else self.story_book.story_alert(classified, trigger, story[0], stamp)
            decision = self.ledger.decide(alert, cooldown_key(trigger.id, subject), now, out)
            if decision.emit:
                out.append(self.alert_output(alert))
            else:
                self.metrics.alerts_suppressed.labels(decision.reason).inc()
        if story is not None and story[1]:
            for update in self.story_book.updates(classified, story[0], stamp, self.ledger, now, out):
                out.append(self.alert_output(update))

    def flush(self) -> list[Output]:
        out: list[Output] = []
        for followup in self.ledger.flush(self.clock(), out):
            out.append(self.alert_output(followup))
        return out


class AlertStage(BatchStage):
    """Consumes ``items.stories``; produces alerts keyed by alert_id, ledger and story-book records,
    and (with ``mentions_topic``) the surge detector's mentions of each storied item."""

    def __init__(self, settings, *, alerter: Alerter, mentions_topic: str | None = None,
                 handoff: Handoff | None = None, **kwargs):
        self.alerter = alerter
        self.handoff = handoff  # the storied items this process wrote (``StoryAssigner``): not decoded again
        self.mentions_topic = mentions_topic
        super().__init__(settings, **kwargs)
        self.window_secs = self.settings.surge.window_secs

    def process(self, records: list) -> list[Output]:
        out: list[Output] = []
        storied: list[ClassifiedItem] = []
        handoff = self.handoff
        for record in records:
            classified = (handoff.take(record.value) if handoff is not None else None) \
                or self.decode(record, ClassifiedItem)
            if isinstance(classified, Output):
                out.append(classified)
                continue
            self.alerter.handle(classified, record.value, out)
            storied.append(classified)
        out.extend(mention_outputs(self.mentions_topic, storied, self.window_secs))
        return out
