"""Which polled items to emit, given the source's recently emitted ids (plain functions, no I/O).

An item whose id was emitted before with the same content hash is a duplicate; with another hash it
is emitted again as a new revision. The recent list is bounded but never drops an id that is still in
the current batch, so a long feed cannot make its own older entries look new.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas import Item, SeenItem


@dataclass
class Selection:
    emit: list[Item] = field(default_factory=list)
    duplicates: int = 0
    revised: int = 0
    recent: list[SeenItem] = field(default_factory=list)
    """The recent list to store once ``emit`` is acknowledged, newest last."""


def select(recent: list[SeenItem], items: list[Item], limit: int) -> Selection:
    seen = {s.item_id: s for s in recent}
    order = [s.item_id for s in recent]
    batch_ids: set[str] = set()
    result = Selection()
    for item in items:
        batch_ids.add(item.item_id)
        before = seen.get(item.item_id)
        if before is not None and before.content_hash == item.content_hash:
            result.duplicates += 1
            continue
        revision = 0 if before is None else before.revision + 1
        if before is not None:
            result.revised += 1
            order.remove(item.item_id)
        result.emit.append(item.model_copy(update={"revision": revision}))
        seen[item.item_id] = SeenItem(item_id=item.item_id, content_hash=item.content_hash, revision=revision)
        order.append(item.item_id)
    keep = max(limit, len(batch_ids))
    result.recent = _trim([seen[i] for i in order], batch_ids, keep)
    return result


def _trim(ordered: list[SeenItem], batch_ids: set[str], keep: int) -> list[SeenItem]:
    if len(ordered) <= keep:
        return ordered
    # Drop the oldest ids that the current batch does not mention.
    excess = len(ordered) - keep
    kept: list[SeenItem] = []
    for seen in ordered:
        if excess and seen.item_id not in batch_ids:
            excess -= 1
            continue
        kept.append(seen)
    return kept
