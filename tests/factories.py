"""Builders for real registry content: model versions with runs and metrics, in real MLflow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlflow import MlflowClient


def make_version(
    client: MlflowClient,
    name: str,
    *,
    metrics: Mapping[str, float] | None = None,
    stage: str | None = None,
    description: str = "",
) -> int:
    """Register a new version of `name` (creating the model if needed); return its number.

    With `metrics`, the version points at a real run that logged them. With `stage`, the
    version is moved there without archiving the versions already in that stage.
    """
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    run_id = None
    source = "file:///tmp/promobot-test-model"
    if metrics is not None:
        run = client.create_run(experiment_id="0")
        run_id = run.info.run_id
        for key, value in metrics.items():
            client.log_metric(run_id, key, value)
        source = f"runs:/{run_id}/model"
    version = client.create_model_version(
        name, source=source, run_id=run_id, description=description or None
    )
    if stage is not None and stage != "None":
        client.transition_model_version_stage(
            name, version.version, stage, archive_existing_versions=False
        )
    return int(version.version)


def stage_of(client: MlflowClient, name: str, version: int) -> str:
    """The stage MLflow itself reports for a version (read straight from the registry)."""
    return str(client.get_model_version(name, str(version)).current_stage)
