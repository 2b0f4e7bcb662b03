"""``watchfloor web`` as the supervisor runs it: a child process that serves until SIGTERM, and a
bad webhooks file that stops start-up with one line."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import aiohttp

from desk.store import STORE_FILE
from tests.conftest import wait_until
from tests.desk.alerts import make_alert, produce_alerts


def _env(settings, **extra) -> dict[str, str]:
    return {**os.environ, "WATCHFLOOR_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            "WATCHFLOOR_TOPIC_PREFIX": settings.topic_prefix, "WATCHFLOOR_DATA_DIR": str(settings.data_dir),
            "WATCHFLOOR_CONFIG": "/nonexistent/watchfloor.yaml", **extra}


async def test_watchfloor_web_serves_consumed_alerts_and_exits_cleanly_on_sigterm(settings, topics):
    alert = make_alert()
    await produce_alerts(settings, topics["alerts"], [alert])
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "watchfloor", "web", "--port", "0", env=_env(settings),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        assert line.startswith("Alert desk: http://127.0.0.1:"), line
        url = line.split(": ", 1)[1].strip().rstrip("/")

        async def has_alert() -> bool:
            async with aiohttp.ClientSession() as session, session.get(f"{url}/api/alerts") as response:
                return [r["alert"]["alert_id"] for r in (await response.json())["alerts"]] == [alert.alert_id]

        await wait_until(has_alert, 30, "the alert via the CLI desk")
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert (settings.data_dir / STORE_FILE).exists()
    errors = (await proc.stderr.read()).decode()
    assert "Traceback" not in errors


def test_watchfloor_web_with_a_bad_webhooks_file_exits_2_with_one_line(settings, tmp_path):
    path = tmp_path / "webhooks.yaml"
    path.write_text("webhooks:\n  - name: ops\n    url: https://h.example/x\n    secret_env: WF_CLI_UNSET_SECRET\n")
    done = subprocess.run([sys.executable, "-m", "watchfloor", "web", "--port", "0"], capture_output=True, text=True,
                          env=_env(settings, WATCHFLOOR_WEBHOOKS_PATH=str(path)), timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        f"watchfloor: {path}: webhook ops: environment variable WF_CLI_UNSET_SECRET is not set or empty")
