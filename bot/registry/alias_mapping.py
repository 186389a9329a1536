"""Alias mode: moves set an alias; an archive removes a version's aliases and tags it.

Nothing here calls MLflow's stage API, which Unity Catalog refuses.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from bot.registry.entities import ModelVersion
from bot.registry.targets import ARCHIVED_TAG, AliasTargets, Target, TargetKind

log = logging.getLogger(__name__)


class AliasMapping:
    """Moves aliases between versions; `archived` is a version tag, never a stage."""

    def __init__(self, targets: AliasTargets) -> None:
        self.targets = targets

    def move(
        self, client: Any, version: ModelVersion, target: Target, displace: Sequence[int]
    ) -> None:
        name, number = version.model, str(version.version)
        if target.kind == TargetKind.ARCHIVE:
            log.info("mlflow archive model=%r version=%s aliases=%s", name, number, version.aliases)
            for alias in version.aliases:
                client.delete_registered_model_alias(name, alias)
            client.set_model_version_tag(name, number, ARCHIVED_TAG, "true")
            return
        # Setting an alias moves it: the displaced holder loses it in the same call.
        log.info("mlflow set alias model=%r version=%s alias=%s", name, number, target.name)
        client.set_registered_model_alias(name, target.name, number)
        if ARCHIVED_TAG in version.tags:
            client.delete_model_version_tag(name, number, ARCHIVED_TAG)
