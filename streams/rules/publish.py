"""Publishing a rule pack to the compacted rules topic (``watchfloor rules push``).

The pack is read, checked and compiled here first, so an invalid pack is refused before any worker
could see it; the record carries the whole pack (no paths) and its version (content hash).
"""

from __future__ import annotations

from pathlib import Path

from core.kafka import ce_type_for, cloudevent_headers, start_producer
from core.settings import Settings
from schemas import RulePack
from schemas.topics import TOPICS
from streams.rules.compile import compile_pack
from streams.rules.loader import load_pack


def prepare_pack(path: Path | None) -> RulePack:
    """Load and compile the pack at ``path``; raise ``ConfigError`` (one line) when it is invalid."""
    pack = load_pack(path)
    compiled = compile_pack(pack)
    return pack if pack.version else pack.model_copy(update={"version": compiled.version})


async def publish_pack(settings: Settings, pack: RulePack) -> str:
    """Produce ``pack`` to the rules topic, keyed by its name; return its version once acknowledged."""
    topic = TOPICS["rules"].name(settings.topic_prefix)
    producer = await start_producer(settings)
    try:
        await producer.send_and_wait(
            topic, pack.model_dump_json().encode("utf-8"), key=pack.name.encode("utf-8"),
            headers=cloudevent_headers(ce_type_for(pack), event_id=f"{pack.name}@{pack.version}"),
        )
    finally:
        await producer.stop()
    return pack.version
