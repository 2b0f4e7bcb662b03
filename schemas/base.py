"""Shared base classes and field types for every watchfloor message and config document.

Messages on Kafka topics are a public contract: consumers in other languages read them through the
JSON Schema files in ``schemas/json/``. Message models therefore ignore unknown fields (so a newer
producer never breaks an older consumer) and carry an explicit ``schema_version``. Config documents
are written by people, so they forbid unknown fields: a typo is an error, not a silent default.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer

try:
    from schemas import _utc
except ImportError:  # built without a C compiler (setup.py)
    _utc = None

SourceType = Literal["rss", "telegram"]
Severity = Literal["info", "warning", "high", "critical"]
EntityType = Literal["person", "organisation", "place"]

SEVERITY_ORDER: dict[str, int] = {"info": 0, "warning": 1, "high": 2, "critical": 3}

MIN_SECRET_CHARS = 16
"""The shortest secret an operator may set (the desk token, a webhook's signing secret)."""


def py_to_utc(value: datetime) -> datetime:
    """The timestamp in UTC; a naive one is taken as UTC already (twin of ``schemas/_utc.c``)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01T00:00+01:00: no UTC time exists; a ValueError names the field
        raise ValueError("timestamp out of range once converted to UTC") from None


def py_iso_utc(value: datetime) -> str:
    """Always "2026-11-28T17:35:25.123456Z": one spelling, sortable as text, no "+00:00" (twin of
    ``schemas/_utc.c``). The fields formatted with one %: 1.1 µs against 1.8 for
    ``isoformat(timespec=...)`` and 5 for ``strftime``."""
    utc = value if value.tzinfo is timezone.utc else value.astimezone(timezone.utc)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (utc.year, utc.month, utc.day, utc.hour, utc.minute,
                                                    utc.second, utc.microsecond)


# pydantic calls these once per timestamp of every record read or written: in C (~0.1 µs against ~1 µs a
# call) where ``setup.py`` built it, unless ``WATCHFLOOR_NATIVE=0`` (as for the rule engine's C loops).
if _utc is not None and os.environ.get("WATCHFLOOR_NATIVE", "1") != "0":
    to_utc, iso_utc = _utc.to_utc, _utc.iso_utc
else:
    to_utc, iso_utc = py_to_utc, py_iso_utc


UtcDatetime = Annotated[
    datetime,
    AfterValidator(to_utc),
    PlainSerializer(iso_utc, return_type=str, when_used="json"),
]
"""A timestamp normalised to UTC, written as ISO-8601 with a ``Z`` suffix."""


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Message(BaseModel):
    """Base of every message written to a Kafka topic."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    def to_bytes(self) -> bytes:
        # ``model_dump_json`` is this serializer's bytes decoded to str: encoding them again cost a third
        # of the time of writing a classified record.
        return self.__pydantic_serializer__.to_json(self)

    @classmethod
    def from_bytes(cls, data: bytes | str):
        return cls.model_validate_json(data)


class ConfigDocument(BaseModel):
    """Base of every document a person writes (sources, rule packs)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
