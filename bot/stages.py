"""The four MLflow registry stages and their case-insensitive parsing."""

from __future__ import annotations

from enum import StrEnum

from bot.errors import UnknownStageError


class Stage(StrEnum):
    """A registry stage, spelled exactly as MLflow spells it."""

    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"


def parse_stage(text: str) -> Stage:
    """Return the stage named by `text`, ignoring case; raise UnknownStageError otherwise."""
    for stage in Stage:
        if stage.value.lower() == text.strip().lower():
            return stage
    raise UnknownStageError(text)
