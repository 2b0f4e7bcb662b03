"""The README stays true: it names every setting, every metric and every shipped alert, and its two
commands are the Makefile targets CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry

from core.metrics import CATALOG
from core.settings import Section, Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def environment_names() -> list[str]:
    """Every variable a setting is read from: a section's fields as ``WATCHFLOOR_<SECTION>_<FIELD>``."""
    names = []
    for name, field in Settings.model_fields.items():
        section = field.annotation
        if isinstance(section, type) and issubclass(section, Section):
            names += [f"WATCHFLOOR_{name.upper()}_{inner.upper()}" for inner in section.model_fields]
        else:
            names.append(f"WATCHFLOOR_{name.upper()}")
    return names


def test_readme_configuration_table_names_every_setting():
    missing = [name for name in environment_names() if f"`{name}`" not in README]
    assert not missing, f"README lacks {missing}"


def test_every_section_field_is_read_from_its_environment_variable(monkeypatch):
    monkeypatch.setenv("WATCHFLOOR_TELEGRAM_MAX_PAGES", "7")
    monkeypatch.setenv("WATCHFLOOR_RSS_MAX_REDIRECTS", "2")
    monkeypatch.setenv("WATCHFLOOR_POLLING_BACKOFF_BASE_SECS", "4.5")
    monkeypatch.setenv("WATCHFLOOR_KAFKA_BOOTSTRAP", "kafka:9092")
    settings = load_settings()
    assert (settings.telegram.max_pages, settings.rss.max_redirects, settings.polling.backoff_base_secs,
            settings.kafka_bootstrap) == (7, 2, 4.5, "kafka:9092")


def test_readme_operations_section_lists_every_metric():
    registry = CollectorRegistry()
    for group in CATALOG:
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
