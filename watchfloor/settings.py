"""Process settings: environment variables prefixed ``WATCHFLOOR_``, then ``watchfloor.yaml``.

An invalid value stops start-up with one line naming the field and the reason (``load_settings``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from schemas.story import SurgeSettings
from watchfloor.errors import ConfigError

CONFIG_FILE_ENV = "WATCHFLOOR_CONFIG"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="WATCHFLOOR_", extra="forbid", frozen=True, yaml_file="watchfloor.yaml"
    )

    kafka_bootstrap: str | None = Field(
        None, description="Kafka bootstrap servers (host:port,...). Unset: start the embedded broker."
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="Security protocol for a real cluster."
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        None, description="SASL mechanism, when the protocol is SASL_*."
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(None, description="SASL password (never logged).")
    kafka_ssl_cafile: Path | None = Field(None, description="CA bundle for SSL/SASL_SSL.")
    kafka_idempotence: Literal["auto", "on", "off"] = Field(
        "auto", description="Idempotent producers: auto uses them where the cluster grants a producer id."
    )
    embedded_kafka_host: str = Field("127.0.0.1", description="Address the embedded broker binds.")
    embedded_kafka_port: int = Field(9092, ge=0, le=65535, description="Port of the embedded broker; 0 picks a free one.")
    topic_prefix: str = Field("watchfloor.", description="Prefix of every topic name.")
    topic_partitions: int = Field(4, ge=1, le=1024, description="Partitions of the partitioned topics.")
    replication_factor: int = Field(1, ge=1, le=16, description="Replication factor for created topics.")
    data_dir: Path = Field(Path(".data"), description="Where the worker keeps tables and the alert store.")
    sources_path: Path | None = Field(None, description="YAML file of sources; unset: the shipped default list.")
    rules_path: Path | None = Field(None, description="Rule pack directory or file; unset: the shipped pack.")
    web_host: str = Field("127.0.0.1", description="Address of the web server (desk, Atom, metrics).")
    web_port: int = Field(6066, ge=0, le=65535, description="Port of the web server.")
    web_token: SecretStr | None = Field(None, description="Bearer token required by the desk, if set.")
    webhooks_path: Path | None = Field(None, description="YAML file of webhook endpoints (schemas.WebhookConfig); unset: none.")
    alert_cooldown_secs: float = Field(
        300.0, ge=0, description="Window per trigger and entity in which further alerts are folded into a count; 0 disables."
    )
    story_grouping: bool = Field(
        True, description="Group near-duplicate items into stories: one alert per story and trigger, then updates.")
    story_window_secs: float = Field(
        48 * 3600.0, gt=0, description="A story not seen for this long is forgotten; a later copy opens a new one.")
    story_min_similarity: float = Field(
        0.3, ge=0, le=1, description="Estimated Jaccard similarity (word 3-grams) for two items to be one story.")
    story_update_milestones: list[int] = Field(
        [2, 3, 5, 10, 20, 50, 100, 200, 500, 1000],
        description="Source counts at which a story raises an update alert.")
    alert_ledger_max_ids: int = Field(
        200_000, ge=1, description="Alert ids the ledger remembers (besides its 7-day horizon), oldest out first; "
        "an evicted id can re-alert only if its item comes back after that many newer alerts.")
    alert_ledger_max_windows: int = Field(
        10_000, ge=1, description="Cooldown windows (trigger × entity) kept, the longest-open out first; an evicted "
        "window loses its folded count.")
    story_index_max_buckets: int = Field(
        200_000, ge=1, description="Band buckets each story-index partition keeps (besides story_window_secs), least "
        "recently seen out first, with their stories' signatures; ~250 bytes each.")
    story_book_max_entries: int = Field(
        50_000, ge=1, description="Stories whose sources are counted (besides story_window_secs), least recently "
        "seen out first; an evicted story counts its sources afresh.")
    surge: SurgeSettings = Field(
        default_factory=SurgeSettings, description="Surge detection thresholds: defaults and per-theme overrides.")
    worker_metrics_port: int = Field(
        9108, ge=-1, le=65535, description="Port of the worker's /metrics; 0 picks a free port, -1 disables."
    )
    connect_metrics_port: int = Field(
        9109, ge=-1, le=65535, description="Port of the connector's /metrics; 0 picks a free port, -1 disables.")
    connect_max_concurrency: int = Field(
        8, ge=1, le=256, description="Sources the connector fetches at the same time, over all types.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = os.environ.get(CONFIG_FILE_ENV, "watchfloor.yaml")
        return (init_settings, env_settings, YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))

    def topic(self, suffix: str) -> str:
        return f"{self.topic_prefix}{suffix}"


def describe_validation_error(exc: ValidationError, prefix: str = "") -> str:
    """One line: the first offending field and why (the rest counted)."""
    errors = exc.errors()
    first = errors[0]
    field = ".".join(str(p) for p in first["loc"]) or "(document)"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{prefix}{field}: {first['msg']}{more}"


def load_settings(**overrides) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "(settings)"
        value = first.get("input")
        shown = "" if "password" in field or "token" in field else f" (got {value!r})"
        raise ConfigError(
            f"invalid setting WATCHFLOOR_{field.upper()}: {first['msg']}{shown}"
        ) from None
