"""Helpers for the deploy tests: the metric names a PromQL expression reads, and the series names
the watchfloor metric catalog exports.

There is no PromQL parser for Python, so ``metric_names`` removes everything that is not a metric
name (strings, label matchers, range/subquery brackets, grouping clauses, Grafana variables,
function calls, keywords, numbers) and keeps the identifiers left over. Its own tests
(test_promql_helpers.py) pin that behaviour on the constructs the rules and the dashboard use.
"""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry

from core.metrics import CATALOG

# Series Prometheus itself produces; dashboards and rules may read them.
PROMETHEUS_BUILTINS = frozenset({"up", "ALERTS", "ALERTS_FOR_STATE"})

_KEYWORDS = frozenset({
    # aggregation operators (also followed by "(" or by/without, so they are removed either way)
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk",
    "topk", "quantile", "limitk", "limit_ratio",
    # binary operators and modifiers
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "atan2",
    # literals
    "inf", "nan",
})

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_BRACKETS = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_VARIABLE = re.compile(r"\$\{?\w+\}?")
_CALL = re.compile(r"\b[a-zA-Z_][a-zA-Z0-9_]*\s*\(")
_IDENT = re.compile(r"(?<![\w:.])[a-zA-Z_:][a-zA-Z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """Metric names read by the PromQL expression ``expr`` (Grafana ``$variables`` allowed)."""
    text = _STRING.sub('""', expr)
    text = _VARIABLE.sub(" ", text)
    text = _MATCHERS.sub(" ", text)
    text = _BRACKETS.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _CALL.sub(" ( ", text)
    return {name for name in _IDENT.findall(text) if name.lower() not in _KEYWORDS}


_GRAFANA_LABEL_VALUES = re.compile(r"label_values\(\s*([^,()]+?)\s*,\s*\w+\s*\)")


def grafana_query_expr(query: str) -> str:
    """The PromQL inside a Grafana variable query: ``label_values(<expr>, label)`` → ``<expr>``."""
    match = _GRAFANA_LABEL_VALUES.fullmatch(query.strip())
    return match.group(1) if match else query


def catalog_series() -> dict[str, str]:
    """Every series name the three metric groups export → the metric family's type.

    Built on fresh registries, as each process does. Labelled metrics export no sample before
    their first use, so the names come from the family type: counters add ``_total``, histograms
    ``_bucket``/``_sum``/``_count``; gauges keep their name. (``_created`` is left out: nothing
    should query it.)
    """
    registry = CollectorRegistry()
    for group in CATALOG:
        group(registry)
    series: dict[str, str] = {}
    for family in registry.collect():
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}.get(family.type, [""])
        for suffix in suffixes:
            series[family.name + suffix] = family.type
    return series


def catalog_families() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Exposed metric name (counters with ``_total``) → (type, label names), for the docs check."""
    registry = CollectorRegistry()
    metrics = [m for group in CATALOG
               for m in vars(group(registry)).values() if hasattr(m, "_labelnames")]
    out = {}
    for metric in metrics:
        kind = metric._type
        name = metric._name + ("_total" if kind == "counter" else "")
        out[name] = (kind, tuple(metric._labelnames))
    return out
