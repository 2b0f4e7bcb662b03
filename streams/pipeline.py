"""The worker's pipeline service: producer, rule packs, alert ledger and the stages.

Without story grouping one stage does the work: classify, with the alerter chained in it
(``streams/classify.py``). With it: classify with the story assigner chained
(``streams/stories/assign.py``) → the alert stage on ``items.stories``.

Start order: producer → local rule pack → rules follower (caught up, so the newest published pack
is in use before the first item) → ledger follower (caught up, so no alert is raised twice) →
(with story grouping: the story book and story index followers) → the stages. Stop order is the reverse (mode stops
dependencies after dependants).
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from mode import Service
from prometheus_client import CollectorRegistry

from core.kafka import send_all, start_producer, topic_names, worker_group
from core.metrics import WorkerMetrics
from core.metrics_http import serve_metrics
from core.settings import Settings
from streams.alerts.ledger import AlertLedger
from streams.alerts.stage import Alerter, AlertStage
from streams.alerts.storybook import StoryBook
from streams.classify import ClassifyStage
from streams.follower import TopicFollower
from streams.rules import compile_pack, load_pack
from streams.rules.runtime import RulesHolder
from streams.stage import Handoff, deliver_until_acknowledged
from streams.stories.assign import INDEX_FETCH_WAIT_MS, StoryAssigner
from streams.stories.replica import StoryReplica

log = logging.getLogger(__name__)

CATCH_UP_TIMEOUT_SECS = 30.0


class Pipeline(Service):
    def __init__(self, settings: Settings, *, registry: CollectorRegistry | None = None, **kwargs):
        self.settings = settings
        self.registry = registry or CollectorRegistry()
        self.metrics = WorkerMetrics(self.registry)
        self.names = topic_names(settings)
        self.producer = None
        self.rules: RulesHolder | None = None
        self.ledger = AlertLedger(self.names["alert_ledger"], settings.alert_cooldown_secs, owner=uuid.uuid4().hex,
                                  max_ids=settings.alert_ledger_max_ids, max_windows=settings.alert_ledger_max_windows)
        self.story_book = StoryBook(self.names["story_book"], window_secs=settings.story_window_secs,
                                    milestones=settings.story_update_milestones,
                                    max_entries=settings.story_book_max_entries) if settings.story_grouping else None
        self.story_replica = StoryReplica(
            window_secs=settings.story_window_secs, min_similarity=settings.story_min_similarity,
            max_buckets=settings.story_index_max_buckets) if settings.story_grouping else None
        self.alerter: Alerter | None = None
        self.stories: StoryAssigner | None = None
        self._watch_state()
        self.metrics_port: int | None = None
        self._metrics_runner = None
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        if self.settings.worker_metrics_port >= 0:
            self._metrics_runner, self.metrics_port = await serve_metrics(
                self.registry, self.settings.web_host, self.settings.worker_metrics_port)
        self.producer = await start_producer(self.settings, linger_ms=2, max_batch_size=256 * 1024)
        pack = load_pack(self.settings.rules_path)
        self.rules = RulesHolder(await asyncio.get_running_loop().run_in_executor(None, compile_pack, pack),
                                 self.metrics)
        await self._follow(self.names["rules"], self.rules.apply_record)
        await self._follow(self.names["alert_ledger"], self.ledger.apply_record)
        if self.story_book is not None:
            await self._follow(self.names["story_book"], self.story_book.apply_record)
        common = dict(producer=self.producer, deadletter_topic=self.names["deadletter"], metrics=self.metrics,
                      loop=self.loop, beacon=self.beacon)
        self.alerter = Alerter(ledger=self.ledger, alerts_topic=self.names["alerts"], metrics=self.metrics,
                               story_book=self.story_book)
        if self.story_replica is None:
            steps, stages = (self.alerter,), []
        else:
            # The storied items this process's alert stage reads back (its partitions of items.stories); a
            # batch's worth is plenty: it reads them within a fetch or two.
            handoff = Handoff(max_entries=ClassifyStage.max_batch)
            self.stories = StoryAssigner(self.story_replica, index_topic=self.names["story_index"],
                                         stories_topic=self.names["items_stories"], writer=self.ledger.owner,
                                         handoff=handoff, metrics=self.metrics)
            self.stories.following = await self._follow(self.names["story_index"], self.stories.apply_record,
                                                        fetch_max_wait_ms=INDEX_FETCH_WAIT_MS)
            steps = (self.stories,)
            stages = [
                AlertStage(self.settings, alerter=self.alerter, source_topic=self.names["items_stories"],
                           handoff=handoff,
                           mentions_topic=self.names["mentions"] if self.settings.surge.enabled else None,
                           group_id=worker_group(self.settings, "alert"), **common),
            ]
            handoff.wanted = stages[0].reads
        stages.insert(0, ClassifyStage(self.settings, rules=self.rules, classified_topic=self.names["items_classified"],
                                       steps=steps, source_topic=self.names["items_raw"],
                                       group_id=worker_group(self.settings, "classify"), **common))
        # Joining a consumer group takes the broker's initial rebalance delay: join both at once.
        await asyncio.gather(*(self.add_runtime_dependency(stage) for stage in stages))
        log.info("Pipeline running with rule pack %s.", self.rules.current.version)

    def _watch_state(self) -> None:
        """The bounded states' sizes and caps as gauges, read at each scrape (docs/operations.md)."""
        ledger, book, replica = self.ledger, self.story_book, self.story_replica
        self.metrics.watch_state("alert_ledger_ids", lambda: len(ledger.alerted), ledger.max_ids)
        self.metrics.watch_state("cooldown_windows", lambda: len(ledger.windows), ledger.max_windows)
        if book is not None:
            self.metrics.watch_state("story_book_entries", lambda: len(book.entries), book.max_entries)
        if replica is not None:
            self.metrics.watch_state("story_index_buckets", lambda: len(replica.buckets), replica.max_buckets)

    @Service.timer(1.0)
    async def _flush_cooldowns(self) -> None:
        """Follow-ups of cooldown windows that ended (``AlertLedger.flush``), wherever the alerter runs."""
        if self.alerter is not None and self.producer is not None and (out := self.alerter.flush()):
            # The windows are closed in the ledger already: send until the broker takes them.
            await deliver_until_acknowledged(self, lambda: send_all(self.producer, out), "Cooldown follow-ups")

    async def _follow(self, topic: str, apply, **kwargs) -> TopicFollower:
        short = next((key for key, name in self.names.items() if name == topic), "other")
        follower = TopicFollower(self.settings, topic, apply, loop=self.loop, beacon=self.beacon,
                                 on_skip=lambda record, exc: self.metrics.state_records_skipped.labels(short).inc(),
                                 **kwargs)
        await self.add_runtime_dependency(follower)
        try:
            await asyncio.wait_for(follower.caught_up.wait(), CATCH_UP_TIMEOUT_SECS)
        except asyncio.TimeoutError:
            log.warning("Reading %s took over %.0fs; going on with what was read.", topic, CATCH_UP_TIMEOUT_SECS)
        return follower

    async def on_shutdown(self) -> None:
        # After the children (stages, followers) stopped: nothing produces any more.
        if self.producer is not None:
            await self.producer.stop()
            self.producer = None
        if self._metrics_runner is not None:
            await self._metrics_runner.cleanup()
            self._metrics_runner = None
