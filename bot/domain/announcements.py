"""What registry events announce, as frozen views for the Slack builders. Slack-free."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.domain.results import MoveApplied, RequestFiled
from storage.event_models import RegistryAnnouncement

Metrics = Mapping[str, float]


@dataclass(frozen=True)
class VersionNotice:
    """A new version: its run and metrics beside Production's, and the next step offered."""

    announcement_id: int
    model: str
    version: int
    run_id: str | None
    description: str
    metrics: Metrics
    production_label: str
    production: tuple[tuple[int, Metrics], ...]
    #: The next step's target label: `Staging`, or `@challenger`.
    next_step: str
    ui_url: str | None = None


@dataclass(frozen=True)
class ModelNotice:
    announcement_id: int
    model: str
    description: str


@dataclass(frozen=True)
class PriorMove:
    """promobot's move that put the previous holder there."""

    at: datetime
    actor: str
    approved_by: str | None


@dataclass(frozen=True)
class OutsideAlert:
    """`target` of `model` changed outside promobot, from `before` to `now`."""

    announcement_id: int
    model: str
    target: str
    now: tuple[int, ...]
    before: tuple[int, ...]
    prior: PriorMove | None = None

    @property
    def restore(self) -> int | None:
        """The version the Restore button brings back: the single previous holder."""
        return self.before[0] if len(self.before) == 1 else None


Announcement = VersionNotice | ModelNotice | OutsideAlert


@dataclass(frozen=True)
class NextStepOutcome:
    """What a notice's button did, and the notice it was pressed on."""

    announcement: RegistryAnnouncement
    result: MoveApplied | RequestFiled
