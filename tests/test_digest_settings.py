"""The digest settings: defaults, accepted forms, and clear refusals at start-up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from bot.settings import Settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "PROMOBOT_DIGEST_CHANNEL",
        "PROMOBOT_DIGEST_CRON",
        "PROMOBOT_TIMEZONE",
        "PROMOBOT_DIGEST_GRACE",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.digest_channel is None
    assert settings.digest_cron == "0 9 * * 1-5"
    assert settings.timezone == "UTC"
    assert settings.digest_grace == timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3600", timedelta(hours=1)),
        ("90m", timedelta(minutes=90)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("PT30M", timedelta(minutes=30)),
    ],
)
def test_grace_accepts_the_same_forms_as_the_request_ttl(text: str, expected: timedelta) -> None:
    assert Settings(PROMOBOT_DIGEST_GRACE=text).digest_grace == expected
    assert Settings(PROMOBOT_REQUEST_TTL=text).request_ttl == expected


def test_valid_digest_settings_are_taken_as_given() -> None:
    settings = Settings(
        PROMOBOT_DIGEST_CHANNEL="C0123ABCD",
        PROMOBOT_DIGEST_CRON="30  8 * * mon",
        PROMOBOT_TIMEZONE="Europe/Berlin",
    )
    assert settings.digest_channel == "C0123ABCD"
    assert settings.digest_cron == "30 8 * * mon"
    assert settings.timezone == "Europe/Berlin"
    assert Settings(PROMOBOT_DIGEST_CHANNEL="").digest_channel is None


def test_bad_digest_settings_are_all_reported_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(
            PROMOBOT_DIGEST_CHANNEL="#ml-releases",
            PROMOBOT_DIGEST_CRON="every morning",
            PROMOBOT_TIMEZONE="CEST",
            PROMOBOT_DIGEST_GRACE="0",
        )
    errors = {str(e["loc"][0]): e["msg"] for e in caught.value.errors()}
    assert set(errors) == {
        "PROMOBOT_DIGEST_CHANNEL",
        "PROMOBOT_DIGEST_CRON",
        "PROMOBOT_TIMEZONE",
        "PROMOBOT_DIGEST_GRACE",
    }
    assert "Slack channel ID like C0123ABCD" in errors["PROMOBOT_DIGEST_CHANNEL"]
    assert "needs 5 fields" in errors["PROMOBOT_DIGEST_CRON"]
    assert "not an IANA time zone name" in errors["PROMOBOT_TIMEZONE"]
    assert "longer than zero" in errors["PROMOBOT_DIGEST_GRACE"]


def test_a_digest_cron_that_fires_more_than_once_an_hour_is_refused_at_start_up() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(PROMOBOT_DIGEST_CRON="* * * * *")
    (error,) = caught.value.errors()
    assert error["loc"] == ("PROMOBOT_DIGEST_CRON",)
    assert (
        "it would post every minute, but a channel gets at most one digest every hour"
        in (error["msg"])
    )


def test_the_minimum_interval_is_a_setting_checked_in_the_schedules_time_zone() -> None:
    settings = Settings(PROMOBOT_DIGEST_CRON="*/10 * * * *", PROMOBOT_DIGEST_MIN_INTERVAL="10m")
    assert settings.digest_min_interval == timedelta(minutes=10)
    assert Settings().digest_min_interval == timedelta(hours=1)
    with pytest.raises(ValidationError, match="every 2 hours"):
        Settings(PROMOBOT_DIGEST_CRON="0 */2 * * *", PROMOBOT_DIGEST_MIN_INTERVAL="1d")
    with pytest.raises(ValidationError, match="longer than zero"):
        Settings(PROMOBOT_DIGEST_MIN_INTERVAL="0")
