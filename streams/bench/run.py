"""``watchfloor bench pipeline``: every figure in one run, on a fresh embedded broker, same messages.

Phases (each on its own topic prefix): (a) the limits — raw aiokafka produce (``send_batch``) and
consume rates, the rule engine alone in-process; (b) the peer, a plain per-message Faust agent doing
the same classification; (c) our worker (raw → classified → alerts, default rule pack); (d) the
end-to-end latency at a fixed offered load; then (c) again with two worker processes.
"""

from __future__ import annotations

import asyncio
import os
import platform
import tempfile
from pathlib import Path

from streams.bench.corpus import encode_items, make_items
from streams.bench.harness import PEER_ARGV, WORKER_ARGV, phase_settings
from streams.bench.latency import measure_latency
from streams.bench.throughput import measure_drain, measure_limits
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


async def run_all(bootstrap: str, workdir: Path, *, items: int, rate: float, latency_secs: float, say) -> dict:
    corpus = make_items(items)
    pairs = encode_items(corpus)
    say(f"{items} items, {sum(len(v) for _, v in pairs) / items:.0f} bytes each on average; {machine()}")
    limits = await measure_limits(phase_settings(bootstrap, workdir), corpus, pairs)
    say(f"(a) raw produce {limits.produce_items_per_s:,.0f}/s, raw consume {limits.consume_items_per_s:,.0f}/s, "
        f"rule engine alone {limits.classify_items_per_s:,.0f}/s")
    peer = await measure_drain(phase_settings(bootstrap, workdir), pairs, PEER_ARGV)
    say(f"(b) plain Faust agent: {peer:,.0f} items/s")
    ours = await measure_drain(phase_settings(bootstrap, workdir), pairs, WORKER_ARGV,
                               expected_alerts=limits.expected_alerts)
    say(f"(c) our pipeline, one worker: {ours:,.0f} items/s (raw → classified → {limits.expected_alerts} alerts)")
    flat = await measure_drain(phase_settings(bootstrap, workdir, story_grouping=False), pairs, WORKER_ARGV,
                               expected_alerts=limits.expected_alerts)
    say(f"(c') our pipeline without story grouping (classify → alerts): {flat:,.0f} items/s")
    latency = await measure_latency(phase_settings(bootstrap, workdir), rate=rate, seconds=latency_secs)
    say(f"(d) at {latency.offered_items_per_s:,.0f} items/s offered ({latency.achieved_items_per_s:,.0f} sent): "
        f"alert latency p50 {latency.p50 * 1000:.0f} ms, p99 {latency.p99 * 1000:.0f} ms, "
        f"max {latency.max * 1000:.0f} ms over {latency.alerts} alerts; classified p50 "
        f"{latency.classified_p50 * 1000:.0f} ms, p99 {latency.classified_p99 * 1000:.0f} ms")
    two = await measure_drain(phase_settings(bootstrap, workdir), pairs, WORKER_ARGV, processes=2,
                              expected_alerts=limits.expected_alerts)
    say(f"(c) our pipeline, two workers: {two:,.0f} items/s")
    limit = min(limits.produce_items_per_s, limits.consume_items_per_s, limits.classify_items_per_s)
    say(f"ratios: pipeline / peer = {ours / peer:.2f}, pipeline / min(limits) = {ours / limit:.2f}")
    return {
        "items": items,
        "raw_consume_items_per_s": round(limits.consume_items_per_s, 1),
        "raw_produce_items_per_s": round(limits.produce_items_per_s, 1),
        "classify_only_items_per_s": round(limits.classify_items_per_s, 1),
        "peer_items_per_s": round(peer, 1),
        "pipeline_items_per_s": round(ours, 1),
        "pipeline_two_workers_items_per_s": round(two, 1),
        "pipeline_no_stories_items_per_s": round(flat, 1),
        "ratio_no_stories_vs_peer": round(flat / peer, 3),
        "ratio_vs_peer": round(ours / peer, 3),
        "ratio_vs_limit": round(ours / limit, 3),
        "latency_offered_items_per_s": rate,
        "latency_p50_seconds": round(latency.p50, 4),
        "latency_p99_seconds": round(latency.p99, 4),
        "latency_max_seconds": round(latency.max, 4),
        "latency_classified_p50_seconds": round(latency.classified_p50, 4),
        "latency_classified_p99_seconds": round(latency.classified_p99, 4),
        "latency_alerts": latency.alerts,
        "machine": machine(),
    }


def run(*, items: int = 20000, rate: float = 1000.0, latency_secs: float = 10.0, say=print) -> dict:
    with tempfile.TemporaryDirectory(prefix="watchfloor-bench-") as tmp, EmbeddedBroker("127.0.0.1", 0) as broker:
        return asyncio.run(run_all(broker.bootstrap, Path(tmp), items=items, rate=rate,
                                   latency_secs=latency_secs, say=say))

