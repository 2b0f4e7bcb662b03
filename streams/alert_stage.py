"""The alert stage: classified items → alerts, once per alert id, with the cooldown folding floods."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from mode import Service

from schemas import Alert, ClassifiedItem
from streams.alerting import build_alert, cooldown_key
from streams.ledger import AlertLedger, wall_clock
from streams.stage import BatchStage, Output
from streams.storybook import StoryBook
from watchfloor.kafka import ce_type_for, cloudevent_headers

log = logging.getLogger(__name__)

CE_ALERT = ce_type_for(Alert)


class AlertStage(BatchStage):
    """Consumes ``items.classified``; produces ``alerts`` keyed by alert_id, plus ledger records."""

    flush_interval_secs = 1.0

    def __init__(self, settings, *, ledger: AlertLedger, alerts_topic: str, clock=wall_clock,
                 story_book: StoryBook | None = None, **kwargs):
        self.ledger = ledger
        self.story_book = story_book  # set when the input is items.stories (see streams/storybook.py)
        self.alerts_topic = alerts_topic
        self.clock = clock
        super().__init__(settings, **kwargs)

    def alert_output(self, alert: Alert) -> Output:
        theme = alert.themes[0].theme if alert.themes else "none"
        self.metrics.alerts.labels(alert.severity, theme).inc()
        now = alert.alerted_at
        self.metrics.latency_from_published.observe(max(0.0, (now - alert.published_at).total_seconds()))
        self.metrics.latency_from_fetched.observe(max(0.0, (now - alert.fetched_at).total_seconds()))
        log.info("Alert %s: %s (%s) on %s.", alert.alert_id, alert.trigger_id, alert.severity, alert.item_id)
        return Output(self.alerts_topic, alert.alert_id.encode(), alert.to_bytes(),
                      cloudevent_headers(CE_ALERT, event_id=alert.alert_id, time=now))

    def process(self, records: list) -> list[Output]:
        now = self.clock()
        stamp = datetime.fromtimestamp(now, tz=timezone.utc)
        out: list[Output] = []
        for record in records:
            classified = self.decode(record, ClassifiedItem)
            if isinstance(classified, Output):
                out.append(classified)
                continue
            story = self.story_book.observe(classified, now, out) if self.story_book else None
            for trigger in classified.triggers:
                alert = build_alert(classified, trigger, stamp)
                if story is not None:
                    alert = self.story_book.story_alert(alert, story[0])
                decision = self.ledger.decide(alert, cooldown_key(classified, trigger), now, out)
                if decision.emit:
                    out.append(self.alert_output(alert))
                else:
                    self.metrics.alerts_suppressed.labels(decision.reason).inc()
            if story is not None and story[1]:
                for update in self.story_book.updates(classified, story[0], stamp, self.ledger, now, out):
                    out.append(self.alert_output(update))
        return out

    @Service.timer(1.0)
    async def _flush_cooldowns(self) -> None:
        out: list[Output] = []
        for followup in self.ledger.flush(self.clock(), out):
            out.append(self.alert_output(followup))
        if out:
            await self.deliver(out)
