"""``watchfloor bench soak``: one worker under a constant offered load for minutes, its memory sampled.

A fresh embedded broker and one ``watchfloor worker`` (default settings: story grouping on, the
shipped pack, cooldown 0 so every trigger raises an alert); fresh items (the bench corpus, numbered
on) are sent at ``rate`` items/s in 10 ms ticks. Every ``SAMPLE_SECS`` the worker's resident set
(``VmRSS`` of /proc) and the classified and alert counts seen so far are recorded. Memory growth is
judged from the first minute's end (caches and the interpreter are warm by then) to the end.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from core.kafka import create_topics, start_producer, topic_name
from watchfloor.bench.corpus import make_item
from watchfloor.bench.harness import WORKER_ARGV, Children, phase_settings
from watchfloor.bench.latency import Arrivals
from watchfloor.broker import EmbeddedBroker

SAMPLE_SECS = 10.0


@dataclass
class Sample:
    at_secs: float
    rss_mb: float
    sent: int
    classified: int
    alerts: int

TAIL_SECS = 20 * 60.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


async def _load(settings, rate: float, seconds: float, counter: list[int]) -> None:
    producer = await start_producer(settings)
    raw = topic_name(settings, "items_raw")
    rng = random.Random(5)
    try:
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < seconds:
            due = int(elapsed * rate) + 1
            while counter[0] < due:
                item = make_item(counter[0], rng, prefix="soak")
                await producer.send(raw, item.to_bytes(), key=item.item_id.encode())
                counter[0] += 1
            await asyncio.sleep(0.01)
        await producer.flush()
    finally:
        await producer.stop()


async def soak_on(bootstrap: str, workdir: Path, *, minutes: float, rate: float, say) -> dict:
    settings = phase_settings(bootstrap, workdir)
    await create_topics(settings)
    arrivals = Arrivals(settings)
    samples: list[Sample] = []
    sent = [0]
    with Children(settings, WORKER_ARGV) as children:
        follower = asyncio.create_task(arrivals.run())
        load = asyncio.create_task(_load(settings, rate, minutes * 60.0, sent))
        started = time.monotonic()
        try:
            while not load.done():
                await asyncio.wait({load}, timeout=SAMPLE_SECS)
                children.check_alive()
                sample = Sample(time.monotonic() - started, rss_mb(children.procs[0].pid), sent[0],
                                len(arrivals.classified), len(arrivals.alerts))
                samples.append(sample)
                say(f"{sample.at_secs:6.0f}s rss {sample.rss_mb:7.1f} MB sent {sample.sent} "
                    f"classified {sample.classified} alerts {sample.alerts}")
            load.result()
            deadline = time.monotonic() + 60.0
            while len(arrivals.classified) < sent[0] and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
        finally:
            follower.cancel()
            await asyncio.gather(follower, load, return_exceptions=True)
    return summarise(samples, sent[0], len(arrivals.classified), len(arrivals.alerts), rate, minutes)


def summarise(samples: list[Sample], sent: int, classified: int, alerts: int, rate: float, minutes: float) -> dict:
    warm = next((s for s in samples if s.at_secs >= 60.0), samples[0])
    last = samples[-1]
    half = next((s for s in samples if s.at_secs >= last.at_secs / 2), warm)
    span_min = max(1e-9, (last.at_secs - half.at_secs) / 60.0)
    # The plateau test: growth over the last 20 minutes (the whole run after its first minute if shorter).
    tail = next((s for s in samples if s.at_secs >= last.at_secs - TAIL_SECS), warm)
    tail = tail if tail.at_secs >= warm.at_secs else warm
    tail_min = max(1e-9, (last.at_secs - tail.at_secs) / 60.0)
    return {
        "minutes": minutes, "offered_items_per_s": rate, "sent": sent, "classified": classified, "alerts": alerts,
        "rss_start_mb": round(samples[0].rss_mb, 1), "rss_after_1min_mb": round(warm.rss_mb, 1),
        "rss_end_mb": round(last.rss_mb, 1), "rss_max_mb": round(max(s.rss_mb for s in samples), 1),
        "rss_growth_after_1min_mb": round(last.rss_mb - warm.rss_mb, 1),
        "rss_slope_second_half_mb_per_min": round((last.rss_mb - half.rss_mb) / span_min, 2),
        "rss_slope_last_20min_mb_per_min": round((last.rss_mb - tail.rss_mb) / tail_min, 2),
    }


def soak(*, minutes: float = 10.0, rate: float = 200.0, say=print) -> dict:
    with tempfile.TemporaryDirectory(prefix="watchfloor-soak-") as tmp, EmbeddedBroker("127.0.0.1", 0) as broker:
        return asyncio.run(soak_on(broker.bootstrap, Path(tmp), minutes=minutes, rate=rate, say=say))
