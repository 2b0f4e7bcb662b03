"""One alert filter for the page, the JSON API, the Atom feed and the webhooks, so that "high and
above, theme sanctions" means the same thing everywhere."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from schemas import Alert, WebhookEndpoint
from schemas.base import SEVERITY_ORDER

MAX_FILTER_VALUES = 20


class FilterError(ValueError):
    """A query parameter has a value the filter cannot use; the message names it."""


def _folded(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.strip().casefold() for v in values if v and v.strip())


@dataclass(frozen=True)
class AlertFilter:
    """Severity at or above ``min_severity``, and (each when non-empty) one of ``themes``, one of
    ``entities`` (entity id or display name) and one of ``sources``. Comparison ignores case."""

    min_severity: str = "info"
    themes: frozenset[str] = field(default_factory=frozenset)
    entities: frozenset[str] = field(default_factory=frozenset)
    sources: frozenset[str] = field(default_factory=frozenset)

    @property
    def min_rank(self) -> int:
        return SEVERITY_ORDER[self.min_severity]

    def matches(self, alert: Alert) -> bool:
        if SEVERITY_ORDER[alert.severity] < self.min_rank:
            return False
        if self.sources and alert.source_id.casefold() not in self.sources:
            return False
        if self.themes and not self.themes & theme_tags(alert):
            return False
        return not self.entities or bool(self.entities & entity_tags(alert))

    def as_query(self) -> dict[str, list[str]]:
        """Query parameters that ``from_query`` turns back into this filter (for feed self links)."""
        query: dict[str, list[str]] = {}
        if self.min_severity != "info":
            query["severity"] = [self.min_severity]
        for name, values in (("theme", self.themes), ("entity", self.entities), ("source", self.sources)):
            if values:
                query[name] = sorted(values)
        return query

    @classmethod
    def from_query(cls, query: Mapping) -> AlertFilter:
        """From ``?severity=high&theme=a&theme=b&entity=..&source=..`` (a MultiDict or plain dict)."""
        severity = (query.get("severity") or "info").strip().lower()
        if severity not in SEVERITY_ORDER:
            raise FilterError(f"severity: must be one of {', '.join(SEVERITY_ORDER)}, got {severity[:40]!r}")
        lists = {name: _getall(query, name) for name in ("theme", "entity", "source")}
        for name, values in lists.items():
            if len(values) > MAX_FILTER_VALUES:
                raise FilterError(f"{name}: at most {MAX_FILTER_VALUES} values")
        return cls(severity, _folded(lists["theme"]), _folded(lists["entity"]), _folded(lists["source"]))

    @classmethod
    def for_endpoint(cls, endpoint: WebhookEndpoint) -> AlertFilter:
        return cls(endpoint.min_severity, _folded(endpoint.themes), _folded(endpoint.entities),
                   _folded(endpoint.sources))


def _getall(query: Mapping, name: str) -> list[str]:
    if hasattr(query, "getall"):
        values = query.getall(name, [])
    else:
        value = query.get(name)
        values = value if isinstance(value, list) else ([value] if value else [])
    # "theme=a,b" reads as two values: handy in a feed reader's URL field.
    return [part for v in values for part in str(v).split(",")]


def theme_tags(alert: Alert) -> frozenset[str]:
    return _folded(hit.theme for hit in alert.themes)


def entity_tags(alert: Alert) -> frozenset[str]:
    return _folded([e.id for e in alert.entities] + [e.name for e in alert.entities])
