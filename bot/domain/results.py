"""What the domain hands to the surfaces (Slack, CLI, demo) to render."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bot.registry.protocol import ModelVersion, RegisteredModel
from bot.stages import Stage
from storage.models import DecisionEvent, PromotionRequest

Metrics = Mapping[str, float]


@dataclass(frozen=True)
class MoveApplied:
    """A direct move, applied at once (it does not touch Production)."""

    model: str
    version: int
    from_stage: Stage
    to_stage: Stage
    actor: str


@dataclass(frozen=True)
class CardDetails:
    """Everything an approver needs to decide: the request, the candidate and current Production."""

    request: PromotionRequest
    candidate: ModelVersion | None
    candidate_metrics: Metrics = field(default_factory=dict)
    production: tuple[tuple[ModelVersion, Metrics], ...] = ()
    ui_url: str | None = None
    registry_error: str | None = None


@dataclass(frozen=True)
class RequestFiled:
    """A change that needs approval was recorded; nothing in the registry changed yet."""

    details: CardDetails

    @property
    def request(self) -> PromotionRequest:
        return self.details.request


class Outcome(StrEnum):
    APPLIED = "applied"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"
    STALE = "stale"


@dataclass(frozen=True)
class Decision:
    """The result of a click or command that changed a request's status."""

    outcome: Outcome
    request: PromotionRequest
    actor: str
    archived: tuple[int, ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class VersionListing:
    """One model's versions with their run metrics, and its open requests."""

    model: RegisteredModel
    versions: list[ModelVersion]
    metrics: Mapping[str, Metrics]
    open_requests: list[PromotionRequest]


@dataclass(frozen=True)
class ModelOverview:
    """A registered model with the versions in Production and Staging."""

    name: str
    production: list[int]
    staging: list[int]


@dataclass(frozen=True)
class History:
    model: str
    events: list[DecisionEvent]
