"""The composition root's MLflow HTTP defaults keep a hanging MLflow within the 10 s promise."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.app import (
    MLFLOW_HTTP_DEFAULTS,
    create_app,
    mlflow_give_up_seconds,
)
from tests.conftest import make_settings


def test_promobots_defaults_give_up_on_a_silent_mlflow_well_within_ten_seconds() -> None:
    assert mlflow_give_up_seconds({}) == 6.0
    assert mlflow_give_up_seconds(MLFLOW_HTTP_DEFAULTS) == 6.0


def test_mlflows_own_defaults_would_keep_a_user_waiting_for_minutes() -> None:
    mlflow_defaults = {
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "7",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "2",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "120",
    }
    # 8 attempts of 120 s, and sleeps of 4, 8, ..., 64 s between the later ones.
    assert mlflow_give_up_seconds(mlflow_defaults) == 8 * 120 + (4 + 8 + 16 + 32 + 64 + 120)


def test_an_invalid_setting_is_left_for_mlflow_to_report() -> None:
    assert mlflow_give_up_seconds({"MLFLOW_HTTP_REQUEST_TIMEOUT": "soon"}) is None


def test_serve_warns_when_the_operators_settings_break_the_promise(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tracking_uri: str,
    database_url: str,
) -> None:
    settings: Any = make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url)
    caplog.set_level(logging.WARNING, logger="bot.app")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "3")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    create_app(settings)
    assert not [r for r in caplog.records if "gives up only after" in r.getMessage()]
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    create_app(settings)
    warned = [r.getMessage() for r in caplog.records if "gives up only after" in r.getMessage()]
    assert warned and "about 15 s" in warned[0], warned
