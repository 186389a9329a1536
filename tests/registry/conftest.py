"""A real, empty MLflow sqlite registry per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow import MlflowClient

from bot.registry.mlflow_stages import MlflowStageRegistry
from tests.factories import new_mlflow_uri


@pytest.fixture
def mlflow_uri(tmp_path: Path) -> str:
    return new_mlflow_uri(tmp_path / "mlflow")


@pytest.fixture
def mlflow_client(mlflow_uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=mlflow_uri)


@pytest.fixture
def registry(mlflow_uri: str) -> MlflowStageRegistry:
    return MlflowStageRegistry.from_uri(mlflow_uri)
