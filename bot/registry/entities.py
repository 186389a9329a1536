"""The registry's data as the domain sees it: registered models and their versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

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
