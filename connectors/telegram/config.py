"""The Telegram connector's configuration: its settings section (``core.settings.TelegramSettings``,
``WATCHFLOOR_TELEGRAM_*``) turned into the limits of one preview fetch, and the check that the
MTProto credentials are there before the adapter is built. Nothing here writes a secret anywhere."""

from __future__ import annotations

from connectors.http import FetchLimits
from core.errors import ConfigError
from core.settings import TelegramSettings

ENV_PREFIX = "WATCHFLOOR_TELEGRAM_"


def web_limits(config: TelegramSettings) -> FetchLimits:
    return FetchLimits(deadline_secs=config.request_timeout_secs, max_body_bytes=config.max_body_bytes)


def require_credentials(config: TelegramSettings) -> TelegramSettings:
    """``config`` if it carries every MTProto credential, else ``ConfigError`` naming the variable."""
    for name in ("api_id", "api_hash", "session"):
        if getattr(config, name) is None:
            raise ConfigError(f"invalid setting {ENV_PREFIX}{name.upper()}: required by sources with adapter: mtproto")
    return config
