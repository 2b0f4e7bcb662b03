"""A stand-in for ``telethon.TelegramClient`` (MTProto cannot run here): the same method names and
signatures the adapter calls, serving real ``telethon.tl.types`` objects, and the fixture channel's
posts written as Telegram's API holds them (text plus entities with UTF-16 offsets)."""

from __future__ import annotations

from datetime import datetime, timezone

from telethon.errors import FloodWaitError
from telethon.tl import types

CHANNEL_ID = 100123
ORIGIN_ID = 777


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def u16(text: str, piece: str, start: int = 0) -> tuple[int, int]:
    """(offset, length) of ``piece`` in ``text`` in UTF-16 code units, as Telegram counts."""
    at = text.index(piece, start)
    return len(text[:at].encode("utf-16-le")) // 2, len(piece.encode("utf-16-le")) // 2


def channel(cid: int, username: str | None, title: str) -> types.Channel:
    return types.Channel(id=cid, title=title, photo=types.ChatPhotoEmpty(), date=utc(2026, 1, 1),
                         broadcast=True, access_hash=cid * 7, username=username)


def message(mid: int, date: datetime, text: str = "", entities=None, **extra) -> types.Message:
    return types.Message(id=mid, peer_id=types.PeerChannel(CHANNEL_ID), date=date, message=text,
                         entities=entities, post=True, **extra)


def entity(kind, text: str, piece: str, **extra):
    offset, length = u16(text, piece)
    return kind(offset=offset, length=length, **extra)


class FakeTelegramClient:
    """Follows ``TelegramClient``: ``connect``, ``is_user_authorized``, ``get_entity(entity)``
    (username or peer; ``ValueError`` for an unknown username, as Telethon raises),
    ``iter_messages(entity, limit=None, *, min_id=0, …)`` yielding newest first, and
    ``disconnect``. ``flood_seconds`` makes the next ``iter_messages`` raise ``FloodWaitError``."""

    def __init__(self, history: list, channels: dict[str, types.Channel], authorised: bool = True):
        self.history = history
        self.channels = channels
        self.authorised = authorised
        self.flood_seconds: int | None = None
        self.calls: list[tuple] = []
        self.connected = False

    async def connect(self) -> None:
        self.connected = True

    async def is_user_authorized(self) -> bool:
        return self.authorised

    async def get_entity(self, entity):
        self.calls.append(("get_entity", entity))
        if isinstance(entity, types.PeerChannel):
            for known in self.channels.values():
                if known.id == entity.channel_id:
                    return known
            raise ValueError(f"Could not find the input entity for {entity!r}")
        found = self.channels.get(str(entity).lstrip("@").lower())
        if found is None:
            raise ValueError(f'No user has "{entity}" as username')
        return found

    def iter_messages(self, entity, limit: float = None, *, offset_date=None, offset_id: int = 0,
                      max_id: int = 0, min_id: int = 0, add_offset: int = 0, search: str = None,
                      filter=None, from_user=None, wait_time: float = None, ids=None,
                      reverse: bool = False, reply_to: int = None, scheduled: bool = False):
        self.calls.append(("iter_messages", entity.username, limit, min_id))
        return self._iterate(limit, min_id)

    async def _iterate(self, limit, min_id: int):
        if self.flood_seconds is not None:
            raise FloodWaitError(request=None, capture=self.flood_seconds)
        newest_first = sorted((m for m in self.history if m.id > min_id), key=lambda m: -m.id)
        for m in newest_first[: int(limit) if limit is not None else None]:
            yield m

    async def disconnect(self) -> None:
        self.connected = False


