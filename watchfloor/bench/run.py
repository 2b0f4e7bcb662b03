"""``watchfloor bench pipeline``: every figure in one run, on a fresh embedded broker, same messages.

Phases (each on its own topic prefix): (a) the limits — raw aiokafka produce (``send_batch``) and
consume rates, the rule engine alone in-process; (b) the peer, a plain per-message Faust agent doing
the same classification; (c) our worker doing what the peer does plus alerting (raw → classified →
alerts, default rule pack, story grouping off); (cs) the same with story grouping on, the default
of ``watchfloor run`` (three more steps, two more hops); (c) and (cs) with two worker processes; (d) the
end-to-end latency of both at a fixed offered load. (b), (c), (cs) and the two-worker phases alternate for
``rounds`` rounds and each ratio is the median of its rounds, taken within a round: the machine's load drifts
between phases. The JSON's unprefixed figures are (c), the issue's definition; ``*_stories_*`` are (cs).
"""

from __future__ import annotations

import asyncio
import os
import platform
import tempfile
from dataclasses import fields
from pathlib import Path
from statistics import median

from core.kafka import worker_group
from watchfloor.bench.corpus import encode_items, make_items
from watchfloor.bench.harness import PEER_ARGV, WORKER_ARGV, phase_settings
from watchfloor.bench.latency import Latency, measure_latency
from watchfloor.bench.peer import peer_app_id
from watchfloor.bench.throughput import classify_only, measure_drain, measure_limits
from watchfloor.broker import EmbeddedBroker


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = "%.2f %.2f %.2f" % os.getloadavg()
    return (f"{model or platform.processor()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {load}")


