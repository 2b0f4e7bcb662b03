"""deploy/grafana: the provisioning points at the compose services and the mounted dashboard, and
every query of the dashboard reads metrics the processes export."""

from __future__ import annotations

import yaml

from tests.deploy.conftest import GRAFANA_DIR
from tests.deploy.promql import PROMETHEUS_BUILTINS, catalog_families, catalog_series, grafana_query_expr, metric_names

SECTIONS = ["Ingestion", "Freshness", "Kafka", "Processing", "Alerts"]


def dashboard_queries(dashboard: dict) -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target, template variable and annotation query."""
    queries = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            queries.append((f"panel {panel['title']!r} {target['refId']}", target["expr"]))
    for variable in dashboard["templating"]["list"]:
        query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        queries.append((f"variable {variable['name']}", grafana_query_expr(query)))
    for annotation in dashboard["annotations"]["list"]:
        queries.append((f"annotation {annotation['name']}", annotation["expr"]))
    return queries


def provisioning(name: str) -> dict:
    return yaml.safe_load((GRAFANA_DIR / "provisioning" / name).read_text())


def test_dashboard_queries_read_only_metrics_the_processes_export(dashboard):
    known = set(catalog_series()) | PROMETHEUS_BUILTINS
    queries = dashboard_queries(dashboard)
    assert len(queries) >= 30
    unknown = {where: metric_names(expr) - known for where, expr in queries if metric_names(expr) - known}
    assert unknown == {}
    empty = [where for where, expr in queries if not metric_names(expr)]
    assert empty == []


def test_dashboard_shows_every_metric_of_the_catalog(dashboard):
    read = set().union(*(metric_names(expr) for _, expr in dashboard_queries(dashboard)))
    # A histogram counts as shown when any of its series is read.
    shown = {name for name in catalog_families() if name in read or any(
        name + suffix in read for suffix in ("_bucket", "_sum", "_count"))}
    assert set(catalog_families()) - shown == set()


def test_dashboard_has_the_five_sections_in_order(dashboard):
    rows = [panel["title"] for panel in dashboard["panels"] if panel["type"] == "row"]
    assert rows == SECTIONS


def test_dashboard_panels_have_unique_ids_and_fit_the_24_column_grid(dashboard):
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]


def test_every_query_uses_the_provisioned_prometheus_data_source(dashboard):
    (source,) = provisioning("datasources/prometheus.yml")["datasources"]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    refs = [panel["datasource"] for panel in dashboard["panels"] if panel["type"] != "row"]
    refs += [t["datasource"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    refs += [v["datasource"] for v in dashboard["templating"]["list"]]
    refs += [a["datasource"] for a in dashboard["annotations"]["list"]]
    assert {(ref["type"], ref["uid"]) for ref in refs} == {("prometheus", source["uid"])}


def test_dashboard_provider_reads_the_directory_compose_mounts(compose):
    (provider,) = provisioning("dashboards/watchfloor.yml")["providers"]
    mounts = dict(volume.split(":")[:2] for volume in compose["services"]["grafana"]["volumes"])
    assert mounts["./deploy/grafana/dashboards"] == provider["options"]["path"]
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    assert "prometheus" in compose["services"]
