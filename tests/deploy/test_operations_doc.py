"""docs/operations.md lists every metric with its type and labels and every alert with what to do."""

from __future__ import annotations

import re

from tests.deploy.conftest import ROOT
from tests.deploy.promql import catalog_families

DOC = (ROOT / "docs" / "operations.md").read_text()
METRIC_ROW = re.compile(r"^\| `(watchfloor_\w+)` \| (\w+) \| ([^|]*) \| ([^|]+) \|$", re.M)
ALERT_HEADING = re.compile(r"^### (Watchfloor\w+) \((critical|warning)\)$", re.M)


def documented_metrics() -> dict[str, tuple[str, tuple[str, ...], str]]:
    return {
        name: (kind, tuple(re.findall(r"`(\w+)`", labels)), meaning.strip())
        for name, kind, labels, meaning in METRIC_ROW.findall(DOC)
    }


def alert_sections() -> dict[str, tuple[str, str]]:
    headings = list(ALERT_HEADING.finditer(DOC))
    sections = {}
    for match, following in zip(headings, headings[1:] + [None]):
        end = following.start() if following else DOC.index("\n## ", match.end())
        sections[match.group(1)] = (match.group(2), DOC[match.end():end])
    return sections


def test_every_catalog_metric_is_documented_with_its_type_and_labels():
    documented = documented_metrics()
    for name, (kind, labels) in catalog_families().items():
        assert name in documented, f"{name} is not in docs/operations.md"
        assert documented[name][:2] == (kind, labels), name
        assert len(documented[name][2].split()) >= 3, f"{name}: say what it means"


def test_the_doc_lists_no_metric_that_does_not_exist():
    assert set(documented_metrics()) - set(catalog_families()) == set()


def test_every_alert_is_documented_with_its_severity_meaning_and_action(alert_rules):
    sections = alert_sections()
    assert set(sections) == {rule["alert"] for rule in alert_rules}
    for rule in alert_rules:
        severity, text = sections[rule["alert"]]
        assert severity == rule["labels"]["severity"], rule["alert"]
        for part in ("**Fires when**", "**Means:**", "**Do:**"):
            assert part in text, f"{rule['alert']}: {part}"


def test_the_doc_names_the_ports_the_compose_file_uses(compose):
    for service, variable in (("worker", "WATCHFLOOR_WORKER_METRICS_PORT"),
                              ("connect", "WATCHFLOOR_CONNECT_METRICS_PORT"), ("web", "WATCHFLOOR_WEB_PORT")):
        port = compose["services"][service]["environment"][variable]
        assert f"| `{variable}` | `{port}` |" in DOC
