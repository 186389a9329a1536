"""What the domain needs from a model registry: reads, and moves to targets, not stages.

One MLflow adapter (`MlflowRegistry`) implements it, with a thin mapping per mode:
`StageMapping` (MLflow stages) or `AliasMapping` (MLflow aliases). The domain asks the
registry's `targets` what a move means; it never names a stage or calls a stage API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from bot.registry.entities import ModelVersion, RegisteredModel
from bot.registry.targets import Target, TargetScheme

__all__ = ["ModelRegistry", "ModelVersion", "RegisteredModel"]


class ModelRegistry(Protocol):
    """The registry operations promobot performs. Implementations raise bot.errors types."""

    @property
    def targets(self) -> TargetScheme:
        """The registry mode's targets: production, staging, protected, displacement."""
        ...

    def ping(self) -> None:
        """Raise RegistryUnavailableError unless the registry answers a trivial query."""
        ...

    def get_model(self, name: str) -> RegisteredModel:
        """Return the model; raise ModelNotFoundError (with close names) if it does not exist."""
        ...

    def list_models(self) -> list[RegisteredModel]:
        """Every registered model, read with paginated bulk calls."""
        ...

    def model_versions(self, name: str) -> tuple[RegisteredModel, list[ModelVersion]]:
        """The model and every version of it (newest first); the model may be briefly cached."""
        ...

    def list_versions(self, name: str) -> list[ModelVersion]:
        """Every version of one model, newest first, with aliases filled in, read now."""
        ...

    def all_models_and_versions(self) -> tuple[list[RegisteredModel], list[ModelVersion]]:
        """Every model and every version, each listed once, in paginated bulk calls."""
        ...

    def get_version(self, name: str, version: int) -> ModelVersion:
        """Return one version; raise VersionNotFoundError listing the versions that exist."""
        ...

    def run_metrics(self, run_ids: Sequence[str]) -> dict[str, dict[str, float]]:
        """Latest metrics of each run that still exists (run id -> metric -> value)."""
        ...

    def move(self, version: ModelVersion, target: Target, *, displace: Sequence[int]) -> None:
        """Put `version` (as just read) at `target`; the versions in `displace` lose it."""
        ...

    def record_decision(self, name: str, version: int, tags: Mapping[str, str | None]) -> None:
        """Write decision tags onto the version; a None value deletes that tag."""
        ...
