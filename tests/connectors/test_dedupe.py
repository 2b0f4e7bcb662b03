"""Dedupe and revisions as plain functions: seen-and-unchanged is skipped, changed is a revision,
and the bounded recent list never forgets an id the current feed still carries."""

from __future__ import annotations

from datetime import datetime, timezone

from connectors.dedupe import select
from connectors.registry import build_adapters, factory_for
from connectors.rss.source import RssSource
from schemas import Item, SeenItem

T = datetime(2026, 11, 28, tzinfo=timezone.utc)


def item(n: int, text: str = "t") -> Item:
    return Item(item_id=f"rss:s:{n}", source_type="rss", source_id="s", title=f"{n}", text=text,
                published_at=T, fetched_at=T, content_hash=f"{n}-{text}")


def test_new_items_get_revision_0_and_repeats_are_duplicates():
    first = select([], [item(1), item(2)], limit=10)
    again = select(first.recent, [item(1), item(2)], limit=10)
    assert [(i.item_id, i.revision) for i in first.emit] == [("rss:s:1", 0), ("rss:s:2", 0)]
    assert again.emit == [] and again.duplicates == 2 and again.recent == first.recent


def test_changed_content_is_the_next_revision_and_moves_to_the_newest_end():
    first = select([], [item(1), item(2)], limit=10)
    edited = select(first.recent, [item(1, "new"), item(2)], limit=10)
    twice = select(edited.recent, [item(1, "newer")], limit=10)
    assert [(i.item_id, i.revision) for i in edited.emit] == [("rss:s:1", 1)] and edited.revised == 1
    assert [s.item_id for s in edited.recent] == ["rss:s:2", "rss:s:1"]
    assert twice.emit[0].revision == 2


def test_same_id_twice_in_one_batch_is_emitted_once():
    chosen = select([], [item(1), item(1)], limit=10)
    assert len(chosen.emit) == 1 and chosen.duplicates == 1


def test_recent_list_is_bounded_but_keeps_every_id_of_the_current_batch():
    old = [SeenItem(item_id=f"rss:s:old{n}", content_hash="h") for n in range(5)]
    chosen = select(old, [item(n) for n in range(4)], limit=3)
    ids = [s.item_id for s in chosen.recent]
    assert ids == [f"rss:s:{n}" for n in range(4)]  # 4 > limit: the batch wins, the old ones go
    trimmed = select(old, [item(9)], limit=3)
    assert [s.item_id for s in trimmed.recent] == ["rss:s:old3", "rss:s:old4", "rss:s:9"]


async def test_registry_builds_the_rss_adapter_and_skips_unknown_types():
    import aiohttp

    async with aiohttp.ClientSession() as session:
        adapters = build_adapters(["rss", "rss"], session, settings=None)
    assert isinstance(adapters["rss"], RssSource) and list(adapters) == ["rss"]
    assert factory_for("carrier-pigeon") is None