async def run_all(bootstrap: str, workdir: Path, *, items: int, rate: float, latency_secs: float, rounds: int,
                  say) -> dict:
    # Two-worker drains take twice the items (below): the same ones first, then as many new ones.
    doubled = make_items(items * 2)
    corpus = doubled[:items]
    pairs = encode_items(corpus)
    say(f"{items} items, {sum(len(v) for _, v in pairs) / items:.0f} bytes each on average; {machine()}")
    limits = await measure_limits(phase_settings(bootstrap, workdir), corpus, pairs)
    say(f"(a) raw produce {limits.produce_items_per_s:,.0f}/s, raw consume {limits.consume_items_per_s:,.0f}/s, "
        f"rule engine alone {limits.classify_items_per_s:,.0f}/s")

    # Each of two workers drains as many items as one worker does alone: a drain rate rests on the few batches
    # (up to 4,000 records) each process completes, the first of which is counted without its time, and with
    # half the items each two workers read anywhere from 1.5 to 2.2 times one in a single run.
    more = doubled[items:]
    _, more_alerts = await asyncio.to_thread(classify_only, more)
    by_processes = {1: (pairs, limits.expected_alerts),
                    2: (pairs + encode_items(more), limits.expected_alerts + more_alerts)}

    async def drain(stories: bool, processes: int = 1) -> float:
        settings = phase_settings(bootstrap, workdir, story_grouping=stories)
        groups = [worker_group(settings, "classify")] + ([worker_group(settings, "alert")] if stories else [])
        drained, alerts = by_processes[processes]
        return await measure_drain(settings, drained, WORKER_ARGV, groups=groups, processes=processes,
                                   expected_alerts=alerts)

    # The drains alternate for ``rounds`` rounds: the machine is shared and its load drifts over minutes,
    # so each ratio is taken between neighbouring phases of one round, and the median of the rounds kept.
    # A round: the peer; one worker without and with grouping; two workers without and with it.
    peers, ours_all, storied_all, two_all, two_storied_all = [], [], [], [], []
    ratios, story_ratios, two_ratios, two_story_ratios = [], [], [], []
    for n in range(rounds):
        settings = phase_settings(bootstrap, workdir)
        peers.append(await measure_drain(settings, pairs, PEER_ARGV, groups=[peer_app_id(settings)]))
        say(f"(b) plain Faust agent, round {n + 1}: {peers[-1]:,.0f} items/s")
        ours_all.append(await drain(False))
        ratios.append(ours_all[-1] / peers[-1])
        say(f"(c) our pipeline, one worker, raw → classified → alerts, round {n + 1}: {ours_all[-1]:,.0f} items/s "
            f"({limits.expected_alerts} alerts); ratio {ratios[-1]:.2f}")
        storied_all.append(await drain(True))
        story_ratios.append(storied_all[-1] / peers[-1])
        say(f"(cs) with story grouping (the default of `watchfloor run`), raw → classified → stories → alerts, "
            f"round {n + 1}: {storied_all[-1]:,.0f} items/s; ratio {story_ratios[-1]:.2f}")
        two_all.append(await drain(False, processes=2))
        two_ratios.append(two_all[-1] / ours_all[-1])
        say(f"(c) two workers, {items * 2} items, round {n + 1}: {two_all[-1]:,.0f} items/s; "
            f"{two_ratios[-1]:.2f}× one")
        two_storied_all.append(await drain(True, processes=2))
        two_story_ratios.append(two_storied_all[-1] / storied_all[-1])
        say(f"(cs) two workers with story grouping, round {n + 1}: {two_storied_all[-1]:,.0f} items/s; "
            f"{two_story_ratios[-1]:.2f}× one")
    peer, ours, ratio = median(peers), median(ours_all), median(ratios)
    storied, two, two_storied = median(storied_all), median(two_all), median(two_storied_all)

    async def latency(stories: bool, n: int):
        figures = await measure_latency(phase_settings(bootstrap, workdir, story_grouping=stories), rate=rate,
                                        seconds=latency_secs)
        say(f"(d{'s' if stories else ''}) round {n + 1}, at {figures.offered_items_per_s:,.0f} items/s offered "
            f"({figures.achieved_items_per_s:,.0f} sent): alert latency p50 {figures.p50 * 1000:.0f} ms, "
            f"p99 {figures.p99 * 1000:.0f} ms, max {figures.max * 1000:.0f} ms over {figures.alerts} alerts; "
            f"classified p50 {figures.classified_p50 * 1000:.0f} ms, p99 {figures.classified_p99 * 1000:.0f} ms")
        return figures

    # Latency alternates too, with and without grouping, and each figure is the median of its rounds:
    # one 10-second phase's p99 rests on its slowest ~40 alerts, and moved by 100 ms from run to run.
    flat_rounds, story_rounds = [], []
    for n in range(rounds):
        flat_rounds.append(await latency(False, n))
        story_rounds.append(await latency(True, n))
    flat_latency, story_latency = median_latency(flat_rounds), median_latency(story_rounds)
    limit = min(limits.produce_items_per_s, limits.consume_items_per_s, limits.classify_items_per_s)
    say(f"ratios, medians of {rounds} rounds: pipeline / peer = {ratio:.2f} (with story grouping "
        f"{median(story_ratios):.2f}), pipeline / min(limits) = {ours / limit:.2f}, two workers / one = "
        f"{median(two_ratios):.2f} (with story grouping {median(two_story_ratios):.2f})")
    return {
        "items": items,
        "items_two_workers": items * 2,
        "raw_consume_items_per_s": round(limits.consume_items_per_s, 1),
        "raw_produce_items_per_s": round(limits.produce_items_per_s, 1),
        "classify_only_items_per_s": round(limits.classify_items_per_s, 1),
        "peer_items_per_s": round(peer, 1),
        "pipeline_items_per_s": round(ours, 1),
        "pipeline_two_workers_items_per_s": round(two, 1),
        "ratio_vs_peer": round(ratio, 3),
        "ratio_vs_peer_rounds": [round(r, 3) for r in ratios],
        "peer_rounds_items_per_s": [round(p, 1) for p in peers],
        "pipeline_rounds_items_per_s": [round(o, 1) for o in ours_all],
        "ratio_vs_limit": round(ours / limit, 3),
        "latency_offered_items_per_s": rate,
        "latency_p50_seconds": round(flat_latency.p50, 4),
        "latency_p99_seconds": round(flat_latency.p99, 4),
        "latency_max_seconds": round(flat_latency.max, 4),
        "latency_classified_p50_seconds": round(flat_latency.classified_p50, 4),
        "latency_classified_p99_seconds": round(flat_latency.classified_p99, 4),
        "latency_alerts": flat_latency.alerts,
        "latency_p99_rounds_seconds": [round(f.p99, 4) for f in flat_rounds],
        "two_workers_ratio": round(median(two_ratios), 3),
        "two_workers_ratio_rounds": [round(r, 3) for r in two_ratios],
        "pipeline_two_workers_rounds_items_per_s": [round(t, 1) for t in two_all],
        "pipeline_stories_items_per_s": round(storied, 1),
        "pipeline_stories_rounds_items_per_s": [round(t, 1) for t in storied_all],
        "pipeline_stories_two_workers_items_per_s": round(two_storied, 1),
        "pipeline_stories_two_workers_rounds_items_per_s": [round(t, 1) for t in two_storied_all],
        "ratio_stories_vs_peer": round(median(story_ratios), 3),
        "ratio_stories_vs_peer_rounds": [round(r, 3) for r in story_ratios],
        "stories_two_workers_ratio": round(median(two_story_ratios), 3),
        "stories_two_workers_ratio_rounds": [round(r, 3) for r in two_story_ratios],
        "latency_stories_p50_seconds": round(story_latency.p50, 4),
        "latency_stories_p99_seconds": round(story_latency.p99, 4),
        "latency_stories_max_seconds": round(story_latency.max, 4),
        "latency_stories_classified_p99_seconds": round(story_latency.classified_p99, 4),
        "latency_stories_alerts": story_latency.alerts,
        "latency_stories_p99_rounds_seconds": [round(f.p99, 4) for f in story_rounds],
        "machine": machine(),
    }


def median_latency(rounds: list[Latency]) -> Latency:
    """Each figure the median of its rounds (so p50 and p99 may come from different rounds)."""
    return Latency(**{f.name: median(getattr(r, f.name) for r in rounds) for f in fields(Latency)})


def run(*, items: int = 20000, rate: float = 1000.0, latency_secs: float = 10.0, rounds: int = 3,
        say=print) -> dict:
    with tempfile.TemporaryDirectory(prefix="watchfloor-bench-") as tmp, EmbeddedBroker("127.0.0.1", 0) as broker:
        return asyncio.run(run_all(broker.bootstrap, Path(tmp), items=items, rate=rate,
                                   latency_secs=latency_secs, rounds=rounds, say=say))

