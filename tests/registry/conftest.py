"""The adapter under test, on the real, empty MLflow registry of tests/conftest.py."""

from __future__ import annotations

import pytest

from bot.registry.mlflow_stages import MlflowStageRegistry


@pytest.fixture
def registry(tracking_uri: str) -> MlflowStageRegistry:
    return MlflowStageRegistry.from_uri(tracking_uri)
