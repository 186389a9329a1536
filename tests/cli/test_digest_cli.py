"""`promobot digest` run as a real process on a real embedded registry and database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import seed_model
from tests.fake_slack import Failure, FakeSlack
from tests.slack_requests import BOT_TOKEN


def _promobot(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PROMOBOT_"))}
    for name in ("DATABASE_URL", "MLFLOW_TRACKING_URI"):
        clean.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def registry_env(tracking_uri: str, database_url: str, mlflow_client: Any) -> dict[str, str]:
    seed_model(mlflow_client, "churn <prod>", versions=3, stages={1: "Production", 2: "Staging"})
    seed_model(mlflow_client, "fraud", versions=1)
    return {"MLFLOW_TRACKING_URI": tracking_uri, "DATABASE_URL": database_url}


def test_digest_prints_plain_text(tmp_path: Path, registry_env: dict[str, str]) -> None:
    result = _promobot(["digest"], tmp_path, **registry_env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("REGISTRY DIGEST\n2 models · 1 with a Production version · ")
    assert "churn <prod> · Production: v1 (updated " in out  # unescaped for the terminal
    assert "outside promobot)" in out and "Staging: v2" in out
    assert "fraud · Production: none" in out
    assert "<!date" not in out and "&lt;" not in out and "*" not in out


def test_digest_in_alias_mode_flags_an_alias_a_script_moved_since_the_last_print(
    tmp_path: Path, registry_env: dict[str, str], mlflow_client: Any
) -> None:
    env = {**registry_env, "PROMOBOT_REGISTRY_MODE": "aliases"}
    mlflow_client.set_registered_model_alias("churn <prod>", "champion", "1")
    first = _promobot(["digest"], tmp_path, **env)
    assert first.returncode == 0, first.stderr
    assert "churn <prod> · @champion: v1 (set outside promobot, first seen now)" in first.stdout
    assert "moved to" not in first.stdout

    mlflow_client.set_registered_model_alias("churn <prod>", "champion", "3")
    second = _promobot(["digest"], tmp_path, **env).stdout
    assert "• churn <prod>: @champion moved to v3, it was v1 (made outside promobot" in second
    third = _promobot(["digest"], tmp_path, **env).stdout
    assert third.count("@champion moved to v3") == 1  # still in the 24-hour window, once
    assert "churn <prod> · @champion: v3 (set outside promobot, seen since " in third


def test_digest_post_needs_the_channel_and_a_token(
    tmp_path: Path, registry_env: dict[str, str]
) -> None:
    result = _promobot(["digest", "--post"], tmp_path, **registry_env)
    assert result.returncode == 2
    assert "needs PROMOBOT_DIGEST_CHANNEL and SLACK_BOT_TOKEN" in result.stderr
    only_token = _promobot(["digest", "--post"], tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN)
    assert only_token.returncode == 2 and "needs PROMOBOT_DIGEST_CHANNEL." in only_token.stderr


def test_digest_post_posts_to_the_digest_channel(
    tmp_path: Path, registry_env: dict[str, str], fake_slack: FakeSlack
) -> None:
    slack = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "PROMOBOT_DIGEST_CHANNEL": "C0DIGEST",
        "PROMOBOT_SLACK_API_URL": fake_slack.api_url,
    }
    result = _promobot(["digest", "--post"], tmp_path, **registry_env, **slack)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Digest posted to Slack channel C0DIGEST.\n"
    (posted,) = fake_slack.of("chat.postMessage")
    assert posted.body["channel"] == "C0DIGEST"
    assert "churn &lt;prod&gt;" in str(posted.body["blocks"])


def test_digest_post_refused_by_slack_says_why(
    registry_env: dict[str, str],
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """In-process (same code path as the subprocess above, without a second start-up)."""
    from bot.cli import main

    env = {
        **registry_env,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "PROMOBOT_DIGEST_CHANNEL": "C0DIGEST",
        "PROMOBOT_SLACK_API_URL": fake_slack.api_url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    fake_slack.fail("chat.postMessage", Failure(error="not_in_channel"))
    assert main(["digest", "--post"]) == 1
    error = capsys.readouterr().err
    assert "could not post the digest in C0DIGEST (Slack said: not_in_channel)" in error


def test_bad_digest_settings_are_reported_at_startup(tmp_path: Path) -> None:
    result = _promobot(
        ["digest"],
        tmp_path,
        PROMOBOT_DIGEST_CRON="0 9 * * 1-5 extra",
        PROMOBOT_TIMEZONE="Europe/Atlantis",
        PROMOBOT_DIGEST_GRACE="soon",
    )
    assert result.returncode == 2
    assert "configuration error" in result.stderr
    for name in ("PROMOBOT_DIGEST_CRON", "PROMOBOT_TIMEZONE", "PROMOBOT_DIGEST_GRACE"):
        assert name in result.stderr  # all errors at once
    assert "needs 5 fields" in result.stderr and "not an IANA time zone" in result.stderr
