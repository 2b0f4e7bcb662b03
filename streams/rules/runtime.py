"""Rule packs at run time: the pack in use, and its hot reload from the compacted rules topic.

A worker starts with the local pack (``settings.rules_path`` or the shipped default) and switches to
each pack that appears on ``watchfloor.rules.v1`` — the newest record wins — without a restart.
Compilation runs in a thread so the stages keep flowing; the swap is one attribute assignment, so a
batch is judged by one pack from start to end.
"""

from __future__ import annotations

import asyncio
import logging

from pydantic import ValidationError

from core.metrics import WorkerMetrics
from schemas import RulePack
from streams.rules.compile import compile_pack

log = logging.getLogger(__name__)


class RulesHolder:
    def __init__(self, compiled, metrics: WorkerMetrics | None = None):
        self.current = compiled
        self.metrics = metrics
        self._mark(compiled.version, "loaded")

    def _mark(self, version: str, outcome: str) -> None:
        if self.metrics is None:
            return
        self.metrics.rules_reloads.labels(outcome).inc()
        if outcome == "loaded":
            self.metrics.rules_info.clear()
            self.metrics.rules_info.labels(version).set(1)

    async def apply_record(self, record) -> None:
        """Compile and switch to the pack in a rules-topic record; keep the old pack on error."""
        if record.value is None:
            return
        try:
            pack = RulePack.model_validate_json(record.value)
            compiled = await asyncio.get_running_loop().run_in_executor(None, compile_pack, pack)
        except (ValidationError, ValueError) as exc:
            self._mark("", "invalid")
            log.error("Rule pack at %s[%d]@%d is invalid and was not loaded: %s",
                      record.topic, record.partition, record.offset, str(exc).splitlines()[0])
            return
        if compiled.version != self.current.version:
            log.info("Switched to rule pack %r version %s.", pack.name, compiled.version)
            self.current = compiled
            self._mark(compiled.version, "loaded")
