"""Texts for the story tests: one wire story with small per-outlet edits, and two unrelated stories
that share a few stock phrases."""

from __future__ import annotations

import random

WIRE = (
    "Dmitry Medvedev said on Tuesday that Russia could use nuclear weapons if Ukraine kept striking "
    "targets in Crimea, calling the attacks a red line that Moscow would not tolerate. Speaking to "
    "reporters in Moscow, the former president said the response would be swift and that Western "
    "capitals supplying long-range missiles bore responsibility for any escalation on the peninsula."
)

# Edits outlets make to a wire story: a dateline, a credit, one word swapped, a sentence trimmed.
_SWAPS = [("Tuesday", "Tuesday evening"), ("reporters", "journalists"), ("swift", "immediate"),
          ("Western", "NATO"), ("long-range", "long range"), ("attacks", "strikes"), ("tolerate", "accept")]


def syndicated_copies(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    copies = []
    for i in range(n):
        text = WIRE
        for old, new in rng.sample(_SWAPS, 2):
            text = text.replace(old, new, 1)
        if i % 3 == 1:
            text = f"MOSCOW (Outlet {i}) — {text}"
        if i % 4 == 2:
            text = text.rsplit(". ", 1)[0] + "."
        if i % 5 == 3:
            text += f" Reporting by outlet {i} staff."
        copies.append(text)
    return copies


# Both share "Dmitry Medvedev said on Tuesday", "nuclear weapons", "the former president said" etc.
APART_A = (
    "Dmitry Medvedev said on Tuesday that the former president said nothing new about nuclear weapons, "
    "and turned to the grain harvest in the south, praising farmers for a record wheat crop despite drought."
)
APART_B = (
    "Dmitry Medvedev said on Tuesday that nuclear weapons talks with Washington were frozen, while the "
    "former president said the tram strike in Saint Petersburg showed the city needed new rolling stock."
)
