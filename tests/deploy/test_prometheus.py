"""deploy/prometheus: promtool accepts the config and the rules, every alert is unit-tested, and
the rules read only metrics the processes export."""

from __future__ import annotations

import re
import subprocess

from tests.deploy.conftest import PROMETHEUS_DIR
from tests.deploy.promql import PROMETHEUS_BUILTINS, catalog_series, metric_names

SEVERITIES = {"critical", "warning"}


def run_promtool(promtool: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [promtool, *args], cwd=PROMETHEUS_DIR, capture_output=True, text=True, timeout=60, check=False
    )


def test_prometheus_config_passes_promtool_check_config(promtool):
    result = run_promtool(promtool, "check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 1 rule files found" in result.stdout


def test_alert_rules_pass_promtool_check_rules(promtool, alert_rules):
    result = run_promtool(promtool, "check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules)} rules found" in result.stdout


def test_alert_unit_tests_pass_promtool_test_rules(promtool):
    result = run_promtool(promtool, "test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_unit_test_where_it_fires_and_one_where_it_stays_quiet(alert_rules, alert_tests):
    firing, quiet = set(), set()
    for group in alert_tests:
        for case in group["alert_rule_test"]:
            (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
    names = {rule["alert"] for rule in alert_rules}
    assert names - firing == set(), "alerts without a firing test"
    assert names - quiet == set(), "alerts without a not-firing test"
    assert (firing | quiet) - names == set(), "tests of alerts that do not exist"


def test_every_alert_has_a_severity_and_says_what_it_means_and_what_to_do(alert_rules):
    for rule in alert_rules:
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        annotations = rule["annotations"]
        for key in ("summary", "description", "runbook"):
            assert len(annotations.get(key, "").split()) >= 5, f"{rule['alert']}: {key} missing or too short"


def test_alert_expressions_read_only_metrics_the_processes_export(alert_rules):
    known = set(catalog_series()) | PROMETHEUS_BUILTINS
    read = {rule["alert"]: metric_names(rule["expr"]) for rule in alert_rules}
    assert all(read.values()), f"an expression with no metric: {read}"
    unknown = {alert: names - known for alert, names in read.items() if names - known}
    assert unknown == {}


def test_scrape_jobs_reach_the_compose_services_on_their_metrics_ports(prometheus_config, compose):
    jobs = {job["job_name"]: job for job in prometheus_config["scrape_configs"]}
    services = compose["services"]
    for job_name, service, port_var in (
        ("watchfloor-worker", "worker", "WATCHFLOOR_WORKER_METRICS_PORT"),
        ("watchfloor-connect", "connect", "WATCHFLOOR_CONNECT_METRICS_PORT"),
    ):
        # Scalable services: DNS discovery returns every replica, a static target only one.
        (sd,) = jobs[job_name]["dns_sd_configs"]
        assert sd["names"] == [service] and sd["type"] == "A"
        assert str(sd["port"]) == services[service]["environment"][port_var]
    (static,) = jobs["watchfloor-web"]["static_configs"]
    assert static["targets"] == [f"web:{services['web']['environment']['WATCHFLOOR_WEB_PORT']}"]
    assert jobs["watchfloor-web"].get("metrics_path", "/metrics") == "/metrics"
    assert prometheus_config["rule_files"] == ["alerts.yml"]


def test_alerts_name_only_jobs_that_prometheus_scrapes(alert_rules, prometheus_config):
    jobs = {job["job_name"] for job in prometheus_config["scrape_configs"]}
    named = {m for rule in alert_rules for m in re.findall(r'job="([^"]+)"', rule["expr"])}
    assert named, "the absent-target alert names its jobs"
    assert named <= jobs
    watched = {job for job in jobs if job.startswith("watchfloor-")}
    assert watched <= named, "every watchfloor job has an absent() check"
