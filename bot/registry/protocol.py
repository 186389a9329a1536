"""What the domain needs from a model registry, independent of MLflow's stage or alias API.

Today's adapter (`MlflowStageRegistry`) uses MLflow stages. An alias-based adapter can
implement the same Protocol (mapping Production to `@champion`, say) without touching
the domain or the Slack layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.stages import Stage


@dataclass(frozen=True)
class ModelVersion:
    """One registered model version as the domain sees it."""

    model: str
    version: int
    stage: Stage
    created_at: datetime
    updated_at: datetime
    description: str = ""
    run_id: str | None = None
    aliases: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RegisteredModel:
    """A registered model with its aliases (alias -> version)."""

    name: str
    updated_at: datetime
    description: str = ""
    aliases: Mapping[str, int] = field(default_factory=dict)


class ModelRegistry(Protocol):
    """The registry operations promobot performs. Implementations raise bot.errors types."""

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
        """The model and every version of it (newest first), in as few round trips as possible."""
        ...

    def list_versions(self, name: str) -> list[ModelVersion]:
        """Every version of one model, newest first, with aliases filled in."""
        ...

    def list_all_versions(self) -> list[ModelVersion]:
        """Every version of every model in paginated bulk calls (never one call per model)."""
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

    def transition(self, name: str, version: int, stage: Stage, *, archive_existing: bool) -> None:
        """Move a version to `stage`, archiving the versions already there if asked."""
        ...

    def record_decision(self, name: str, version: int, tags: Mapping[str, str | None]) -> None:
        """Write decision tags onto the version; a None value deletes that tag."""
        ...
