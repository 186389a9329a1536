"""The command line, run as a real process on a real embedded registry and database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli import run_cli
from tests.conftest import seed_model


@pytest.fixture
def registry_env(
    tmp_path: Path, tracking_uri: str, database_url: str, mlflow_client: Any
) -> dict[str, str]:
    seed_model(
        mlflow_client, "my-model", versions=3, stages={1: "Staging", 2: "Archived", 3: "Production"}
    )
    return {"MLFLOW_TRACKING_URI": tracking_uri, "DATABASE_URL": database_url}


def test_list_versions_prints_the_tutorial_format(
    tmp_path: Path, registry_env: dict[str, str]
) -> None:
    result = run_cli(
        ["models", "list-versions", "--model-name", "my-model"], tmp_path, **registry_env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Version Stage\n1 Staging\n2 Archived\n3 Production\n"


def test_transition_stage_prints_the_tutorial_line(
    tmp_path: Path, registry_env: dict[str, str], mlflow_client: Any
) -> None:
    args = [
        "models",
        "transition-stage",
        "--model-name",
        "my-model",
        "--version",
        "1",
        "--stage",
        "archived",
    ]
    result = run_cli(args, tmp_path, **registry_env)
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout == "Model version '1' of model 'my-model' transitioned to stage 'Archived'.\n"
    )
    assert mlflow_client.get_model_version("my-model", "1").current_stage == "Archived"
    history = run_cli(["history", "--model-name", "my-model"], tmp_path, **registry_env)
    assert "applied version 1 Staging -> Archived by cli:" in history.stdout


@pytest.mark.parametrize("reason", [[], ["--reason", "accuracy up on the holdout set"]])
def test_transition_to_production_files_a_request_and_changes_nothing(
    tmp_path: Path, registry_env: dict[str, str], mlflow_client: Any, reason: list[str]
) -> None:
    """The tutorial's command, with or without a reason."""
    args = [
        "models",
        "transition-stage",
        "--model-name",
        "my-model",
        "--version",
        "1",
        "--stage",
        "Production",
        "--actor",
        "ann",
        *reason,
    ]
    result = run_cli(args, tmp_path, **registry_env)
    assert result.returncode == 0, result.stderr
    assert "needs approval" in result.stdout and "request #1 filed by ann" in result.stdout
    assert "No approval card was posted" in result.stdout
    assert mlflow_client.get_model_version("my-model", "1").current_stage == "Staging"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--version", "9", "--stage", "Staging"],
            "has no version 9. Versions that exist: 1, 2, 3.",
        ),
        (["--version", "x", "--stage", "Staging"], "Version 'x' is not a version number"),
        (["--version", "1", "--stage", "Prod"], "Unknown stage 'Prod'"),
        (
            ["--version", "2", "--stage", "Production", "--reason", "better on the holdout set"],
            "is in Archived, not Staging",
        ),
    ],
)
def test_transition_stage_bad_input_is_one_clear_line(
    tmp_path: Path, registry_env: dict[str, str], args: list[str], message: str
) -> None:
    result = run_cli(
        ["models", "transition-stage", "--model-name", "my-model", *args], tmp_path, **registry_env
    )
    assert result.returncode in (1, 2)
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        [
            "models",
            "transition-stage",
            "--model-name",
            "my-model",
            "--stage",
            "Staging",
            "--version",
            "9" * 5000,
        ],
        [
            "models",
            "transition-stage",
            "--model-name",
            "my-model",
            "--stage",
            "Staging",
            "--version",
            "٣",
        ],
        [
            "models",
            "transition-stage",
            "--model-name",
            "my-model",
            "--stage",
            "Staging",
            "--version",
            "²",
        ],
        ["history", "--model-name", "my-model", "--limit", "²"],
        ["history", "--model-name", "my-model", "--limit", "٣"],
        ["history", "--model-name", "my-model", "--limit", "9" * 5000],
        ["serve", "--port", "٣٠٠٠"],
    ],
)
def test_numbers_in_unicode_digits_or_thousands_of_digits_get_a_usage_message(
    tmp_path: Path, registry_env: dict[str, str], args: list[str]
) -> None:
    result = run_cli(args, tmp_path, **registry_env)
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    assert "not a version number" in result.stderr or "usage: promobot" in result.stderr
    assert len(result.stderr) < 1000  # the bad number is quoted shortened, not in full


@pytest.mark.parametrize("ttl", ["٣h", "9" * 400, "9" * 5000 + "d"])
def test_durations_in_unicode_digits_or_thousands_of_digits_are_configuration_errors(
    tmp_path: Path, ttl: str
) -> None:
    result = run_cli(["history", "--model-name", "m"], tmp_path, PROMOBOT_REQUEST_TTL=ttl)
    assert result.returncode == 2
    assert "PROMOBOT_REQUEST_TTL" in result.stderr and "Traceback" not in result.stderr


def test_unknown_model_suggests_close_names(tmp_path: Path, registry_env: dict[str, str]) -> None:
    result = run_cli(
        ["models", "list-versions", "--model-name", "my-modle"], tmp_path, **registry_env
    )
    assert result.returncode == 1
    assert "No registered model named 'my-modle'. Did you mean: my-model?" in result.stderr


def test_bad_configuration_is_reported_all_at_once(tmp_path: Path) -> None:
    result = run_cli(
        ["history", "--model-name", "m"],
        tmp_path,
        PROMOBOT_REQUEST_TTL="soon",
        PROMOBOT_APPROVERS="bob",
        PORT="99999",
    )
    assert result.returncode == 2
    for name in ("PROMOBOT_REQUEST_TTL", "PROMOBOT_APPROVERS", "PORT"):
        assert name in result.stderr
    assert "Traceback" not in result.stderr


def test_socket_mode_refuses_to_start_without_app_token(tmp_path: Path) -> None:
    result = run_cli(["serve", "--socket"], tmp_path, SLACK_BOT_TOKEN="xoxb-not-real")
    assert result.returncode == 2
    assert "Socket Mode needs SLACK_APP_TOKEN" in result.stderr
    assert "xoxb-not-real" not in result.stderr + result.stdout


def test_demo_walks_through_the_whole_story_on_embedded_defaults(tmp_path: Path) -> None:
    result = run_cli(["demo"], tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[ Approve ]  [ Reject ]" in out
    assert "someone else must approve it" in out  # the refused self-approval
    assert "Archived: v1." in out and "Archived: v2." in out  # promotion, then rollback
    assert out.rstrip().endswith("direct move")  # the history ends with the first move
    assert "    1 Production\n    2 Archived\n    3 Archived" in out
    assert (tmp_path / "mlflow.db").exists() and (tmp_path / "promobot.db").exists()
    again = run_cli(["demo"], tmp_path)
    assert again.returncode == 0 and "churn-model-2" in again.stdout
