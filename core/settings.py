"""Process settings: environment variables prefixed ``WATCHFLOOR_``, then ``watchfloor.yaml``.

An invalid value stops start-up with one line naming the field and the reason (``load_settings``).
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from core.errors import ConfigError
from schemas.base import MIN_SECRET_CHARS
from schemas.story import SurgeSettings

CONFIG_FILE_ENV = "WATCHFLOOR_CONFIG"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """A loopback name or address (``localhost``, 127.0.0.0/8, ::1). A name that only starts with
    "127." is not one: ``127.0.0.1.rebind.example`` resolves wherever its owner likes."""
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Section(BaseModel):
    """A group of settings read as ``WATCHFLOOR_<SECTION>_<FIELD>`` or a mapping under ``<section>:``
    in ``watchfloor.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class RssSettings(Section):
    """Limits applied to every feed fetch; defaults suit public news feeds."""

    request_deadline_secs: float = Field(30.0, gt=0, description="Total time allowed for one fetch, body included.")
    max_body_bytes: int = Field(5 * 1024 * 1024, gt=0, description="Largest feed body accepted, after decompression.")
    max_redirects: int = Field(5, ge=0, le=20, description="Redirect hops followed before giving up.")
    default_retry_after_secs: float = Field(
        300.0, gt=0, description="Wait after a 429/503 that carries no usable Retry-After.")
    host_max_in_flight: int = Field(
        2, ge=1, description="Feed requests in flight to one host at a time, shared by every source on it.")
    host_min_interval_secs: float = Field(
        0.5, ge=0, description="Least time between the starts of two feed requests to one host.")
    host_jitter_secs: float = Field(0.25, ge=0, description="Random extra delay added to each host interval.")
    max_host_wait_secs: float = Field(
        10.0, ge=0, description="A poll that would wait longer than this for its host's next slot is rescheduled.")
    host_limits: dict[str, PositiveInt] = Field(
        default_factory=dict, description="Requests in flight allowed per host name, overriding host_max_in_flight "
        '(JSON, e.g. {"feeds.bbci.co.uk": 4}).')


