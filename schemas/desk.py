"""``DeskAction``: one thing a person did to an alert on a desk (``watchfloor.desk-actions.v1``).

Every desk process writes the actions taken on it to that topic and follows it, so several desk
processes (one per room, or several behind a load balancer) show the same acknowledgements,
assignments, snoozes, resolutions and notes. An alert's desk state is a pure function of its actions,
replayed in ``(at, action_id)`` order, so every desk that has the same actions shows the same state,
whatever order they arrived in.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from schemas.base import Message, UtcDatetime

ActionKind = Literal["ack", "assign", "snooze", "resolve", "reopen", "note", "not_relevant"]

MAX_NOTE_CHARS = 2000
MAX_BY_CHARS = 80


class DeskAction(Message):
    """Keyed by ``action_id`` on a compacted topic: every action is kept, and one written twice (a
    retry after a broker error) is still one action."""

    schema_version: Literal[1] = 1
    action_id: str = Field(min_length=8, max_length=64, description="Unique id of this action (a UUID).")
    alert_id: str = Field(min_length=1, max_length=200, description="The alert acted on.")
    action: ActionKind = Field(description=(
        "ack: seen, someone is on it; assign: ``value`` names the assignee (empty unassigns); "
        "snooze: hidden until ``until`` (none wakes it now); resolve: done; reopen: back to open; "
        "note: ``value`` is the note; not_relevant: the alert should not have fired (a labelled example)."))
    by: str | None = Field(None, max_length=MAX_BY_CHARS, description="Who did it, as they named themselves.")
    at: UtcDatetime = Field(description="When, by the clock of the desk process that took it.")
    value: str | None = Field(None, max_length=MAX_NOTE_CHARS, description="Assignee or note text.")
    until: UtcDatetime | None = Field(None, description="End of a snooze.")
    desk: str | None = Field(None, max_length=120, description="The desk process that took it (host:port).")

    @model_validator(mode="after")
    def _check(self) -> DeskAction:
        if self.action == "note" and not (self.value or "").strip():
            raise ValueError("a note needs 'value'")
        if self.action == "assign" and len(self.value or "") > MAX_BY_CHARS:
            raise ValueError(f"an assignee has at most {MAX_BY_CHARS} characters")
        if self.action not in ("assign", "note") and self.value is not None:
            raise ValueError(f"'{self.action}' takes no 'value'")
        if self.action != "snooze" and self.until is not None:
            raise ValueError(f"'{self.action}' takes no 'until'")
        return self
