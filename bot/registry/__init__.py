"""The model registry port (a Protocol) and its MLflow stage-based adapter."""

from __future__ import annotations

from bot.registry.protocol import ModelRegistry, ModelVersion, RegisteredModel

__all__ = ["ModelRegistry", "ModelVersion", "RegisteredModel"]
