"""The metric catalog, as the processes expose it, passes `promtool check metrics` (the Prometheus
naming lint: base units, counter suffixes, help text)."""

from __future__ import annotations

import subprocess

from prometheus_client import CollectorRegistry, generate_latest

from core.metrics import CATALOG


def exposition_with_every_metric_used() -> bytes:
    """/metrics text of the three groups, each metric touched once so that labelled ones appear."""
    registry = CollectorRegistry()
    for group in CATALOG:
        for metric in vars(group(registry)).values():
            labelnames = getattr(metric, "_labelnames", None)
            if labelnames is None:
                continue
            child = metric.labels(*["example"] * len(labelnames)) if labelnames else metric
            if metric._type == "histogram":
                child.observe(0.5)
            elif metric._type == "counter":
                child.inc()
            else:
                child.set(1)
    return generate_latest(registry)


def check_metrics(promtool: str, text: bytes) -> subprocess.CompletedProcess:
    return subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, timeout=60, check=False)


def test_catalog_exposition_passes_promtool_check_metrics(promtool):
    text = exposition_with_every_metric_used()
    assert text.count(b"# TYPE watchfloor_") >= 25
    result = check_metrics(promtool, text)
    assert result.returncode == 0, (result.stdout + result.stderr).decode()


def test_promtool_lint_rejects_milliseconds_as_faust_exports_them(promtool):
    text = b"# HELP faust_latency_milliseconds x\n# TYPE faust_latency_milliseconds gauge\nfaust_latency_milliseconds 3\n"
    result = check_metrics(promtool, text)
    assert result.returncode != 0
    assert b'base unit "seconds"' in result.stdout + result.stderr
