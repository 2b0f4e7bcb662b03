"""``WebhookConfig``: the webhook endpoints of the alert desk, written by people in a YAML file
(``WATCHFLOOR_WEBHOOKS_PATH``).

The file never holds a secret: each endpoint names the environment variable that does
(``secret_env``), so the file can be committed and the secret stays in the deployment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from schemas.base import MIN_SECRET_CHARS, ConfigDocument, Severity


class WebhookEndpoint(ConfigDocument):
    """One receiver of alerts. ``name`` keys the delivery log: renaming an endpoint makes it a new
    one (it gets only alerts stored after the rename); changing its URL keeps its history."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                      description="Stable id of the endpoint, used in the delivery log and in logs.")
    url: str = Field(description="http(s) URL the alert JSON is POSTed to.")
    secret_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                            description="Name of the environment variable holding the HMAC secret.")
    min_severity: Severity = Field("info", description="Only alerts of this severity or above.")
    themes: list[str] = Field(default_factory=list, description="Only alerts with one of these themes (empty: any).")
    entities: list[str] = Field(
        default_factory=list, description="Only alerts naming one of these entities, by id or name (empty: any).")
    sources: list[str] = Field(default_factory=list, description="Only alerts from these source ids (empty: any).")
    max_attempts: int = Field(6, ge=1, le=50, description="Attempts before a delivery is given up as failed.")
    backoff_initial_secs: float = Field(1.0, gt=0, le=3600, description="Wait before the first retry; doubles each retry.")
    backoff_max_secs: float = Field(300.0, gt=0, le=86400, description="Longest wait between two attempts.")
    timeout_secs: float = Field(10.0, gt=0, le=300, description="Timeout of one POST, connection included.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an absolute http or https URL")
        return value

    def secret(self, environ: Mapping[str, str] = os.environ) -> SecretStr:
        """The HMAC key, read from ``secret_env``; a missing or empty variable is a ``ValueError``
        that names the endpoint and the variable (never the value)."""
        value = environ.get(self.secret_env, "")
        if not value:
            raise ValueError(f"webhook {self.name}: environment variable {self.secret_env} is not set or empty")
        if len(value) < MIN_SECRET_CHARS:
            raise ValueError(f"webhook {self.name}: the secret in {self.secret_env} must be at least "
                             f"{MIN_SECRET_CHARS} characters")
        return SecretStr(value)


class WebhookConfig(ConfigDocument):
    """The webhooks file: ``webhooks: [ {name, url, secret_env, ...filters}, ... ]``."""

    schema_version: Literal[1] = 1
    webhooks: list[WebhookEndpoint] = Field(default_factory=list)

    @field_validator("webhooks")
    @classmethod
    def _unique_names(cls, value: list[WebhookEndpoint]) -> list[WebhookEndpoint]:
        names = [endpoint.name for endpoint in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"endpoint names must be unique; repeated: {', '.join(duplicates)}")
        return value
