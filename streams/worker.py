"""Run the Faust worker for ``watchfloor worker``: the Faust app hosts the pipeline service."""

from __future__ import annotations

import gc

import faust

from core.settings import Settings
from streams.alerts.surge import attach_surge
from streams.app import create_app
from streams.pipeline import Pipeline

# Garbage collection: a worker allocates several short-lived objects per record (pydantic models,
# match lists, Kafka records) and keeps a large, stable heap (rule tables, the story index, the
# ledger). With CPython's default (700, 10, 10) the young generation is collected every 700
# allocations. Measured on drains of bench items (docs/benchmarks.md): collecting it every 50,000 and
# freezing what start-up built (it is never garbage) gave +10–25% items/s without story grouping and
# +5–10% with it; every 200,000 instead of 50,000 another +4–9% with grouping (where a batch's live
# records, storied items and index buckets were traversed by each of ~200 young collections of a
# 30,000-item drain) and no change without it.
GC_THRESHOLDS = (200_000, 20, 20)


def run_worker(settings: Settings) -> int:
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    (settings.data_dir / "faust").mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    pipeline = Pipeline(settings, loop=app.loop)
    if settings.story_grouping:
        attach_surge(app, settings, pipeline.metrics)  # mentions come from the alert stage on items.stories
    worker = faust.Worker(app, pipeline, loglevel=settings.log_level.lower(), quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()
    return 0