def fixture_history() -> list:
    """Messages 112-120 of ``somechannel_page1.html`` as the API returns them."""
    t112 = "Срочно: в Херсонской области объявлена эвакуация.\n\nПодробности в докладе.\n#Херсон"
    t113 = "Зеленський провів нараду щодо енергетики.\nУкренерго попереджає про відключення у Харкові."
    t115 = "🇪🇺 Sanctions package adopted: 14 entities listed, see the full list."
    t117 = "Обновление: эвакуация продлена до пятницы 🙏\nБерегите себя ❤️"
    t118 = "Footage from the briefing in Kyiv.\nNot verified yet, rumours denied by MoD."
    t120 = "Джерело: @ukrpravda_news, деталі на pravda.com.ua/news/1"
    photo = types.Photo(id=1, access_hash=1, file_reference=b"", date=utc(2026, 11, 20), sizes=[], dc_id=2)
    video = types.Document(id=2, access_hash=2, file_reference=b"", date=utc(2026, 11, 20), mime_type="video/mp4",
                           size=1000, dc_id=2, attributes=[types.DocumentAttributeVideo(duration=42, w=720, h=405)])
    poll = types.Poll(id=3, question=types.TextWithEntities("Чи підтримуєте ви проведення референдуму?", []),
                      answers=[types.PollAnswer(types.TextWithEntities("Так", []), b"0"),
                               types.PollAnswer(types.TextWithEntities("Ні", []), b"1")], hash=0)
    return [
        message(112, utc(2026, 11, 20, 8, 15), t112, views=1234, entities=[
            entity(types.MessageEntityBold, t112, "Срочно:"),
            entity(types.MessageEntityTextUrl, t112, "докладе", url="https://example.org/ru/evac?id=5&lang=ru"),
            entity(types.MessageEntityHashtag, t112, "#Херсон")]),
        message(113, utc(2026, 11, 20, 9, 2, 11), t113, views=15321, fwd_from=types.MessageFwdHeader(
            date=utc(2026, 11, 20, 8, 0), from_id=types.PeerChannel(ORIGIN_ID), channel_post=4321)),
        types.MessageService(id=114, peer_id=types.PeerChannel(CHANNEL_ID), date=utc(2026, 11, 20, 9, 5),
                             action=types.MessageActionPinMessage(), post=True),
        message(115, utc(2026, 11, 20, 10, 30), t115, views=987, edit_date=utc(2026, 11, 20, 10, 40), entities=[
            entity(types.MessageEntityTextUrl, t115, "the full list", url="https://example.com/list")]),
        message(116, utc(2026, 11, 20, 11, 0), "", views=2400, media=types.MessageMediaPhoto(photo=photo)),
        message(117, utc(2026, 11, 20, 12, 45, 30), t117, views=4000,
                reply_to=types.MessageReplyHeader(reply_to_msg_id=112),
                entities=[entity(types.MessageEntityCustomEmoji, t117, "❤️", document_id=5368324170671202286)]),
        message(118, utc(2026, 11, 20, 14, 0), t118, views=6_712_345, post_author="Jane Doe",
                media=types.MessageMediaDocument(document=video, video=True), entities=[
                    entity(types.MessageEntityItalic, t118, "Not verified yet"),
                    entity(types.MessageEntityStrike, t118, "rumours"),
                    entity(types.MessageEntityUnderline, t118, "denied"),
                    entity(types.MessageEntityCode, t118, "MoD")]),
        message(119, utc(2026, 11, 20, 15, 10), "", views=3120,
                media=types.MessageMediaPoll(poll=poll, results=types.PollResults())),
        message(120, utc(2026, 11, 20, 16, 20), t120, views=3, entities=[
            entity(types.MessageEntityMention, t120, "@ukrpravda_news"),
            entity(types.MessageEntityUrl, t120, "pravda.com.ua/news/1")]),
    ]


def fixture_client(history: list | None = None) -> FakeTelegramClient:
    return FakeTelegramClient(history if history is not None else fixture_history(), {
        "somechannel": channel(CHANNEL_ID, "SomeChannel", "Some Channel"),
        "ukrpravda_news": channel(ORIGIN_ID, "ukrpravda_news", "Українська правда"),
    })
