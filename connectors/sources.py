"""The configured sources: a YAML file (``WATCHFLOOR_SOURCES_PATH``, else the shipped list) and the
compacted ``watchfloor.sources.v1`` topic, where an entry with the same id overrides the file and a
tombstone removes a source added there.

File format::

    sources:
      - {id: bbc-world, type: rss, url: "https://feeds.bbci.co.uk/news/world/rss.xml"}
      - {id: zelenskiy, type: telegram, channel: V_Zelenskiy_official}
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import yaml
from pydantic import ValidationError

from connectors.state import read_topic_to_end
from core.errors import ConfigError
from core.kafka import ce_type_for, cloudevent_headers, follow_topic, start_producer
from core.settings import Settings, describe_validation_error
from schemas import Source
from schemas.topics import TOPICS

log = logging.getLogger(__name__)

DEFAULT_SOURCES_PATH = Path(__file__).with_name("default_sources.yaml")


def sources_path(settings: Settings) -> Path:
    return settings.sources_path or DEFAULT_SOURCES_PATH


def load_sources_file(path: Path) -> list[Source]:
    """Every source of a YAML file; ``ConfigError`` naming the file, entry and field on any problem."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the sources file: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    entries = (document or {}).get("sources", []) if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: expected a mapping with a 'sources' list")
    sources: list[Source] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        try:
            source = Source.model_validate(entry)
        except ValidationError as exc:
            label = entry.get("id") if isinstance(entry, dict) else None
            prefix = f"{path}: sources[{index}]" + (f" ({label})" if label else "") + "."
            raise ConfigError(describe_validation_error(exc, prefix)) from None
        if source.id in seen:
            raise ConfigError(f"{path}: sources[{index}]: duplicate id {source.id!r}")
        seen.add(source.id)
        sources.append(source)
    return sources


def save_sources_file(path: Path, sources: list[Source]) -> None:
    """Write the sources back (defaults left out, so the file stays readable); atomic replace."""
    entries = [s.model_dump(mode="json", exclude_defaults=True) | {"id": s.id, "type": s.type} for s in sources]
    text = yaml.safe_dump({"sources": entries}, sort_keys=False, allow_unicode=True, width=120)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def sources_topic(settings: Settings) -> str:
    return TOPICS["sources"].name(settings.topic_prefix)


async def read_topic_sources(settings: Settings, timeout_secs: float = 30.0) -> dict[str, Source | None]:
    """The sources topic read to its end: id → source, or None for a tombstone (removed)."""
    found: dict[str, Source | None] = {}
    for key, value, where in await read_topic_to_end(settings, sources_topic(settings), timeout_secs):
        _apply_source_record(found, key, value, where)
    return found


def _apply_source_record(found: dict[str, Source | None], key: str | None, value: bytes | None, where: str) -> bool:
    """One record of the sources topic into ``found``; False (and a warning) for an invalid one."""
    if value is None:
        found[key] = None
        return True
    try:
        source = Source.model_validate_json(value)
    except ValidationError as exc:
        log.warning("Skipped an invalid source at %s: %s.", where, describe_validation_error(exc))
        return False
    found[source.id] = source
    return True


async def follow_sources(settings: Settings, on_change: Callable[[list[Source]], Awaitable[None]]) -> None:
    """Follow the sources topic from its beginning until cancelled; after every batch that changed
    something, await ``on_change`` with the whole list (the file, then the topic on top). Sources
    added or removed with ``watchfloor sources add/remove`` take effect without a restart."""
    from_file = load_sources_file(sources_path(settings))
    topic = sources_topic(settings)
    found: dict[str, Source | None] = {}
    known: dict[str, Source | None] | None = None
    async with contextlib.aclosing(follow_topic(settings, topic)) as batches:  # its consumer stops with us
        async for records, caught_up in batches:
            for r in records:
                key = r.key.decode("utf-8", "replace") if r.key else None
                _apply_source_record(found, key, r.value, f"{topic}[{r.partition}]@{r.offset}")
            # The first call comes once what the topic holds now was read whole: a partial list would
            # stop the sources of the batches not read yet.
            if caught_up and found != known:
                known = dict(found)
                await on_change(merge_sources(from_file, found))


async def publish_source(settings: Settings, source_id: str, source: Source | None) -> None:
    """Put ``source`` on the sources topic (None: a tombstone that removes it); waits for the ack."""
    producer = await start_producer(settings)
    try:
        # Unset fields left out: a connector of the previous release reads the record too.
        value = source.model_dump_json(exclude_none=True).encode("utf-8") if source is not None else None
        headers = cloudevent_headers(ce_type_for(Source)) if source is not None else []
        await producer.send_and_wait(sources_topic(settings), value=value, key=source_id.encode("utf-8"),
                                     headers=headers)
    finally:
        await producer.stop()


def merge_sources(from_file: list[Source], from_topic: dict[str, Source | None]) -> list[Source]:
    """File sources overridden (or removed) by topic entries of the same id, plus topic-only ones."""
    merged = {s.id: s for s in from_file}
    for source_id, source in from_topic.items():
        if source is None:
            merged.pop(source_id, None)
        else:
            merged[source_id] = source
    return list(merged.values())


async def load_sources(settings: Settings, *, use_topic: bool = True) -> list[Source]:
    """What the connector polls: the file, then the topic on top of it (if ``use_topic``)."""
    from_file = load_sources_file(sources_path(settings))
    if not use_topic:
        return from_file
    return merge_sources(from_file, await read_topic_sources(settings))


__all__ = [
    "DEFAULT_SOURCES_PATH", "follow_sources", "load_sources", "load_sources_file", "merge_sources", "publish_source",
    "read_topic_sources", "save_sources_file", "sources_path", "sources_topic",
]
