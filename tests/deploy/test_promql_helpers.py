"""The helpers the catalog checks rely on: if they missed a name, those checks would prove nothing."""

from __future__ import annotations

import pytest

from tests.deploy.promql import catalog_families, catalog_series, grafana_query_expr, metric_names


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("up", {"up"}),
        ('sum by (source_type) (rate(watchfloor_fetch_requests_total{outcome!~"ok|not_modified"}[15m]))',
         {"watchfloor_fetch_requests_total"}),
        ("histogram_quantile(0.99, sum by (le) (rate(watchfloor_classify_duration_seconds_bucket[$__rate_interval])))",
         {"watchfloor_classify_duration_seconds_bucket"}),
        ("(sum(increase(a_total[1h])) or vector(0)) == 0 and on () sum(b{state=\"active\"}) > 0", {"a_total", "b"}),
        ("deriv(sum by (topic) (lag_messages)[15m:1m]) > 0", {"lag_messages"}),
        ("x_total > 0 unless x_total offset 10m", {"x_total"}),
        ('absent(up{job="w"}) or absent(up{job="c"})', {"up"}),
        ("time() - max by (source_type) (ts_seconds{source_type=~\"$source_type\"})", {"ts_seconds"}),
        ("a / ignoring (outcome) group_left (le) b", {"a", "b"}),
        ("count by (version) (info == 1) * 1e3", {"info"}),
        ('{__name__="hidden"}', set()),
    ],
)
def test_metric_names_keeps_metrics_and_drops_functions_labels_and_keywords(expr, expected):
    assert metric_names(expr) == expected


def test_grafana_label_values_query_yields_its_metric_expression():
    assert grafana_query_expr("label_values(watchfloor_fetch_requests_total, source_type)") == (
        "watchfloor_fetch_requests_total"
    )
    assert grafana_query_expr("sum(up)") == "sum(up)"


def test_catalog_series_name_counters_with_total_and_histograms_with_their_three_series():
    series = catalog_series()
    assert series["watchfloor_fetch_requests_total"] == "counter"
    assert "watchfloor_fetch_requests" not in series
    for suffix in ("_bucket", "_sum", "_count"):
        assert series["watchfloor_fetch_duration_seconds" + suffix] == "histogram"
    assert "watchfloor_fetch_duration_seconds" not in series
    assert series["watchfloor_sources_stale"] == "gauge"


def test_catalog_families_give_exposed_names_types_and_labels():
    families = catalog_families()
    assert families["watchfloor_fetch_requests_total"] == ("counter", ("source_type", "outcome"))
    assert families["watchfloor_classify_duration_seconds"] == ("histogram", ())
    assert families["watchfloor_consumer_lag_messages"] == ("gauge", ("topic",))
