"""``TelegramAdapter``, the registry's one telegram adapter, and ``make_adapter``, its factory: each
telegram source is served by the adapter its ``Source.adapter`` names (web preview or MTProto)."""

from __future__ import annotations

import logging

import aiohttp

from connectors.base import PollResult, SourceAdapter
from connectors.errors import BadInput, ConnectorError
from connectors.telegram.config import require_credentials
from connectors.telegram.source import TelegramChannelSource
from core.errors import ConfigError
from core.settings import Settings, TelegramSettings
from schemas import Source, SourceState

log = logging.getLogger(__name__)


class TelegramAdapter:
    """The registry's one telegram adapter: each source is polled by the adapter its
    ``Source.adapter`` names. The MTProto adapter is built on first use, so a process without
    Telethon or without credentials still polls its web-preview sources."""

    source_type = "telegram"

    def __init__(self, web: TelegramChannelSource, mtproto: SourceAdapter | None = None,
                 settings: TelegramSettings | None = None):
        self.web = web
        self.settings = settings or web.config
        self._mtproto = mtproto

    async def poll(self, source: Source, state: SourceState) -> PollResult:
        if source.adapter == "mtproto":
            return await self._mtproto_adapter(source).poll(source, state)
        return await self.web.poll(source, state)

    def _mtproto_adapter(self, source: Source) -> SourceAdapter:
        if self._mtproto is None:
            try:
                # Lazy: Telethon is the optional [telegram] extra; web-preview sources run without it.
                from connectors.telegram.mtproto import TelegramMtprotoSource

                self._mtproto = TelegramMtprotoSource(require_credentials(self.settings))
                log.info("Built the MTProto adapter for telegram sources with adapter: mtproto.")
            except ImportError:
                raise ConnectorError(f"{source.id}: the MTProto adapter needs Telethon: "
                                     "pip install 'watchfloor[telegram]'", kind="http_error") from None
            except ConfigError as exc:
                raise BadInput(f"{source.id}: the MTProto adapter is not configured: {exc}") from None
        return self._mtproto

    async def close(self) -> None:
        await self.web.close()
        if self._mtproto is not None:
            await self._mtproto.close()


def make_adapter(session: aiohttp.ClientSession, settings: Settings | None = None) -> TelegramAdapter:
    """Registry factory (``connectors.registry``): the ``telegram`` settings section
    (``WATCHFLOOR_TELEGRAM_*``)."""
    section = settings.telegram if settings is not None else TelegramSettings()
    return TelegramAdapter(TelegramChannelSource(session, section), settings=section)
