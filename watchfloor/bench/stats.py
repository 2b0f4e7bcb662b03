"""Small figures every benchmark reports: a percentile of measured values and this process's CPU time."""

from __future__ import annotations

import resource


def percentile(values: list[float], q: float) -> float:
    """The value at share ``q`` of the sorted values (nearest rank, lower); NaN without values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def cpu_seconds() -> float:
    """User plus system CPU time of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
