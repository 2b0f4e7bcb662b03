"""Keep one long-running task alive across broker outages: the restart-with-backoff loop that the desk's
alert feed, its action sync and the connector's sources follower share.

``run_forever(step, ...)`` awaits ``step()``, which runs until cancelled. When it raises, one log line
names what failed and the error, ``on_error`` cleans up (drop a consumer, count a restart), and
``step`` runs again after a wait that doubles from ``first_delay_secs`` to ``max_delay_secs``. The wait
starts over after a run that lasted ``healthy_after_secs``: an outage tomorrow is retried at once,
while a step that fails straight after each start is not retried in a tight loop. Cancellation
passes through at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import NoReturn

log = logging.getLogger(__name__)


async def run_forever(step: Callable[[], Awaitable[object]], *, what: str,
                      on_error: Callable[[Exception], Awaitable[None]] | None = None,
                      logger: logging.Logger = log, level: int = logging.WARNING,
                      first_delay_secs: float = 1.0, max_delay_secs: float = 30.0,
                      healthy_after_secs: float = 60.0) -> NoReturn:
    loop = asyncio.get_running_loop()
    delay = first_delay_secs
    while True:
        started = loop.time()
        try:
            await step()
            raise RuntimeError("it returned")  # a step runs until cancelled; returning is a failure too
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if loop.time() - started >= healthy_after_secs:
                delay = first_delay_secs
            logger.log(level, "%s failed (%s: %s); again in %.0fs.", what, type(exc).__name__, str(exc)[:300], delay)
            if on_error is not None:
                await on_error(exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay_secs)
