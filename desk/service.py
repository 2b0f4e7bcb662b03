"""The desk process: alert store, alerts consumer, webhook dispatcher and web server together."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from prometheus_client import CollectorRegistry

from core.metrics import DeskMetrics
from core.netpolicy import AddressPolicy
from core.settings import Settings
from desk.actions import ActionSync
from desk.auth import allowed_host_names
from desk.feed import AlertFeed
from desk.live import LiveHub
from desk.store import STORE_FILE, AlertStore
from desk.web import DeskState, PathOnlyAccessLogger, create_app
from desk.webhooks import WebhookDispatcher, WebhookTarget, load_webhooks
from schemas.base import utcnow

log = logging.getLogger(__name__)

PRUNE_INTERVAL_SECS = 3600.0


class Desk:
    """Lifecycle: ``start`` opens the store, resumes pending webhook deliveries, joins the alerts
    consumer group and binds the web server; ``stop`` closes them in reverse order. Safe to
    restart on the same data directory: nothing stored is shown or delivered twice.

    ``targets`` default to the webhooks file of the settings; ``consume=False`` serves the
    stored history without a broker.
    """

    def __init__(self, settings: Settings, *, targets: list[WebhookTarget] | None = None,
                 registry: CollectorRegistry | None = None, group_id: str | None = None,
                 store_path: Path | None = None, consume: bool = True):
        self.settings = settings
        self.targets = load_webhooks(settings.webhooks_path) if targets is None else targets
        self.registry = registry or CollectorRegistry()
        self.metrics = DeskMetrics(self.registry)
        self.store_path = store_path or Path(settings.data_dir) / STORE_FILE
        self.group_id, self.consume = group_id, consume
        self.store: AlertStore | None = None
        self.state: DeskState | None = None
        self.feed: AlertFeed | None = None
        self.actions: ActionSync | None = None
        self.dispatcher: WebhookDispatcher | None = None
        self._runner: web.AppRunner | None = None
        self._pruner: asyncio.Task | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://{self.settings.web_host}:{self.port}"

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        self.store = await asyncio.to_thread(AlertStore, self.store_path)
        hub = LiveHub()
        self.state = DeskState(self.store, hub, self.registry, self.metrics, token=self.settings.web_token,
                               allowed_hosts=allowed_host_names(self.settings.web_host, self.settings.web_allowed_hosts),
                               trusted_proxy=self.settings.web_trusted_proxy)
        self.dispatcher = WebhookDispatcher(self.store, self.targets, self.metrics,
                                            policy=AddressPolicy(self.settings.fetch_allowed_networks))
        await self.dispatcher.start()
        # The page and the history are up before the consumer group is joined (a join can take
        # seconds); /healthz says "consuming" once alerts flow.
        self._runner = web.AppRunner(create_app(self.state), access_log_class=PathOnlyAccessLogger,
                                     shutdown_timeout=5.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.web_host, self.settings.web_port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.state.name = f"{self.settings.desk_name}@{self.settings.web_host}:{self.port}"
        if self.consume:
            self.actions = ActionSync(self.settings, self.store, hub, self.metrics)
            await self.actions.start()
            self.state.share_actions = self.actions.notify
            self.feed = AlertFeed(self.settings, self.store, hub, self.dispatcher, self.metrics, self.group_id)
            await self.feed.start()
            self.state.feed_running = lambda: self.feed is not None and self.feed.running
            self.state.consuming = True
        if self.settings.desk_retention_days > 0:
            self._pruner = asyncio.create_task(self._prune_forever(), name="desk-retention")
        log.info("Alert desk at %s (store %s, %d webhooks%s).", self.url, self.store_path, len(self.targets),
                 ", token required" if self.settings.web_token else "")

    async def _prune_forever(self) -> None:
        while True:
            cutoff = utcnow() - timedelta(days=self.settings.desk_retention_days)
            try:
                removed = await asyncio.to_thread(self.store.prune, cutoff)
                if removed:
                    log.info("Forgot %d alerts older than %g days.", removed, self.settings.desk_retention_days)
            except Exception as exc:  # a busy or full disk: try again at the next round
                log.warning("Could not prune the alert store: %s: %s.", type(exc).__name__, exc)
            await asyncio.sleep(PRUNE_INTERVAL_SECS)

    async def stop(self) -> None:
        if self._pruner is not None:
            self._pruner.cancel()
            await asyncio.gather(self._pruner, return_exceptions=True)
            self._pruner = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.feed is not None:
            self.state.consuming = False
            await self.feed.stop()
            self.feed = None
        if self.actions is not None:
            await self.actions.stop()
            self.actions = None
        if self.dispatcher is not None:
            await self.dispatcher.stop()
            self.dispatcher = None
        if self.store is not None:
            self.store.close()
            self.store = None

    async def __aenter__(self) -> Desk:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

