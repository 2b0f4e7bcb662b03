"""``core.retry.run_forever``: a failing step is logged, cleaned up and run again after a doubling
wait, which starts over after a healthy run; cancellation stops it at once."""

from __future__ import annotations

import asyncio
import logging

import pytest

from core.retry import run_forever
from tests.conftest import wait_until


async def test_a_failing_step_runs_again_after_doubling_waits_and_cleans_up_each_time(caplog):
    starts: list[float] = []
    cleaned: list[str] = []
    loop = asyncio.get_running_loop()

    async def step():
        starts.append(loop.time())
        if len(starts) <= 3:
            raise ConnectionError(f"broker away {len(starts)}")
        await asyncio.Event().wait()  # up: runs until cancelled

    async def on_error(exc):
        cleaned.append(str(exc))

    caplog.set_level(logging.WARNING)
    task = asyncio.create_task(run_forever(step, what="The test step", on_error=on_error,
                                           first_delay_secs=0.05, max_delay_secs=0.15))
    await wait_until(lambda: len(starts) == 4, 10, "the fourth start")
    waits = [b - a for a, b in zip(starts, starts[1:])]
    assert waits[0] >= 0.05 and waits[1] >= 0.1 and waits[2] >= 0.15  # doubled, then held at the cap
    assert cleaned == ["broker away 1", "broker away 2", "broker away 3"]
    lines = [r.getMessage() for r in caplog.records if "The test step" in r.getMessage()]
    assert lines[0] == "The test step failed (ConnectionError: broker away 1); again in 0s."
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(starts) == 4


async def test_the_wait_starts_over_after_a_healthy_run_and_a_step_that_returns_counts_as_failed():
    starts: list[float] = []
    loop = asyncio.get_running_loop()

    async def step():
        starts.append(loop.time())
        if len(starts) in (1, 2):
            raise ConnectionError("away")
        if len(starts) == 3:
            await asyncio.sleep(0.3)  # healthy for longer than healthy_after_secs, then fails again
            raise ConnectionError("away again")
        if len(starts) == 4:
            return  # returned: treated as a failure, waited on like one
        await asyncio.Event().wait()

    task = asyncio.create_task(run_forever(step, what="step", first_delay_secs=0.1, max_delay_secs=10.0,
                                           healthy_after_secs=0.2))
    await wait_until(lambda: len(starts) == 5, 10, "the fifth start")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    after_healthy = starts[3] - starts[2] - 0.3
    assert 0.1 <= after_healthy < 0.35  # back to the first wait, not the 0.4 s the doubling had reached
    assert starts[4] - starts[3] >= 0.2  # the return was waited on (doubled from 0.1)
