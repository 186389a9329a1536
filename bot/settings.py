"""All configuration in one pydantic-settings class, read from the environment."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.digest.schedule import (
    DEFAULT_CRONTAB,
    DEFAULT_MIN_INTERVAL,
    InvalidScheduleError,
    check_crontab,
    check_min_interval,
    check_timezone,
)
from bot.url_credentials import url_passwords

SLACK_API_URL = "https://slack.com/api/"
#: ASCII digits only: `\d` alone would take `٣h` for three hours.
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE | re.ASCII)
#: Longer than any sensible setting, and well inside what timedelta can hold.
_MAX_DURATION = timedelta(days=3650)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+psycopg")
#: The token kind each Slack secret must be; a swapped token is a common setup mistake.
_TOKEN_PREFIXES = {"SLACK_BOT_TOKEN": "xoxb-", "SLACK_APP_TOKEN": "xapp-"}


def _secret(name: str) -> Any:
    return Field(None, validation_alias=AliasChoices(name))


class Settings(BaseSettings):
    """promobot's settings. Field docs double as the README's environment table."""

    # hide_input_in_errors: a validation error must never print a token it was given.
    model_config = SettingsConfigDict(
        extra="ignore", populate_by_name=True, hide_input_in_errors=True
    )

    slack_bot_token: SecretStr | None = _secret("SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = _secret("SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = _secret("SLACK_APP_TOKEN")
    slack_api_url: str = Field(SLACK_API_URL, validation_alias="PROMOBOT_SLACK_API_URL")
    command: str = Field("/promote", validation_alias="PROMOBOT_COMMAND")
    mlflow_tracking_uri: str = Field("sqlite:///mlflow.db", validation_alias="MLFLOW_TRACKING_URI")
    mlflow_registry_uri: str | None = Field(None, validation_alias="MLFLOW_REGISTRY_URI")
    mlflow_ui_url: str | None = Field(None, validation_alias="PROMOBOT_MLFLOW_UI_URL")
    database_url: str = Field("sqlite:///promobot.db", validation_alias="DATABASE_URL")
    approvers: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="PROMOBOT_APPROVERS"
    )
    request_ttl: timedelta = Field(timedelta(hours=24), validation_alias="PROMOBOT_REQUEST_TTL")
    require_staging: bool = Field(True, validation_alias="PROMOBOT_REQUIRE_STAGING")
    remind_every: timedelta = Field(timedelta(hours=4), validation_alias="PROMOBOT_REMIND_EVERY")
    required_approvals: int = Field(1, ge=1, le=20, validation_alias="PROMOBOT_REQUIRED_APPROVALS")
    reconcile_after: timedelta = Field(
        timedelta(minutes=2), validation_alias="PROMOBOT_RECONCILE_AFTER"
    )
    approval_channel: str | None = Field(None, validation_alias="PROMOBOT_APPROVAL_CHANNEL")
    registry_mode: Literal["stages", "aliases"] = Field(
        "stages", validation_alias="PROMOBOT_REGISTRY_MODE"
    )
    production_alias: str = Field("champion", validation_alias="PROMOBOT_PRODUCTION_ALIAS")
    staging_alias: str = Field("challenger", validation_alias="PROMOBOT_STAGING_ALIAS")
    protected_aliases: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="PROMOBOT_PROTECTED_ALIASES"
    )
    alias_cache_ttl: timedelta = Field(
        timedelta(seconds=30), validation_alias="PROMOBOT_ALIAS_CACHE_TTL"
    )
    port: int = Field(3000, ge=1, le=65535, validation_alias="PORT")
    digest_channel: str | None = Field(None, validation_alias="PROMOBOT_DIGEST_CHANNEL")
    # timezone and digest_min_interval come before digest_cron, whose check reads them.
    timezone: str = Field("UTC", validation_alias="PROMOBOT_TIMEZONE")
    digest_min_interval: timedelta = Field(
        DEFAULT_MIN_INTERVAL, validation_alias="PROMOBOT_DIGEST_MIN_INTERVAL"
    )
    digest_cron: str = Field(DEFAULT_CRONTAB, validation_alias="PROMOBOT_DIGEST_CRON")
    digest_grace: timedelta = Field(timedelta(hours=1), validation_alias="PROMOBOT_DIGEST_GRACE")
    notify_channel: str | None = Field(None, validation_alias="PROMOBOT_NOTIFY_CHANNEL")
    mlflow_webhook_secret: SecretStr | None = _secret("PROMOBOT_MLFLOW_WEBHOOK_SECRET")
    watch_interval: timedelta = Field(
        timedelta(minutes=1), validation_alias="PROMOBOT_WATCH_INTERVAL"
    )
    log_format: Literal["keyvalue", "json"] = Field(
        "keyvalue", validation_alias="PROMOBOT_LOG_FORMAT"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias="PROMOBOT_LOG_LEVEL"
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("registry_mode", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("protected_aliases", mode="before")
    @classmethod
    def _split_aliases(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [v.strip().removeprefix("@") for v in value.split(",") if v.strip()]
        return value

    @field_validator("production_alias", "staging_alias", mode="before")
    @classmethod
    def _strip_at(cls, value: Any) -> Any:
        return value.strip().removeprefix("@") if isinstance(value, str) else value

    @field_validator("production_alias", "staging_alias")
    @classmethod
    def _alias_name(cls, value: str) -> str:
        from bot.errors import UsageError
        from bot.registry.targets import check_alias_name

        try:
            return check_alias_name(value)
        except UsageError as exc:
            raise ValueError(exc.message) from None

    @field_validator("protected_aliases")
    @classmethod
    def _alias_names(cls, value: list[str]) -> list[str]:
        for name in value:
            cls._alias_name(name)
        return value

    @field_validator("slack_bot_token", "slack_app_token")
    @classmethod
    def _token_kind(cls, value: SecretStr | None, info: Any) -> SecretStr | None:
        name = "SLACK_BOT_TOKEN" if info.field_name == "slack_bot_token" else "SLACK_APP_TOKEN"
        prefix = _TOKEN_PREFIXES[name]
        if (
            value is not None
            and value.get_secret_value()
            and not value.get_secret_value().startswith(prefix)
        ):
            kind = "the Bot User OAuth Token" if prefix == "xoxb-" else "an app-level token"
            # Never echo the value: it is a secret even when it is the wrong one.
            raise ValueError(f"must be {kind}, which starts with {prefix}")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_scheme(cls, value: str) -> str:
        scheme = value.split(":", 1)[0].lower() if ":" in value else ""
        if scheme not in _DATABASE_SCHEMES:
            raise ValueError(
                "must be a sqlite:/// or postgresql:// URL, for example sqlite:///promobot.db"
            )
        return value

    @field_validator("slack_api_url", "mlflow_ui_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("approvers", mode="before")
    @classmethod
    def _split_approvers(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [v for v in re.split(r"[\s,]+", value) if v]
        if isinstance(value, list):
            bad = [v for v in value if not re.fullmatch(r"[UWS][A-Z0-9]+", str(v))]
            if bad:
                raise ValueError(
                    f"expected Slack user IDs (U…/W…) or user group IDs (S…), got {bad}"
                )
        return value

    @field_validator(
        "request_ttl",
        "reconcile_after",
        "remind_every",
        "digest_grace",
        "digest_min_interval",
        "alias_cache_ttl",
        "watch_interval",
        mode="before",
    )
    @classmethod
    def _parse_duration(cls, value: Any) -> Any:
        """Accept seconds (`3600`), a unit (`90m`, `24h`, `2d`) or ISO 8601 (`PT24H`)."""
        if isinstance(value, str) and (match := _DURATION.match(value)):
            seconds = float(match[1]) * _UNIT_SECONDS[match[2].lower()]
            if seconds > _MAX_DURATION.total_seconds():
                raise ValueError("must be at most 3650 days")
            return timedelta(seconds=seconds)
        return value

    @field_validator(
        "request_ttl", "digest_grace", "digest_min_interval", "remind_every", "watch_interval"
    )
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value

    @field_validator("reconcile_after", "alias_cache_ttl")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("must not be negative")
        return value

    @field_validator("digest_channel", "notify_channel", mode="before")
    @classmethod
    def _channel_id(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str) and not re.fullmatch(r"[CGD][A-Z0-9]{2,}", value.strip()):
            raise ValueError("expected a Slack channel ID like C0123ABCD (not a #name)")
        return value.strip() if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _iana_zone(cls, value: str) -> str:
        try:
            check_timezone(value)
        except InvalidScheduleError as exc:
            raise ValueError(exc.message) from None
        return value

    @field_validator("digest_cron")
    @classmethod
    def _crontab(cls, value: str, info: ValidationInfo) -> str:
        # Checked as subscriptions are: in the schedules' time zone, against the minimum
        # interval (each falls back to its default when it is itself invalid).
        timezone = info.data.get("timezone") or "UTC"
        min_interval = info.data.get("digest_min_interval") or DEFAULT_MIN_INTERVAL
        try:
            line = check_crontab(value, timezone)
            check_min_interval(line, timezone, min_interval, after=datetime.now(UTC))
        except InvalidScheduleError as exc:
            raise ValueError(exc.message) from None
        return line

    @field_validator("command")
    @classmethod
    def _slash(cls, value: str) -> str:
        if not re.fullmatch(r"/[a-z0-9_\-]{1,31}", value):
            raise ValueError("must look like /promote (lowercase, at most 32 characters)")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    def secret_values(self) -> list[str]:
        """Every configured secret, so that logs and messages can hide them."""
        secrets = [
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.mlflow_webhook_secret,
        ]
        values = [s.get_secret_value() for s in secrets if s is not None]
        for url in (self.database_url, self.mlflow_tracking_uri, self.mlflow_registry_uri):
            values += url_passwords(url) if url else []
        return [v for v in values if v]

    def missing_for_http(self) -> list[str]:
        """Environment variables `promobot serve` needs but does not have."""
        needed = {
            "SLACK_BOT_TOKEN": self.slack_bot_token,
            "SLACK_SIGNING_SECRET": self.slack_signing_secret,
        }
        return [
            name for name, value in needed.items() if value is None or not value.get_secret_value()
        ]

    def missing_for_socket(self) -> list[str]:
        """Environment variables `promobot serve --socket` needs but does not have."""
        needed = {"SLACK_BOT_TOKEN": self.slack_bot_token, "SLACK_APP_TOKEN": self.slack_app_token}
        return [
            name for name, value in needed.items() if value is None or not value.get_secret_value()
        ]
