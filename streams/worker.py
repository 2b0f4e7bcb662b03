"""Run the Faust worker for ``watchfloor worker``."""

from __future__ import annotations

import faust

from streams.app import create_app
from watchfloor.settings import Settings


def run_worker(settings: Settings) -> int:
    (settings.data_dir / "faust").mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    worker = faust.Worker(app, loglevel=settings.log_level.lower(), quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()
    return 0
