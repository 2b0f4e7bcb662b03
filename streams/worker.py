"""Run the Faust worker for ``watchfloor worker``: the Faust app hosts the pipeline service."""

from __future__ import annotations

import faust

from streams.app import create_app
from streams.pipeline import Pipeline
from streams.surge import attach_surge
from watchfloor.settings import Settings


def run_worker(settings: Settings) -> int:
    (settings.data_dir / "faust").mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    pipeline = Pipeline(settings, loop=app.loop)
    if settings.story_grouping:
        attach_surge(app, settings, pipeline.metrics)  # mentions come from the story stages
    worker = faust.Worker(app, pipeline, loglevel=settings.log_level.lower(), quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()
    return 0
