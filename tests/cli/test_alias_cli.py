"""The command line in alias mode, run as a real process on a real registry and database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli import run_cli
from tests.conftest import seed_model


@pytest.fixture
def alias_env(tracking_uri: str, database_url: str, mlflow_client: Any) -> dict[str, str]:
    """`my-model`: v1 on @champion and @shadow, v2 on no alias, v3 on @challenger."""
    seed_model(mlflow_client, "my-model", versions=3)
    for alias, version in [("champion", "1"), ("shadow", "1"), ("challenger", "3")]:
        mlflow_client.set_registered_model_alias("my-model", alias, version)
    return {
        "MLFLOW_TRACKING_URI": tracking_uri,
        "DATABASE_URL": database_url,
        "PROMOBOT_REGISTRY_MODE": "aliases",
    }


def _aliases(client: Any) -> dict[str, int]:
    return {a: int(v) for a, v in client.get_registered_model("my-model").aliases.items()}


def test_list_versions_prints_each_versions_aliases_or_a_dash(
    tmp_path: Path, alias_env: dict[str, str]
) -> None:
    result = run_cli(["models", "list-versions", "--model-name", "my-model"], tmp_path, **alias_env)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Version Aliases\n1 champion,shadow\n2 -\n3 challenger\n"


def test_set_alias_moves_an_unprotected_alias_at_once(
    tmp_path: Path, alias_env: dict[str, str], mlflow_client: Any
) -> None:
    args = ["models", "set-alias", "--model-name", "my-model", "--version", "2"]

    result = run_cli([*args, "--alias", "challenger", "--actor", "ann"], tmp_path, **alias_env)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Model version '2' of model 'my-model' now has alias 'challenger'.\n"
    assert _aliases(mlflow_client) == {"champion": 1, "shadow": 1, "challenger": 2}
    history = run_cli(["history", "--model-name", "my-model"], tmp_path, **alias_env)
    assert "applied version 2 - -> @challenger by ann (direct move)" in history.stdout
    assert "applied version 3 @challenger -> - by ann" in history.stdout


def test_set_alias_on_a_protected_alias_files_a_request_and_says_so(
    tmp_path: Path, alias_env: dict[str, str], mlflow_client: Any
) -> None:
    args = ["models", "set-alias", "--model-name", "my-model", "--version", "3"]

    result = run_cli(
        [*args, "--alias", "@champion", "--actor", "ann", "--reason", "better"],
        tmp_path,
        **alias_env,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "Model version '3' of model 'my-model' needs approval to get alias 'champion' "
        "(a protected alias): request #1 filed by ann"
    )
    assert " UTC.\n" in result.stdout  # when the request expires
    assert "No approval card was posted" in result.stdout
    assert _aliases(mlflow_client) == {"champion": 1, "shadow": 1, "challenger": 3}


def test_set_alias_with_a_bad_name_is_one_clear_line_and_changes_nothing(
    tmp_path: Path, alias_env: dict[str, str], mlflow_client: Any
) -> None:
    args = ["models", "set-alias", "--model-name", "my-model", "--version", "2"]

    result = run_cli([*args, "--alias", "latest"], tmp_path, **alias_env)

    assert result.returncode == 2
    assert result.stderr == (
        "promobot: 'latest' is reserved by MLflow (it always means the newest version).\n"
    )
    assert _aliases(mlflow_client) == {"champion": 1, "shadow": 1, "challenger": 3}


def test_set_alias_in_stage_mode_points_to_transition_stage(
    tmp_path: Path, alias_env: dict[str, str]
) -> None:
    stage_env = {**alias_env, "PROMOBOT_REGISTRY_MODE": "stages"}
    args = ["models", "set-alias", "--model-name", "my-model", "--version", "2"]

    result = run_cli([*args, "--alias", "challenger"], tmp_path, **stage_env)

    assert result.returncode == 2
    assert "set-alias needs PROMOBOT_REGISTRY_MODE=aliases" in result.stderr


def test_transition_stage_in_alias_mode_says_which_alias_it_moved(
    tmp_path: Path, alias_env: dict[str, str], mlflow_client: Any
) -> None:
    """`staging` means the staging alias here; the line must not claim a stage changed."""
    args = ["models", "transition-stage", "--model-name", "my-model", "--version", "2"]

    result = run_cli([*args, "--stage", "staging"], tmp_path, **alias_env)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Model version '2' of model 'my-model' now has alias 'challenger'.\n"
    assert _aliases(mlflow_client)["challenger"] == 2
    assert mlflow_client.get_model_version("my-model", "2").current_stage == "None"