class TelegramSettings(Section):
    """The web-preview adapter's fetches of ``{base_url}/s/{channel}``, and the MTProto (Telethon)
    adapter's credentials and paging. The credentials are ``SecretStr``: masked in ``repr`` and
    ``str``, so they never reach a log line or an error message."""

    max_pages: int = Field(5, ge=1, le=100, description="Pages read backwards per poll once a cursor exists.")
    request_timeout_secs: float = Field(20.0, gt=0, description="Deadline of one preview page fetch, body included.")
    max_body_bytes: int = Field(3 * 1024 * 1024, gt=0, description="Largest preview page accepted (after decompression).")
    host_min_interval_secs: float = Field(
        1.0, ge=0, description="Least time between two requests to one host (t.me answers floods with 429).")
    host_jitter_secs: float = Field(0.5, ge=0, description="Random extra delay added to each host interval.")
    max_host_wait_secs: float = Field(
        10.0, ge=0, description="A poll that would wait longer than this for its host slot is rescheduled instead.")
    api_id: SecretStr | None = Field(None, description="MTProto: my.telegram.org api_id (digits; never logged).")
    api_hash: SecretStr | None = Field(None, description="MTProto: my.telegram.org api_hash (never logged).")
    session: SecretStr | None = Field(None, description="MTProto: Telethon StringSession of an authorised account (never logged).")
    page_size: int = Field(20, ge=1, le=100, description="MTProto: messages counted as one page (the preview shows ~20).")
    recheck_ids: int = Field(
        20, ge=0, le=1000, description="MTProto: ids below the cursor read again each poll, so recent edits are seen.")

    @field_validator("api_id")
    @classmethod
    def _digits(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip().isdigit():
            raise ValueError("must be the numeric api_id")
        return value


class PollingSettings(Section):
    """Scheduling knobs of the one polling loop every connector runs in."""

    backoff_base_secs: float = Field(30.0, gt=0, description="First wait after a failed poll; doubles per failure, with full jitter.")
    backoff_max_secs: float = Field(6 * 3600.0, gt=0, description="Longest wait after repeated failures.")
    max_retry_after_secs: float = Field(24 * 3600.0, gt=0, description="Longest Retry-After honoured.")
    recent_items_max: int = Field(500, ge=1, description="Item ids remembered per source to recognise what was already emitted.")
    stop_grace_secs: float = Field(5.0, ge=0, description="Time in-flight polls get to finish on stop before they are cancelled.")
    adaptive_start_secs: float = Field(300.0, gt=0, description="Adaptive schedule: the interval before a source's cadence is known.")
    adaptive_min_secs: float = Field(90.0, gt=0, description="Adaptive schedule: the shortest interval, unless the source sets its own.")
    adaptive_max_secs: float = Field(900.0, gt=0, description="Adaptive schedule: the longest interval, unless the source sets its own.")
    adaptive_jitter: float = Field(0.1, ge=0, lt=1, description="Adaptive schedule: each interval is moved by up to this share, up or down.")
    adaptive_chance: float = Field(
        0.06, gt=0, lt=1, description="Adaptive schedule: poll again when the chance that the source published "
        "since the last poll reaches this share (from the gaps between its items).")


class WebSubSettings(Section):
    """WebSub push for RSS/Atom sources (``connectors/websub.py``): off unless ``callback_url`` is set.

    Hubs reach this connector process at ``callback_url`` (a reverse proxy or a public address routes it
    to ``host``:``port`` with the path unchanged); each subscription's secret is derived from ``secret``,
    so nothing secret is stored on a topic."""

    callback_url: str | None = Field(
        None, description="Public base URL at which hubs reach this process's WebSub callback (http or https, "
        "no query); unset: WebSub is off. Each connector process needs its own.")
    host: str = Field("127.0.0.1", description="Address the WebSub callback server binds.")
    port: int = Field(9111, ge=0, le=65535, description="Port of the WebSub callback server; 0 picks a free one.")
    secret: SecretStr | None = Field(
        None, description=f"Master secret the per-subscription hub.secret values are derived from; at least "
        f"{MIN_SECRET_CHARS} characters, required with callback_url (never logged).")
    lease_secs: int = Field(
        86400, ge=1, le=30 * 86400, description="Lease asked of hubs, in seconds; renewed at 80 %.")
    max_body_bytes: int = Field(
        5 * 1024 * 1024, gt=0, description="Largest pushed body accepted; a larger one is refused with 413.")

    @field_validator("callback_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http or https URL with a host name")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("must carry no query, fragment or user name (hubs append the subscription path)")
        return value.strip().rstrip("/")

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < MIN_SECRET_CHARS:
            raise ValueError(f"must be at least {MIN_SECRET_CHARS} characters")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="WATCHFLOOR_", extra="forbid", frozen=True, yaml_file="watchfloor.yaml",
        # WATCHFLOOR_TELEGRAM_MAX_PAGES → telegram.max_pages; flat names such as KAFKA_BOOTSTRAP name no
        # section and stay whole.
        env_nested_delimiter="_", env_nested_max_split=1,
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
    kafka_session_timeout_ms: int = Field(
        10_000, ge=6_000, le=300_000, description="How long a worker or desk may go silent before its consumer group "
        "hands its partitions to the others. The embedded broker also holds every group join for half of it.")
    embedded_kafka_host: str = Field("127.0.0.1", description="Address the embedded broker binds.")
    embedded_kafka_port: int = Field(9092, ge=0, le=65535, description="Port of the embedded broker; 0 picks a free one.")
    topic_prefix: str = Field("watchfloor.", description="Prefix of every topic name.")
    topic_partitions: int = Field(4, ge=1, le=1024, description="Partitions of the partitioned topics.")
    replication_factor: int = Field(1, ge=1, le=16, description="Replication factor for created topics.")
    data_dir: Path = Field(Path(".data"), description="Where the worker keeps tables and the alert store.")
    fetch_allowed_networks: list[str] = Field(
        [], description="Networks (CIDR) and host names that feed fetches and webhooks may reach besides public "
        "addresses: internal feeds, local test servers (JSON list, e.g. [\"10.2.0.0/16\", \"feeds.internal\"]).")
    sources_path: Path | None = Field(None, description="YAML file of sources; unset: the shipped default list.")
    rules_path: Path | None = Field(None, description="Rule pack directory or file; unset: the shipped pack.")
    web_host: str = Field("127.0.0.1", description="Address of the web server (desk, Atom, metrics).")
    web_port: int = Field(6066, ge=0, le=65535, description="Port of the web server.")
    web_token: SecretStr | None = Field(
        None, description=f"Bearer token required by the desk, if set; at least {MIN_SECRET_CHARS} characters.")
    web_allowed_hosts: list[str] = Field(
        [], description="Host names the desk answers besides loopback names and web_host (the names a browser "
        "uses to reach it); any other Host header is refused, against DNS rebinding.")
    web_trusted_network: bool = Field(
        False, description="Allow binding web_host (desk and /metrics) to a non-loopback address without a desk "
        "token: say so only where nobody untrusted can reach the port.")
    web_trusted_proxy: bool = Field(
        False, description="The desk sits behind a reverse proxy: take the scheme and host from its "
        "X-Forwarded-Proto / X-Forwarded-Host / Forwarded headers (Secure cookie, Origin check).")
    desk_retention_days: float = Field(
        90.0, ge=0, description="Alerts the desk keeps, by age in days, pruned hourly; 0 keeps them all. Keep it "
        "longer than the alerts topic's retention, or a replayed old alert is stored again.")
    desk_name: str = Field(
        "desk", pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$", description="This desk process among several: its alerts "
        "consumer group is <prefix>desk (the default name) or <prefix>desk-<name>, so each desk stores every alert; "
        "their actions (ack, assign, snooze, resolve, notes) are shared through the desk-actions topic.")
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
        200_000, ge=1, description="Band buckets the story index keeps in every worker (besides story_window_secs), "
        "oldest records out first, with their stories' signatures; ~180 bytes each.")
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
    connect_session_timeout_ms: int = Field(
        10_000, ge=6_000, le=300_000, description="How long a `watchfloor connect` process may go silent before the "
        "other connector processes take its sources over.")
    rss: RssSettings = Field(default_factory=RssSettings, description="RSS/Atom fetch limits.")
    telegram: TelegramSettings = Field(
        default_factory=TelegramSettings, description="Telegram web preview and MTProto adapter.")
    polling: PollingSettings = Field(default_factory=PollingSettings, description="Connector scheduling.")
    websub: WebSubSettings = Field(
        default_factory=WebSubSettings, description="WebSub push for RSS/Atom sources (off without callback_url).")
    supervisor_metrics_port: int = Field(
        9110, ge=-1, le=65535, description="Port of `watchfloor run`'s own /metrics (child restarts); 0 picks a free "
        "port, -1 disables.")
    supervisor_max_restarts: int = Field(
        5, ge=0, description="Restarts of one child within supervisor_restart_window_secs after which `watchfloor "
        "run` gives up and stops the pipeline.")
    supervisor_restart_window_secs: float = Field(
        300.0, gt=0, description="The window in which a child's restarts are counted.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")

    @field_validator("web_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < MIN_SECRET_CHARS:
            raise ValueError(f"must be at least {MIN_SECRET_CHARS} characters (an empty or short token "
                             "would let anyone in); unset it to run without one on loopback")
        return value

    @model_validator(mode="after")
    def _exposed_only_with_a_token(self) -> "Settings":
        if not is_loopback(self.web_host) and self.web_token is None and not self.web_trusted_network:
            raise ValueError(f"WATCHFLOOR_WEB_HOST={self.web_host} is not a loopback address: set "
                             "WATCHFLOOR_WEB_TOKEN, or WATCHFLOOR_WEB_TRUSTED_NETWORK=true where only trusted "
                             "people reach the port")
        return self

    @model_validator(mode="after")
    def _websub_secret_with_its_callback(self) -> "Settings":
        if self.websub.callback_url is not None and self.websub.secret is None:
            raise ValueError("WATCHFLOOR_WEBSUB_CALLBACK_URL is set but WATCHFLOOR_WEBSUB_SECRET is not: set a "
                             f"secret of at least {MIN_SECRET_CHARS} characters (the hubs sign what they push with it)")
        return self

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


SECRET_WORDS = ("password", "token", "secret", "api_id", "api_hash", "session")


def load_settings(**overrides) -> Settings:
    """``Settings`` from the environment and the file, or ``ConfigError`` with one line naming the
    variable; a secret's value is never echoed."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        if not first["loc"]:  # a rule over several settings: its message names them
            raise ConfigError(f"invalid settings: {first['msg'].removeprefix('Value error, ')}") from None
        field = "_".join(str(p) for p in first["loc"][:2])
        value = first.get("input")
        shown = "" if any(word in field for word in SECRET_WORDS) else f" (got {value!r})"
        raise ConfigError(
            f"invalid setting WATCHFLOOR_{field.upper()}: {first['msg']}{shown}"
        ) from None
