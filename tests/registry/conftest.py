"""The adapter under test, on the real, empty MLflow registry of tests/conftest.py."""

from __future__ import annotations

import pytest

from bot.registry.mlflow_registry import MlflowRegistry


@pytest.fixture
def registry(tracking_uri: str) -> MlflowRegistry:
    return MlflowRegistry.from_uri(tracking_uri)
