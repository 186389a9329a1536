"""Stage mode: moves are MLflow stage transitions."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from bot.registry.entities import ModelVersion
from bot.registry.targets import StageTargets, Target

log = logging.getLogger(__name__)


class StageMapping:
    """Moves versions between None, Staging, Production and Archived."""

    def __init__(self) -> None:
        self.targets = StageTargets()

    def move(
        self, client: Any, version: ModelVersion, target: Target, displace: Sequence[int]
    ) -> None:
        """One transition; MLflow archives the displaced Production versions in the same call."""
        log.info(
            "mlflow transition model=%r version=%s stage=%s", version.model, version.version, target
        )
        client.transition_model_version_stage(
            version.model,
            str(version.version),
            target.name,
            archive_existing_versions=bool(displace) and target == self.targets.production,
        )
