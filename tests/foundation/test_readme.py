"""The README stays true: it names every setting, every metric and every shipped alert, and its two
commands are the Makefile targets CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry

from watchfloor.metrics import ConnectorMetrics, DeskMetrics, WorkerMetrics
from watchfloor.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_configuration_table_names_every_setting():
    missing = [f"WATCHFLOOR_{name.upper()}" for name in Settings.model_fields
               if f"`WATCHFLOOR_{name.upper()}`" not in README]
    assert not missing, f"README lacks {missing}"


def test_readme_operations_section_lists_every_metric():
    registry = CollectorRegistry()
    for group in (ConnectorMetrics, WorkerMetrics, DeskMetrics):
        group(registry)
    names = {m.name + ("_total" if m.type == "counter" else "") for m in registry.collect()}
    missing = sorted(n for n in names if f"`{n}`" not in README)
    assert not missing, f"README lacks {missing}"


def test_readme_operations_section_lists_every_alert():
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    missing = sorted(a for a in alerts if f"`{a}`" not in README)
    assert not missing, f"README lacks {missing}"


def test_readme_commands_are_the_makefile_targets_and_ci_runs_the_test_one():
    commands = re.findall(r"^make (\w+)", README, flags=re.M)
    assert commands[:2] == ["run", "test"]
    makefile = (ROOT / "Makefile").read_text()
    assert "watchfloor run" in makefile and "pytest" in makefile
    assert "make test" in (ROOT / ".ci/run").read_text()
