"""Two ``watchfloor connect`` processes on the real broker share the sources: each source is polled
by one of them; when one is killed with SIGKILL the other takes its sources over within a minute;
a source added on the sources topic is polled without a restart.

Who polled a source is read from the source-state topic: every poll writes the source's state with
the poller's host:pid (``SourceState.polled_by``)."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections import defaultdict

from core.kafka import make_consumer
from schemas import Source, SourceState
from tests.conftest import wait_until
from tests.faults.conftest import Feeds, process_env, serve_feeds, start, stop

SOURCES = 12
INTERVAL = 1.0


class StateLog:
    """Every source-state record as it arrives: (seen at, source id, poller)."""

    def __init__(self, settings, topic: str):
        self.consumer = make_consumer(settings, topic, group_id=None, fetch_max_wait_ms=200)
        self.records: list[tuple[float, str, str | None]] = []
        self._task: asyncio.Task | None = None

    async def __aenter__(self):
        await self.consumer.start()
        self._task = asyncio.create_task(self._follow())
        return self

    async def _follow(self):
        while True:
            for part in (await self.consumer.getmany(timeout_ms=500)).values():
                for r in part:
                    state = SourceState.from_bytes(r.value)
                    self.records.append((time.monotonic(), state.source_id, state.polled_by))

    async def __aexit__(self, *exc):
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.consumer.stop()

    def polls_each(self, since: float, source_ids) -> int:
        """The fewest polls any of ``source_ids`` had since ``since``."""
        counts = dict.fromkeys(source_ids, 0)
        for at, source_id, _ in self.records:
            if at >= since and source_id in counts:
                counts[source_id] += 1
        return min(counts.values())

    def pollers(self, since: float) -> dict[str, set[str]]:
        """Source id → the pollers that wrote its state since ``since``."""
        found: dict[str, set[str]] = defaultdict(set)
        for at, source_id, poller in self.records:
            if at >= since:
                found[source_id].add(poller)
        return found


def _poller(proc) -> str:
    return f"{socket.gethostname()}:{proc.pid}"


async def test_two_connectors_split_the_sources_and_the_survivor_takes_over_a_killed_ones(settings, topics, tmp_path):
    feeds = Feeds()
    names = [f"feed{n:02d}" for n in range(SOURCES)]
    for name in names:
        feeds.entries[name] = [(f"{name}-1", f"The first story of {name}.")]
    async with serve_feeds(feeds) as base, StateLog(settings, topics["source_state"]) as log:
        listing = tmp_path / "sources.yaml"
        listing.write_text("sources:\n" + "".join(
            f"  - {{id: {name}, type: rss, url: '{base}/{name}', poll_interval_secs: {INTERVAL}}}\n" for name in names))
        env = process_env(settings, WATCHFLOOR_SOURCES_PATH=str(listing), WATCHFLOOR_CONNECT_SESSION_TIMEOUT_MS="6000")
        a = start("connect", env, tmp_path / "connect-a.log")
        b = start("connect", env, tmp_path / "connect-b.log")
        try:
            both = {_poller(a), _poller(b)}

            async def one_poller_per_source(what: str, deadline_secs: float) -> dict[str, set[str]]:
                """Windows in which every source is polled twice, until one shows each source with a
                single poller and both processes polling: how fast polls come depends on the machine's
                load, so a window is counted in polls, not seconds."""
                deadline = time.monotonic() + deadline_secs
                while True:
                    since = time.monotonic()
                    await wait_until(lambda: log.polls_each(since, names) >= 2, deadline - time.monotonic(),
                                     f"every source polled twice ({what})")
                    found = log.pollers(since)
                    if all(len(p) == 1 for p in found.values()) and set().union(*found.values()) == both:
                        return found

            split = await one_poller_per_source("the two connectors to share the sources", 90)
            # ... and it stays so: in the next window, still the same single poller per source.
            window = time.monotonic()
            await wait_until(lambda: log.polls_each(window, names) >= 2, 60, "every source polled twice more")
            steady = log.pollers(window)
            assert len(steady) == SOURCES and all(len(p) == 1 for p in steady.values()), steady
            assert steady == split
            owned_by_a = {s for s, p in steady.items() if p == {_poller(a)}}
            assert 0 < len(owned_by_a) < SOURCES

            a.send_signal(signal.SIGKILL)
            a.wait(timeout=10)
            killed = time.monotonic()
            await wait_until(lambda: all(log.pollers(killed).get(s) == {_poller(b)} for s in names), 60,
                             "the survivor to poll the killed connector's sources")
            took_over = time.monotonic() - killed

            # A source added on the sources topic is polled without a restart.
            from connectors.sources import publish_source
            feeds.entries["late"] = [("late-1", "A source added while the connectors run.")]
            added = time.monotonic()
            await publish_source(settings, "late", Source(id="late", type="rss", url=f"{base}/late",
                                                          poll_interval_secs=INTERVAL))
            await wait_until(lambda: log.pollers(added).get("late") == {_poller(b)}, 30, "the added source")
        finally:
            # In threads: the stopping connectors finish their polls against this loop's feed server.
            await asyncio.to_thread(stop, a)
            assert await asyncio.to_thread(stop, b) == 0
    assert took_over < 60, took_over
