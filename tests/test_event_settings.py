"""The registry-event settings: the webhook secret, the notice channel, the watch interval."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from bot.cli.config_check import configuration_lines
from bot.logs import configure_logging
from tests.conftest import make_settings

SECRET = "CANARY-webhook-secret-42"


def test_defaults_and_duration_forms() -> None:
    settings = make_settings()
    assert settings.watch_interval == timedelta(minutes=1)
    assert settings.notify_channel is None and settings.mlflow_webhook_secret is None
    assert make_settings(watch_interval="30s").watch_interval == timedelta(seconds=30)
    assert make_settings(watch_interval="PT5M").watch_interval == timedelta(minutes=5)
    for bad in ("0", "-1m", "soon"):
        with pytest.raises(ValidationError):
            make_settings(watch_interval=bad)
    with pytest.raises(ValidationError):
        make_settings(notify_channel="#releases")


def test_the_webhook_secret_is_masked_in_config_check_and_hidden_in_logs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = make_settings(mlflow_webhook_secret=SECRET, notify_channel="C0NOTICE")
    lines = configuration_lines(settings)
    assert f"PROMOBOT_MLFLOW_WEBHOOK_SECRET=**** (set, {len(SECRET)} chars)" in lines
    assert "PROMOBOT_NOTIFY_CHANNEL=C0NOTICE" in lines
    assert "PROMOBOT_WATCH_INTERVAL=1m  (default)" in lines
    assert SECRET not in "\n".join(lines) and repr(settings).count(SECRET) == 0
    assert SECRET in settings.secret_values()


def test_a_logged_secret_is_redacted(monkeypatch: Any) -> None:
    import io

    stream = io.StringIO()
    settings = make_settings(mlflow_webhook_secret=SECRET)
    configure_logging(
        log_format="keyvalue", level="INFO", secrets=settings.secret_values(), stream=stream
    )
    logging.getLogger("bot.test").info("signing with %s", SECRET)
    assert SECRET not in stream.getvalue()
