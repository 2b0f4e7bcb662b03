"""WebSub push for RSS/Atom sources: the subscriber side of the W3C WebSub recommendation.

When a feed advertises a hub (``connectors/rss/hubs.py``; the loop keeps it as ``SourceState.push_hub``),
this process subscribes to the feed at that hub with a callback it serves, and the hub POSTs new content
to the callback moments after the publisher announces it. Pushed content is parsed by the RSS adapter
and goes through ``PollingLoop.ingest``: the same dedupe, produce and state path as a poll, never at the
same time as a poll of that source.

Lifecycle: built with the ``websub`` settings, the running loop, the shared HTTP session (requests to
hubs obey the address policy) and the RSS adapter → ``start()`` once the loop runs: serves the callback
on ``WATCHFLOOR_WEBSUB_HOST:PORT`` and tends the subscriptions every ``tick_secs`` and whenever ``wake``
is called → ``stop()`` before the loop stops: unsubscribes best-effort, gives the hubs a few seconds to
verify that, stops serving.

Tending, for each source this process polls whose feed advertises a hub:

- subscribe: the topic is the feed's ``rel=self`` URL (else the polled URL), the callback is
  ``callback_url/<token>`` with a random token per subscription, and ``hub.secret`` is an HMAC of the
  master secret over the source id and that callback, so nothing secret is stored on a topic or logged;
- answer a verification of intent only for a subscription this process wants, with the same topic
  (404 otherwise), record the lease and renew it at 80 %;
- while a verified subscription's pushes arrive, the loop polls the source only at its slowest interval,
  as a safety net (``PollingLoop.pushed``). When the lease runs out, the hub refuses or denies, or no push
  came for 3 × the source's cadence (at least 3 × its shortest interval, at most a day), the source is
  polled normally again (``lapsed``), and the log says so;
- sources given up (another process took them over, removed, disabled, the hub changed) are
  unsubscribed best-effort; content pushed to a callback no longer known gets 410 Gone, which lets the
  hub drop it. A process taking a source over subscribes with its own callback.

The callback itself (``connectors/websub_callback.py``) checks every request before it reaches this
class: Host, Origin, content type, size, and the ``X-Hub-Signature`` of pushed content.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import aiohttp
from pydantic import SecretStr

from connectors.cadence import bounds, current_interval
from connectors.errors import BadInput
from connectors.loop import PollingLoop, PushNotTaken
from connectors.rss.source import RssSource, polled_url
from connectors.websub_callback import CallbackServer
from core.metrics import WEBSUB_STATES, ConnectorMetrics
from core.settings import PollingSettings, WebSubSettings
from schemas import Source, SourceState
from schemas.base import utcnow

log = logging.getLogger(__name__)

RENEW_AT = 0.8
"""Share of a lease after which it is renewed."""
VERIFY_TIMEOUT_SECS = 300.0
REQUEST_TIMEOUT_SECS = 20.0
RETRY_MIN_SECS, RETRY_MAX_SECS = 60.0, 6 * 3600.0
DENIED_RETRY_SECS = 6 * 3600.0
SILENT_CADENCES = 3
MAX_SILENCE_SECS = 24 * 3600.0
UNSUBSCRIBE_GRACE_SECS = 5.0
HUB_REQUESTS = 8
"""Subscribe and unsubscribe requests in flight at a time, over all hubs."""
TICK_SECS = 5.0
"""How often the subscriptions are tended besides ``wake``: how soon a newly found hub is subscribed."""


def subscription_secret(master: SecretStr, source_id: str, callback: str) -> str:
    """The ``hub.secret`` of one subscription: derived, never stored (64 hex characters, under the
    200 bytes the recommendation allows)."""
    message = f"watchfloor-websub\n{source_id}\n{callback}".encode()
    return hmac.new(master.get_secret_value().encode(), message, hashlib.sha256).hexdigest()


def silence_limit(source: Source, state: SourceState, config: PollingSettings) -> float:
    """Seconds without a push after which pushes count as stopped: 3 × the source's cadence, at least
    3 × its shortest interval, at most a day."""
    cadence = state.cadence_secs or current_interval(source, state, config)
    return min(max(SILENT_CADENCES * cadence, SILENT_CADENCES * bounds(source, config)[0]), MAX_SILENCE_SECS)


@dataclass(eq=False)
class Subscription:
    """One source's subscription at one hub, in this process's memory only."""

    source_id: str
    hub: str
    topic: str
    token: str
    callback: str
    secret: str = field(repr=False)
    state: str = "none"
    """none, pending (asked, not verified), active, denied, lapsed: as ``SourceState.push_state``."""
    lease_until: datetime | None = None
    verified_at: datetime | None = None
    heard_at: datetime | None = None
    """The last push, or when the subscription became active."""
    requested_at: datetime | None = None
    """A subscribe request awaiting its verification of intent."""
    next_request_at: datetime | None = None
    failures: int = 0
    busy: bool = False
    leaving_since: datetime | None = None
    poll_by: datetime | None = None
    dirty: bool = False
    writer: asyncio.Task | None = field(default=None, repr=False)


class WebSubSubscriber:
    """Subscribes the sources this process polls to the hubs their feeds advertise, and ingests what
    the hubs push (see the module docstring for the contract)."""

    def __init__(self, config: WebSubSettings, loop: PollingLoop, session: aiohttp.ClientSession,
                 parser: RssSource, metrics: ConnectorMetrics, *, tick_secs: float | None = None):
        if config.callback_url is None or config.secret is None:
            raise ValueError("WebSub needs WATCHFLOOR_WEBSUB_CALLBACK_URL and WATCHFLOOR_WEBSUB_SECRET")
        self.config = config
        self.loop = loop
        self.session = session
        self.parser = parser
        self.metrics = metrics
        self.tick_secs = tick_secs or TICK_SECS
        self.base = config.callback_url.rstrip("/")
        self.subs: dict[str, Subscription] = {}
        self._tokens: dict[str, Subscription] = {}
        """Every callback token answered: the wanted subscriptions and those being unsubscribed."""
        self.server = CallbackServer(config, self, metrics)
        self._wake = asyncio.Event()
        self._requests = asyncio.Semaphore(HUB_REQUESTS)
        self._tasks: set[asyncio.Task] = set()
        self._tender: asyncio.Task | None = None
        self.port: int | None = None

    def pushed(self, source_id: str) -> bool:
        sub = self.subs.get(source_id)
        return sub is not None and sub.state == "active"

    def wake(self) -> None:
        """Tend the subscriptions now (the sources or this process's share of them changed)."""
        self._wake.set()

    async def start(self) -> None:
        self.port = await self.server.start()
        self.loop.pushed = self.pushed
        self._tender = asyncio.create_task(self._tend_forever(), name="websub")
        log.info("WebSub on: callbacks under %s/, served on %s:%d.", self.base, self.config.host, self.port)

    async def stop(self) -> None:
        self.loop.pushed = lambda source_id: False
        if self._tender is not None:
            self._tender.cancel()
            await asyncio.gather(self._tender, return_exceptions=True)
        now = utcnow()
        for sub in list(self.subs.values()):
            self._give_up(sub, now)
        deadline = asyncio.get_running_loop().time() + UNSUBSCRIBE_GRACE_SECS
        while any(s.leaving_since for s in self._tokens.values()) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)  # the hubs verify the unsubscriptions against the callback still served
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.server.stop()
        self._count()

    async def _tend_forever(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.tend()
            except Exception as exc:  # a bug here must not stop the pushes already flowing
                log.error("WebSub: tending the subscriptions failed: %s: %s.", type(exc).__name__, exc, exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.tick_secs)

    async def tend(self) -> None:
        """One pass: give up the sources no longer wanted, then subscribe, renew or lapse the others."""
        now = utcnow()
        wanted = self._wanted()
        for source_id, sub in list(self.subs.items()):
            entry = wanted.get(source_id)
            if entry is None or entry[1].push_hub != sub.hub or _topic(*entry) != sub.topic:
                self._give_up(sub, now)
        for token, sub in list(self._tokens.items()):
            if sub.leaving_since and (now - sub.leaving_since).total_seconds() > VERIFY_TIMEOUT_SECS:
                del self._tokens[token]
        for source_id, (source, state) in wanted.items():
            sub = self.subs.get(source_id) or self._new(source, state, now)
            self._tend_one(sub, source, state, now)
        self._count()

    def _wanted(self) -> dict[str, tuple[Source, SourceState]]:
        wanted = {}
        for source in self.loop.sources:  # owned, not "polled now": a poller restarted by amend() stays wanted
            state = self.loop.store.get(source.id)
            if (source.type == "rss" and self.loop.owns(source.id) and state is not None and state.push_hub
                    and not state.disabled):
                wanted[source.id] = (source, state)
        return wanted

    def _new(self, source: Source, state: SourceState, now: datetime) -> Subscription:
        token = secrets.token_urlsafe(18)
        callback = f"{self.base}/{token}"
        sub = Subscription(source.id, state.push_hub, _topic(source, state), token, callback,
                           subscription_secret(self.config.secret, source.id, callback), next_request_at=now)
        self.subs[source.id] = self._tokens[token] = sub
        return sub

    def _tend_one(self, sub: Subscription, source: Source, state: SourceState, now: datetime) -> None:
        if sub.busy:
            return
        if sub.lease_until is not None and now >= sub.lease_until:
            sub.lease_until = None
            if sub.state == "active":
                log.warning("Source %s: the WebSub lease at %s ran out without a renewal; polling it at its normal "
                            "interval again.", source.id, _site(sub.hub))
            sub.state = "lapsed"
            self._record(sub, self._normal_poll(source, state, now))
        elif sub.state == "active" and (silent := (now - (sub.heard_at or now)).total_seconds()) > silence_limit(
                source, state, self.loop.config):
            log.info("Source %s: no push from %s for %.0fs (3 × its cadence); polling it at its normal interval "
                     "again.", source.id, _site(sub.hub), silent)
            sub.state = "lapsed"
            self._record(sub, self._normal_poll(source, state, now))
        if sub.requested_at is not None:
            if (now - sub.requested_at).total_seconds() < VERIFY_TIMEOUT_SECS:
                return
            self._retry_later(sub, now, f"no verification of intent within {VERIFY_TIMEOUT_SECS:.0f}s")
        if sub.next_request_at is None or now >= sub.next_request_at:
            sub.busy = True
            self._spawn(self._subscribe(sub, source, state))

    async def _subscribe(self, sub: Subscription, source: Source, state: SourceState) -> None:
        try:
            now = utcnow()
            sub.requested_at = now
            if sub.state != "active":  # a first subscription, a takeover, or after a lapse: polled normally meanwhile
                sub.state = "pending"
                self._record(sub, self._normal_poll(source, state, now))
            try:
                status, reason = await self._request(sub, "subscribe")
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, reason = 0, f"{type(exc).__name__}: {_first_line(str(exc))}".rstrip(": ")
            if sub.requested_at is None or 200 <= status < 300:
                return  # verified already, or accepted: the hub verifies next
            if 400 <= status < 500 and status != 429:
                self._deny(sub, f"HTTP {status} {reason}".rstrip())
            else:
                self._retry_later(sub, utcnow(), f"HTTP {status} {reason}".rstrip() if status else reason)
        finally:
            sub.busy = False

    async def _request(self, sub: Subscription, mode: str) -> tuple[int, str]:
        form = {"hub.mode": mode, "hub.topic": sub.topic, "hub.callback": sub.callback}
        if mode == "subscribe":
            form |= {"hub.lease_seconds": str(self.config.lease_secs), "hub.secret": sub.secret}
        async with self._requests:  # the deadline starts once it is this request's turn
            async with asyncio.timeout(REQUEST_TIMEOUT_SECS), \
                    self.session.post(sub.hub, data=form, max_redirects=3) as response:
                text = (await response.content.read(300)).decode("utf-8", "replace")
                return response.status, _first_line(text)

    def _retry_later(self, sub: Subscription, now: datetime, reason: str) -> None:
        sub.failures += 1
        sub.requested_at = None
        delay = min(RETRY_MIN_SECS * 2 ** min(sub.failures - 1, 20), RETRY_MAX_SECS)
        sub.next_request_at = now + timedelta(seconds=delay)
        log.warning("Source %s: subscribing at the WebSub hub %s failed (%s); polled as usual, trying again in "
                    "%.0fs.", sub.source_id, _site(sub.hub), reason, delay)
        if sub.state == "pending":
            sub.state = "lapsed" if sub.verified_at else "none"
            self._record(sub)

    def _deny(self, sub: Subscription, reason: str) -> None:
        now = utcnow()
        sub.state, sub.lease_until, sub.requested_at = "denied", None, None
        sub.next_request_at = now + timedelta(seconds=DENIED_RETRY_SECS)
        log.warning("Source %s: the WebSub hub %s refused the subscription (%s); polling it at its normal interval, "
                    "asking again in %.0fh.", sub.source_id, _site(sub.hub), reason, DENIED_RETRY_SECS / 3600)
        source, state = self._source(sub.source_id), self.loop.store.get(sub.source_id)
        self._record(sub, self._normal_poll(source, state, now) if source and state else None)

    def _give_up(self, sub: Subscription, now: datetime) -> None:
        """Stop wanting a subscription; unsubscribe it best-effort if the hub holds it."""
        if self.subs.get(sub.source_id) is sub:
            del self.subs[sub.source_id]
        if sub.lease_until is None or now >= sub.lease_until:
            self._tokens.pop(sub.token, None)  # a late verification of it now gets 404
            return
        sub.leaving_since = now
        self._spawn(self._unsubscribe(sub))

    async def _unsubscribe(self, sub: Subscription) -> None:
        try:
            status, _reason = await self._request(sub, "unsubscribe")
        except (aiohttp.ClientError, TimeoutError):
            status = 0
        if not 200 <= status < 300:  # the lease runs out on its own; a push meanwhile gets 410
            self._tokens.pop(sub.token, None)

    def _record(self, sub: Subscription, poll_by: datetime | None = None) -> None:
        """Write the subscription's state into the source's stored state, in the background, newest last
        (a poll may hold the source for a while)."""
        if poll_by is not None:
            sub.poll_by = min(sub.poll_by or poll_by, poll_by)
        sub.dirty = True
        if sub.writer is None or sub.writer.done():
            sub.writer = self._spawn(self._write(sub))

    async def _write(self, sub: Subscription) -> None:
        while sub.dirty and self.subs.get(sub.source_id) is sub:
            sub.dirty = False
            poll_by, sub.poll_by = sub.poll_by, None
            await self.loop.amend(sub.source_id, {"push_state": sub.state, "push_lease_until": sub.lease_until},
                                  poll_by=poll_by)

    def _normal_poll(self, source: Source, state: SourceState, now: datetime) -> datetime:
        """When the source is due on its own schedule: its interval after its last successful poll."""
        interval = timedelta(seconds=current_interval(source, state, self.loop.config))
        return max(now, (state.last_success_at or now) + interval)

    def _source(self, source_id: str) -> Source | None:
        return next((s for s in self.loop.sources if s.id == source_id), None)

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("WebSub: a background step failed: %s: %s.", type(exc).__name__, exc, exc_info=exc)

    def _count(self) -> None:
        for state in WEBSUB_STATES:
            self.metrics.websub_subscriptions.labels(state).set(sum(s.state == state for s in self.subs.values()))

    # What the callback server (``connectors.websub_callback``) asks.

    def by_token(self, token: str) -> Subscription | None:
        return self._tokens.get(token)

    def wants(self, sub: Subscription) -> bool:
        return sub.leaving_since is None and self.subs.get(sub.source_id) is sub

    def unsubscribed(self, sub: Subscription) -> None:
        self._tokens.pop(sub.token, None)

    def denied(self, sub: Subscription, reason: str) -> None:
        self._deny(sub, f"hub.reason: {_first_line(reason) or 'none given'}")

    def verified(self, sub: Subscription, lease: str) -> None:
        now = utcnow()
        granted = int(lease) if lease.isascii() and lease.isdigit() and len(lease) <= 9 else 0
        seconds = granted if granted > 0 else self.config.lease_secs
        sub.lease_until, sub.verified_at = now + timedelta(seconds=seconds), now
        sub.requested_at, sub.failures = None, 0
        sub.next_request_at = now + timedelta(seconds=seconds * RENEW_AT)
        if sub.state != "active":
            sub.state, sub.heard_at = "active", now
            log.info("Source %s: subscribed at the WebSub hub %s for %ds; polled only as a safety net while "
                     "pushes arrive.", sub.source_id, _site(sub.hub), seconds)
        self._record(sub)
        self._count()

    async def ingest(self, sub: Subscription, body: bytes, content_type: str) -> str:
        """Signed content pushed for ``sub``: parsed by the RSS adapter and ingested by the loop. Returns
        the outcome: accepted, invalid (not a feed), unknown (the source is not polled here now) or failed
        (Kafka did not take the items)."""
        source = self._source(sub.source_id)
        if source is None:
            return "unknown"
        try:
            # Parsed as if polled: relative links resolve, and guid-less item ids come out, as in a poll.
            state = self.loop.store.get(source.id) or SourceState(source_id=source.id)
            result = await self.parser.parse_bytes(source, body, url=polled_url(source, state),
                                                   headers={"Content-Type": content_type})
        except BadInput as exc:
            log.warning("Source %s: ignored pushed content: %s.", sub.source_id, exc)
            return "invalid"
        try:
            if await self.loop.ingest(sub.source_id, result) is None:
                return "unknown"
        except PushNotTaken as exc:  # answered 503: the hub delivers it again
            log.warning("Source %s: pushed content not taken (%s); the hub is asked to send it again.",
                        sub.source_id, exc)
            return "failed"
        sub.heard_at = utcnow()
        if sub.state == "lapsed" and sub.lease_until is not None:
            sub.state = "active"
            log.info("Source %s: pushes from %s are back; polled only as a safety net again.", sub.source_id,
                     _site(sub.hub))
            self._record(sub)
        return "accepted"


def _topic(source: Source, state: SourceState) -> str:
    return state.push_topic or polled_url(source, state)


def _site(url: str) -> str:
    """A hub's address fit for a log line: scheme, host and path (no query: it may carry a key)."""
    return urlsplit(url)._replace(query="", fragment="").geturl()


def _first_line(text: str) -> str:
    text = text.strip()
    return " ".join(text.splitlines()[0].split())[:200] if text else ""
