"""Scripted mention streams for the surge tests, on an injected clock (item fetch times), so that
ten-minute windows pass without waiting."""

from __future__ import annotations

import random
from datetime import timedelta

from tests.streams.stories.conftest import BASE, copy_item

WINDOW = 600
_WORDS = ("harbour ministry bridge convoy winter grain pipeline border summit courier ferry railway station "
          "parliament budget drone factory village airport tanker bank river council market school hospital "
          "power plant satellite election reporter interview coast island mountain valley capital province "
          "garrison bunker treaty envoy ceasefire refinery depot warehouse checkpoint highway tunnel dam").split()


def _text(n: int, who: str, topic: str) -> str:
    """Distinct reports: a shared lead, then words no other report has in that order."""
    rng = random.Random(n)
    tail = " ".join(rng.sample(_WORDS, 14))
    return f"{who} spoke about {topic}. Report {n}: {tail}."


def _at(window: int, second: int):
    return BASE + timedelta(seconds=window * WINDOW + second)


def burst(start: int = 0) -> list:
    """One Medvedev/escalation mention per window for 6 windows, then 12 in one window from 6 sources."""
    items = [copy_item(start + w, _text(start + w, "Medvedev", "nuclear weapons"), f"feed-{w % 4}", at=_at(w, 10))
             for w in range(6)]
    items += [copy_item(start + 100 + i, _text(start + 100 + i, "Medvedev", "nuclear weapons"), f"outlet-{i % 6}",
                        at=_at(6, 20 + 10 * i)) for i in range(12)]
    return items


def steady(start: int = 1000) -> list:
    """Four EU/sanctions mentions per window from four sources, for ten windows: 40 in all."""
    return [copy_item(start + w * 4 + i, _text(start + w * 4 + i, "The EU", "a sanctions package"), f"wire-{i}",
                      at=_at(w, 30 + 60 * i)) for w in range(10) for i in range(4)]


def one_source(start: int = 2000) -> list:
    """Twelve Shoigu/escalation mentions in one window, all from the same channel."""
    return [copy_item(start + 2 * i + 1, _text(start + i, "Shoigu", "nuclear weapons"), "lone-channel",
                      at=_at(6, 15 + 20 * i)) for i in range(12)]
