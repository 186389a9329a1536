"""The playground's settings: its own registry, database, people and per-run secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.playground.people import APPROVER_IDS
from bot.playground.server import playground_settings


def test_the_playground_uses_its_own_registry_database_and_approvers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.example:5000")
    monkeypatch.setenv("DATABASE_URL", "postgresql://prod@db/promobot")
    monkeypatch.setenv("PROMOBOT_APPROVERS", "U0SOMEONE")
    monkeypatch.setenv("PROMOBOT_APPROVAL_CHANNEL", "C0PRODUCTION")
    monkeypatch.setenv("PROMOBOT_REGISTRY_MODE", "aliases")  # this one is honoured
    settings = playground_settings(tmp_path, "http://127.0.0.1:8080/")
    assert settings.mlflow_tracking_uri == f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert settings.database_url == f"sqlite:///{tmp_path / 'promobot.db'}"
    assert settings.approvers == list(APPROVER_IDS)
    assert settings.approval_channel is None
    assert settings.slack_api_url == "http://127.0.0.1:8080/api/"
    assert settings.registry_mode == "aliases"


def test_each_run_has_its_own_bot_token_and_signing_secret(tmp_path: Path) -> None:
    first = playground_settings(tmp_path, "http://127.0.0.1:8080/")
    second = playground_settings(tmp_path, "http://127.0.0.1:8080/")
    assert first.slack_bot_token and second.slack_bot_token
    assert first.slack_signing_secret and second.slack_signing_secret
    assert first.slack_bot_token.get_secret_value().startswith("xoxb-playground-")
    assert first.slack_bot_token.get_secret_value() != second.slack_bot_token.get_secret_value()
    assert (
        first.slack_signing_secret.get_secret_value()
        != second.slack_signing_secret.get_secret_value()
    )
