"""Settings of the Telegram connector: the web-preview knobs, and the MTProto credentials.

Both read the environment (``WATCHFLOOR_TELEGRAM_*``) so that an operator tunes them without a
file. The MTProto credentials are ``SecretStr``: their ``repr`` and ``str`` are masked, so they
never reach a log line or an error message, and nothing here writes them anywhere.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.http import FetchLimits
from watchfloor.errors import ConfigError

ENV_PREFIX = "WATCHFLOOR_TELEGRAM_"


class TelegramWebConfig(BaseSettings):
    """How the web-preview adapter fetches ``{base_url}/s/{channel}`` pages."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    max_pages: int = Field(5, ge=1, le=100, description="Pages read backwards per poll once a cursor exists.")
    request_timeout_secs: float = Field(20.0, gt=0, description="Deadline of one page fetch, body included.")
    max_body_bytes: int = Field(3 * 1024 * 1024, gt=0, description="Largest page accepted (after decompression).")
    host_min_interval_secs: float = Field(
        1.0, ge=0, description="Least time between two requests to one host (t.me answers floods with 429)."
    )
    host_jitter_secs: float = Field(0.5, ge=0, description="Random extra delay added to each host interval.")
    max_host_wait_secs: float = Field(
        10.0, ge=0, description="A poll that would wait longer than this for its host slot is rescheduled instead."
    )

    def limits(self) -> FetchLimits:
        return FetchLimits(deadline_secs=self.request_timeout_secs, max_body_bytes=self.max_body_bytes)


class TelegramMtprotoConfig(BaseSettings):
    """Credentials and paging of the MTProto (Telethon) adapter; all secrets come from the environment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    api_id: SecretStr = Field(description="my.telegram.org api_id (digits).")
    api_hash: SecretStr = Field(description="my.telegram.org api_hash.")
    session: SecretStr = Field(description="Telethon StringSession of an authorised account.")
    page_size: int = Field(20, ge=1, le=100, description="Messages counted as one page (the preview shows ~20).")
    max_pages: int = Field(5, ge=1, le=100, description="Pages read per poll once a cursor exists.")
    recheck_ids: int = Field(
        20, ge=0, le=1000, description="Ids below the cursor read again each poll, so recent edits are seen."
    )

    @field_validator("api_id")
    @classmethod
    def _digits(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip().isdigit():
            raise ValueError("must be the numeric api_id")
        return value


def load_mtproto_config(**overrides) -> TelegramMtprotoConfig:
    """The MTProto config from the environment, or ``ConfigError`` naming the variable (never its value)."""
    try:
        return TelegramMtprotoConfig(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]).upper() if first["loc"] else "(settings)"
        raise ConfigError(f"invalid setting {ENV_PREFIX}{field}: {first['msg']}") from None
