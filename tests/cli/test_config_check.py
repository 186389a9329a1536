"""`promobot config check`, start-up validation, and a CLI start that stays light."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI with only `env` configured (other tests may set MLFLOW_* in this process)."""
    prefixes = ("SLACK_", "PROMOBOT_", "MLFLOW_", "DATABASE_URL", "PORT")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


BOT_TOKEN = "xoxb-1234-CANARYBOT-secretvalue"
SIGNING_SECRET = "CANARY-signing-secret-99"
DB_PASSWORD = "CANARYdbpass"


def test_config_check_prints_the_effective_configuration_with_secrets_masked(
    tmp_path: Path,
) -> None:
    result = _run(
        ["config", "check"],
        tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        DATABASE_URL=f"postgresql://promobot:{DB_PASSWORD}@db.internal:5432/promobot",
        PROMOBOT_REQUEST_TTL="90m",
        PROMOBOT_LOG_FORMAT="json",
        PROMOBOT_REQUIRED_APPROVALS="2",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"SLACK_BOT_TOKEN=xoxb-**** (set, {len(BOT_TOKEN)} chars)" in out
    assert f"SLACK_SIGNING_SECRET=**** (set, {len(SIGNING_SECRET)} chars)" in out
    assert "SLACK_APP_TOKEN=(not set)" in out
    assert "DATABASE_URL=postgresql://promobot:****@db.internal:5432/promobot" in out
    assert "PROMOBOT_REQUEST_TTL=90m\n" in out
    assert "PROMOBOT_LOG_FORMAT=json\n" in out
    assert "PROMOBOT_REQUIRED_APPROVALS=2\n" in out
    assert "PROMOBOT_REMIND_EVERY=4h  (default)" in out
    assert "PROMOBOT_COMMAND=/promote  (default)" in out
    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES=1  (promobot's default)" in out
    assert "`promobot serve` in HTTP mode has what it needs" in out
    for secret in (BOT_TOKEN, "CANARYBOT", SIGNING_SECRET, DB_PASSWORD):
        assert secret not in out + result.stderr


@pytest.mark.parametrize(
    "password", ["CANARY#pass/word", "CANARY@pass", "CANARY:pa:ss", "CANARY?p#a/s@s:"]
)
def test_config_check_never_prints_a_password_whatever_characters_it_holds(
    tmp_path: Path, password: str
) -> None:
    """urlsplit reads `u:p#a/ss@host` as host `u`, port `p`: the password used to print."""
    result = _run(
        ["config", "check"],
        tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        DATABASE_URL=f"postgresql://promobot:{password}@db.internal:5432/promobot",
        MLFLOW_TRACKING_URI=f"https://alice:{password}@mlflow.internal/",
    )
    assert result.returncode == 0, result.stderr
    assert "DATABASE_URL=postgresql://promobot:****@db.internal:5432/promobot" in result.stdout
    assert "MLFLOW_TRACKING_URI=https://alice:****@mlflow.internal/" in result.stdout
    assert "CANARY" not in result.stdout + result.stderr


def test_secret_values_find_passwords_that_urlsplit_misreads() -> None:
    from bot.settings import Settings

    settings = Settings(
        DATABASE_URL="postgresql://promobot:p#a/ss@db/promobot",
        MLFLOW_TRACKING_URI="https://alice:m@l:flow@mlflow.internal/",
    )
    assert {"p#a/ss", "m@l:flow"} <= set(settings.secret_values())


def test_config_check_fails_when_serve_would_lack_a_credential(tmp_path: Path) -> None:
    http = _run(["config", "check"], tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN)
    assert http.returncode == 1
    assert "needs SLACK_SIGNING_SECRET" in http.stdout
    socket = _run(["config", "check", "--socket"], tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN)
    assert socket.returncode == 1
    assert "Socket Mode needs SLACK_APP_TOKEN" in socket.stdout


def test_every_invalid_setting_is_reported_at_once_without_secrets(tmp_path: Path) -> None:
    result = _run(
        ["config", "check"],
        tmp_path,
        SLACK_BOT_TOKEN="xapp-1-CANARYBOT-wrong-kind",
        SLACK_APP_TOKEN=BOT_TOKEN,
        DATABASE_URL=f"mysql://root:{DB_PASSWORD}@db/promobot",
        PORT="99999",
        PROMOBOT_LOG_FORMAT="xml",
        PROMOBOT_LOG_LEVEL="chatty",
        PROMOBOT_REQUEST_TTL="soon",
        PROMOBOT_SLACK_API_URL="slack.com/api",
        PROMOBOT_REQUIRED_APPROVALS="0",
        PROMOBOT_REMIND_EVERY="0",
    )
    assert result.returncode == 2
    err = result.stderr
    assert "promobot: configuration error:" in err and "Traceback" not in err
    expected = {
        "SLACK_BOT_TOKEN": "must be the Bot User OAuth Token, which starts with xoxb-",
        "SLACK_APP_TOKEN": "must be an app-level token, which starts with xapp-",
        "DATABASE_URL": "must be a sqlite:/// or postgresql:// URL",
        "PORT": "(got '99999')",
        "PROMOBOT_LOG_FORMAT": "'keyvalue' or 'json'",
        "PROMOBOT_LOG_LEVEL": "'DEBUG', 'INFO', 'WARNING' or 'ERROR'",
        "PROMOBOT_REQUEST_TTL": "(got 'soon')",
        "PROMOBOT_SLACK_API_URL": "must be an http:// or https:// URL",
        "PROMOBOT_REQUIRED_APPROVALS": "(got '0')",
        "PROMOBOT_REMIND_EVERY": "must be longer than zero",
    }
    lines = err.splitlines()
    for name, text in expected.items():
        assert any(line.startswith(f"  {name}: ") and text in line for line in lines), name
    assert "mysql://root:****@db/promobot" in err
    for secret in ("CANARYBOT", BOT_TOKEN, DB_PASSWORD):
        assert secret not in err + result.stdout


def test_cli_start_imports_no_prometheus_mlflow_or_bolt() -> None:
    code = (
        "import sys; from bot.cli.parser import build_parser; build_parser(); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'prometheus_client', 'mlflow', 'slack_bolt', 'slack_sdk', 'yaml', 'sqlalchemy'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr
