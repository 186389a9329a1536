"""All configuration in one pydantic-settings class, read from the environment."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.schedule import (
    DEFAULT_CRONTAB,
    InvalidScheduleError,
    check_crontab,
    check_timezone,
)

SLACK_API_URL = "https://slack.com/api/"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _secret(name: str) -> Any:
    return Field(None, validation_alias=AliasChoices(name))


class Settings(BaseSettings):
    """promobot's settings. Field docs double as the README's environment table."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

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
    approval_channel: str | None = Field(None, validation_alias="PROMOBOT_APPROVAL_CHANNEL")
    port: int = Field(3000, ge=1, le=65535, validation_alias="PORT")
    digest_channel: str | None = Field(None, validation_alias="PROMOBOT_DIGEST_CHANNEL")
    digest_cron: str = Field(DEFAULT_CRONTAB, validation_alias="PROMOBOT_DIGEST_CRON")
    timezone: str = Field("UTC", validation_alias="PROMOBOT_TIMEZONE")
    digest_grace: timedelta = Field(timedelta(hours=1), validation_alias="PROMOBOT_DIGEST_GRACE")

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

    @field_validator("request_ttl", "digest_grace", mode="before")
    @classmethod
    def _parse_duration(cls, value: Any) -> Any:
        """Accept seconds (`3600`), a unit (`90m`, `24h`, `2d`) or ISO 8601 (`PT24H`)."""
        if isinstance(value, str) and (match := _DURATION.match(value)):
            return timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2].lower()])
        return value

    @field_validator("request_ttl", "digest_grace")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value

    @field_validator("digest_channel", mode="before")
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
    def _crontab(cls, value: str) -> str:
        try:
            return check_crontab(value)
        except InvalidScheduleError as exc:
            raise ValueError(exc.message) from None

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
