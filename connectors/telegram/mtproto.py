"""``TelegramMtprotoSource``: reads a channel through the Telegram API with Telethon (the optional
extra ``watchfloor[telegram]``), for channels whose web preview is off or too slow to follow.

It yields the same ``Post``s as the web adapter (``connectors.telegram.page``) for the same
messages, so both give identical ``Item``s; the mapping rules live in ``connectors.telegram.entities``.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from telethon import TelegramClient
from telethon.errors import FloodWaitError, RPCError
from telethon.sessions import StringSession
from telethon.tl import types

from connectors.base import PollResult
from connectors.errors import BadInput, ConnectorError, FetchError, RetryLater
from connectors.telegram.channel import NoPublicPreview, channel_of
from connectors.telegram.entities import media_kind, message_spans
from connectors.telegram.post import Post, post_to_item
from core.settings import TelegramSettings
from schemas import Source, SourceState
from schemas.base import utcnow

log = logging.getLogger(__name__)


def telethon_client(config: TelegramSettings) -> TelegramClient:
    # flood_sleep_threshold=0: Telethon would otherwise sleep through FloodWaits of up to a minute
    # inside the call, holding one of the loop's slots; we want the error, to reschedule instead.
    return TelegramClient(
        StringSession(config.session.get_secret_value()),
        int(config.api_id.get_secret_value()),
        config.api_hash.get_secret_value(),
        flood_sleep_threshold=0,
        receive_updates=False,
    )


class TelegramMtprotoSource:
    """Polls channels with ``client.iter_messages(entity, limit=…, min_id=…)``.

    Lifecycle: built with its config and a client factory (``telethon_client`` by default; tests
    hand in a fake with Telethon's interface) → the client connects on the first ``poll`` and is
    reused → ``close`` disconnects. Channel entities and forward origins are resolved once and
    cached, since ``get_entity`` by username is itself rate limited by Telegram.

    ``poll`` reads the messages above ``state.cursor - recheck_ids`` (so edits of recent posts come
    back as new revisions), newest first, capped at ``page_size`` × pages; albums are folded into
    one post under their first id, as the web preview shows them. A FloodWait never blocks:
    it becomes ``RetryLater`` with Telegram's seconds, and the loop reschedules only that source.
    """

    source_type = "telegram"

    def __init__(self, config: TelegramSettings,
                 client_factory: Callable[[TelegramSettings], Any] = telethon_client):
        self.config = config
        self._factory = client_factory
        self._client: Any = None
        self._entities: dict[str, Any] = {}
        self._peer_names: dict[tuple[str, int], str | None] = {}

    async def poll(self, source: Source, state: SourceState) -> PollResult:
        channel = channel_of(source)
        try:
            client = await self._connected(source)
            entity = await self._entity(client, source, channel)
            messages = await self._read(client, entity, source, state)
            posts = [await self._post(client, channel, group) for group in _albums(messages)]
        except FloodWaitError as exc:
            raise RetryLater(f"{source.id}: Telegram asks to wait {exc.seconds}s (FloodWait)",
                             float(exc.seconds), kind="flood_wait") from None
        except RPCError as exc:
            raise FetchError(f"{source.id}: Telegram refused the request ({type(exc).__name__})",
                             kind="http_error") from None
        except (ConnectionError, OSError) as exc:
            raise FetchError(f"{source.id}: cannot reach Telegram ({type(exc).__name__})") from None
        fetched_at = utcnow()
        items = [post_to_item(p, source_id=source.id, fetched_at=fetched_at, lang=source.lang)
                 for p in sorted(posts, key=lambda p: p.message_id)]
        highest = max((m.id for m in messages), default=0)
        return PollResult(items=items, cursor=max(highest, state.cursor or 0) or None)

    async def _connected(self, source: Source):
        if self._client is None:
            client = self._factory(self.config)
            await client.connect()
            if not await client.is_user_authorized():
                raise ConnectorError(f"{source.id}: the Telegram session is not authorised; "
                                     "create a new WATCHFLOOR_TELEGRAM_SESSION", kind="http_error")
            self._client = client
            log.info("Connected to Telegram with the configured MTProto session.")
        return self._client

    async def _entity(self, client, source: Source, channel: str):
        key = channel.lower()
        if key not in self._entities:
            try:
                entity = await client.get_entity(channel)
            except ValueError:
                raise NoPublicPreview(f"{source.id}: no public channel is named {channel}") from None
            if not isinstance(entity, types.Channel):
                raise BadInput(f"{source.id}: {channel} is not a channel ({type(entity).__name__})")
            self._entities[key] = entity
            log.info("Resolved Telegram channel %s (id %s) for source %s.", channel, entity.id, source.id)
        return self._entities[key]

    async def _read(self, client, entity, source: Source, state: SourceState) -> list:
        cursor = state.cursor
        pages = source.backfill_pages if cursor is None else self.config.max_pages
        min_id = max(0, cursor - self.config.recheck_ids) if cursor else 0
        return [m async for m in client.iter_messages(entity, limit=pages * self.config.page_size, min_id=min_id)]

    async def _post(self, client, channel: str, group: list) -> Post:
        lead = group[0]
        captioned = next((m for m in group if m.message), lead)
        fwd = lead.fwd_from
        return Post(
            channel=channel.lower(),
            message_id=lead.id,
            published_at=lead.date,
            spans=tuple(message_spans(captioned.message or "", captioned.entities, channel.lower())),
            views=lead.views,
            views_approximate=False,
            forwarded_from=await self._forward_name(client, fwd) if fwd else None,
            forwarded_post=fwd.channel_post if fwd else None,
            reply_to=lead.reply_to_msg_id,
            media_kind=media_kind(lead),
            edited=any(m.edit_date is not None and not m.edit_hide for m in group),
            author=lead.post_author,
        )

    async def _forward_name(self, client, fwd) -> str | None:
        """The origin as the web preview names it: the channel's username (lower case) when it
        has one, else its title or the name the forward header carries."""
        peer = fwd.from_id
        if peer is None:
            return fwd.from_name
        key = (type(peer).__name__, getattr(peer, "channel_id", None) or getattr(peer, "user_id", 0))
        if key not in self._peer_names:
            try:
                origin = await client.get_entity(peer)
            except (ValueError, RPCError) as exc:
                if isinstance(exc, FloodWaitError):
                    raise
                origin = None
            self._peer_names[key] = _display_name(origin)
        return self._peer_names[key] or fwd.from_name

    async def close(self) -> None:
        if self._client is not None:
            result = self._client.disconnect()
            if inspect.isawaitable(result):
                await result
            self._client = None


def _albums(messages: list) -> list[list]:
    """Drop service messages; fold the messages of one album (same ``grouped_id``) together,
    each group sorted by id so its first message leads."""
    groups: dict[object, list] = {}
    for message in messages:
        if isinstance(message, types.MessageService) or getattr(message, "action", None) is not None:
            continue
        key = ("album", message.grouped_id) if message.grouped_id else ("single", message.id)
        groups.setdefault(key, []).append(message)
    return [sorted(group, key=lambda m: m.id) for group in groups.values()]


def _display_name(entity) -> str | None:
    if entity is None:
        return None
    if getattr(entity, "username", None):
        return entity.username.lower()
    if getattr(entity, "title", None):
        return entity.title
    names = [getattr(entity, "first_name", None), getattr(entity, "last_name", None)]
    return " ".join(n for n in names if n) or None
