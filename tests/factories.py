"""Builders for real registry content: model versions with runs and metrics, in real MLflow."""

from __future__ import annotations

import shutil
import tempfile
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlflow import MlflowClient

_template_lock = threading.Lock()
_template_dir: tempfile.TemporaryDirectory[str] | None = None


def _template_db() -> Path:
    """An empty MLflow database with every migration applied, built on first use."""
    global _template_dir
    with _template_lock:
        if _template_dir is None:
            from mlflow import MlflowClient

            directory = tempfile.TemporaryDirectory(prefix="promobot-mlflow-template-")
            uri = f"sqlite:///{directory.name}/mlflow.db"
            MlflowClient(tracking_uri=uri).search_registered_models(max_results=1)
            _template_dir = directory
        return Path(_template_dir.name) / "mlflow.db"


def new_mlflow_uri(directory: Path) -> str:
    """A fresh, empty MLflow sqlite registry in `directory`; returns its tracking URI."""
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"mlflow(\.|$)")
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "mlflow.db"
    shutil.copyfile(_template_db(), target)
    return f"sqlite:///{target}"


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


@dataclass
class FakeClock:
    """A controllable clock returning aware UTC datetimes; `advance` moves it forward."""

    now: datetime = field(default_factory=lambda: datetime(2025, 3, 14, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now = self.now + delta
