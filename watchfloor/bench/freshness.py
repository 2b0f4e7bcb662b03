"""``watchfloor bench freshness``: how long an item waits between its publication and its emission to
Kafka, under the adaptive schedule beside a fixed 5-minute one, on simulated sources that publish the
way real ones do.

Sources (``PROFILES``): news wires (every few minutes by day, three times slower at night), regional
outlets (about hourly, in the daytime), official channels (bursts of a few posts a few times a day)
and dormant blogs (every few days). A child process serves their feeds on many loopback addresses,
one host per address and ``SOURCES_PER_HOST`` sources on each, answers a conditional GET with 304
until a feed changes, takes a few milliseconds per answer like a real server, and counts the
requests in flight to each host.

Time is simulated: the feeds publish on a clock that runs ``speed`` times faster than the wall clock,
and the real polling loop (RSS adapter, per-host gate, state store, acks=all producer on an embedded
broker) schedules on the same clock, its waits and the host spacing divided by the speed. Hours of
publishing take minutes. The price: a request's real duration counts ``speed`` times over in
simulated time (a 20 ms fetch at speed 60 adds 1.2 s to an item's delay), which makes the figures
slightly worse than they would be, never better.

One source in ``PUSH_EVERY`` advertises a WebSub hub that the feed server also runs: on the adaptive
schedule's hosts, its feed names the hub, the connector subscribes (``connectors/websub.py``, with its
callback on loopback), and the hub pushes each new item the moment it is published; those sources are
counted apart ("pushed"), and the rest are the polled sources. The fixed schedule's hosts name no hub.

Both schedules run at once against the same publications, on separate hosts, each with its own
sources, state and politeness. An item counts if it was published inside the measured window: after
a warm-up and no later than the adaptive maximum interval before the end, so every schedule had the
chance to find it; one never emitted counts with the time it had waited at the end.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from statistics import median

from prometheus_client import CollectorRegistry

from connectors.cadence import Hints, gaps_between, jittered, next_interval
from connectors.hosts import HostGate, HostRateLimiter
from connectors.http import make_session
from connectors.loop import PollingLoop
from connectors.rss.source import RssSource
from connectors.state import SourceStateStore
from connectors.websub import WebSubSubscriber
from core.kafka import create_topics, start_producer
from core.metrics import ConnectorMetrics
from core.netpolicy import AddressPolicy
from core.settings import PollingSettings, Settings, WebSubSettings, load_settings
from schemas import Item, Source, SourceState
from schemas.topics import TOPICS
from watchfloor.bench.stats import cpu_seconds, percentile
from watchfloor.broker import EmbeddedBroker, free_port

SOURCES_PER_HOST = 10
FEED_ITEMS = 20
FIXED_INTERVAL_SECS = 300.0
WARMUP_SECS = 600.0
HISTORY_SECS = 14 * 86400.0
DAY_STARTS, DAY_ENDS = 6, 22  # UTC hours of the simulated working day
SCHEDULES = ("adaptive", "fixed")
PUSH_EVERY = 10
"""Every tenth source advertises a hub (on the adaptive schedule's hosts)."""
BENCH_SECRET = "watchfloor-bench-websub-master-secret"
MAX_HOURS = 44


@dataclass(frozen=True)
class Profile:
    name: str
    share: float
    describe: str


PROFILES = (
    Profile("wire", 0.15, "every 2-8 min by day (exponential gaps), three times slower at night"),
    Profile("regional", 0.35, "about hourly (gaps of 48-72 min), 06-22 UTC only"),
    Profile("official", 0.20, "bursts of 2-5 posts 1-3 min apart, every 3-8 h"),
    Profile("blog", 0.30, "dormant: one post every 3 days on average"),
)


def profile_of(n: int, sources: int) -> Profile:
    """Source ``n``'s profile: the shares laid out in order over the sources, interleaved by a stride
    so each host carries a mix."""
    position = (n * 7919) % sources / sources
    edge = 0.0
    for profile in PROFILES:
        edge += profile.share
        if position < edge:
            return profile
    return PROFILES[-1]


def _is_day(t: datetime) -> bool:
    return DAY_STARTS <= t.hour < DAY_ENDS


def publications(n: int, sources: int, seed: int, start: datetime, end: datetime) -> list[datetime]:
    """When source ``n`` publishes between ``start`` and ``end`` (deterministic from ``seed``)."""
    rng = random.Random(f"{seed}:{n}")
    profile = profile_of(n, sources).name
    pace = rng.uniform(0.5, 2.0)  # wires differ in how busy they are
    out: list[datetime] = []
    t = start + timedelta(seconds=rng.uniform(0, 3600))
    while t < end:
        if profile == "wire":
            mean = 240 * pace * (1 if _is_day(t) else 3)
            t += timedelta(seconds=rng.expovariate(1 / mean))
            out.append(t)
        elif profile == "regional":
            t += timedelta(seconds=rng.uniform(0.8, 1.2) * 3600)
            if not _is_day(t):  # nothing at night: the first item comes in the morning
                morning = t.replace(hour=DAY_STARTS, minute=0, second=0, microsecond=0)
                t = morning + timedelta(days=1 if t.hour >= DAY_ENDS else 0, seconds=rng.uniform(0, 1800))
            out.append(t)
        elif profile == "official":
            t += timedelta(hours=rng.uniform(3, 8))
            burst = t
            for _ in range(rng.randint(2, 5)):
                out.append(burst)
                burst += timedelta(seconds=rng.uniform(60, 180))
        else:
            t += timedelta(seconds=rng.expovariate(1 / (3 * 86400)))
            out.append(t)
    return [p.replace(microsecond=0) for p in out if p < end]


@dataclass(frozen=True)
class SimClock:
    """Simulated UTC time: ``start`` at wall-clock ``wall0``, running ``speed`` times faster."""

    start: datetime
    wall0: float
    speed: float

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.time() - self.wall0) * self.speed)

    def monotonic(self) -> float:
        return (time.time() - self.wall0) * self.speed

    async def sleep(self, secs: float) -> None:
        await asyncio.sleep(secs / self.speed)


