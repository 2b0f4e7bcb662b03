"""`watchfloor run` hands each child only the secrets it reads, and stops on SIGINT even when started
by a non-interactive shell that ignores SIGINT for its background jobs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.watchfloor.test_broker_lifecycle import alive, descendants
from watchfloor.broker import free_port
from watchfloor.procs import wait_for
from watchfloor.supervisor import child_environment

SECRETS = {
    "WATCHFLOOR_TELEGRAM_API_ID": "918273", "WATCHFLOOR_TELEGRAM_API_HASH": "0123456789abcdef0123456789abcdef",
    "WATCHFLOOR_TELEGRAM_SESSION": "fake-session-string", "WATCHFLOOR_WEB_TOKEN": "desk-token-of-32-characters-xxxx",
    "HOOK_OPS": "webhook-secret-for-ops", "WATCHFLOOR_KAFKA_SASL_PASSWORD": "sasl-password",
}


def test_each_role_sees_only_its_own_secrets():
    environ = {"PATH": "/usr/bin", "WATCHFLOOR_LOG_LEVEL": "INFO", **SECRETS}
    hooks = frozenset({"HOOK_OPS"})
    seen = {role: set(child_environment(role, environ, hooks)) for role in ("worker", "connect", "web", "demo")}
    assert seen["worker"] == {"PATH", "WATCHFLOOR_LOG_LEVEL", "WATCHFLOOR_KAFKA_SASL_PASSWORD"}
    assert seen["connect"] == seen["worker"] | {"WATCHFLOOR_TELEGRAM_API_ID", "WATCHFLOOR_TELEGRAM_API_HASH",
                                                "WATCHFLOOR_TELEGRAM_SESSION"}
    assert seen["web"] == seen["worker"] | {"WATCHFLOOR_WEB_TOKEN", "HOOK_OPS"}
    assert seen["demo"] == {"PATH", "WATCHFLOOR_LOG_LEVEL"}


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def _ignore_sigint() -> None:  # what `cmd &` in a non-interactive shell does to the job
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_run_gives_children_only_their_secrets_and_stops_on_sigint_even_if_it_was_ignored(tmp_path):
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources: []\n")
    hooks = tmp_path / "webhooks.yaml"
    hooks.write_text("webhooks:\n  - {name: ops, url: 'http://127.0.0.1:9/hook', secret_env: HOOK_OPS}\n")
    web_port = free_port()
    env = {**os.environ, **SECRETS, "WATCHFLOOR_EMBEDDED_KAFKA_PORT": str(free_port()),
           "WATCHFLOOR_WEB_PORT": str(web_port), "WATCHFLOOR_WORKER_METRICS_PORT": "-1",
           "WATCHFLOOR_CONNECT_METRICS_PORT": "-1", "WATCHFLOOR_DATA_DIR": str(tmp_path / "data"),
           "WATCHFLOOR_SOURCES_PATH": str(sources), "WATCHFLOOR_WEBHOOKS_PATH": str(hooks),
           "WATCHFLOOR_STORY_GROUPING": "false"}
    log_path = tmp_path / "run.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "watchfloor", "run"], env=env, cwd=tmp_path, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=_ignore_sigint)
    try:
        def healthy() -> bool:
            request = urllib.request.Request(f"http://127.0.0.1:{web_port}/healthz")
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    return json.loads(response.read())["status"] == "ok"
            except OSError:
                return False

        wait_for(healthy, timeout_secs=90, interval_secs=0.5, what=f"the desk; log: {log_path}")
        roles = {}
        for pid in descendants(proc.pid):
            line = _cmdline(pid)
            for role in ("worker", "connect", "web"):
                if line.endswith(f"-m watchfloor {role} "):
                    roles[role] = _environ(pid)
        assert set(roles) == {"worker", "connect", "web"}, roles.keys()
        telegram = {k for k in SECRETS if k.startswith("WATCHFLOOR_TELEGRAM_")}
        desk = {"WATCHFLOOR_WEB_TOKEN", "HOOK_OPS"}
        assert not (telegram | desk) & set(roles["worker"])
        assert telegram <= set(roles["connect"]) and not desk & set(roles["connect"])
        assert desk <= set(roles["web"]) and not telegram & set(roles["web"])

        children = descendants(proc.pid)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, log_path.read_text(errors="replace")[-3000:]
        wait_for(lambda: not any(alive(pid) for pid in children), timeout_secs=20, what="every child to exit")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
