"""The configured sources: a YAML file (``WATCHFLOOR_SOURCES_PATH``, else the shipped list) and the
compacted ``watchfloor.sources.v1`` topic, where an entry with the same id overrides the file and a
tombstone removes a source added there.

File format::

    sources:
      - {id: bbc-world, type: rss, url: "https://feeds.bbci.co.uk/news/world/rss.xml"}
      - {id: zelenskiy, type: telegram, channel: V_Zelenskiy_official}
"""

from __future__ import annotations

import logging
from pathlib import Path

import yaml
from pydantic import ValidationError

from connectors.state import read_topic_to_end
from core.errors import ConfigError
from core.kafka import ce_type_for, cloudevent_headers, start_producer
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
        if value is None:
            found[key] = None
            continue
        try:
            source = Source.model_validate_json(value)
        except ValidationError as exc:
            log.warning("Skipped an invalid source at %s: %s.", where, describe_validation_error(exc))
            continue
        found[source.id] = source
    return found


async def publish_source(settings: Settings, source_id: str, source: Source | None) -> None:
    """Put ``source`` on the sources topic (None: a tombstone that removes it); waits for the ack."""
    producer = await start_producer(settings)
    try:
        value = source.model_dump_json().encode("utf-8") if source is not None else None
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
    "DEFAULT_SOURCES_PATH", "load_sources", "load_sources_file", "merge_sources", "publish_source",
    "read_topic_sources", "save_sources_file", "sources_path", "sources_topic",
]