def host_of(index: int) -> str:
    """The loopback address of simulated host ``index`` (127.0.0.0/8 reaches this machine whole)."""
    return f"127.{1 + index // 250}.{index % 250 + 1}.1"


@dataclass(frozen=True)
class Plan:
    """What both processes must agree on."""

    sources: int
    seed: int
    start: str
    wall0: float
    speed: float
    hours: float

    @property
    def clock(self) -> SimClock:
        return SimClock(datetime.fromisoformat(self.start), self.wall0, self.speed)

    @property
    def hosts_per_schedule(self) -> int:
        return max(1, -(-self.sources // SOURCES_PER_HOST))

    def url(self, schedule: str, n: int, port: int) -> str:
        offset = SCHEDULES.index(schedule) * self.hosts_per_schedule
        return f"http://{host_of(offset + n % self.hosts_per_schedule)}:{port}/f/{n}"


def has_hub(n: int) -> bool:
    return n % PUSH_EVERY == 0


def feed_times(plan: Plan, n: int) -> list[datetime]:
    """Every publication of source ``n``: its history (what its feed shows at the start) and the run."""
    start = datetime.fromisoformat(plan.start)
    return publications(n, plan.sources, plan.seed, start - timedelta(seconds=HISTORY_SECS),
                        start + timedelta(hours=plan.hours))


class TimedLoop(PollingLoop):
    """The polling loop, noting when each new item reached Kafka (simulated time)."""

    emitted: dict[tuple[str, str], datetime]
    """(source id, item URL) → when it was acknowledged by the broker."""
    requests: dict[str, int]
    """Polls per source id."""
    sim: SimClock

    async def poll_once(self, source: Source):
        self.requests[source.id] = self.requests.get(source.id, 0) + 1
        return await super().poll_once(source)

    async def _produce(self, items: list[Item]) -> None:
        await super()._produce(items)
        now = self.sim.now()
        for item in items:
            self.emitted.setdefault((item.source_id, item.url or ""), now)


def simulate_schedule(*, sources: int, hours: float, polling: PollingSettings, seed: int = 7,
                      fixed_secs: float | None = None) -> dict:
    """The schedule alone, without HTTP, Kafka or wall-clock time: each polled source (those without a
    hub) is polled at the times ``connectors.cadence`` picks from what its feed would show then, and
    each item published in the measured window waits until the first poll after it. Seconds for a
    day of 1,000 sources, so settings can be compared before a real run confirms the choice;
    ``fixed_secs`` simulates a fixed schedule instead."""
    start = datetime(2026, 11, 30, 4, tzinfo=timezone.utc)
    plan = Plan(sources=sources, seed=seed, start=start.isoformat(), wall0=0.0, speed=1.0, hours=hours)
    end = start + timedelta(hours=hours)
    first, last = measured_window(start, end, polling.adaptive_max_secs)
    rng = random.Random(seed)
    source = Source(id="sim", type="rss", url="https://feeds.example/", poll_interval_secs=fixed_secs)
    delays: list[float] = []
    requests = polled = 0
    for n in range(sources):
        if has_hub(n):
            continue
        polled += 1
        times = feed_times(plan, n)
        state = SourceState(source_id="sim")
        t, emitted = start, bisect.bisect_right(times, start)  # the first poll finds the history
        while t < end:
            requests += 1
            visible = bisect.bisect_right(times, t)
            delays += [(t - p).total_seconds() for p in times[emitted:visible] if first <= p < last]
            shown = times[max(0, visible - FEED_ITEMS):visible]
            gaps = gaps_between(shown)  # what the loop derives from the same feed
            age = (t - shown[-1]).total_seconds() if shown else None
            interval = next_interval(source, state, cadence=median(gaps) if gaps else None,
                                     new_items=visible - emitted, hints=Hints(), config=polling,
                                     gaps=gaps, age_secs=age)
            emitted = visible
            state = state.model_copy(update={"interval_secs": interval})
            t += timedelta(seconds=jittered(source, interval, Hints(), polling, rng.random))
    return {"delay_p50_secs": round(percentile(delays, 0.5), 1), "delay_p95_secs": round(percentile(delays, 0.95), 1),
            "requests_per_source_hour": round(requests / max(polled, 1) / hours, 2), "items": len(delays)}


async def _measure(settings: Settings, plan: Plan, port: int, say) -> dict:
    clock = plan.clock
    await create_topics(settings, [TOPICS["items_raw"], TOPICS["source_state"]])
    producer = await start_producer(settings)
    session = make_session(policy=AddressPolicy(["127.0.0.0/8"]), limit=512)
    rss, polling = settings.rss, settings.polling  # the operator's WATCHFLOOR_RSS_* and _POLLING_* apply
    loops: dict[str, TimedLoop] = {}
    registries: dict[str, CollectorRegistry] = {}
    try:
        store = SourceStateStore(settings, producer)
        await store.load()
        for schedule in SCHEDULES:
            interval = FIXED_INTERVAL_SECS if schedule == "fixed" else None
            listed = [Source(id=f"{schedule}-{n:05d}", type="rss", url=plan.url(schedule, n, port),
                             poll_interval_secs=interval) for n in range(plan.sources)]
            # Each schedule is its own deployment: its own politeness, spaced on the simulated clock.
            gate = HostGate(rss.host_max_in_flight,
                            HostRateLimiter(rss.host_min_interval_secs, rss.host_jitter_secs, rss.max_host_wait_secs,
                                            clock=clock.monotonic, sleep=clock.sleep))
            registries[schedule] = CollectorRegistry()
            loop = TimedLoop(sources=listed, adapters={"rss": RssSource(session, rss, gate=gate)}, producer=producer,
                             items_topic=TOPICS["items_raw"].name(settings.topic_prefix), store=store,
                             metrics=ConnectorMetrics(registries[schedule]), config=polling, max_concurrency=64,
                             clock=clock.now, time_scale=plan.speed)
            loop.emitted, loop.requests, loop.sim = {}, {}, clock
            loops[schedule] = loop
        cpu0, wall0 = cpu_seconds(), time.monotonic()
        runners = [asyncio.create_task(loop.run()) for loop in loops.values()]
        callback_port = free_port()
        websub = WebSubSubscriber(
            WebSubSettings(callback_url=f"http://127.0.0.1:{callback_port}/websub", port=callback_port,
                           secret=BENCH_SECRET),
            loops["adaptive"], session, loops["adaptive"].adapters["rss"], loops["adaptive"].metrics)
        await websub.start()
        end = datetime.fromisoformat(plan.start) + timedelta(hours=plan.hours)
        next_report = time.monotonic() + 30
        while clock.now() < end:
            await asyncio.sleep(min(1.0, max(0.01, (end - clock.now()).total_seconds() / plan.speed)))
            if time.monotonic() >= next_report:
                next_report += 30
                say(f"  simulated {clock.now():%H:%M} of {end:%H:%M}; emitted: "
                    + ", ".join(f"{s} {len(loop.emitted)}" for s, loop in loops.items()))
        wall, cpu = time.monotonic() - wall0, cpu_seconds() - cpu0
        figures_push = {"pushed_sources_subscribed": sum(websub.pushed(s.id) for s in loops["adaptive"].sources)}
        await websub.stop()
        for loop in loops.values():
            loop.stop()
        await asyncio.gather(*runners)
    finally:
        await session.close()
        await producer.stop()
    figures = _figures(plan, loops, registries, end, wall, cpu, polling)
    figures["host_limit"] = rss.host_max_in_flight
    figures.update(figures_push)
    return figures


def item_url(n: int, index: int) -> str:
    return f"https://feeds.example/{n}/{index}"


def measured_window(start: datetime, end: datetime, max_interval_secs: float) -> tuple[datetime, datetime]:
    """Items published in it count: after a warm-up, and early enough that the slowest adaptive
    interval would have found them before the end (both shortened for a short run)."""
    length = (end - start).total_seconds()
    warmup = min(WARMUP_SECS, 0.1 * length)
    tail = min(max_interval_secs, 0.25 * length)
    return start + timedelta(seconds=warmup), end - timedelta(seconds=tail)


def _figures(plan: Plan, loops: dict[str, TimedLoop], registries: dict[str, CollectorRegistry],
             end: datetime, wall: float, cpu: float, polling: PollingSettings) -> dict:
    start = datetime.fromisoformat(plan.start)
    first, last = measured_window(start, end, polling.adaptive_max_secs)
    published = {n: [(i, p) for i, p in enumerate(feed_times(plan, n)) if first <= p < last]
                 for n in range(plan.sources)}
    figures: dict = {"sources": plan.sources, "hours": plan.hours, "speed": plan.speed,
                     "measured_items": sum(len(v) for n, v in published.items() if not has_hub(n))}
    polled = [n for n in range(plan.sources) if not has_hub(n)]  # the same sources on both sides
    for schedule, loop in loops.items():
        delays: list[float] = []
        pushed: list[float] = []
        by_profile: dict[str, list[float]] = defaultdict(list)
        missed = 0
        for n, times in published.items():
            sid = f"{schedule}-{n:05d}"
            for i, p in times:
                at = loop.emitted.get((sid, item_url(n, i)))
                delay = (at - p).total_seconds() if at is not None else (end - p).total_seconds()
                if has_hub(n):
                    if schedule == "adaptive":
                        pushed.append(delay)
                    continue
                missed += at is None
                delays.append(delay)
                by_profile[profile_of(n, plan.sources).name].append(delay)
        requests = sum(loop.requests.get(f"{schedule}-{n:05d}", 0) for n in polled)
        figures[f"{schedule}_delay_p50_secs"] = round(percentile(delays, 0.5), 1)
        figures[f"{schedule}_delay_p95_secs"] = round(percentile(delays, 0.95), 1)
        figures[f"{schedule}_missed_items"] = missed
        figures[f"{schedule}_requests_per_source_hour"] = round(requests / max(len(polled), 1) / plan.hours, 2)
        for profile, values in by_profile.items():
            figures[f"{schedule}_{profile}_delay_p50_secs"] = round(percentile(values, 0.5), 1)
            figures[f"{schedule}_{profile}_delay_p95_secs"] = round(percentile(values, 0.95), 1)
        if schedule == "adaptive":
            figures["pushed_items"] = len(pushed)
            figures["pushed_delay_p50_secs"] = round(percentile(pushed, 0.5), 1)
            figures["pushed_delay_p95_secs"] = round(percentile(pushed, 0.95), 1)
            hub_requests = sum(loop.requests.get(f"adaptive-{n:05d}", 0) for n in range(plan.sources) if has_hub(n))
            figures["pushed_requests_per_source_hour"] = round(
                hub_requests / max(plan.sources - len(polled), 1) / plan.hours, 2)
    figures["cpu_cores"] = round(cpu / wall, 3)
    return figures


def run(*, sources: int, hours: float, speed: float, seed: int = 7, say=print) -> dict:
    now = datetime.now(timezone.utc)
    # The simulated day starts at 04:00 UTC two days ago, so the simulated clock never passes the
    # real one (a feed dated in the future would be read as a clock error) for up to MAX_HOURS.
    start = (now - timedelta(days=2)).replace(hour=4, minute=0, second=0, microsecond=0)
    if hours > MAX_HOURS:
        raise ValueError(f"--hours must be at most {MAX_HOURS}")
    with EmbeddedBroker("127.0.0.1", 0) as broker, tempfile.TemporaryDirectory() as tmp:
        plan_path, port_path = Path(tmp) / "plan.json", Path(tmp) / "port"
        server = None
        try:
            plan = Plan(sources=sources, seed=seed, start=start.isoformat(), wall0=0.0, speed=speed, hours=hours)
            plan_path.write_text(json.dumps(asdict(plan)))
            server = subprocess.Popen([sys.executable, "-m", "watchfloor.bench.freshness", "--serve", str(plan_path),
                                       str(port_path)], stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while not port_path.exists() or not port_path.read_text().strip():
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the feed server did not start")
                time.sleep(0.1)
            port = int(port_path.read_text())
            # The simulated clock starts now, in both processes.
            plan = replace(plan, wall0=time.time())
            (Path(tmp) / "clock.new").write_text(str(plan.wall0))
            (Path(tmp) / "clock.new").rename(Path(tmp) / "clock")  # whole, never half-written
            settings = load_settings().model_copy(update=dict(
                kafka_bootstrap=broker.bootstrap, data_dir=Path(tmp), kafka_idempotence="off",
                topic_prefix=f"fresh{os.getpid()}."))
            say(f"{sources} sources on {plan.hosts_per_schedule} hosts per schedule; {hours:g} simulated hours "
                f"at {speed:g}x ({hours * 3600 / speed / 60:.1f} min); profiles: "
                + "; ".join(f"{p.name} {p.share:.0%} ({p.describe})" for p in PROFILES))
            figures = asyncio.run(_measure(settings, plan, port, say))
            figures.update(_server_stats(port, plan))
            return figures
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=10)


def _server_stats(port: int, plan: Plan) -> dict:
    import urllib.request

    with urllib.request.urlopen(f"http://{host_of(0)}:{port}/stats", timeout=10) as answer:
        stats = json.loads(answer.read())
    return {"max_in_flight_per_host": max(stats["max_in_flight"].values(), default=0)}


def _serve(plan_path: Path, port_path: Path) -> None:
    """The feed server: /f/<n> on the hosts of both schedules, /stats on every host."""
    import hashlib
    import hmac
    import secrets

    import aiohttp
    from aiohttp import web

    plan = Plan(**json.loads(plan_path.read_text()))
    start = datetime.fromisoformat(plan.start)
    feeds = {n: feed_times(plan, n) for n in range(plan.sources)}
    in_flight: dict[str, int] = defaultdict(int)
    max_in_flight: dict[str, int] = defaultdict(int)
    clock: list[SimClock] = []
    rng = random.Random(plan.seed)

    clock_path = plan_path.parent / "clock"

    def sim_now() -> datetime:
        """The simulated time; its start until the benchmark started the clock (wrote ``clock``)."""
        if not clock:
            wall0 = clock_path.read_text().strip() if clock_path.exists() else ""
            if not wall0:
                return start
            clock.append(SimClock(start, float(wall0), plan.speed))
        return clock[0].now()

    hub_url = f"http://{host_of(0)}:{{port}}/hub"
    adaptive_hosts = {host_of(i) for i in range(plan.hosts_per_schedule)}
    subscribers: dict[int, tuple[str, str]] = {}  # source → (callback, secret)
    session: list = []

    def document(n: int, count: int, links: str = "") -> str:
        times = feeds[n]
        items = "".join(
            f"<item><guid>{item_url(n, i)}</guid><title>Story {i} of source {n}</title>"
            f"<link>{item_url(n, i)}</link><description>Report number {i}.</description>"
            f"<pubDate>{format_datetime(times[i], usegmt=True)}</pubDate></item>"
            for i in range(count - 1, max(-1, count - 1 - FEED_ITEMS), -1))
        return (f'<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
                f"<title>Source {n}</title><link>https://feeds.example/{n}</link>{links}{items}</channel></rss>")

    async def feed(request: web.Request) -> web.Response:
        host = request.transport.get_extra_info("sockname")[0]
        in_flight[host] += 1
        max_in_flight[host] = max(max_in_flight[host], in_flight[host])
        try:
            await asyncio.sleep(rng.uniform(0.002, 0.01))  # a server's think time
            n = int(request.match_info["n"])
            now = sim_now()
            times = feeds[n]
            count = next((i for i, t in enumerate(times) if t > now), len(times))
            etag = f'"{n}-{count}"'
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers={"ETag": etag})
            links = ""
            if has_hub(n) and host in adaptive_hosts:
                links = (f'<atom:link rel="hub" href="{hub_url.format(port=request.url.port)}"/>'
                         f'<atom:link rel="self" href="{request.url}"/>')
            body = document(n, count, links)
            return web.Response(text=body, content_type="application/rss+xml", headers={"ETag": etag})
        finally:
            in_flight[host] -= 1

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response({"max_in_flight": max_in_flight})

    async def hub(request: web.Request) -> web.Response:
        """A WebSub hub: (un)subscriptions are verified against the callback, then kept."""
        form = await request.post()
        n = int(str(form["hub.topic"]).rsplit("/", 1)[1])
        asyncio.get_running_loop().create_task(verify(n, str(form["hub.mode"]), str(form["hub.topic"]),
                                                      str(form["hub.callback"]), str(form.get("hub.secret", ""))))
        return web.Response(status=202)

    async def verify(n: int, mode: str, topic: str, callback: str, secret: str) -> None:
        challenge = secrets.token_hex(8)
        query = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge, "hub.lease_seconds": "86400"}
        async with session[0].get(callback, params=query) as answer:
            if answer.status == 200 and (await answer.text()) == challenge:
                if mode == "subscribe":
                    subscribers[n] = (callback, secret)
                else:
                    subscribers.pop(n, None)

    async def publish(n: int) -> None:
        """Push each of source ``n``'s items when it is published, to its subscriber if it has one."""
        times = feeds[n]
        for count in range(next((i for i, t in enumerate(times) if t > sim_now()), len(times)), len(times)):
            await asyncio.sleep(max(0.0, (times[count] - sim_now()).total_seconds() / plan.speed))
            if n in subscribers:
                callback, secret = subscribers[n]
                body = document(n, count + 1).encode()
                signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
                try:
                    async with session[0].post(callback, data=body, headers={
                            "Content-Type": "application/rss+xml", "X-Hub-Signature": f"sha256={signature}"}) as answer:
                        await answer.read()
                except aiohttp.ClientError:
                    pass  # the subscriber went away: a real hub would retry; the poll finds it

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/f/{n}", feed)
        app.router.add_get("/stats", stats)
        app.router.add_post("/hub", hub)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        first = web.TCPSite(runner, host_of(0), 0, backlog=1024)
        await first.start()
        port = runner.addresses[0][1]
        for index in range(1, plan.hosts_per_schedule * len(SCHEDULES)):
            await web.TCPSite(runner, host_of(index), port, backlog=1024).start()
        session.append(aiohttp.ClientSession())
        port_path.write_text(str(port))
        while not clock_path.exists():  # the pushes run on the simulated clock, which starts later
            await asyncio.sleep(0.05)
        await asyncio.gather(*(publish(n) for n in feeds if has_hub(n)))
        await asyncio.Event().wait()

    asyncio.run(main())


if __name__ == "__main__" and sys.argv[1:2] == ["--serve"]:
    _serve(Path(sys.argv[2]), Path(sys.argv[3]))
