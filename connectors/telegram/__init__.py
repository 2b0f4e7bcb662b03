"""Telegram channel connector: the public web preview (``TelegramChannelSource``, no credentials)
and MTProto through Telethon (``connectors.telegram.mtproto``, the ``[telegram]`` extra), both
producing identical ``Item``s for the same post; ``TelegramAdapter`` serves each source with the one
it names."""

from connectors.telegram.adapter import TelegramAdapter, make_adapter
from connectors.telegram.channel import NoPublicPreview
from connectors.telegram.post import Post, item_id_for, post_to_item
from connectors.telegram.source import TelegramChannelSource

__all__ = [
    "NoPublicPreview", "Post", "TelegramAdapter", "TelegramChannelSource", "item_id_for", "make_adapter",
    "post_to_item",
]
