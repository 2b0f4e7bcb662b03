"""Dead letters: a record that cannot be processed goes to ``watchfloor.deadletter.v1`` with its
original key and bytes, and the reason, the stage and its origin in headers, so an operator can
inspect or replay it. The stage that hit it goes on with the next record."""

from __future__ import annotations

from dataclasses import dataclass

from core.kafka import cloudevent_headers
from core.settings import describe_validation_error as one_line

# Short, fixed reason labels (metric label values); the full message goes into a header.
REASONS = ("undecodable", "invalid", "unsupported_version", "processing_error")


@dataclass(frozen=True)
class DeadLetter:
    stage: str
    reason: str
    detail: str
    origin_topic: str
    origin_partition: int
    origin_offset: int
    key: bytes | None
    value: bytes | None

    def headers(self) -> list[tuple[str, bytes]]:
        extra = {
            "wf_stage": self.stage,
            "wf_reason": self.reason,
            "wf_error": self.detail[:1000],
            "wf_origin_topic": self.origin_topic,
            "wf_origin_partition": str(self.origin_partition),
            "wf_origin_offset": str(self.origin_offset),
        }
        return cloudevent_headers("watchfloor.DeadLetter.v1") + [(k, v.encode("utf-8")) for k, v in extra.items()]


def dead_letter_for(record, stage: str, reason: str, detail: str) -> DeadLetter:
    """Build a dead letter from an aiokafka ``ConsumerRecord``."""
    return DeadLetter(
        stage=stage, reason=reason, detail=detail, origin_topic=record.topic,
        origin_partition=record.partition, origin_offset=record.offset, key=record.key, value=record.value,
    )


def describe_validation_error(exc) -> tuple[str, str]:
    """(reason label, one-line detail) for a pydantic ValidationError raised while decoding."""
    first = exc.errors()[0]
    if first.get("type") == "json_invalid":
        return "undecodable", f"not JSON: {first.get('msg')}"
    if tuple(first.get("loc", ())) == ("schema_version",):
        return "unsupported_version", f"schema_version: {first.get('msg')}"
    return "invalid", one_line(exc)
