"""Live fan-out of desk events to the browsers connected to ``/events`` (server-sent events)."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from desk.store import StoredAlert

log = logging.getLogger(__name__)

MAX_QUEUE = 1000


@dataclass(frozen=True)
class DeskEvent:
    kind: str
    """``alert`` (carries an SSE id: the store seq) or ``ack`` (no id, so a reconnect's
    Last-Event-ID still names the last alert seen)."""
    stored: StoredAlert

    def encode(self) -> bytes:
        return sse_event(self.kind, self.stored.to_json(), self.stored.seq if self.kind == "alert" else None)


_CLOSE = object()


def sse_event(event: str, data: dict, event_id: int | None = None) -> bytes:
    # json.dumps without indent writes one line, so one "data:" field holds the whole payload;
    # its escaping keeps any CR/LF from the feed from ending the event early.
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return ("\n".join(lines) + "\n\n").encode("utf-8")


class Subscription:
    """One connected client's queue. ``overflowed`` is set when the client fell more than
    ``MAX_QUEUE`` events behind: it is then disconnected, and its browser reconnects with
    Last-Event-ID and catches up from the store, so a stalled tab never grows memory."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue = asyncio.Queue(MAX_QUEUE)
        self.overflowed = False

    async def next(self, timeout_secs: float) -> DeskEvent | None:
        """The next event; None at the timeout (time for a keep-alive); raises ``EOFError`` once
        the hub closed or this client overflowed."""
        try:
            item = await asyncio.wait_for(self.queue.get(), timeout_secs)
        except TimeoutError:
            return None
        if item is _CLOSE:
            raise EOFError
        return item


class LiveHub:
    """Publishes alert and acknowledgement events to every subscription; ``close`` ends them all
    (on shutdown, so the web server does not wait on open streams)."""

    def __init__(self) -> None:
        self._subs: set[Subscription] = set()

    def __len__(self) -> int:
        return len(self._subs)

    def subscribe(self) -> Subscription:
        sub = Subscription()
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)

    def publish(self, kind: str, items: list[StoredAlert]) -> None:
        for sub in list(self._subs):
            for stored in items:
                if not self._offer(sub, DeskEvent(kind, stored)):
                    break

    def _offer(self, sub: Subscription, event: object) -> bool:
        if sub.overflowed:
            return False
        try:
            sub.queue.put_nowait(event)
            return True
        except asyncio.QueueFull:
            log.warning("A live desk client fell %d events behind; disconnecting it so it resumes from the store.",
                        MAX_QUEUE)
            sub.overflowed = True
            sub.queue.get_nowait()  # make room for the close marker
            sub.queue.put_nowait(_CLOSE)
            return False

    def close(self) -> None:
        for sub in list(self._subs):
            if not sub.overflowed:
                while sub.queue.full():
                    sub.queue.get_nowait()
                sub.queue.put_nowait(_CLOSE)
        self._subs.clear()
