"""Politeness per host, shared by every source an adapter polls on that host.

``HostRateLimiter`` spaces request starts: t.me serves every channel from one host and answers bursts
with 429, and a news site serves many feeds from one host. A 429's Retry-After pushes the host's next
slot back for every source on it. A poll that would have to wait longer than ``max_wait_secs`` is not
parked on the loop's concurrency slot: it gets ``RetryLater`` and the loop reschedules that source.

``HostGate`` adds a cap on the requests in flight to one host, on top of the spacing (RSS: two by
default, overridable per host).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

from connectors.errors import RetryLater


class HostRateLimiter:
    """``await acquire(host, name)`` returns when a request to ``host`` may start.

    Consecutive requests to one host start at least ``min_interval_secs`` plus a uniform jitter in
    ``[0, jitter_secs)`` apart; ``defer(host, secs)`` (after a 429) moves the next slot later.
    Clock, sleep and random source are injectable so the spacing can be checked without waiting.
    """

    def __init__(self, min_interval_secs: float, jitter_secs: float, max_wait_secs: float, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 rng: Callable[[], float] = random.random):
        self.min_interval_secs = min_interval_secs
        self.jitter_secs = jitter_secs
        self.max_wait_secs = max_wait_secs
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self._next: dict[str, float] = {}

    async def acquire(self, host: str, name: str) -> None:
        now = self._clock()
        start = max(now, self._next.get(host, now))
        wait = start - now
        if wait > self.max_wait_secs:
            raise RetryLater(f"{name}: host {host} is rate limited for another {wait:.0f}s", wait)
        # Reserve the slot before sleeping, so concurrent callers queue behind each other.
        self._next[host] = start + self.min_interval_secs + self._rng() * self.jitter_secs
        if wait > 0:
            await self._sleep(wait)

    def defer(self, host: str, secs: float) -> None:
        """The host asked us to wait ``secs`` (Retry-After): nobody gets a slot before then."""
        until = self._clock() + secs
        self._next[host] = max(self._next.get(host, until), until)


class HostGate:
    """``async with gate.slot(host, name):`` one request to ``host``: at most ``max_in_flight`` at a
    time per host (``limits`` overrides it per host name), their starts spaced by ``limiter``. A poll
    waits at most the limiter's ``max_wait_secs`` for a free slot, then gets ``RetryLater``: a slow
    host must not hold the polling loop's own slots, which every other host needs."""

    def __init__(self, max_in_flight: int, limiter: HostRateLimiter, limits: Mapping[str, int] | None = None):
        self.max_in_flight = max_in_flight
        self.limiter = limiter
        self.limits = dict(limits or {})
        self._slots: dict[str, asyncio.Semaphore] = {}

    def limit(self, host: str) -> int:
        return self.limits.get(host, self.max_in_flight)

    @asynccontextmanager
    async def slot(self, host: str, name: str) -> AsyncIterator[None]:
        semaphore = self._slots.get(host)
        if semaphore is None:
            semaphore = self._slots[host] = asyncio.Semaphore(self.limit(host))
        try:
            await asyncio.wait_for(semaphore.acquire(), self.limiter.max_wait_secs)
        except TimeoutError:
            raise RetryLater(f"{name}: host {host} has {self.limit(host)} requests in flight for over "
                             f"{self.limiter.max_wait_secs:.0f}s", self.limiter.max_wait_secs) from None
        try:
            await self.limiter.acquire(host, name)
            yield
        finally:
            semaphore.release()
